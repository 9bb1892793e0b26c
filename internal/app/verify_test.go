package app_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/apiwire"
	"github.com/minwon/minwon/internal/app"
	"github.com/minwon/minwon/internal/apptest"
	"github.com/minwon/minwon/internal/doclog"
	"github.com/minwon/minwon/internal/docsig"
	"github.com/minwon/minwon/internal/ident"
	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/keyfile"
	"github.com/minwon/minwon/internal/pki"
	"github.com/minwon/minwon/internal/pkitest"
	"github.com/minwon/minwon/internal/storetest"
	"github.com/minwon/minwon/internal/verification"
)

// issuePDF issues svc for the client's own subject and returns the answer
// and the signed PDF.
func issuePDF(t *testing.T, c *apptest.Client, svc string) (apiwire.Issued, []byte) {
	t.Helper()
	var got apiwire.Issued
	if code := c.Do("POST", "/api/v1/issuances", map[string]any{"service": svc}, newKey(), &got); code != http.StatusCreated {
		t.Fatalf("issue %s: status %d", svc, code)
	}
	resp, pdf := c.Raw("GET", got.Document, nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("download: %d", resp.StatusCode)
	}
	return got, pdf
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func verifyNumber(t *testing.T, c *apptest.Client, number, sum string) verification.ResultJSON {
	t.Helper()
	var out verification.ResultJSON
	if code := c.Do("POST", "/api/v1/verify", map[string]string{"number": number, "sha256": sum}, nil, &out); code != http.StatusOK {
		t.Fatalf("verify %s: status %d", number, code)
	}
	return out
}

func verifyPDF(t *testing.T, c *apptest.Client, pdf []byte) verification.ResultJSON {
	t.Helper()
	var out verification.ResultJSON
	resp, body := c.Send("POST", "/api/v1/verify", "application/pdf", pdf, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("verify upload: status %d: %s", resp.StatusCode, body)
	}
	decodeJSON(t, body, &out)
	return out
}

func keySet(t *testing.T, c *apptest.Client) verification.PublicKeys {
	t.Helper()
	var ks verification.KeySetJSON
	if code := c.Do("GET", "/api/v1/keys", nil, nil, &ks); code != http.StatusOK {
		t.Fatalf("keys: %d", code)
	}
	pk, err := ks.PublicKeys()
	if err != nil {
		t.Fatal(err)
	}
	return pk
}

// checkOffline checks an API answer the way `minwon verify` does.
func checkOffline(t *testing.T, pdf []byte, ans verification.ResultJSON, keys verification.PublicKeys) error {
	t.Helper()
	b, err := ans.Bundle()
	if err != nil {
		t.Fatal(err)
	}
	return verification.CheckOffline(pdf, b, keys)
}

func TestVerifyValidTamperedUnknownUnlogged(t *testing.T) {
	storetest.Each(t, testVerifyValidTamperedUnknownUnlogged)
}

func testVerifyValidTamperedUnknownUnlogged(t *testing.T, b storetest.Backend) {
	env := apptest.StartOpts(t, 300, 21, apptest.Options{Backend: &b})
	person := env.World.People[env.World.Households[0].Head]
	c := env.Login(t, env.AccountOf(t, person.Subject))
	anon := env.Anonymous(t)
	got, pdf := issuePDF(t, c, "resident-registration-copy")
	keys := keySet(t, anon)

	t.Run("valid by number and hash", func(t *testing.T) {
		ans := verifyNumber(t, anon, got.Number, sha(pdf))
		if ans.Status != verification.Valid || ans.Service != "resident-registration-copy" || ans.LogIndex == nil || len(ans.InclusionProof) == 0 && ans.TreeSize > 1 {
			t.Fatalf("answer = %+v", ans)
		}
		if err := checkOffline(t, pdf, ans, keys); err != nil {
			t.Fatalf("offline check of a valid answer: %v", err)
		}
	})
	t.Run("valid by upload, no personal data in the answer", func(t *testing.T) {
		resp, body := anon.Send("POST", "/api/v1/verify", "application/pdf", pdf, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		for _, pii := range []string{person.Name, person.Subject, person.RRN, person.BirthDate.Format("2006-01-02")} {
			if strings.Contains(string(body), pii) {
				t.Errorf("the verification answer holds personal data %q", pii)
			}
		}
		var ans verification.ResultJSON
		decodeJSON(t, body, &ans)
		if ans.Status != verification.Valid {
			t.Fatalf("status %s: %s", ans.Status, ans.Message)
		}
	})
	t.Run("number alone", func(t *testing.T) {
		ans := verifyNumber(t, anon, issuance.Number(got.Number).Format(), "")
		if ans.Status != verification.Valid || ans.SHA256 != sha(pdf) {
			t.Fatalf("answer = %+v", ans)
		}
	})
	t.Run("tampered byte", func(t *testing.T) {
		bad := append([]byte(nil), pdf...)
		bad[len(bad)/2] ^= 0x01
		if ans := verifyPDF(t, anon, bad); ans.Status != verification.Mismatch {
			t.Fatalf("upload of a tampered PDF: %s", ans.Status)
		}
		if ans := verifyNumber(t, anon, got.Number, sha(bad)); ans.Status != verification.Mismatch {
			t.Fatalf("hash of a tampered PDF: %s", ans.Status)
		}
		ans := verifyNumber(t, anon, got.Number, sha(pdf))
		if err := checkOffline(t, bad, ans, keys); err == nil {
			t.Fatal("offline check passed a tampered PDF")
		}
	})
	t.Run("wrong number", func(t *testing.T) {
		other := string(issuance.NewNumber())
		if ans := verifyNumber(t, anon, other, sha(pdf)); ans.Status != verification.Unknown {
			t.Fatalf("unissued number: %s", ans.Status)
		}
		var e apiwire.ErrorBody
		if code := anon.Do("POST", "/api/v1/verify", map[string]string{"number": "1234"}, nil, &e); code != http.StatusBadRequest || e.Error.Code != "bad_request" {
			t.Fatalf("malformed number: %d %+v", code, e)
		}
		// A valid answer about another document does not vouch for this one.
		_, pdf2 := issuePDF(t, c, "resident-registration-abstract")
		if err := checkOffline(t, pdf2, verifyNumber(t, anon, got.Number, sha(pdf)), keys); err == nil {
			t.Fatal("offline check accepted another document's proof")
		}
	})
	t.Run("validly signed but never logged", func(t *testing.T) {
		// What an insider with the signing key, bypassing the log, could make.
		number := string(issuance.NewNumber())
		body, err := docsig.Unsigned(pdf)
		if err != nil {
			t.Fatal(err)
		}
		forged, err := env.ActiveSigner().SignPDF(number, body)
		if err != nil {
			t.Fatal(err)
		}
		if ans := verifyPDF(t, anon, forged); ans.Status != verification.Unknown {
			t.Fatalf("unlogged document: %s", ans.Status)
		}
		if err := checkOffline(t, forged, verifyNumber(t, anon, got.Number, sha(pdf)), keys); err == nil {
			t.Fatal("offline check accepted an unlogged document")
		}
	})
	t.Run("not a minwon document", func(t *testing.T) {
		if ans := verifyPDF(t, anon, []byte("%PDF-1.7\nhello\n%%EOF\n")); ans.Status != verification.Unknown {
			t.Fatalf("foreign PDF: %s", ans.Status)
		}
	})
}

func TestRevokedDocumentAndKey(t *testing.T) {
	storetest.Each(t, testRevokedDocumentAndKey)
}

func testRevokedDocumentAndKey(t *testing.T, b storetest.Backend) {
	env := apptest.StartOpts(t, 300, 22, apptest.Options{Backend: &b})
	person := env.World.People[env.World.Households[1].Head]
	c := env.Login(t, env.AccountOf(t, person.Subject))
	anon, admin := env.Anonymous(t), env.Admin(t)

	revoked, revokedPDF := issuePDF(t, c, "resident-registration-copy")
	kept, keptPDF := issuePDF(t, c, "resident-registration-abstract")
	keys := keySet(t, anon)
	validAnswer := verifyNumber(t, anon, revoked.Number, sha(revokedPDF))

	var e apiwire.ErrorBody
	if code := admin.Do("POST", "/admin/v1/revocations", map[string]string{"number": revoked.Number, "reason": "issued from a wrong template version"}, nil, nil); code != http.StatusCreated {
		t.Fatalf("revoke: %d", code)
	}
	if code := admin.Do("POST", "/admin/v1/revocations", map[string]string{"number": revoked.Number, "reason": "again"}, nil, &e); code != http.StatusConflict {
		t.Fatalf("second revocation: %d", code)
	}
	if code := admin.Do("POST", "/admin/v1/revocations", map[string]string{"number": kept.Number, "reason": "holder " + ident.FormatRRN(person.RRN) + " asked"}, nil, &e); code != http.StatusBadRequest {
		t.Fatalf("a reason with an RRN: %d %+v", code, e)
	}
	if code := env.Anonymous(t).Do("POST", "/admin/v1/revocations", map[string]string{"number": kept.Number, "reason": "x"}, nil, nil); code != http.StatusNotFound {
		t.Fatalf("the admin API is reachable on the public listener: %d", code)
	}

	ans := verifyPDF(t, anon, revokedPDF)
	if ans.Status != verification.Revoked || ans.Revocation == nil || ans.Revocation.Reason != "issued from a wrong template version" || ans.Revocation.LogIndex == nil {
		t.Fatalf("revoked document: %+v", ans)
	}
	if err := checkOffline(t, revokedPDF, ans, keys); err == nil {
		t.Fatal("offline check passed a revoked document")
	}
	// An answer saved before the revocation still proves inclusion: that
	// is what offline means; the online check is the one that sees it.
	if err := checkOffline(t, revokedPDF, validAnswer, keys); err != nil {
		t.Fatalf("saved answer: %v", err)
	}
	// The revocation is itself in the log, with its reason and no personal data.
	entries, err := env.DB.LogEntriesFor(t.Context(), revoked.Number)
	if err != nil || len(entries) != 2 || entries[1].Kind != doclog.KindRevoked {
		t.Fatalf("log entries = %+v, %v", entries, err)
	}

	// Rotation: documents signed by the retired key stay valid.
	oldKey := env.App.Keys.Signer().KeyID
	if code := admin.Do("POST", "/admin/v1/keys/rotate", nil, nil, nil); code != http.StatusCreated {
		t.Fatalf("rotate: %d", code)
	}
	if ans := verifyPDF(t, anon, keptPDF); ans.Status != verification.Valid {
		t.Fatalf("document of a retired key: %s", ans.Status)
	}
	newDoc, newPDF := issuePDF(t, c, "resident-registration-copy")
	if ans := verifyPDF(t, anon, newPDF); ans.Status != verification.Valid || ans.KeyID == oldKey {
		t.Fatalf("document of the new key: %+v", ans)
	}
	// Revoking the old key invalidates everything it signed, and only that.
	if code := admin.Do("POST", "/admin/v1/keys/"+oldKey+"/revoke", map[string]string{"reason": "key file copied to a laptop that was lost"}, nil, nil); code != http.StatusOK {
		t.Fatalf("revoke key: %d", code)
	}
	ans = verifyPDF(t, anon, keptPDF)
	if ans.Status != verification.Revoked || ans.Revocation == nil || !strings.Contains(ans.Revocation.Reason, "lost") {
		t.Fatalf("document of a revoked key: %+v", ans)
	}
	if err := checkOffline(t, keptPDF, verifyNumber(t, anon, kept.Number, sha(keptPDF)), keySet(t, anon)); err == nil {
		t.Fatal("offline check with the current key set passed a document of a revoked key")
	}
	if ans := verifyNumber(t, anon, newDoc.Number, sha(newPDF)); ans.Status != verification.Valid {
		t.Fatalf("new key's document after the old key's revocation: %s", ans.Status)
	}
	if code := admin.Do("POST", "/admin/v1/keys/doc-000000000000/revoke", map[string]string{"reason": "x"}, nil, nil); code != http.StatusNotFound {
		t.Fatalf("unknown key: %d", code)
	}
	if code := env.Anonymous(t).Do("GET", "/api/v1/keys", nil, nil, nil); code != http.StatusOK {
		t.Fatalf("public keys: %d", code)
	}
}

// The admin API knows operators by their certificates: no shared token
// opens it, a counter clerk may not use it, and a revoked operator is
// locked out as soon as the revocation is known.
func TestAdminNeedsAnOperatorsCertificate(t *testing.T) {
	env := apptest.Start(t, 50, 23)
	adm := env.StartAdmin(t)
	op, opCred, operator := adm.Official(t, pki.Operator)
	if code := operator.Do("GET", "/admin/v1/keys", nil, nil, nil); code != http.StatusOK {
		t.Fatalf("operator: %d", code)
	}
	_, _, clerk := adm.Official(t, pki.CounterClerk)
	if code := clerk.Do("GET", "/admin/v1/keys", nil, nil, nil); code != http.StatusForbidden {
		t.Errorf("counter clerk: %d, want 403", code)
	}
	// Without a client certificate the handshake itself fails, whatever
	// token is sent.
	noCert := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pkitest.CA(t).Pool()}}, Timeout: 5 * time.Second}
	req, _ := http.NewRequest("GET", adm.URL+"/admin/v1/keys", nil)
	req.Header.Set("Authorization", "Bearer any-token-at-all-0123456789abcdef")
	if resp, err := noCert.Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("answered %d without a client certificate", resp.StatusCode)
	}
	if _, err := adm.Validation.Authority().RevokeOfficial(op.ID, "left"); err != nil {
		t.Fatal(err)
	}
	if err := adm.Checker.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if code := adm.As(t, opCred).Do("GET", "/admin/v1/keys", nil, nil, nil); code != http.StatusForbidden {
		t.Errorf("revoked operator: %d, want 403", code)
	}
}

