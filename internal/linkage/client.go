// Package linkage owns minwon's conversation with the source agencies
// (resident registry, education information system, national tax service):
// the agency schema and the typed records of its datasets, the signed
// request/answer protocol, and per-agency timeouts, retries and circuit
// breakers.
//
// Every request carries a fresh random correlation id and the subject; an
// answer is handed on only after its signature, the echoed correlation id,
// subject and dataset, and its exact field set have been checked. Linkage
// asks only for the fields its caller names. It never logs field values.
package linkage

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/minwon/minwon/internal/reqid"
)

// Endpoint is one agency as linkage sees it: where it answers and the keys
// it signs with.
type Endpoint struct {
	Agency  string
	BaseURL string                       // e.g. https://127.0.0.1:40001
	Keys    map[string]ed25519.PublicKey // key id → key
}

// Options tune the client; zero values take the defaults.
type Options struct {
	AttemptTimeout   time.Duration // per attempt; default 2s
	Retries          int           // extra attempts after the first; default 2; -1 for none
	Backoff          time.Duration // base of the jittered exponential backoff; default 25ms
	BreakerThreshold int           // consecutive failures that open the breaker; default 5
	BreakerCooldown  time.Duration // how long an open breaker fails fast; default 5s
	MaxBody          int64         // largest answer accepted; default 4 MiB
	// TLS is minwon's side of the mutual TLS the agencies require: its
	// system certificate (pki.IssueSystem) and the root it trusts for the
	// agencies' server certificates. Used by the default HTTP client.
	TLS        *tls.Config
	HTTPClient *http.Client // default: a keep-alive client sized for many concurrent calls
	Now        func() time.Time
	// Observer, if set, is told each Fetch's agency, outcome and time
	// (package metrics).
	Observer Observer
}

// Observer is told how each call to an agency ended; package metrics
// implements it.
type Observer interface {
	AgencyCall(agency, outcome string, took time.Duration)
}

// Outcomes are every outcome Observer.AgencyCall is told: ok, not_found,
// rejected (a bad request), unavailable (after retries, or the breaker is
// open), mismatch (an answer that failed its checks) and error.
var Outcomes = []string{"ok", "not_found", "rejected", "unavailable", "mismatch", "error"}

func callOutcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrNotFound):
		return "not_found"
	case errors.Is(err, ErrBadRequest):
		return "rejected"
	case errors.Is(err, ErrUnavailable):
		return "unavailable"
	case errors.Is(err, ErrMismatch), errors.Is(err, ErrIntegrity):
		return "mismatch"
	}
	return "error"
}

// Client fetches verified records from agencies. It is safe for concurrent
// use; it holds no per-request state between calls.
type Client struct {
	schema   *Schema
	verifier *Verifier
	opt      Options
	http     *http.Client
	agencies map[string]*agencyConn
}

type agencyConn struct {
	endpoint Endpoint
	breaker  *breaker
}

