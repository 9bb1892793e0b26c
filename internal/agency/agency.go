// Package agency runs minwon's simulated source agencies: the resident
// registry, the education information system and the national tax service.
// Each is its own HTTP server on its own port with its own slice of the
// synthetic population, answering the linkage protocol with signed answers.
//
// The simulation has fault switches (delay, drop, error, swap) so tests and
// the load harness can prove that linkage refuses what it must.
//
// An agency serves only mutual TLS with certificates of the government PKI,
// as X-Road members do: queries only from a system certificate (minwon's,
// pki.SystemOf), the fault switches and counters only from an operator's
// (pki.OfficialOf with role operator). Package
// agency is a stand-in for systems minwon does not own: nothing in minwon
// reads agency data except through linkage.
package agency

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/httpserve"
	"github.com/minwon/minwon/internal/keyfile"
	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/pki"
	"github.com/minwon/minwon/internal/population"
)

// Faults are the simulated failures an agency injects. Rates are fractions
// in [0,1] of the requests that reach each check, spread evenly rather than
// drawn by chance: with Drop 0.5 exactly every second request is dropped,
// with Swap 0.01 every hundredth answer is swapped. Which request is hit
// still depends on arrival order under concurrency, but a test that retries
// sequentially gets the same faults on every run.
type Faults struct {
	Delay  time.Duration // added to every answer
	Jitter time.Duration // plus a random 0..Jitter, which reorders answers
	Drop   float64       // close the connection without answering
	Error  float64       // answer 503
	Swap   float64       // answer with another request's signed answer
}

// faultsJSON is the wire form of Faults on the /_faults endpoint.
type faultsJSON struct {
	DelayMS  int64   `json:"delay_ms"`
	JitterMS int64   `json:"jitter_ms"`
	Drop     float64 `json:"drop"`
	Error    float64 `json:"error"`
	Swap     float64 `json:"swap"`
}

// Stats count what an agency did, for tests and the load harness.
type Stats struct {
	Requests int64 `json:"requests"`
	Answered int64 `json:"answered"`
	NotFound int64 `json:"not_found"`
	Dropped  int64 `json:"dropped"`
	Errored  int64 `json:"errored"`
	Swapped  int64 `json:"swapped"`
}

// Server is one simulated agency.
type Server struct {
	name    string
	signer  linkage.Signer
	schema  *linkage.Schema
	catalog *form.Catalog // the purposes callers may name, and what each may read
	data    *data
	faults  atomic.Pointer[Faults]
	swapBuf swapBuffer
	now     func() time.Time

	requests, answered, notFound, dropped, errored, swapped atomic.Int64
	dropSeq, errorSeq, swapSeq                              faultSeq
}

// faultSeq spreads a rate evenly over the requests it is asked about:
// request n is hit when floor(n·rate) > floor((n-1)·rate).
type faultSeq struct{ n atomic.Int64 }

func (q *faultSeq) hit(rate float64) bool {
	if rate <= 0 {
		return false
	}
	n := q.n.Add(1)
	return int64(float64(n)*rate) > int64(float64(n-1)*rate)
}

// New returns the simulated agency name ("registry", "education" or "tax")
// serving its part of world, signing with signer.
func New(name string, world *population.World, signer linkage.Signer) (*Server, error) {
	schema := linkage.DefaultSchema()
	found := false
	for _, a := range schema.Agencies() {
		found = found || a == name
	}
	if !found {
		return nil, fmt.Errorf("agency: unknown agency %q", name)
	}
	// The agency holds callers to the same approved catalog minwon issues
	// from, so a compromised or buggy caller still gets only what the
	// purpose it names declares.
	catalog, err := form.Builtin(schema)
	if err != nil {
		return nil, fmt.Errorf("agency %s: %w", name, err)
	}
	s := &Server{name: name, signer: signer, schema: schema, catalog: catalog, data: indexWorld(world), now: time.Now}
	s.faults.Store(&Faults{})
	return s, nil
}

// Name returns the agency's name.
func (s *Server) Name() string { return s.name }

// PublicKey returns the key id and public key the agency signs with.
func (s *Server) PublicKey() (string, ed25519.PublicKey) {
	return s.signer.KeyID, s.signer.Key.Public().(ed25519.PublicKey)
}

// SetFaults replaces the injected faults.
func (s *Server) SetFaults(f Faults) { s.faults.Store(&f) }

// Faults returns the injected faults.
func (s *Server) Faults() Faults { return *s.faults.Load() }

