// Package apptest runs a whole minwon for end-to-end tests: a seeded SQLite
// store, the simulated agencies and the app's HTTP handler on loopback,
// with a small client for the JSON API.
package apptest

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/minwon/minwon/internal/agencytest"
	"github.com/minwon/minwon/internal/app"
	"github.com/minwon/minwon/internal/demo"
	"github.com/minwon/minwon/internal/docsig"
	"github.com/minwon/minwon/internal/keyfile"
	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/population"
	"github.com/minwon/minwon/internal/store"
)

// Account is one row of demo-accounts.csv.
type Account struct {
	Login, Password, Subject, Name, BirthDate, Kind string
}

// Env is a running minwon.
type Env struct {
	*agencytest.Env
	App      *app.App
	DB       *store.DB
	Server   *httptest.Server
	Accounts []Account
	Signer   docsig.Signer
}

// Start seeds n people from seed and serves minwon until t ends. The
// agencies' circuit breakers never open (tests inject faults at will).
func Start(t testing.TB, n int, seed int64) *Env {
	t.Helper()
	return StartWith(t, n, seed, linkage.Options{BreakerThreshold: 1 << 20})
}

// StartWith is Start with the linkage options opt, e.g. breakers that open.
func StartWith(t testing.TB, n int, seed int64, opt linkage.Options) *Env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.OpenSQLite(ctx, filepath.Join(dir, "minwon.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	world, _, err := demo.Seed(ctx, db, dir, population.Config{People: n, Seed: seed}, io.Discard)
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	agencies := agencytest.StartWorld(t, world)
	env := &Env{Env: agencies, DB: db}
	// The handler needs its public URL before the server exists.
	var handler http.Handler
	env.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(env.Server.Close)
	logKey, err := keyfile.LoadOrCreate(filepath.Join(dir, "keys", "log.key"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(ctx, app.Config{
		DB: db, Agencies: agencies.Endpoints, KeyDir: filepath.Join(dir, "keys"), PublicURL: env.Server.URL,
		LogKey: logKey, LogOrigin: "minwon.test/log",
		LinkageOptions: opt,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	env.App, handler = a, a.Handler
	env.Signer = a.Keys.Signer()
	env.Accounts = readAccounts(t, filepath.Join(dir, demo.AccountsFile))
	return env
}

func readAccounts(t testing.TB, path string) []Account {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []Account
	for _, r := range rows[1:] {
		out = append(out, Account{Login: r[0], Password: r[1], Subject: r[2], Name: r[3], BirthDate: r[4], Kind: r[5]})
	}
	return out
}

// AccountOf returns the account whose subject is subject.
func (e *Env) AccountOf(t testing.TB, subject string) Account {
	t.Helper()
	for _, a := range e.Accounts {
		if a.Subject == subject {
			return a
		}
	}
	t.Fatalf("no account for subject %s", subject)
	return Account{}
}

// Client calls the API with one session.
type Client struct {
	t     testing.TB
	base  string
	Token string
}

// Anonymous is a client without a session, for public endpoints.
func (e *Env) Anonymous(t testing.TB) *Client { return &Client{t: t, base: e.Server.URL} }

// Admin serves the operators' API with a test token and returns a client
// that sends it.
func (e *Env) Admin(t testing.TB) *Client {
	t.Helper()
	const token = "test-admin-token-0123456789abcdef0123456789abcdef"
	srv := httptest.NewServer(e.App.Admin(token))
	t.Cleanup(srv.Close)
	return &Client{t: t, base: srv.URL, Token: token}
}

// Login logs the account in.
func (e *Env) Login(t testing.TB, a Account) *Client {
	t.Helper()
	c := &Client{t: t, base: e.Server.URL}
	var out struct {
		Token string `json:"token"`
	}
	if code := c.Do("POST", "/api/v1/login", map[string]string{"login": a.Login, "password": a.Password}, nil, &out); code != http.StatusOK {
		t.Fatalf("login %s: status %d", a.Login, code)
	}
	c.Token = out.Token
	return c
}

// Do sends a JSON request and decodes a JSON answer into out (if non-nil).
// It returns the status code.
func (c *Client) Do(method, path string, body any, header map[string]string, out any) int {
	c.t.Helper()
	resp, data := c.Raw(method, path, body, header)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			c.t.Fatalf("%s %s: decode %q: %v", method, path, data, err)
		}
	}
	return resp.StatusCode
}

// Raw sends a request and returns the response and its body.
func (c *Client) Raw(method, path string, body any, header map[string]string) (*http.Response, []byte) {
	c.t.Helper()
	if body == nil {
		return c.Send(method, path, "", nil, header)
	}
	b, err := json.Marshal(body)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.Send(method, path, "application/json", b, header)
}

// Send sends body as contentType and returns the response and its body.
func (c *Client) Send(method, path, contentType string, body []byte, header map[string]string) (*http.Response, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp, data
}

// PDFText extracts a PDF's text with poppler's pdftotext, the way a reader
// or an auditor would. In CI a missing pdftotext fails the test.
func PDFText(t testing.TB, pdf []byte) string {
	t.Helper()
	path, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext (poppler-utils) is required in CI")
		}
		t.Skip("pdftotext not installed (apt-get install poppler-utils)")
	}
	cmd := exec.Command(path, "-enc", "UTF-8", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}