// NewClient returns a client for the given agencies.
func NewClient(schema *Schema, endpoints []Endpoint, opt Options) (*Client, error) {
	if opt.AttemptTimeout <= 0 {
		opt.AttemptTimeout = 2 * time.Second
	}
	switch {
	case opt.Retries == 0:
		opt.Retries = 2
	case opt.Retries < 0:
		opt.Retries = 0
	}
	if opt.Backoff <= 0 {
		opt.Backoff = 25 * time.Millisecond
	}
	if opt.BreakerThreshold <= 0 {
		opt.BreakerThreshold = 5
	}
	if opt.BreakerCooldown <= 0 {
		opt.BreakerCooldown = 5 * time.Second
	}
	if opt.MaxBody <= 0 {
		opt.MaxBody = 4 << 20
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	hc := opt.HTTPClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConns = 1024
		tr.MaxIdleConnsPerHost = 512
		tr.DialContext = (&net.Dialer{Timeout: opt.AttemptTimeout, KeepAlive: 30 * time.Second}).DialContext
		// A copy: the transport adds its protocols to the config, and one
		// config may serve several clients.
		tr.TLSClientConfig = opt.TLS.Clone()
		hc = &http.Client{Transport: tr}
	}
	keys := make(map[string]map[string]ed25519.PublicKey, len(endpoints))
	conns := make(map[string]*agencyConn, len(endpoints))
	for _, ep := range endpoints {
		if ep.Agency == "" || ep.BaseURL == "" || len(ep.Keys) == 0 {
			return nil, fmt.Errorf("linkage: endpoint for %q needs a base URL and at least one key", ep.Agency)
		}
		if _, dup := conns[ep.Agency]; dup {
			return nil, fmt.Errorf("linkage: agency %q configured twice", ep.Agency)
		}
		for id, k := range ep.Keys {
			if len(k) != ed25519.PublicKeySize {
				return nil, fmt.Errorf("linkage: key %q for %s is not an Ed25519 public key", id, ep.Agency)
			}
		}
		ep.BaseURL = strings.TrimRight(ep.BaseURL, "/")
		keys[ep.Agency] = ep.Keys
		conns[ep.Agency] = &agencyConn{endpoint: ep, breaker: newBreaker(opt.BreakerThreshold, opt.BreakerCooldown, opt.Now)}
	}
	return &Client{
		schema:   schema,
		verifier: NewVerifier(schema, keys),
		opt:      opt,
		http:     hc,
		agencies: conns,
	}, nil
}

// Fetch asks agency, for purpose, for the named fields of subject's record in
// dataset and returns the verified record. The agency refuses fields the
// purpose does not declare. Errors match ErrUnavailable, ErrMismatch,
// ErrIntegrity, ErrNotFound or ErrBadRequest.
//
// Transport failures, timeouts and 5xx answers are retried with the same
// correlation id; a mismatched or unverifiable answer is never retried or
// returned.
func (c *Client) Fetch(ctx context.Context, purpose, agency, dataset, subject string, fields []string) (rec *Record, err error) {
	conn, ok := c.agencies[agency]
	if !ok {
		return nil, fmt.Errorf("%w: unknown agency %q", ErrBadRequest, agency)
	}
	if o := c.opt.Observer; o != nil {
		start := c.opt.Now()
		defer func() { o.AgencyCall(agency, callOutcome(err), c.opt.Now().Sub(start)) }()
	}
	ds := c.schema.Dataset(agency, dataset)
	if ds == nil {
		return nil, fmt.Errorf("%w: agency %s has no dataset %q", ErrBadRequest, agency, dataset)
	}
	if err := ds.check(fields); err != nil {
		return nil, err
	}
	if subject == "" {
		return nil, fmt.Errorf("%w: empty subject", ErrBadRequest)
	}
	if purpose == "" {
		return nil, fmt.Errorf("%w: empty purpose", ErrBadRequest)
	}
	req := &Request{
		CorrelationID: NewCorrelationID(),
		Purpose:       purpose,
		Subject:       subject,
		Dataset:       dataset,
		Fields:        append([]string(nil), fields...),
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("linkage: encode request: %w", err)
	}

	return withRetries(ctx, c, conn, func(ctx context.Context) (*Record, error) {
		return c.attempt(ctx, conn, req, body)
	})
}

// withRetries runs attempt through conn's circuit breaker, retrying
// transient failures with backoff up to the client's Retries; a caller
// retrying reuses its request's id, which the agency answers once.
func withRetries[T any](ctx context.Context, c *Client, conn *agencyConn, attempt func(context.Context) (T, error)) (T, error) {
	var zero T
	agency := conn.endpoint.Agency
	var lastErr error
	for n := 0; n <= c.opt.Retries; n++ {
		if n > 0 {
			if err := c.sleep(ctx, n); err != nil {
				break
			}
		}
		ok, wait := conn.breaker.allow()
		if !ok {
			_, _, last := conn.breaker.snapshot()
			return zero, &UnavailableError{Agency: agency, RetryAfter: wait, Err: last}
		}
		v, err := attempt(ctx)
		var te *transientError
		switch {
		case err == nil:
			conn.breaker.success()
			return v, nil
		case errors.As(err, &te):
			if ctx.Err() != nil {
				// The caller gave up; that says nothing about the agency.
				conn.breaker.done()
				return zero, &UnavailableError{Agency: agency, RetryAfter: c.opt.BreakerCooldown, Err: ctx.Err()}
			}
			conn.breaker.failure(te.err)
			lastErr = te.err
			continue
		default:
			// The agency answered; it is up, whatever the answer was.
			conn.breaker.success()
			return zero, err
		}
	}
	return zero, &UnavailableError{Agency: agency, RetryAfter: c.opt.BreakerCooldown, Err: lastErr}
}

