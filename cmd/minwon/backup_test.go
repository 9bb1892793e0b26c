package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/app"
	"github.com/minwon/minwon/internal/backup"
	"github.com/minwon/minwon/internal/datadir"
	"github.com/minwon/minwon/internal/store"
)

// portalLogin logs a demo account in and returns its bearer token.
func portalLogin(t *testing.T, base, login, password string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"login": login, "password": password})
	resp, err := http.Post(base+"/api/v1/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Token string }
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&out) != nil {
		t.Fatalf("login %s: %d", login, resp.StatusCode)
	}
	return out.Token
}

type issued struct {
	Number   string
	LogIndex int64 `json:"log_index"`
}

// portalIssue issues a resident registration copy for the token's owner.
func portalIssue(base, token, key string) (issued, error) {
	body := []byte(`{"service":"resident-registration-copy"}`)
	req, _ := http.NewRequest("POST", base+"/api/v1/issuances", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Idempotency-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return issued{}, err
	}
	defer resp.Body.Close()
	var out issued
	if resp.StatusCode != http.StatusCreated || json.NewDecoder(resp.Body).Decode(&out) != nil {
		return issued{}, fmt.Errorf("issue: status %d", resp.StatusCode)
	}
	return out, nil
}

// portalVerify asks the verification API about a number; it returns the
// status ("valid", "unknown", ...).
func portalVerify(t *testing.T, base, number string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"number": number})
	resp, err := http.Post(base+"/api/v1/verify", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Status string }
	json.NewDecoder(resp.Body).Decode(&out)
	if out.Status == "" {
		out.Status = fmt.Sprint(resp.StatusCode)
	}
	return out.Status
}

// persons reads the demo's person accounts (login, password).
func persons(t *testing.T, dir datadir.Dir, n int) [][2]string {
	t.Helper()
	f, err := os.Open(dir.Accounts())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out [][2]string
	for _, r := range rows[1:] {
		if r[5] == "person" && len(out) < n {
			out = append(out, [2]string{r[0], r[1]})
		}
	}
	return out
}