func TestLogEndpoints(t *testing.T) {
	env := apptest.Start(t, 50, 24)
	anon := env.Anonymous(t)
	resp, cp := anon.Raw("GET", "/log/checkpoint", nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("checkpoint: %d", resp.StatusCode)
	}
	var ks verification.KeySetJSON
	anon.Do("GET", "/api/v1/keys", nil, nil, &ks)
	parsed, err := doclog.OpenCheckpoint(cp, ks.Log.VerifierKey)
	if err != nil {
		t.Fatalf("checkpoint does not verify with the published key: %v", err)
	}
	if parsed.Origin != "minwon.test/log" {
		t.Fatalf("origin %q", parsed.Origin)
	}
	if resp, _ := anon.Raw("GET", "/log/tile/0/999", nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("tile beyond the log: %d", resp.StatusCode)
	}
}

func decodeJSON(t *testing.T, body []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
}

// TestLogKeyRotation restarts minwon with a new log checkpoint key: the
// log signs its head again with it, publishes the old key as previous, and
// documents (and saved proofs) from before the rotation still verify.
func TestLogKeyRotation(t *testing.T) {
	env := apptest.Start(t, 100, 25)
	person := env.World.People[env.World.Households[0].Head]
	c := env.Login(t, env.AccountOf(t, person.Subject))
	_, pdf := issuePDF(t, c, "resident-registration-copy")
	before := verifyPDF(t, env.Anonymous(t), pdf)
	env.App.Close()

	newKey, err := keyfile.Generate()
	if err != nil {
		t.Fatal(err)
	}
	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	defer srv.Close()
	a, err := app.New(context.Background(), app.Config{DB: env.DB, Agencies: env.Endpoints, KeyDir: env.KeyDir, DocumentCert: env.DocumentCert, PublicURL: srv.URL, LogKey: newKey, LogOrigin: "minwon.test/log"})
	if err != nil {
		t.Fatalf("restart with a new log key: %v", err)
	}
	defer a.Close()
	handler = a.Handler
	anon := env.Anonymous(t).On(&apptest.Node{Server: srv})

	var ks verification.KeySetJSON
	if code := anon.Do("GET", "/api/v1/keys", nil, nil, &ks); code != http.StatusOK || len(ks.Log.Previous) != 1 {
		t.Fatalf("keys after rotation: %d %+v", code, ks.Log)
	}
	newOnly := ks
	newOnly.Log.Previous = nil
	pkNew, _ := newOnly.PublicKeys()
	pkAll, _ := ks.PublicKeys()
	after := verifyPDF(t, anon, pdf)
	if after.Status != verification.Valid {
		t.Fatalf("after rotation: %s", after.Status)
	}
	if err := checkOffline(t, pdf, after, pkNew); err != nil {
		t.Fatalf("new answer with the new key: %v", err)
	}
	if err := checkOffline(t, pdf, before, pkNew); err == nil {
		t.Fatal("a checkpoint of the old key verified with the new key alone")
	}
	if err := checkOffline(t, pdf, before, pkAll); err != nil {
		t.Fatalf("a proof saved before the rotation, with the published previous key: %v", err)
	}
}