// transientError marks a failure worth retrying and counting against the
// agency's health.
type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }

func (c *Client) attempt(ctx context.Context, conn *agencyConn, req *Request, body []byte) (*Record, error) {
	// The correlation id makes the request replayable for net/http too:
	// the agency treats it as an idempotency key.
	resp, data, err := c.post(ctx, conn, QueryPath, req.CorrelationID, body)
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		return c.verifier.Decode(conn.endpoint.Agency, req, resp.Header.Get(SignatureHeader), data)
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("%w: %s", ErrNotFound, conn.endpoint.Agency)
	}
	return nil, statusError(conn, resp)
}

// post sends one attempt of body to the agency's path with an idempotency
// key and reads the answer, bounded; transport failures are transient.
// The caller decides on the status.
func (c *Client) post(ctx context.Context, conn *agencyConn, path, key string, body []byte) (*http.Response, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opt.AttemptTimeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, conn.endpoint.BaseURL+path, bytes.NewReader(body))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Idempotency-Key", key)
	// The request that caused this call, for the agency's logs and ours;
	// the correlation id stays per call, random, and signed over.
	if id := reqid.From(ctx); id != "" {
		hreq.Header.Set(reqid.Header, id)
	}
	resp, err := c.http.Do(hreq)
	if err != nil {
		return nil, nil, &transientError{err: fmt.Errorf("call %s: %w", conn.endpoint.Agency, scrubURLError(err))}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.opt.MaxBody+1))
	if err != nil {
		return nil, nil, &transientError{err: fmt.Errorf("read %s answer: %w", conn.endpoint.Agency, err)}
	}
	if int64(len(data)) > c.opt.MaxBody {
		return nil, nil, &IntegrityError{Agency: conn.endpoint.Agency, Reason: "answer larger than allowed"}
	}
	return resp, data, nil
}

// statusError is the error of an answer that is neither data nor refusal:
// a server failure or throttling is transient, anything else our mistake.
func statusError(conn *agencyConn, resp *http.Response) error {
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		return &transientError{err: fmt.Errorf("%s answered %s", conn.endpoint.Agency, resp.Status)}
	}
	return fmt.Errorf("%w: %s answered %s", ErrBadRequest, conn.endpoint.Agency, resp.Status)
}

// scrubURLError drops the method and URL that net/http puts in front of a
// transport error; the agency name already says where the call went.
func scrubURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func (c *Client) sleep(ctx context.Context, attempt int) error {
	d := c.opt.Backoff << (attempt - 1)
	d = d/2 + rand.N(d/2+1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// AgencyStatus is one agency's health as the client sees it.
type AgencyStatus struct {
	Agency    string       `json:"agency"`
	State     BreakerState `json:"state"`
	Failures  int          `json:"consecutive_failures"`
	LastError string       `json:"last_error,omitempty"`
}

// Status reports every agency's breaker state, sorted by agency.
func (c *Client) Status() []AgencyStatus {
	out := make([]AgencyStatus, 0, len(c.agencies))
	for _, a := range c.schema.Agencies() {
		conn, ok := c.agencies[a]
		if !ok {
			continue
		}
		st, n, err := conn.breaker.snapshot()
		s := AgencyStatus{Agency: a, State: st, Failures: n}
		if err != nil {
			s.LastError = err.Error()
		}
		out = append(out, s)
	}
	return out
}

// RetryAfterSeconds formats d for an HTTP Retry-After header (at least 1).
func RetryAfterSeconds(d time.Duration) string {
	s := int((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return strconv.Itoa(s)
}