// Stats returns the counters since start.
func (s *Server) Stats() Stats {
	return Stats{
		Requests: s.requests.Load(),
		Answered: s.answered.Load(),
		NotFound: s.notFound.Load(),
		Dropped:  s.dropped.Load(),
		Errored:  s.errored.Load(),
		Swapped:  s.swapped.Load(),
	}
}

// ServeHTTP answers the linkage protocol (POST /v1/query), health
// (GET /v1/health) and the simulation's fault switch (GET/PUT /_faults,
// GET /_stats). It must be served with a TLS config that requires and
// verifies client certificates (pki.ServerTLS); without a verified
// certificate every request is refused.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var cert *x509.Certificate
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 && len(r.TLS.VerifiedChains[0]) > 0 {
		cert = r.TLS.VerifiedChains[0][0]
	}
	if cert == nil {
		writeError(w, http.StatusForbidden, "no_client_certificate", "a client certificate of the government PKI is required")
		return
	}
	switch r.URL.Path {
	case linkage.QueryPath, linkage.WritePath:
		if _, err := pki.SystemOf(cert); err != nil {
			writeError(w, http.StatusForbidden, "not_a_system", "only a system certificate may query the agency")
			return
		}
	case "/_faults", "/_stats":
		if o, err := pki.OfficialOf(cert); err != nil || o.Role != pki.Operator {
			writeError(w, http.StatusForbidden, "not_operator", "only an operator's certificate may use the fault switches")
			return
		}
	}
	switch {
	case r.URL.Path == linkage.QueryPath && r.Method == http.MethodPost:
		s.query(w, r)
	case r.URL.Path == linkage.WritePath && r.Method == http.MethodPost:
		s.write(w, r)
	case r.URL.Path == "/v1/health" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]string{"agency": s.name, "status": "ok"})
	case r.URL.Path == "/_faults" && r.Method == http.MethodGet:
		f := s.Faults()
		writeJSON(w, http.StatusOK, faultsJSON{DelayMS: f.Delay.Milliseconds(), JitterMS: f.Jitter.Milliseconds(), Drop: f.Drop, Error: f.Error, Swap: f.Swap})
	case r.URL.Path == "/_faults" && r.Method == http.MethodPut:
		s.putFaults(w, r)
	case r.URL.Path == "/_stats" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.Stats())
	default:
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint")
	}
}

func (s *Server) putFaults(w http.ResponseWriter, r *http.Request) {
	var fj faultsJSON
	dec := json.NewDecoder(io.LimitReader(r.Body, 4096))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fj); err != nil {
		writeError(w, http.StatusBadRequest, "bad_faults", "faults must be JSON: "+err.Error())
		return
	}
	for _, p := range []float64{fj.Drop, fj.Error, fj.Swap} {
		if p < 0 || p > 1 {
			writeError(w, http.StatusBadRequest, "bad_faults", "rates must be between 0 and 1")
			return
		}
	}
	if fj.DelayMS < 0 || fj.JitterMS < 0 || fj.DelayMS > 60_000 || fj.JitterMS > 60_000 {
		writeError(w, http.StatusBadRequest, "bad_faults", "delay_ms and jitter_ms must be between 0 and 60000")
		return
	}
	s.SetFaults(Faults{Delay: time.Duration(fj.DelayMS) * time.Millisecond, Jitter: time.Duration(fj.JitterMS) * time.Millisecond, Drop: fj.Drop, Error: fj.Error, Swap: fj.Swap})
	writeJSON(w, http.StatusOK, fj)
}

