package app_test

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/apiwire"
	"github.com/minwon/minwon/internal/apptest"
	"github.com/minwon/minwon/internal/pki"
	"github.com/minwon/minwon/internal/pkitest"
	"github.com/minwon/minwon/internal/sdjwt"
	"github.com/minwon/minwon/internal/verify/verifycmd"
)

// A certificate as an SD-JWT VC: it verifies against the PKI's root, the
// holder can show only some fields, and a revocation sets its bit in the
// public status list.
func TestCredentialForWallets(t *testing.T) {
	env := apptest.Start(t, 300, 24)
	person := env.World.People[0]
	c := env.Login(t, env.AccountOf(t, person.Subject))
	var is apiwire.Issued
	if st := c.Do("POST", "/api/v1/issuances", map[string]any{"service": "resident-registration-abstract"}, newKey(), &is); st != http.StatusCreated {
		t.Fatalf("issue: %d", st)
	}
	if is.Credential != "/api/v1/issuances/"+is.Number+"/credential.sd-jwt" {
		t.Fatalf("credential path %q", is.Credential)
	}
	resp, body := c.Raw("GET", is.Credential, nil, nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/dc+sd-jwt" {
		t.Fatalf("credential: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	cred := string(body)
	if st := env.Anonymous(t).Do("GET", is.Credential, nil, nil, nil); st != http.StatusUnauthorized {
		t.Errorf("anonymous credential: %d", st)
	}

	raw, err := os.ReadFile(filepath.Join(pkitest.CA(t).Dir(), pki.RootCertFile))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(raw)
	root, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(root)
	trust := sdjwt.Trust{Roots: roots}

	full, err := sdjwt.Verify(cred, trust, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if full.Disclosed["name"] != person.Name || full.Claims["document_number"] != is.Number || full.Status == nil || full.Status.Index != is.LogIndex ||
		!strings.HasSuffix(full.Status.URI, "/api/v1/credentials/status") {
		t.Errorf("credential claims %+v disclosed %v status %+v", full.Claims, full.Disclosed, full.Status)
	}
	// The wallet shows only the birth date.
	p, err := sdjwt.Present(cred, "birth_date")
	if err != nil {
		t.Fatal(err)
	}
	shown, err := sdjwt.Verify(p, trust, time.Now())
	if err != nil || len(shown.Disclosed) != 1 || shown.Disclosed["birth_date"] == nil || strings.Contains(p, person.Name) {
		t.Errorf("presentation: %v %v", err, shown)
	}

	statusList := func() string {
		t.Helper()
		resp, body := env.Anonymous(t).Raw("GET", "/api/v1/credentials/status", nil, nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/statuslist+jwt" {
			t.Fatalf("status list: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		return string(body)
	}
	if err := shown.CheckStatus(statusList(), trust, time.Now()); err != nil {
		t.Fatalf("status before the revocation: %v", err)
	}
	// minwon verify, fetching the status list from the credential's URI.
	dir := t.TempDir()
	credFile, caFile := filepath.Join(dir, "abstract.sd-jwt"), filepath.Join(pkitest.CA(t).Dir(), pki.RootCertFile)
	if err := os.WriteFile(credFile, []byte(p), 0o600); err != nil {
		t.Fatal(err)
	}
	runVerify := func() (int, string) {
		var out, errOut bytes.Buffer
		code := verifycmd.Main("minwon verify", []string{credFile, "--ca", caFile}, &out, &errOut)
		return code, out.String() + errOut.String()
	}
	if code, out := runVerify(); code != verifycmd.ExitValid || !strings.Contains(out, "disclosed: birth_date") {
		t.Errorf("minwon verify: %d %s", code, out)
	}
	if st := env.Admin(t).Do("POST", "/admin/v1/revocations", map[string]string{"number": is.Number, "reason": "test revocation"}, nil, nil); st != http.StatusCreated {
		t.Fatalf("revoke: %d", st)
	}
	// The list is rebuilt within a few seconds.
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := shown.CheckStatus(statusList(), trust, time.Now())
		if errors.Is(err, sdjwt.ErrRevoked) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status after the revocation: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if code, out := runVerify(); code != verifycmd.ExitInvalid || !strings.Contains(out, "revoked") {
		t.Errorf("minwon verify after the revocation: %d %s", code, out)
	}
}
