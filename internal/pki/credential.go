package pki

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"
)

// State is an official's credential state at a counter.
type State string

// The credential states. Fresh: revocation data is current and the
// certificate is not on it. Grace: the validation service has been
// unreachable since the last good refresh, for less than the grace window.
// Locked: revoked, or the grace window is over, or never validated.
const (
	Fresh  State = "fresh"
	Grace  State = "grace"
	Locked State = "locked"
)

// Status is a credential's state and, in grace, when it ends.
type Status struct {
	State      State
	GraceUntil time.Time // zero unless in grace
	Reason     string    // why locked: "revoked", "grace_expired", "never_validated"
}

// DefaultGrace is how long officials keep working while the validation
// service is unreachable: 4 hours, the order of X-Road's 14,400 s.
const DefaultGrace = 4 * time.Hour

// CheckerConfig configures a Checker.
type CheckerConfig struct {
	ValidationURL string            // base URL of the validation service
	Issuer        *x509.Certificate // the CA that signs the CRL (the ministry CA)
	Grace         time.Duration     // default DefaultGrace
	Refresh       time.Duration     // how often to fetch the CRL; default 30 s
	Timeout       time.Duration     // one call to the service; default 5 s
	CachePath     string            // where the last good CRL is kept across restarts ("" = nowhere)
	Now           func() time.Time
	Client        *http.Client
	// Probe is the certificate the health check asks OCSP about (e.g. the
	// listener's own); without it the check fetches the CRL only.
	Probe *x509.Certificate
}

// Checker keeps the revocation data a counter decides with. It refreshes
// in the background (Run) and answers Status from memory: no request path
// ever waits on the validation service.
type Checker struct {
	cfg CheckerConfig

	mu          sync.RWMutex
	revoked     map[string]bool // serial hex
	lastGood    time.Time       // when the newest CRL was fetched
	number      *big.Int        // its CRL number: an older list is refused
	nextUpdate  time.Time
	lastErr     error
	lastAttempt time.Time
}

// cachedCRL is the file form of the last good CRL.
type cachedCRL struct {
	FetchedAt time.Time `json:"fetched_at"`
	DER       []byte    `json:"der"`
}

// NewChecker returns a checker, loading the cached CRL if there is one
// (so a counter restarted during an outage keeps the grace it had, not a
// new one).
func NewChecker(cfg CheckerConfig) (*Checker, error) {
	if cfg.Issuer == nil || cfg.ValidationURL == "" {
		return nil, errors.New("pki: a checker needs the validation URL and the CRL issuer")
	}
	if cfg.Grace <= 0 {
		cfg.Grace = DefaultGrace
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = 30 * time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2}}
	}
	c := &Checker{cfg: cfg, revoked: map[string]bool{}}
	if cfg.CachePath != "" {
		if raw, err := os.ReadFile(cfg.CachePath); err == nil {
			var cc cachedCRL
			if json.Unmarshal(raw, &cc) == nil {
				// A cache that does not check is ignored, not trusted.
				_ = c.adopt(cc.DER, cc.FetchedAt, false)
			}
		}
	}
	return c, nil
}

