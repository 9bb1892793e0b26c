package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/config"
	"github.com/minwon/minwon/internal/datadir"
	"github.com/minwon/minwon/internal/demo"
	"github.com/minwon/minwon/internal/ident"
	"github.com/minwon/minwon/internal/pki"
	"github.com/minwon/minwon/internal/population"
)

// `minwon agencies --data D` then `minwon serve --config D/serve.json`:
// the counter issues to an official's certificate by RRN, the admin API
// answers operators only, and an operator revoked with `minwon pki revoke`
// is refused once serve's checker has the new CRL.
func TestServeWithAgenciesConfig(t *testing.T) {
	dir := datadir.Dir(t.TempDir())
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	agenciesDone := make(chan error, 1)
	go func() {
		agenciesDone <- agenciesUntilDone(ctx, []string{"--data", dir.Path(), "--people", "40", "--seed", "3",
			"--addr-base", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--counter-listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"})
	}()
	var cfg *config.Config
	poll(t, 60*time.Second, "serve.json", func() bool {
		select {
		case err := <-agenciesDone:
			t.Fatalf("agencies stopped: %v", err)
		default:
		}
		var err error
		cfg, err = config.Load(dir.ServeConfig())
		return err == nil
	})
	if cfg.PKI == nil || cfg.CounterListen == "" || cfg.AdminListen == "" || cfg.SubjectIndexKey != dir.Keys().SubjectIndexKey() {
		t.Fatalf("serve.json: %+v", cfg)
	}
	// Revocations reach serve within a second instead of the demo's ten.
	cfg.PKI.CRLRefresh = config.Duration(time.Second)
	// The portal over TLS, with a server certificate of the simulated PKI.
	if err := pkiUntilDone(t.Context(), []string{"server", "--dir", dir.PKI(), "--name", "portal", "--host", "127.0.0.1"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	cfg.TLS = &config.TLS{Cert: filepath.Join(dir.PKI(), "servers", "portal.pem"), Key: filepath.Join(dir.PKI(), "servers", "portal.key")}
	cfg.PublicURL = "https://127.0.0.1"
	// The bulk-access limits from a file, as an operator would set them.
	limitsPath := filepath.Join(dir.Path(), "limits.json")
	if err := os.WriteFile(limitsPath, []byte(`{"rules": {"issuance": {"window": "10m", "alert": 7, "block": 9}}, "block_for": "2h"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.BulkLimits, cfg.NotifyDir = limitsPath, filepath.Join(dir.Path(), "notices")
	raw, _ := json.Marshal(cfg)
	cfgPath := filepath.Join(dir.Path(), "serve-test.json")
	if err := os.WriteFile(cfgPath, raw, 0o600); err != nil {
		t.Fatal(err)
	}

	addrs := make(chan map[string]net.Addr, 1)
	serveDone := make(chan error, 1)
	go func() {
		serveDone <- serveUntilDone(ctx, []string{"--config", cfgPath}, func(a map[string]net.Addr) { addrs <- a })
	}()
	var listening map[string]net.Addr
	select {
	case listening = <-addrs:
	case err := <-serveDone:
		t.Fatalf("serve stopped: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not listen within 60s")
	}
	portal := "https://" + listening["portal"].String()
	counterURL := "https://" + listening["counter"].String()
	adminURL := "https://" + listening["admin API"].String()

	roots, err := pki.RootPool(cfg.PKI.CA)
	if err != nil {
		t.Fatal(err)
	}
	client := func(id string) *http.Client { return officialClient(t, dir.Path(), roots, id) }
	do := func(c *http.Client, method, url string, body any, into any) int {
		t.Helper()
		var r io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			r = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, url, r)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", "serve-test-1")
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
		defer resp.Body.Close()
		if into != nil {
			json.NewDecoder(resp.Body).Decode(into)
		}
		return resp.StatusCode
	}

	citizen := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}, Timeout: 10 * time.Second}
	if code := do(citizen, "GET", portal+"/api/v1/services", nil, nil); code != http.StatusOK {
		t.Errorf("portal services: %d", code)
	}
	// Over https the pages send HSTS and every cookie is Secure.
	resp, err := citizen.Get(portal + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if hsts := resp.Header.Get("Strict-Transport-Security"); hsts == "" {
		t.Error("no Strict-Transport-Security over https")
	}
	if len(resp.Cookies()) == 0 {
		t.Error("the login page set no cookie")
	}
	for _, c := range resp.Cookies() {
		if !c.Secure {
			t.Errorf("cookie %s is not Secure over https", c.Name)
		}
	}
	if resp, err := http.Get("http://" + listening["portal"].String() + "/livez"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("the TLS portal answered plain HTTP")
		}
	}
	// The counter: fresh once the first CRL is in, then an issuance found
	// through the subject index key the agencies indexed the accounts with.
	clerk := client("c0001")
	var st struct{ Official, Credential string }
	poll(t, 30*time.Second, "a fresh counter credential", func() bool {
		return do(clerk, "GET", counterURL+"/counter/v1/status", nil, &st) == http.StatusOK && st.Credential == "fresh"
	})
	world, err := population.Generate(population.Config{People: 40, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	var issued struct{ Number, Document string }
	req := map[string]any{
		"service": "resident-registration-copy", "subject_rrn": ident.FormatRRN(world.People[0].RRN),
		"identity_check": map[string]any{"method": "resident_card", "verified": true}, "purpose": "은행 제출용",
	}
	if code := do(clerk, "POST", counterURL+"/counter/v1/issuances", req, &issued); code != http.StatusCreated || issued.Number == "" {
		t.Fatalf("counter issuance: %d %+v", code, issued)
	}
	// The citizen is told (교부 사실 통보), and the outbox's file sender
	// delivers the notice into notify_dir.
	poll(t, 20*time.Second, "a notice in notify_dir", func() bool {
		b, err := os.ReadFile(filepath.Join(cfg.NotifyDir, "outbox.jsonl"))
		return err == nil && bytes.Contains(b, []byte(issued.Number))
	})

	// The admin API: operators' certificates only.
	anon := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}, Timeout: 10 * time.Second}
	if resp, err := anon.Get(adminURL + "/admin/v1/keys"); err == nil {
		resp.Body.Close()
		t.Errorf("admin API answered %d without a client certificate", resp.StatusCode)
	}
	if code := do(clerk, "GET", adminURL+"/admin/v1/keys", nil, nil); code != http.StatusForbidden {
		t.Errorf("admin API for a counter clerk: %d, want 403", code)
	}
	op1, op2 := client("op001"), client("op002")
	for id, c := range map[string]*http.Client{"op001": op1, "op002": op2} {
		if code := do(c, "GET", adminURL+"/admin/v1/keys", nil, nil); code != http.StatusOK {
			t.Fatalf("admin API for operator %s: %d", id, code)
		}
	}
	var limits struct {
		Rules map[string]struct {
			Window int64 `json:"window_seconds"`
			Alert  int   `json:"alert_above"`
			Block  int   `json:"block_above"`
		} `json:"rules"`
		BlockFor int64 `json:"block_for_seconds"`
	}
	if code := do(op1, "GET", adminURL+"/admin/v1/limits", nil, &limits); code != http.StatusOK {
		t.Fatalf("limits: %d", code)
	}
	if r := limits.Rules["issuance"]; r.Window != 600 || r.Alert != 7 || r.Block != 9 || limits.BlockFor != 7200 {
		t.Errorf("limits in force %+v, want bulk_limits' issuance rule and block_for", limits)
	}
	if err := pkiUntilDone(t.Context(), []string{"revoke", "--dir", dir.PKI(), "op002", "--reason", "left office"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	var refused struct{ Error struct{ Code string } }
	poll(t, 30*time.Second, "the revoked operator refused", func() bool {
		return do(op2, "GET", adminURL+"/admin/v1/keys", nil, &refused) == http.StatusForbidden
	})
	if refused.Error.Code != "credential_locked" {
		t.Errorf("revoked operator: code %q", refused.Error.Code)
	}
	if code := do(op1, "GET", adminURL+"/admin/v1/keys", nil, nil); code != http.StatusOK {
		t.Errorf("the other operator after the revocation: %d", code)
	}

	cancel()
	stopped(t, "serve", serveDone)
	stopped(t, "agencies", agenciesDone)
}

// stopped waits for a command whose context ended to return, without an
// error.
func stopped(t *testing.T, what string, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s stop: %v", what, err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not stop within 30s", what)
	}
}

// officialClient is an HTTP client with the certificate of the data
// directory's official id (demo-officials.csv).
func officialClient(t *testing.T, data string, roots *x509.CertPool, id string) *http.Client {
	t.Helper()
	o, err := demo.FindOfficial(data, id)
	if err != nil {
		t.Fatal(err)
	}
	c, err := pki.ClientTLS(pki.Credential{CertFile: o.Cert, KeyFile: o.Key}, roots)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: c}, Timeout: 10 * time.Second}
}

// poll calls ok until it says true, failing the test after timeout.
func poll(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s", what, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
