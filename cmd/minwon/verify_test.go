package main

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minwon/minwon/internal/apptest"
	"github.com/minwon/minwon/internal/docsig"
	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/pkitest"
	"github.com/minwon/minwon/internal/verify/verifycmd"
)

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func issueFile(t *testing.T, c *apptest.Client, dir, svc, key string) (string, []byte, string) {
	t.Helper()
	var got struct{ Number, Document string }
	if code := c.Do("POST", "/api/v1/issuances", map[string]any{"service": svc}, map[string]string{"Idempotency-Key": key}, &got); code != http.StatusCreated {
		t.Fatalf("issue: %d", code)
	}
	_, pdf := c.Raw("GET", got.Document, nil, nil)
	return writeFile(t, dir, got.Number+".pdf", pdf), pdf, got.Number
}

// TestVerifyCommand drives `minwon verify` online and offline: exit 0 only
// for a valid, logged, unrevoked document.
func TestVerifyCommand(t *testing.T) {
	env := apptest.Start(t, 200, 31)
	dir := t.TempDir()
	person := env.World.People[env.World.Households[0].Head]
	c := env.Login(t, env.AccountOf(t, person.Subject))
	file, pdf, number := issueFile(t, c, dir, "resident-registration-copy", "cli-1")
	other, _, _ := issueFile(t, c, dir, "resident-registration-abstract", "cli-2")
	_, keys := env.Anonymous(t).Raw("GET", "/api/v1/keys", nil, nil)
	keysFile := writeFile(t, dir, "keys.json", keys)
	proof := filepath.Join(dir, "proof.json")

	// The issued file as a standard PDF reader sees it, the PKI's root
	// trusted.
	t.Run("pdfsig", func(t *testing.T) {
		report := pkitest.Pdfsig(t, file)
		for _, want := range []string{"Signature is Valid.", "Certificate is Trusted.", "Total document signed"} {
			if !strings.Contains(report, want) {
				t.Errorf("pdfsig on an issued document does not say %q:\n%s", want, report)
			}
		}
	})

	tampered := append([]byte(nil), pdf...)
	tampered[len(tampered)/3] ^= 0x20
	tamperedFile := writeFile(t, dir, "tampered.pdf", tampered)
	body, err := docsig.Unsigned(pdf)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := env.ActiveSigner().SignPDF(string(issuance.NewNumber()), body)
	if err != nil {
		t.Fatal(err)
	}
	unlogged := writeFile(t, dir, "unlogged.pdf", forged)
	// Its data.json, told from a PDF by content (the name says nothing).
	resp, data := c.Raw("GET", "/api/v1/issuances/"+number+"/data.json", nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("data.json: %s", resp.Status)
	}
	dataFile := writeFile(t, dir, "document-data", data)
	tamperedData := writeFile(t, dir, "tampered.data.json", bytes.Replace(data, []byte(`"service_version": 1`), []byte(`"service_version": 2`), 1))
	if bytes.Equal(data, mustRead(t, tamperedData)) {
		t.Fatal("the tampered data.json is unchanged")
	}

	valid := []struct {
		name string
		args []string
	}{
		{"online", []string{file, "--log", env.Server.URL, "--save-proof", proof}},
		{"online with pinned keys", []string{"--log", env.Server.URL + "/log", "--key", keysFile, file}},
		{"offline", []string{file, "--checkpoint", proof, "--key", keysFile}},
		{"data.json online", []string{dataFile, "--log", env.Server.URL}},
		{"data.json offline with the PDF's proof", []string{dataFile, "--checkpoint", proof, "--key", keysFile}},
	}
	for _, tc := range valid {
		if err := verifycmd.Run(tc.args, io.Discard, io.Discard); err != nil {
			t.Errorf("%s: valid document refused: %v", tc.name, err)
		}
	}
	invalid := []struct {
		name string
		args []string
	}{
		{"tampered online", []string{tamperedFile, "--log", env.Server.URL}},
		{"tampered offline", []string{tamperedFile, "--checkpoint", proof, "--key", keysFile}},
		{"another document's proof", []string{other, "--checkpoint", proof, "--key", keysFile}},
		{"unlogged online", []string{unlogged, "--log", env.Server.URL}},
		{"unlogged offline", []string{unlogged, "--checkpoint", proof, "--key", keysFile}},
		{"tampered data.json online", []string{tamperedData, "--log", env.Server.URL}},
		{"tampered data.json offline", []string{tamperedData, "--checkpoint", proof, "--key", keysFile}},
	}
	for _, tc := range invalid {
		if err := verifycmd.Run(tc.args, io.Discard, io.Discard); !errors.Is(err, verifycmd.ErrInvalid) {
			t.Errorf("%s: want invalid, got %v", tc.name, err)
		}
	}

	if code := env.Admin(t).Do("POST", "/admin/v1/revocations", map[string]string{"number": number, "reason": "test revocation"}, nil, nil); code != http.StatusCreated {
		t.Fatalf("revoke: %d", code)
	}
	if err := verifycmd.Run([]string{file, "--log", env.Server.URL}, io.Discard, io.Discard); !errors.Is(err, verifycmd.ErrInvalid) {
		t.Errorf("revoked document: want invalid, got %v", err)
	}
	if err := verifycmd.Run([]string{dataFile, "--log", env.Server.URL}, io.Discard, io.Discard); !errors.Is(err, verifycmd.ErrInvalid) {
		t.Errorf("revoked document's data.json: want invalid, got %v", err)
	}
	// The proof saved before the revocation cannot show it: an offline
	// check says how fresh the proof is, and refuses one older than
	// --max-age.
	var out bytes.Buffer
	if err := verifycmd.Run([]string{file, "--checkpoint", proof, "--key", keysFile}, &out, io.Discard); err != nil || !strings.Contains(out.String(), "Not revoked as of ") {
		t.Errorf("offline with a proof from before the revocation, within --max-age: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := verifycmd.Run([]string{file, "--checkpoint", proof, "--key", keysFile, "--max-age", "1ns"}, &out, io.Discard); !errors.Is(err, verifycmd.ErrInvalid) || !strings.Contains(out.String(), "too old") {
		t.Errorf("offline with a proof older than --max-age: want invalid, got %v\n%s", err, out.String())
	}

	var usage verifycmd.UsageError
	for _, args := range [][]string{
		{},
		{file},
		{file, "--log", env.Server.URL, "--checkpoint", proof},
		{file, "--checkpoint", proof},
		{file, other, "--log", env.Server.URL},
		{filepath.Join(dir, "missing.pdf"), "--log", env.Server.URL},
		{file, "--checkpoint", keysFile, "--key", proof},
	} {
		if err := verifycmd.Run(args, io.Discard, io.Discard); !errors.As(err, &usage) {
			t.Errorf("%q: want a usage error, got %v", args, err)
		}
	}
}