// runDemoOn starts a demo on an existing data directory and returns its
// portal URL, or the error it stopped with.
func runDemoOn(t *testing.T, dir datadir.Dir, extra ...string) (string, func(), error) {
	t.Helper()
	os.Remove(dir.URLs())
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	args := append([]string{"--data", dir.Path(), "--addr", "127.0.0.1:0", "--people", "40", "--seed", "3", "--crl-refresh", "1s"}, extra...)
	go func() { done <- demoUntilDone(ctx, args) }()
	stop := func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("demo did not stop within 30s")
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		var urls struct{ Portal string }
		if b, err := os.ReadFile(dir.URLs()); err == nil && json.Unmarshal(b, &urls) == nil {
			return urls.Portal, stop, nil
		}
		select {
		case err := <-done:
			cancel()
			return "", func() {}, err
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("no urls.json within 60s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestBackupUnderIssuanceRestoreAndRollback backs up a demo while it
// issues, restores the backup after more issuances, and checks that the
// server then refuses to serve the shorter log until an operator accepts
// the rollback, which is recorded; every document the backup holds still
// verifies.
func TestBackupUnderIssuanceRestoreAndRollback(t *testing.T) {
	dir := datadir.Dir(t.TempDir())
	base, stop, err := runDemoOn(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	accounts := persons(t, dir, 6)
	tokens := make([]string, len(accounts))
	for i, a := range accounts {
		tokens[i] = portalLogin(t, base, a[0], a[1])
	}

	// Issue from every account at once while the backup runs.
	var (
		mu      sync.Mutex
		numbers []issued
		wg      sync.WaitGroup
		halt    = make(chan struct{})
	)
	for i, tok := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 4; k++ {
				select {
				case <-halt:
					return
				default:
				}
				d, err := portalIssue(base, tok, fmt.Sprintf("b-%d-%d", i, k))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				numbers = append(numbers, d)
				mu.Unlock()
			}
		}()
	}
	// The backup starts once some documents are in and others are on
	// their way.
	for deadline := time.Now().Add(30 * time.Second); ; {
		mu.Lock()
		n := len(numbers)
		mu.Unlock()
		if n >= len(tokens) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no documents issued within 30s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	out := filepath.Join(t.TempDir(), "minwon.backup")
	// The server holds the directory: a restore is refused while it runs.
	if err := runBackup([]string{"--data", dir.Path(), "--out", out}); err != nil {
		t.Fatalf("backup while issuing: %v", err)
	}
	if err := runBackup([]string{"--data", dir.Path(), "--out", out}); !errors.Is(err, backup.ErrExists) {
		t.Errorf("second backup to the same file: %v, want ErrExists", err)
	}
	close(halt)
	wg.Wait()
	if err := runRestore([]string{"--data", dir.Path(), "--from", out}); !errors.Is(err, backup.ErrRunning) {
		t.Fatalf("restore into a running demo's directory: %v, want ErrRunning", err)
	}
	// More documents after the backup: the world sees a longer log.
	after, err := portalIssue(base, tokens[0], "after-backup")
	if err != nil {
		t.Fatal(err)
	}
	numbers = append(numbers, after)
	stop()

	ctx := context.Background()
	copyDB, err := store.OpenSQLite(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	lg, err := logOf(demoLogOrigin, dir.Keys().LogKey())
	if err != nil {
		t.Fatal(err)
	}
	r, err := backup.Check(ctx, openCopy, lg, out)
	copyDB.Close()
	if err != nil {
		t.Fatalf("the backup does not check: %v", err)
	}
	if r.LogSize == 0 || r.LogSize > after.LogIndex {
		t.Fatalf("backup log size %d; the document issued after it is at index %d", r.LogSize, after.LogIndex)
	}

	// The backup is older than checkpoint.last: refused, then forced.
	err = runRestore([]string{"--data", dir.Path(), "--from", out})
	if err == nil || !strings.Contains(err.Error(), "entries") {
		t.Fatalf("restore of an older backup: %v, want a refusal naming the lost entries", err)
	}
	if err := runRestore([]string{"--data", dir.Path(), "--from", out, "--force"}); err != nil {
		t.Fatalf("forced restore: %v", err)
	}

	// The server refuses the shorter log ...
	_, _, err = runDemoOn(t, dir)
	if !errors.Is(err, app.ErrLogRollback) {
		t.Fatalf("start on a rolled-back log: %v, want ErrLogRollback", err)
	}
	lost := fmt.Sprintf("%d entries (indexes %d to", after.LogIndex+1-r.LogSize, r.LogSize)
	if !strings.Contains(err.Error(), lost) {
		t.Errorf("the refusal does not say what was lost (%q): %v", lost, err)
	}
	// ... until an operator accepts it, which is recorded.
	base, stop, err = runDemoOn(t, dir, "--accept-log-rollback")
	if err != nil {
		t.Fatalf("start with --accept-log-rollback: %v", err)
	}
	for _, d := range numbers {
		got := portalVerify(t, base, d.Number)
		want := "valid"
		if d.LogIndex >= r.LogSize {
			want = "unknown" // issued after the backup: lost with the rollback
		}
		if got != want {
			t.Errorf("document %s at index %d (backup size %d): %s, want %s", d.Number, d.LogIndex, r.LogSize, got, want)
		}
	}
	stop()
	db, err := store.OpenSQLite(ctx, dir.Database())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	events, err := db.AuditChain(ctx, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	recorded := false
	for _, e := range events {
		if e.Action == app.ActLogRollbackAccepted && strings.Contains(e.Detail, "entries lost") {
			recorded = true
		}
	}
	if !recorded {
		t.Error("no audit event of the accepted rollback")
	}
	incs, err := db.Incidents(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(incs) == 0 || incs[0].Kind != "log_rollback" {
		t.Errorf("incidents after an accepted rollback: %+v", incs)
	}
	// The next start needs no flag: the seen checkpoint is the new log's.
	if _, stop, err := runDemoOn(t, dir); err != nil {
		t.Errorf("start after the accepted rollback: %v", err)
	} else {
		stop()
	}
}
