package pki

import (
	"crypto"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ocsp"
)

// Faults are the simulated failures of the validation service: Down
// refuses every connection, Delay holds every answer, DropOverBytes
// silently drops any write larger than that many bytes and everything after
// it on the connection — what a router port dropping packets over 1,500
// bytes did to GPKI in November 2023: small health pings pass, real answers
// never arrive.
type Faults struct {
	Down          bool
	Delay         time.Duration
	DropOverBytes int
}

// faultsJSON is the wire form on /_faults.
type faultsJSON struct {
	Down          int   `json:"down"`
	DelayMS       int64 `json:"delay_ms"`
	DropOverBytes int   `json:"drop_over_bytes"`
}

// ValidationStats count what the validation service did.
type ValidationStats struct {
	Requests int64 `json:"requests"`
	Refused  int64 `json:"refused"` // connections closed while down
	Dropped  int64 `json:"dropped"` // answers swallowed by drop_over_bytes
}

// Validation is the central validation service: the CRL at /crl, an OCSP
// responder at /ocsp (RFC 6960, POST or GET), /health, and the
// simulation's fault switch at /_faults. It reads revocations from the
// authority, reloading its register so a `minwon pki revoke` run by
// another process is published.
type Validation struct {
	ca          *Authority
	crlValidity time.Duration
	faults      atomic.Pointer[Faults]

	crlMu     sync.Mutex
	crl       []byte
	crlNumber int64
	crlAt     time.Time

	requests, refused, dropped atomic.Int64
}

// NewValidation returns the validation service of ca. CRLs it signs are
// valid for crlValidity (their NextUpdate).
func NewValidation(ca *Authority, crlValidity time.Duration) *Validation {
	v := &Validation{ca: ca, crlValidity: crlValidity}
	v.faults.Store(&Faults{})
	return v
}

// SetFaults replaces the injected faults.
func (v *Validation) SetFaults(f Faults) { v.faults.Store(&f) }

// Faults returns the injected faults.
func (v *Validation) Faults() Faults { return *v.faults.Load() }

// Stats returns the counters since start.
func (v *Validation) Stats() ValidationStats {
	return ValidationStats{Requests: v.requests.Load(), Refused: v.refused.Load(), Dropped: v.dropped.Load()}
}

// ServeHTTP implements the service.
func (v *Validation) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/_faults" {
		v.serveFaults(w, r)
		return
	}
	if r.URL.Path == "/_stats" && r.Method == http.MethodGet {
		writeJSON(w, http.StatusOK, v.Stats())
		return
	}
	v.requests.Add(1)
	if d := v.Faults().Delay; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	switch {
	case r.URL.Path == "/health" && r.Method == http.MethodGet:
		w.Write([]byte("ok\n"))
	case r.URL.Path == "/crl" && r.Method == http.MethodGet:
		crl, err := v.currentCRL()
		if err != nil {
			http.Error(w, "could not sign a CRL", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/pkix-crl")
		w.Write(crl)
	case r.URL.Path == "/ocsp" && r.Method == http.MethodPost:
		body, err := io.ReadAll(io.LimitReader(r.Body, 16<<10))
		if err != nil {
			return
		}
		v.answerOCSP(w, body)
	case strings.HasPrefix(r.URL.Path, "/ocsp/") && r.Method == http.MethodGet:
		// RFC 6960 A.1: GET {url}/{url-encoding of base-64 encoding of the DER request}
		enc, err := url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), "/ocsp/"))
		var der []byte
		if err == nil {
			der, err = base64.StdEncoding.Strict().DecodeString(enc)
		}
		if err != nil {
			writeOCSP(w, ocsp.MalformedRequestErrorResponse)
			return
		}
		v.answerOCSP(w, der)
	default:
		http.NotFound(w, r)
	}
}

// currentCRL returns a CRL for the register as it stands, signing a new
// one when the register changed or the last is half-way to its NextUpdate.
func (v *Validation) currentCRL() ([]byte, error) {
	if err := v.ca.Reload(); err != nil {
		return nil, err
	}
	v.ca.mu.Lock()
	number := v.ca.reg.Number
	v.ca.mu.Unlock()
	v.crlMu.Lock()
	defer v.crlMu.Unlock()
	now := v.ca.now()
	if v.crl != nil && v.crlNumber == number && now.Sub(v.crlAt) < v.crlValidity/2 {
		return v.crl, nil
	}
	crl, err := v.ca.CRL(v.crlValidity)
	if err != nil {
		return nil, err
	}
	v.crl, v.crlNumber, v.crlAt = crl, number, now
	return crl, nil
}

