package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/datadir"
	"github.com/minwon/minwon/internal/demo"
	"github.com/minwon/minwon/internal/pki"
)

// The demo writes urls.json (../shared/API.md) once every listener answers,
// and stops cleanly when its context ends.
func TestDemoWritesURLsAndStops(t *testing.T) {
	dir, urls, stop := startDemo(t, 40, 3)
	if urls.Portal == "" || urls.Admin == "" || urls.Counter == "" || urls.Validation == "" || len(urls.Agencies) != 3 {
		t.Fatalf("urls.json = %+v", urls)
	}
	get := func(url string) int {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := get(urls.Portal + "/api/v1/services"); c != http.StatusOK {
		t.Errorf("portal services: %d", c)
	}
	if c := get(urls.Validation + "/health"); c != http.StatusOK {
		t.Errorf("validation health: %d", c)
	}
	// The counter answers an official of the demo's PKI, and nobody else.
	roots, err := pki.RootPool(filepath.Join(dir.PKI(), pki.RootCertFile))
	if err != nil {
		t.Fatal(err)
	}
	official := officialClient(t, dir.Path(), roots, "c0001")
	// The agencies serve mutual TLS; their fault switches answer the
	// operator, not a clerk.
	operator := officialClient(t, dir.Path(), roots, "op001")
	for name, u := range urls.Agencies {
		resp, err := operator.Get(u + "/_faults")
		if err != nil || resp.Body.Close() != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("agency %s faults for the operator: %v %v", name, resp, err)
		}
		if resp, err := official.Get(u + "/_faults"); err != nil || resp.Body.Close() != nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("agency %s faults for a clerk: %v %v", name, resp, err)
		}
	}
	resp, err := official.Get(urls.Counter + "/counter/v1/status")
	if err != nil {
		t.Fatalf("counter status: %v", err)
	}
	var st struct{ Official, Office, Credential string }
	json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || st.Official != "c0001" || st.Office == "" || st.Credential == "" {
		t.Errorf("counter status: %d %+v", resp.StatusCode, st)
	}
	anon := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}, Timeout: 10 * time.Second}
	if resp, err := anon.Get(urls.Counter + "/counter/v1/status"); err == nil {
		resp.Body.Close()
		t.Errorf("counter answered %d without a client certificate", resp.StatusCode)
	}
	// The admin API takes an operator's certificate, not a clerk's.
	if resp, err := anon.Get(urls.Admin + "/admin/v1/keys"); err == nil {
		resp.Body.Close()
		t.Errorf("admin API answered %d without a client certificate", resp.StatusCode)
	}
	if resp, err := official.Get(urls.Admin + "/admin/v1/keys"); err != nil {
		t.Errorf("admin API for a counter clerk: %v", err)
	} else if resp.Body.Close(); resp.StatusCode != http.StatusForbidden {
		t.Errorf("admin API for a counter clerk: %d, want 403", resp.StatusCode)
	}
	if resp, err := operator.Get(urls.Admin + "/admin/v1/keys"); err != nil {
		t.Errorf("admin API for an operator: %v", err)
	} else if resp.Body.Close(); resp.StatusCode != http.StatusOK {
		t.Errorf("admin API for an operator: %d", resp.StatusCode)
	}
	if fi, err := os.Stat(dir.Residents()); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("demo-residents.csv: %v %v", fi, err)
	}
	if fi, err := os.Stat(dir.URLs()); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("urls.json mode: %v %v", fi.Mode(), err)
	}
	if err := stop(); err != nil {
		t.Fatalf("demo stop: %v", err)
	}
}

// startDemo runs `minwon demo` in process on a fresh data directory and
// waits for its urls.json; stop ends it and returns its error.
func startDemo(t *testing.T, people int, seed int64) (datadir.Dir, demo.URLs, func() error) {
	t.Helper()
	dir := datadir.Dir(t.TempDir())
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- demoUntilDone(ctx, []string{"--data", dir.Path(), "--addr", "127.0.0.1:0", "--people", fmt.Sprint(people), "--seed", fmt.Sprint(seed), "--crl-refresh", "1s"})
	}()
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			return errors.New("demo did not stop within 30s")
		}
	}
	t.Cleanup(func() { stop() })
	var urls demo.URLs
	deadline := time.Now().Add(60 * time.Second)
	for {
		if b, err := os.ReadFile(dir.URLs()); err == nil && json.Unmarshal(b, &urls) == nil {
			return dir, urls, stop
		}
		select {
		case err := <-done:
			t.Fatalf("demo stopped before writing urls.json: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("no urls.json within 60s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