// Run refreshes until ctx ends: every Refresh while the service answers,
// sooner after a failure.
func (c *Checker) Run(ctx context.Context) {
	for {
		wait := c.cfg.Refresh
		if err := c.Refresh(ctx); err != nil {
			wait = min(wait, 2*time.Second)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// Refresh fetches and checks the CRL once.
func (c *Checker) Refresh(ctx context.Context) error {
	now := c.cfg.Now()
	der, err := c.get(ctx, "/crl", 1<<20)
	if err == nil {
		err = c.adopt(der, now, true)
	}
	c.mu.Lock()
	c.lastAttempt, c.lastErr = now, err
	c.mu.Unlock()
	return err
}

func (c *Checker) get(ctx context.Context, path string, limit int64) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.ValidationURL+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.cfg.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: %s answered %d", ErrUnreachable, path, resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	return b, nil
}

// adopt checks a CRL and makes it current if it is not older than the one
// held.
func (c *Checker) adopt(der []byte, fetchedAt time.Time, save bool) error {
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		return fmt.Errorf("pki: CRL: %w", err)
	}
	if err := crl.CheckSignatureFrom(c.cfg.Issuer); err != nil {
		return fmt.Errorf("pki: CRL not signed by %s: %w", c.cfg.Issuer.Subject.CommonName, err)
	}
	if crl.Number == nil {
		return errors.New("pki: CRL without a number")
	}
	revoked := make(map[string]bool, len(crl.RevokedCertificateEntries))
	for _, e := range crl.RevokedCertificateEntries {
		revoked[serialHex(e.SerialNumber)] = true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.number != nil && crl.Number.Cmp(c.number) < 0 {
		return fmt.Errorf("pki: CRL number %s is older than the %s held", crl.Number, c.number)
	}
	c.revoked, c.number, c.lastGood, c.nextUpdate = revoked, crl.Number, fetchedAt, crl.NextUpdate
	if save && c.cfg.CachePath != "" {
		b, _ := json.Marshal(cachedCRL{FetchedAt: fetchedAt, DER: der})
		if err := writeFileAtomic(c.cfg.CachePath, b); err != nil {
			return err
		}
	}
	return nil
}

// freshFor is how long after a good refresh credentials count as fresh:
// two missed refreshes and a timeout.
func (c *Checker) freshFor() time.Duration { return 2*c.cfg.Refresh + c.cfg.Timeout }

// Status returns the credential state of a verified certificate. Revoked
// is locked at once; otherwise the age of the newest good CRL decides.
func (c *Checker) Status(cert *x509.Certificate) Status {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.revoked[serialHex(cert.SerialNumber)] {
		return Status{State: Locked, Reason: "revoked"}
	}
	if c.lastGood.IsZero() {
		return Status{State: Locked, Reason: "never_validated"}
	}
	age := c.cfg.Now().Sub(c.lastGood)
	switch {
	case age <= c.freshFor():
		return Status{State: Fresh}
	case age <= c.cfg.Grace:
		return Status{State: Grace, GraceUntil: c.lastGood.Add(c.cfg.Grace)}
	default:
		return Status{State: Locked, Reason: "grace_expired"}
	}
}

// Info describes the checker's revocation data, for status pages.
type Info struct {
	LastGood    time.Time `json:"last_good"`
	CRLNumber   string    `json:"crl_number,omitempty"`
	NextUpdate  time.Time `json:"next_update,omitzero"`
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	Revoked     int       `json:"revoked"`
	GraceWindow string    `json:"grace_window"`
}

// Info returns what the checker holds.
func (c *Checker) Info() Info {
	c.mu.RLock()
	defer c.mu.RUnlock()
	in := Info{LastGood: c.lastGood, NextUpdate: c.nextUpdate, LastAttempt: c.lastAttempt, Revoked: len(c.revoked), GraceWindow: c.cfg.Grace.String()}
	if c.number != nil {
		in.CRLNumber = c.number.String()
	}
	if c.lastErr != nil {
		in.LastError = c.lastErr.Error()
	}
	return in
}

// Probe is one health check of the path to the validation service.
type Probe struct {
	Check   string `json:"check"`
	OK      bool   `json:"ok"`
	Bytes   int    `json:"bytes"`
	Latency string `json:"latency"`
	Error   string `json:"error,omitempty"`
}

// Health checks the path to the validation service the way real traffic
// uses it, not with a ping: it fetches the whole CRL and asks OCSP about
// the probe certificate (the answer carries the responder's certificate
// chain), so a path that drops large packets shows as failing even though
// a small request would pass. It is for status pages and operators, never
// on a request path.
func (c *Checker) Health(ctx context.Context) []Probe {
	return c.health(ctx, c.cfg.Probe)
}

func (c *Checker) health(ctx context.Context, cert *x509.Certificate) []Probe {
	var out []Probe
	t0 := time.Now()
	der, err := c.get(ctx, "/crl", 1<<20)
	p := Probe{Check: "crl", Bytes: len(der), Latency: time.Since(t0).Round(time.Millisecond).String(), OK: err == nil}
	if err == nil {
		_, err = x509.ParseRevocationList(der)
		p.OK = err == nil
	}
	if err != nil {
		p.Error = err.Error()
	}
	out = append(out, p)
	if cert == nil {
		return out
	}
	t0 = time.Now()
	p = Probe{Check: "ocsp"}
	r, n, err := c.askOCSP(ctx, cert)
	if err == nil && r.Status != ocsp.Good {
		err = fmt.Errorf("pki: OCSP status of the probe certificate is %d", r.Status)
	}
	p.Bytes, p.Latency, p.OK = n, time.Since(t0).Round(time.Millisecond).String(), err == nil
	if err != nil {
		p.Error = err.Error()
	}
	return append(out, p)
}

// askOCSP asks the responder about cert and checks the signed answer; it
// also returns the answer's size.
func (c *Checker) askOCSP(ctx context.Context, cert *x509.Certificate) (*ocsp.Response, int, error) {
	reqDER, err := ocsp.CreateRequest(cert, c.cfg.Issuer, &ocsp.RequestOptions{})
	if err != nil {
		return nil, 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.ValidationURL+"/ocsp", bytes.NewReader(reqDER))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", "application/ocsp-request")
	resp, err := c.cfg.Client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, len(body), fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	r, err := ocsp.ParseResponseForCert(body, cert, c.cfg.Issuer)
	if err != nil {
		return nil, len(body), fmt.Errorf("pki: OCSP answer: %w", err)
	}
	return r, len(body), nil
}

// OCSPStatus asks the validation service about one certificate and returns
// "good", "revoked" or "unknown", checking the responder's signature.
func (c *Checker) OCSPStatus(ctx context.Context, cert *x509.Certificate) (string, error) {
	r, _, err := c.askOCSP(ctx, cert)
	if err != nil {
		return "", err
	}
	switch r.Status {
	case ocsp.Good:
		return "good", nil
	case ocsp.Revoked:
		return "revoked", nil
	default:
		return "unknown", nil
	}
}

// ServerTLS returns the TLS config of a listener for officials: TLS 1.3,
// a client certificate required and verified against roots. The official's
// identity then comes from the verified certificate (OfficialOf).
func ServerTLS(cred Credential, roots *x509.CertPool) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(cred.CertFile, cred.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("pki: server certificate: %w", err)
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    roots,
	}, nil
}

// ClientTLS returns the TLS config of an official's client.
func ClientTLS(cred Credential, roots *x509.CertPool) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(cred.CertFile, cred.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("pki: client certificate: %w", err)
	}
	return &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, RootCAs: roots}, nil
}