func (v *Validation) answerOCSP(w http.ResponseWriter, der []byte) {
	req, err := ocsp.ParseRequest(der)
	if err != nil {
		writeOCSP(w, ocsp.MalformedRequestErrorResponse)
		return
	}
	if req.HashAlgorithm != crypto.SHA1 && req.HashAlgorithm != crypto.SHA256 {
		writeOCSP(w, ocsp.MalformedRequestErrorResponse)
		return
	}
	if !v.issuedByMinistry(req) {
		writeOCSP(w, ocsp.UnauthorizedErrorResponse)
		return
	}
	if err := v.ca.Reload(); err != nil {
		writeOCSP(w, ocsp.InternalErrorErrorResponse)
		return
	}
	now := v.ca.now()
	tmpl := ocsp.Response{
		SerialNumber: req.SerialNumber,
		ThisUpdate:   now.Add(-time.Minute),
		NextUpdate:   now.Add(v.crlValidity),
		Certificate:  v.ca.OCSPCert, // delegated responder: the answer carries its chain
		IssuerHash:   req.HashAlgorithm,
	}
	e, ok := v.ca.status(req.SerialNumber)
	switch {
	case !ok:
		tmpl.Status = ocsp.Unknown
	case !e.RevokedAt.IsZero():
		tmpl.Status, tmpl.RevokedAt, tmpl.RevocationReason = ocsp.Revoked, e.RevokedAt, ocsp.Unspecified
		if e.Reason == "superseded" {
			tmpl.RevocationReason = ocsp.Superseded
		}
	default:
		tmpl.Status = ocsp.Good
	}
	resp, err := ocsp.CreateResponse(v.ca.Ministry, v.ca.OCSPCert, tmpl, v.ca.ocspSigner)
	if err != nil {
		writeOCSP(w, ocsp.InternalErrorErrorResponse)
		return
	}
	w.Header().Set("Content-Type", "application/ocsp-response")
	w.Write(resp)
}

// issuedByMinistry checks the request's issuer name and key hashes.
func (v *Validation) issuedByMinistry(req *ocsp.Request) bool {
	h := req.HashAlgorithm.New()
	h.Write(v.ca.Ministry.RawSubject)
	if string(h.Sum(nil)) != string(req.IssuerNameHash) {
		return false
	}
	key, err := subjectPublicKeyBits(v.ca.Ministry.RawSubjectPublicKeyInfo)
	if err != nil {
		return false
	}
	h = req.HashAlgorithm.New()
	h.Write(key)
	return string(h.Sum(nil)) == string(req.IssuerKeyHash)
}

func writeOCSP(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/ocsp-response")
	w.Write(b)
}

func (v *Validation) serveFaults(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
	case http.MethodPut, http.MethodPost:
		var fj faultsJSON
		dec := json.NewDecoder(io.LimitReader(r.Body, 4<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&fj); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]string{"code": "bad_request", "message": "faults must be JSON: {\"down\":0|1,\"delay_ms\":N,\"drop_over_bytes\":N}"}})
			return
		}
		if fj.Down < 0 || fj.Down > 1 || fj.DelayMS < 0 || fj.DelayMS > 600_000 || fj.DropOverBytes < 0 {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]string{"code": "bad_request", "message": "down is 0 or 1, delay_ms 0..600000, drop_over_bytes ≥ 0"}})
			return
		}
		v.SetFaults(Faults{Down: fj.Down == 1, Delay: time.Duration(fj.DelayMS) * time.Millisecond, DropOverBytes: fj.DropOverBytes})
	default:
		w.Header().Set("Allow", "GET, PUT")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	f := v.Faults()
	down := 0
	if f.Down {
		down = 1
	}
	writeJSON(w, http.StatusOK, faultsJSON{Down: down, DelayMS: f.Delay.Milliseconds(), DropOverBytes: f.DropOverBytes})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// Listener wraps l so the service's faults act on the connections: while
// down, every connection is closed on accept except those asking for
// /_faults (the switch must stay reachable to heal it); with
// DropOverBytes, large writes vanish.
func (v *Validation) Listener(l net.Listener) net.Listener {
	return &faultListener{Listener: l, v: v}
}

type faultListener struct {
	net.Listener
	v *Validation
}

func (l *faultListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &faultConn{Conn: c, v: l.v}, nil
}

// faultConn applies the faults to one connection. While down, a read on a
// connection that is not the control channel cuts it, as an unreachable
// server would.
type faultConn struct {
	net.Conn
	v     *Validation
	holed atomic.Bool

	// The first request line decides whether the connection is the
	// simulation's control channel (/_faults, /_stats), which no fault
	// touches; the HTTP server may read a request a byte at a time, so
	// the line is collected until it is complete.
	head    []byte
	decided bool
	control atomic.Bool
}

func (c *faultConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && !c.decided {
		c.head = append(c.head, p[:min(n, 256)]...)
		if line, _, complete := strings.Cut(string(c.head), "\n"); complete || len(c.head) >= 256 {
			c.decided = true
			c.control.Store(strings.Contains(line, " /_faults ") || strings.Contains(line, " /_stats "))
			c.head = nil
		}
	}
	if n > 0 && c.decided && !c.control.Load() && c.v.Faults().Down {
		c.v.refused.Add(1)
		c.Conn.Close()
		return 0, net.ErrClosed
	}
	return n, err
}

func (c *faultConn) Write(p []byte) (int, error) {
	if c.control.Load() {
		return c.Conn.Write(p)
	}
	if c.holed.Load() {
		return len(p), nil
	}
	if max := c.v.Faults().DropOverBytes; max > 0 && len(p) > max {
		c.holed.Store(true)
		c.v.dropped.Add(1)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// subjectPublicKeyBits returns the subjectPublicKey BIT STRING of an SPKI,
// over which OCSP's issuer key hash is computed.
func subjectPublicKeyBits(spki []byte) ([]byte, error) {
	var info struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(spki, &info); err != nil {
		return nil, err
	}
	return info.PublicKey.RightAlign(), nil
}

// Authority returns the CA whose revocations the service publishes.
func (v *Validation) Authority() *Authority { return v.ca }
