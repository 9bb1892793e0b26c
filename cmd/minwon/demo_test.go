package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/datadir"
	"github.com/minwon/minwon/internal/demo"
)

// The demo writes urls.json (../shared/API.md) once every listener answers,
// and stops cleanly when its context ends.
func TestDemoWritesURLsAndStops(t *testing.T) {
	dir := datadir.Dir(t.TempDir())
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- demoUntilDone(ctx, []string{"--data", dir.Path(), "--addr", "127.0.0.1:0", "--people", "40", "--seed", "3"})
	}()
	var urls demo.URLs
	deadline := time.Now().Add(60 * time.Second)
	for {
		if b, err := os.ReadFile(dir.URLs()); err == nil && json.Unmarshal(b, &urls) == nil {
			break
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
	if urls.Portal == "" || urls.Admin == "" || len(urls.Agencies) != 3 {
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
	if c := get(urls.Admin + "/admin/v1/keys"); c != http.StatusUnauthorized {
		t.Errorf("admin without token: %d, want 401", c)
	}
	for name, u := range urls.Agencies {
		if c := get(u + "/v1/health"); c != http.StatusOK {
			t.Errorf("agency %s health: %d", name, c)
		}
	}
	if fi, err := os.Stat(dir.URLs()); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("urls.json mode: %v %v", fi.Mode(), err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("demo stop: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not stop")
	}
}
