package main

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/app"
	"github.com/minwon/minwon/internal/datadir"
	"github.com/minwon/minwon/internal/doclog"
	"github.com/minwon/minwon/internal/keyfile"
	"github.com/minwon/minwon/internal/verify"
	"github.com/minwon/minwon/internal/verify/verifycmd"
	"github.com/minwon/minwon/internal/witness/witnesstest"
)

// A demo with a witness publishes cosigned checkpoints, which minwon verify
// requires with --witness-key; restored from an older backup with its
// checkpoint file lost too, it is still refused at start, by the witness.
func TestDemoWithWitness(t *testing.T) {
	dir := datadir.Dir(t.TempDir())
	// The log key exists before the witness is told about it.
	key, err := keyfile.LoadOrCreate(dir.Keys().LogKey())
	if err != nil {
		t.Fatal(err)
	}
	logKey, err := doclog.VerifierKey(demoLogOrigin, key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	w := witnesstest.Start(t, demoLogOrigin, logKey)
	withWitness := []string{"--witness-url", w.URL, "--witness-key", w.VerifierKey}
	base, stop, err := runDemoOn(t, dir, withWitness...)
	if err != nil {
		t.Fatal(err)
	}
	accounts := persons(t, dir, 1)
	token := portalLogin(t, base, accounts[0][0], accounts[0][1])
	first, err := portalIssue(base, token, "w-1")
	if err != nil {
		t.Fatal(err)
	}
	backupFile := filepath.Join(t.TempDir(), "minwon.backup")
	if err := runBackup([]string{"--data", dir.Path(), "--out", backupFile}); err != nil {
		t.Fatal(err)
	}
	last, err := portalIssue(base, token, "w-2")
	if err != nil {
		t.Fatal(err)
	}

	// /log/checkpoint carries the witness's cosignature once it has
	// cosigned the newest checkpoint.
	var cp []byte
	for deadline := time.Now().Add(20 * time.Second); ; {
		resp, err := http.Get(base + "/log/checkpoint")
		if err != nil {
			t.Fatal(err)
		}
		cp, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if c, err := verify.OpenCosigned(cp, []string{logKey}, []string{w.VerifierKey}); err == nil && c.Size > last.LogIndex {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no cosigned checkpoint within 20s:\n%s", cp)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !bytes.Contains(cp, []byte("— "+w.Name+" ")) {
		t.Errorf("the published checkpoint has no cosignature line by %s:\n%s", w.Name, cp)
	}

	// minwon verify requires the witness when told its key.
	pdf := fetchPDF(t, base, token, first.Number)
	var out, errOut bytes.Buffer
	if err := verifycmd.Run([]string{pdf, "--log", base, "--witness-key", w.VerifierKey}, &out, &errOut); err != nil {
		t.Fatalf("verify --witness-key: %v\n%s%s", err, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "cosigned by the required witnesses") {
		t.Errorf("verify does not say the witness cosigned:\n%s", out.String())
	}
	other := witnesstest.VerifierKey("witness.test/absent", key.Public().(ed25519.PublicKey))
	out.Reset()
	if err := verifycmd.Run([]string{pdf, "--log", base, "--witness-key", other}, &out, &errOut); !errors.Is(err, verifycmd.ErrInvalid) {
		t.Errorf("verify requiring a witness that never cosigned: %v\n%s", err, out.String())
	}
	stop()

	// The older backup, with checkpoint.last lost as well: the witness
	// still knows the log was longer.
	if err := runRestore([]string{"--data", dir.Path(), "--from", backupFile, "--force"}); err != nil {
		t.Fatal(err)
	}
	os.Remove(dir.SeenCheckpoint())
	_, _, err = runDemoOn(t, dir, withWitness...)
	if !errors.Is(err, app.ErrLogRollback) || !strings.Contains(err.Error(), "the witness") {
		t.Fatalf("start on a rolled-back log the witness cosigned further: %v", err)
	}
}

// fetchPDF downloads an issued document to a file and returns its path.
func fetchPDF(t *testing.T, base, token, number string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/v1/issuances/"+number+"/document.pdf", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	pdf, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("download %s: %d", number, resp.StatusCode)
	}
	path := filepath.Join(t.TempDir(), number+".pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
