// Package apptest runs a whole minwon for end-to-end tests: a seeded store
// (SQLite, or any storetest backend), the simulated agencies and the app's
// HTTP handler on loopback — one app node or several sharing the database —
// with a small client for the JSON API.
package apptest

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"github.com/minwon/minwon/internal/guard"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/agencytest"
	"github.com/minwon/minwon/internal/apiwire"
	"github.com/minwon/minwon/internal/app"
	"github.com/minwon/minwon/internal/datadir"
	"github.com/minwon/minwon/internal/demo"
	"github.com/minwon/minwon/internal/docsig"
	"github.com/minwon/minwon/internal/ident"
	"github.com/minwon/minwon/internal/keyfile"
	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/pkitest"
	"github.com/minwon/minwon/internal/population"
	"github.com/minwon/minwon/internal/store"
	"github.com/minwon/minwon/internal/storetest"
)

// Account is one row of demo-accounts.csv.
type Account struct {
	Login, Password, Subject, Name, BirthDate, Kind string
}

// Env is a running minwon. App, DB and Server are its first node's.
type Env struct {
	*agencytest.Env
	App      *app.App
	DB       *store.DB
	Server   *httptest.Server
	Nodes    []*Node // every app node; Nodes[0] is App, DB, Server
	Backend  storetest.Backend
	Accounts []Account
	Signer   docsig.Signer
	KeyDir   string // the nodes' shared key directory
	// DocumentCert is the PKI's document-signing certificate the nodes
	// sign PDFs with (pkitest.DocumentSigner).
	DocumentCert *docsig.Certificate
}

// Node is one minwon process: its own store handle (connection pool), app
// and HTTP server, sharing the database, keys and agencies with the others.
type Node struct {
	App    *app.App
	DB     *store.DB
	Server *httptest.Server
	// Application is the node's PostgreSQL application_name ("" on SQLite),
	// to find its sessions on the server.
	Application string
}

// Options choose the database, how many app nodes share it, and linkage.
type Options struct {
	Backend *storetest.Backend // nil: a fresh SQLite database
	Nodes   int                // app nodes on the one database; default 1
	// Linkage tunes every node's linkage client; nil means breakers that
	// never open (tests inject faults at will).
	Linkage *linkage.Options
	// Limits bound each principal's bulk access (nil: guard's defaults).
	Limits *guard.Limits
	// Log is the nodes' logger (nil: slog.Default()).
	Log *slog.Logger
	// Casework tunes the applications' queue; zero values take fast
	// test defaults (backoff 20ms to 200ms, polled every 50ms).
	Casework app.CaseworkOptions
}

// Start seeds n people from seed and serves minwon, on a fresh SQLite
// database, until t ends. The agencies' circuit breakers never open (tests
// inject faults at will).
func Start(t testing.TB, n int, seed int64) *Env {
	t.Helper()
	return StartOpts(t, n, seed, Options{})
}

// StartWith is Start with the linkage options opt, e.g. breakers that open.
func StartWith(t testing.TB, n int, seed int64, opt linkage.Options) *Env {
	t.Helper()
	return StartOpts(t, n, seed, Options{Linkage: &opt})
}

