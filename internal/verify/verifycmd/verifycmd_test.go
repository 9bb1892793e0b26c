package verifycmd_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minwon/minwon/internal/verify/verifycmd"
)

// TestOfflineVectors runs every test vector through the command, offline,
// as files: exit 0 for the valid ones, 1 for the others.
func TestOfflineVectors(t *testing.T) {
	files, err := filepath.Glob("../testdata/vectors/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no vectors: %v", err)
	}
	dir := t.TempDir()
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var v struct {
				Expect string
				PDF    []byte
				Proof  json.RawMessage
				Keys   json.RawMessage
			}
			if err := json.Unmarshal(raw, &v); err != nil {
				t.Fatal(err)
			}
			pdf, proof, keys := write(t, dir, name+".pdf", v.PDF), write(t, dir, name+".proof.json", v.Proof), write(t, dir, name+".keys.json", v.Keys)
			want := verifycmd.ExitInvalid
			if v.Expect == "valid" {
				want = verifycmd.ExitValid
			}
			var out, errOut bytes.Buffer
			if code := verifycmd.Main("minwon-verify", []string{pdf, "--checkpoint", proof, "--key", keys, "--max-age", "0"}, &out, &errOut); code != want {
				t.Errorf("exit %d, want %d (%s)\n%s%s", code, want, v.Expect, out.String(), errOut.String())
			}
			prefix := "NOT VALID: "
			if v.Expect == "valid" {
				prefix = "VALID: "
			}
			if !strings.HasPrefix(out.String(), prefix) {
				t.Errorf("output %q, want it to start with %q", out.String(), prefix)
			}
			// The vectors' checkpoints say no time: by default, an
			// offline check cannot tell how old they are and refuses.
			out.Reset()
			if code := verifycmd.Main("minwon-verify", []string{pdf, "--checkpoint", proof, "--key", keys}, &out, &errOut); code != verifycmd.ExitInvalid {
				t.Errorf("a proof of unknown age: exit %d, want %d\n%s", code, verifycmd.ExitInvalid, out.String())
			}
		})
	}
	var out, errOut bytes.Buffer
	for _, args := range [][]string{{}, {"x.pdf"}, {"x.pdf", "--checkpoint", "p.json"}, {"x.pdf", "--log", "http://127.0.0.1:1", "--checkpoint", "p.json"}, {"--nonsense"}} {
		if code := verifycmd.Main("minwon-verify", args, &out, &errOut); code != verifycmd.ExitUsage {
			t.Errorf("%q: exit %d, want %d", args, code, verifycmd.ExitUsage)
		}
	}
}

func write(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
