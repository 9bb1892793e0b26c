package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/minwon/minwon/internal/apiwire"
)

// client speaks minwon's JSON API (/work/shared/API.md) for many sessions.
type client struct {
	base string
	hc   *http.Client
}

func newClient(base string, conns int) *client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns + 16,
		MaxIdleConnsPerHost: conns + 16,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &client{base: strings.TrimRight(base, "/"), hc: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

// apiError is a non-2xx answer: the API's error body, or a transport
// failure (Status 0).
type apiError struct {
	Status  int
	Code    string
	Rule    string
	Message string
	Err     error // transport failure
}

func (e *apiError) Error() string {
	if e.Status == 0 {
		return "transport: " + e.Err.Error()
	}
	if e.Rule != "" {
		return fmt.Sprintf("%d %s (%s): %s", e.Status, e.Code, e.Rule, e.Message)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

// reason is the refusal reason the report groups by.
func (e *apiError) reason() string {
	switch {
	case e.Status == 0:
		return "transport_error"
	case e.Rule != "":
		return e.Code + ":" + e.Rule
	case e.Code != "":
		return e.Code
	}
	return fmt.Sprintf("http_%d", e.Status)
}

func (c *client) do(ctx context.Context, method, path, token string, body any, header map[string]string) ([]byte, *http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	// net/http silently resends a request with an Idempotency-Key on a
	// reused connection that broke, as often as it finds idle ones; the
	// harness counts and decides every resend itself.
	req.GetBody = nil
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, nil, &apiError{Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, nil, &apiError{Err: err}
	}
	if resp.StatusCode/100 != 2 {
		ae := &apiError{Status: resp.StatusCode}
		var eb apiwire.ErrorBody
		if json.Unmarshal(data, &eb) == nil {
			ae.Code, ae.Rule, ae.Message = eb.Error.Code, eb.Error.Rule, eb.Error.Message
		}
		return data, resp, ae
	}
	return data, resp, nil
}

func (c *client) login(ctx context.Context, a Account) (string, time.Time, error) {
	data, _, err := c.do(ctx, "POST", "/api/v1/login", "", apiwire.LoginRequest{Login: a.Login, Password: a.Password}, nil)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("login %s: %w", a.Login, err)
	}
	var out apiwire.LoginResponse
	if err := json.Unmarshal(data, &out); err != nil || out.Token == "" {
		return "", time.Time{}, fmt.Errorf("login %s: no token in answer", a.Login)
	}
	exp, err := time.Parse(time.RFC3339, out.ExpiresAt)
	if err != nil {
		exp = time.Now().Add(30 * time.Minute) // API.md default
	}
	return out.Token, exp, nil
}

// The API's bodies under the names the harness uses.
type (
	profile = apiwire.Profile
	service = apiwire.Service
	issued  = apiwire.Issued
)

func (c *client) me(ctx context.Context, token string) (profile, error) {
	var p profile
	data, _, err := c.do(ctx, "GET", "/api/v1/me", token, nil, nil)
	if err != nil {
		return p, err
	}
	return p, json.Unmarshal(data, &p)
}

func (c *client) services(ctx context.Context) ([]service, error) {
	data, _, err := c.do(ctx, "GET", "/api/v1/services", "", nil, nil)
	if err != nil {
		return nil, err
	}
	var out []service
	return out, json.Unmarshal(data, &out)
}

func (c *client) issue(ctx context.Context, token, svc, subject, key string) (issued, error) {
	var out issued
	body := apiwire.IssuanceRequest{Service: svc, Subject: subject}
	data, _, err := c.do(ctx, "POST", "/api/v1/issuances", token, body, map[string]string{"Idempotency-Key": key})
	if err != nil {
		return out, err
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return out, fmt.Errorf("issuance answer: %w", err)
	}
	return out, nil
}

func (c *client) get(ctx context.Context, token, path string) ([]byte, error) {
	data, _, err := c.do(ctx, "GET", path, token, nil, nil)
	return data, err
}

// verifyResult is the answer of POST /api/v1/verify (verification.ResultJSON
// on the server), read leniently: the proof and checkpoint stay raw so that
// one in an unexpected shape is reported as a check not made, not as a
// failed request.
type verifyResult struct {
	Status         string          `json:"status"`
	Number         string          `json:"number"`
	Service        string          `json:"service"`
	LogIndex       *int64          `json:"log_index"`
	InclusionProof json.RawMessage `json:"inclusion_proof"`
	Checkpoint     json.RawMessage `json:"checkpoint"`
}

// errNoVerifyAPI: the server has no verification endpoint.
var errNoVerifyAPI = errors.New("verify API unavailable")

func (c *client) verify(ctx context.Context, number, sha string) (verifyResult, error) {
	var out verifyResult
	data, _, err := c.do(ctx, "POST", "/api/v1/verify", "", apiwire.VerifyRequest{Number: number, SHA256: sha}, nil)
	var ae *apiError
	if errors.As(err, &ae) && (ae.Status == http.StatusNotFound && ae.Code == "not_found" || ae.Status == http.StatusMethodNotAllowed) {
		return out, errNoVerifyAPI
	}
	if err != nil {
		return out, err
	}
	return out, json.Unmarshal(data, &out)
}
