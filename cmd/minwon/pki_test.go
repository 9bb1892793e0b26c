package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minwon/minwon/internal/pki"
)

// `minwon pki` issues and revokes in order, and its exit status says
// success (0), refusal (1) or usage (2); it prints key paths, never a key.
func TestPKICommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	steps := []struct {
		name string
		args []string
		code int
		want []string // in the output (stdout, then stderr)
	}{
		{"no subcommand", nil, 2, []string{"usage:"}},
		{"unknown subcommand", []string{"mint", "--dir", dir}, 2, []string{`unknown subcommand "mint"`}},
		{"no dir", []string{"init"}, 2, []string{"--dir is required"}},
		{"issue before init", []string{"issue", "--dir", dir, "--id", "op001", "--name", "한예린", "--office", "운영센터", "--role", "operator"}, 1, []string{"minwon pki init"}},
		{"init", []string{"init", "--dir", dir}, 0, []string{filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ministry-ca.pem")}},
		{"init again keeps it", []string{"init", "--dir", dir}, 0, []string{filepath.Join(dir, "ca.pem")}},
		{"issue operator", []string{"issue", "--dir", dir, "--id", "op001", "--name", "한예린", "--office", "운영센터", "--role", "operator"}, 0, []string{"cert: " + filepath.Join(dir, "officials", "op001.pem"), "key:  " + filepath.Join(dir, "officials", "op001.key")}},
		{"issue clerk", []string{"issue", "--dir", dir, "--id", "c0001", "--name", "박서연", "--office", "행운동 주민센터", "--role", "counter_clerk"}, 0, []string{"c0001.pem"}},
		{"issue twice", []string{"issue", "--dir", dir, "--id", "op001", "--name", "한예린", "--office", "운영센터", "--role", "operator"}, 1, []string{"already has a certificate"}},
		{"unknown role", []string{"issue", "--dir", dir, "--id", "x1", "--name", "x", "--office", "x", "--role", "root"}, 2, []string{"--role"}},
		{"issue without name", []string{"issue", "--dir", dir, "--id", "x1", "--office", "x", "--role", "auditor"}, 2, []string{"--name"}},
		{"server", []string{"server", "--dir", dir, "--name", "admin", "--host", "127.0.0.1, localhost"}, 0, []string{"cert: " + filepath.Join(dir, "servers", "admin.pem")}},
		{"server without name", []string{"server", "--dir", dir, "--host", "127.0.0.1"}, 2, []string{"--name"}},
		{"revoke without reason", []string{"revoke", "--dir", dir, "op001"}, 2, []string{"--reason"}},
		{"revoke without id", []string{"revoke", "--dir", dir, "--reason", "left"}, 2, []string{"0 arguments given"}},
		{"revoke unknown", []string{"revoke", "--dir", dir, "nobody", "--reason", "left"}, 1, []string{"no such certificate"}},
		{"revoke", []string{"revoke", "--dir", dir, "op001", "--reason", "left office"}, 0, []string{"revoked op001", "left office"}},
		{"revoke again", []string{"revoke", "--dir", dir, "--reason", "left office", "op001"}, 1, []string{"already revoked"}},
		{"bad flag", []string{"list", "--dir", dir, "--all"}, 2, []string{"-all"}},
		{"list", []string{"list", "--dir", dir}, 0, []string{"op001", "revoked", "left office", "c0001", "counter_clerk", "valid", "admin"}},
		{"validation off loopback", []string{"validation", "--dir", dir, "--addr", "0.0.0.0:7103"}, 2, []string{"loopback"}},
	}
	for _, s := range steps {
		var out, errOut bytes.Buffer
		code := exitCode(pkiUntilDone(t.Context(), s.args, &out), &errOut)
		text := out.String() + errOut.String()
		if code != s.code {
			t.Fatalf("%s: exit %d, want %d:\n%s", s.name, code, s.code, text)
		}
		for _, w := range s.want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: output does not say %q:\n%s", s.name, w, text)
			}
		}
		if strings.Contains(text, "PRIVATE KEY") {
			t.Fatalf("%s printed a private key", s.name)
		}
	}
	if lines := strings.Count(listOutput(t, dir), "\n"); lines != 4 {
		t.Errorf("list: %d lines, want a header and 3 certificates", lines)
	}
}

func listOutput(t *testing.T, dir string) string {
	t.Helper()
	var out bytes.Buffer
	if err := pkiUntilDone(t.Context(), []string{"list", "--dir", dir}, &out); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// The standalone validation service publishes a revocation made by
// another `minwon pki revoke` at once, and stops with its context.
func TestPKIValidationCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	ca, err := pki.Init(dir)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := ca.IssueOfficial(pki.Official{ID: "op001", Name: "한예린", Office: "운영센터", Role: pki.Operator})
	if err != nil {
		t.Fatal(err)
	}
	certs, err := pki.ReadCerts(cred.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- pkiUntilDone(ctx, []string{"validation", "--dir", dir, "--addr", "127.0.0.1:0"}, pw)
		pw.Close()
	}()
	line := make([]byte, 512)
	n, err := pr.Read(line)
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	base := strings.Fields(string(line[:n]))[2] // "validation service: URL/crl ..."
	base = strings.TrimSuffix(base, "/crl")
	if err := pkiUntilDone(t.Context(), []string{"revoke", "--dir", dir, "op001", "--reason", "keyCompromise"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(base + "/crl")
	if err != nil {
		t.Fatal(err)
	}
	der, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatalf("GET /crl: %d %v", resp.StatusCode, err)
	}
	if err := crl.CheckSignatureFrom(ca.Ministry); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range crl.RevokedCertificateEntries {
		found = found || e.SerialNumber.Cmp(certs[0].SerialNumber) == 0
	}
	if !found {
		t.Error("the CRL does not list the certificate revoked a moment ago")
	}
	cancel()
	stopped(t, "validation", done)
}