// StartOpts is Start with a chosen backend, number of app nodes and
// linkage options.
func StartOpts(t testing.TB, n int, seed int64, opt Options) *Env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	var b storetest.Backend
	if opt.Backend != nil {
		b = *opt.Backend
	} else {
		b = storetest.SQLite(t)
	}
	if opt.Nodes < 1 {
		opt.Nodes = 1
	}
	if opt.Linkage == nil {
		opt.Linkage = &linkage.Options{BreakerThreshold: 1 << 20}
	}
	if opt.Casework.Backoff == 0 {
		opt.Casework.Backoff, opt.Casework.MaxBackoff = 20*time.Millisecond, 200*time.Millisecond
	}
	if opt.Casework.Poll == 0 {
		opt.Casework.Poll = 50 * time.Millisecond
	}
	seedDB := b.Open(t)
	world, _, err := demo.Seed(ctx, seedDB, dir, population.Config{People: n, Seed: seed}, io.Discard)
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	agencies := agencytest.StartWorld(t, world)
	if opt.Linkage.TLS == nil && opt.Linkage.HTTPClient == nil {
		lo := *opt.Linkage
		lo.TLS = agencies.TLS
		opt.Linkage = &lo
	}
	dd := datadir.Dir(dir)
	logKey, err := keyfile.LoadOrCreate(dd.Keys().LogKey())
	if err != nil {
		t.Fatal(err)
	}
	indexKey, err := keyfile.LoadOrCreateSecret(dd.Keys().SubjectIndexKey())
	if err != nil {
		t.Fatal(err)
	}
	if err := demo.IndexSubjects(ctx, seedDB, world, ident.NewIndexer(indexKey), io.Discard); err != nil {
		t.Fatal(err)
	}
	docCred := pkitest.DocumentSigner(t)
	docCert, err := docsig.LoadCertificate(docCred.CertFile, docCred.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	env := &Env{Env: agencies, Backend: b, KeyDir: dd.Keys().Path(), DocumentCert: docCert}
	for i := range opt.Nodes {
		node := &Node{DB: seedDB}
		if i > 0 {
			nb := b
			if b.Name == "postgres" {
				node.Application = fmt.Sprintf("minwon-test-node-%d", i)
				nb = b.WithApplicationName(node.Application)
			}
			node.DB = nb.Open(t)
		}
		// The handler needs its public URL before the server exists.
		var handler http.Handler
		node.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
		t.Cleanup(node.Server.Close)
		// Every node reads the one key directory, as nodes sharing a
		// key volume would.
		a, err := app.New(ctx, app.Config{
			DB: node.DB, Agencies: agencies.Endpoints, KeyDir: dd.Keys().Path(), DocumentCert: docCert, PublicURL: node.Server.URL,
			LogKey: logKey, LogOrigin: "minwon.test/log",
			LinkageOptions: *opt.Linkage, SubjectIndexKey: indexKey, Limits: opt.Limits, Log: opt.Log, Casework: opt.Casework,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(a.Close)
		node.App, handler = a, a.Handler
		env.Nodes = append(env.Nodes, node)
	}
	env.App, env.DB, env.Server = env.Nodes[0].App, env.Nodes[0].DB, env.Nodes[0].Server
	env.Signer = env.App.Keys.Signer()
	env.Signer.Cert = docCert
	env.Accounts = readAccounts(t, dd.Accounts())
	return env
}

// ActiveSigner is the nodes' signer now (after any rotation), with the
// document-signing certificate: what an insider with the keys holds.
func (e *Env) ActiveSigner() docsig.Signer {
	s := e.App.Keys.Signer()
	s.Cert = e.DocumentCert
	return s
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

// httpClient keeps enough idle connections per node for concurrent
// tests and benchmarks (http.DefaultClient keeps 2, and churns the rest).
var httpClient = &http.Client{Transport: &http.Transport{
	MaxIdleConns:        256,
	MaxIdleConnsPerHost: 64,
	IdleConnTimeout:     30 * time.Second,
}}

// Client calls the API with one session.
type Client struct {
	t     testing.TB
	base  string
	Token string
	http  *http.Client // nil: the shared plain client
}

func (c *Client) httpClient() *http.Client {
	if c.http != nil {
		return c.http
	}
	return httpClient
}

// Anonymous is a client without a session, for public endpoints.
func (e *Env) Anonymous(t testing.TB) *Client { return &Client{t: t, base: e.Server.URL} }

// Login logs the account in on the first node.
func (e *Env) Login(t testing.TB, a Account) *Client {
	t.Helper()
	return e.LoginOn(t, e.Nodes[0], a)
}

// LoginOn logs the account in on node.
func (e *Env) LoginOn(t testing.TB, node *Node, a Account) *Client {
	t.Helper()
	c := &Client{t: t, base: node.Server.URL}
	var out apiwire.LoginResponse
	if code := c.Do("POST", "/api/v1/login", apiwire.LoginRequest{Login: a.Login, Password: a.Password}, nil, &out); code != http.StatusOK {
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

// On returns a client with the same session that calls node instead.
func (c *Client) On(node *Node) *Client {
	c2 := *c
	c2.base = node.Server.URL
	return &c2
}

// Raw sends a request and returns the response and its body.
func (c *Client) Raw(method, path string, body any, header map[string]string) (*http.Response, []byte) {
	c.t.Helper()
	resp, data, err := c.Try(method, path, body, header)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp, data
}

// Try sends a JSON request and returns the response and its body, or the
// error; unlike Raw and Do it may be called from any goroutine.
func (c *Client) Try(method, path string, body any, header map[string]string) (*http.Response, []byte, error) {
	if body == nil {
		return c.TrySend(method, path, "", nil, header)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, nil, err
	}
	return c.TrySend(method, path, "application/json", b, header)
}

// Send sends body as contentType and returns the response and its body.
func (c *Client) Send(method, path, contentType string, body []byte, header map[string]string) (*http.Response, []byte) {
	c.t.Helper()
	resp, data, err := c.TrySend(method, path, contentType, body, header)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp, data
}

// TrySend is Send returning the error; it may be called from any goroutine.
func (c *Client) TrySend(method, path, contentType string, body []byte, header map[string]string) (*http.Response, []byte, error) {
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
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
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	return resp, data, nil
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