func (s *Server) query(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	var req linkage.Request
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "request must be JSON: "+err.Error())
		return
	}
	ds := s.schema.Dataset(s.name, req.Dataset)
	if ds == nil {
		writeError(w, http.StatusBadRequest, "unknown_dataset", "no such dataset")
		return
	}
	if len(req.CorrelationID) != 32 || len(req.Fields) == 0 {
		writeError(w, http.StatusBadRequest, "bad_request", "correlation_id (32 hex) and fields are required")
		return
	}
	for _, f := range req.Fields {
		if _, ok := ds.Field(f); !ok {
			writeError(w, http.StatusBadRequest, "unknown_field", "no such field: "+f)
			return
		}
	}
	if code, msg := s.allowed(&req); code != "" {
		writeError(w, http.StatusForbidden, code, msg)
		return
	}

	f := s.faults.Load()
	if !s.delay(r.Context(), f) {
		return
	}
	if s.dropSeq.hit(f.Drop) {
		s.dropped.Add(1)
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	if s.errorSeq.hit(f.Error) {
		s.errored.Add(1)
		writeError(w, http.StatusServiceUnavailable, "unavailable", "simulated failure")
		return
	}

	fields, ok := s.data.answer(s.name, req.Dataset, req.Subject, req.Fields)
	if !ok {
		s.notFound.Add(1)
		writeError(w, http.StatusNotFound, "unknown_subject", "no record for this subject")
		return
	}
	body, err := json.Marshal(linkage.Response{
		Agency:        s.name,
		CorrelationID: req.CorrelationID,
		Subject:       req.Subject,
		Dataset:       req.Dataset,
		Fields:        fields,
		AnsweredAt:    s.now().UTC().Truncate(time.Millisecond),
	})
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", "could not encode answer")
		return
	}
	ans := signed{correlationID: req.CorrelationID, body: body, sig: s.signer.Sign(body)}
	s.swapBuf.put(ans)
	if s.swapSeq.hit(f.Swap) {
		if other, ok := s.swapBuf.other(req.CorrelationID); ok {
			s.swapped.Add(1)
			ans = other
		}
	}
	s.answered.Add(1)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set(linkage.SignatureHeader, ans.sig)
	w.WriteHeader(http.StatusOK)
	w.Write(ans.body)
}

// allowed checks the fields asked against what the request's purpose
// declares for this agency's dataset; it returns an error code and message
// when they are not all declared.
func (s *Server) allowed(req *linkage.Request) (code, msg string) {
	needs, ok := s.catalog.PurposeNeeds(req.Purpose)
	if !ok {
		return "unknown_purpose", "no such purpose: " + req.Purpose
	}
	var declared []string
	for _, n := range needs {
		if n.Agency == s.name && n.Dataset == req.Dataset {
			declared = append(declared, n.Fields...)
		}
	}
	for _, f := range req.Fields {
		if !slices.Contains(declared, f) {
			return "field_not_allowed", fmt.Sprintf("purpose %s does not declare %s.%s", req.Purpose, req.Dataset, f)
		}
	}
	return "", ""
}

// delay sleeps for the injected delay; false if the client went away.
func (s *Server) delay(ctx context.Context, f *Faults) bool {
	d := f.Delay
	if f.Jitter > 0 {
		d += rand.N(f.Jitter)
	}
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

type signed struct {
	correlationID string
	body          []byte
	sig           string
}

// swapBuffer keeps recent genuine answers so a swap fault can hand one to
// another request, as a broken linkage program under load would.
type swapBuffer struct {
	mu   sync.Mutex
	ring [64]signed
	n    int
}

func (b *swapBuffer) put(a signed) {
	b.mu.Lock()
	b.ring[b.n%len(b.ring)] = a
	b.n++
	b.mu.Unlock()
}

// other returns a buffered answer to a request other than correlationID.
func (b *swapBuffer) other(correlationID string) (signed, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	size := min(b.n, len(b.ring))
	if size == 0 {
		return signed{}, false
	}
	start := rand.N(size)
	for i := 0; i < size; i++ {
		a := b.ring[(start+i)%size]
		if a.correlationID != correlationID {
			return a, true
		}
	}
	return signed{}, false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

// Listen serves s over TLS with cfg (pki.ServerTLS: client certificates
// required) on addr (e.g. "127.0.0.1:0") and returns its base URL and a
// function that shuts it down.
func Listen(addr string, h http.Handler, cfg *tls.Config) (baseURL string, shutdown func(context.Context) error, err error) {
	if cfg == nil || cfg.ClientAuth != tls.RequireAndVerifyClientCert {
		return "", nil, errors.New("agency: a TLS config that requires client certificates is needed")
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("agency: listen on %s: %w", addr, err)
	}
	l = tls.NewListener(l, cfg)
	srv := httpserve.NewServer(h)
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(os.Stderr, "agency server on %s stopped: %v\n", l.Addr(), err)
		}
	}()
	return "https://" + l.Addr().String(), srv.Shutdown, nil
}

// LoadOrCreateKey reads the agency's Ed25519 signing key from path,
// creating it if it does not exist.
func LoadOrCreateKey(name, path string) (linkage.Signer, error) {
	key, err := keyfile.LoadOrCreate(path)
	if err != nil {
		return linkage.Signer{}, fmt.Errorf("agency %s: %w", name, err)
	}
	return linkage.Signer{KeyID: linkage.KeyID(name, key.Public().(ed25519.PublicKey)), Key: key}, nil
}