// CredentialChecker says whether a verified certificate may act now
// (*Checker). It answers from memory: it is on every request path.
type CredentialChecker interface {
	Status(cert *x509.Certificate) Status
}

// Caller is an official identified by a verified client certificate.
type Caller struct {
	Official
	Status Status
}

// CallerOf identifies the official behind a request on a listener built
// with ServerTLS: ErrNotOfficial without a verified certificate naming an
// official. It does not refuse a locked credential; Acting does.
func CallerOf(cs *tls.ConnectionState, creds CredentialChecker) (Caller, error) {
	if cs == nil || len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return Caller{}, ErrNotOfficial
	}
	cert := cs.VerifiedChains[0][0]
	o, err := OfficialOf(cert)
	if err != nil {
		return Caller{}, err
	}
	return Caller{Official: o, Status: creds.Status(cert)}, nil
}

// Acting returns ErrLocked (with the reason) if the caller may not act.
func (c Caller) Acting() error {
	if c.Status.State == Locked {
		return fmt.Errorf("%w (%s)", ErrLocked, c.Status.Reason)
	}
	return nil
}

// May returns ErrRole unless the caller has one of roles.
func (c Caller) May(roles ...Role) error {
	if slices.Contains(roles, c.Role) {
		return nil
	}
	return ErrRole
}
