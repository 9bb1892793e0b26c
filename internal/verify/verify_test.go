package verify_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/minwon/minwon/internal/verify"
)

func TestEntryRoundTrip(t *testing.T) {
	e := goldenEntry()
	got, err := verify.ParseEntry(e.Marshal())
	if err != nil || got != e {
		t.Fatalf("ParseEntry = %+v, %v", got, err)
	}
	r := e
	r.Kind, r.Reason = verify.KindRevoked, "issued in error"
	if got, err := verify.ParseEntry(r.Marshal()); err != nil || got != r {
		t.Fatalf("revocation round trip: %+v, %v", got, err)
	}
	for _, bad := range []verify.Entry{
		{Kind: "deleted", Number: e.Number, Service: e.Service, KeyID: e.KeyID, SHA256: e.SHA256, Time: e.Time},
		{Kind: verify.KindIssued, Number: "123", Service: e.Service, KeyID: e.KeyID, SHA256: e.SHA256, Time: e.Time},
		{Kind: verify.KindIssued, Number: "1234567890123451", Service: e.Service, KeyID: e.KeyID, SHA256: e.SHA256, Time: e.Time},
		{Kind: verify.KindIssued, Number: e.Number, Service: "김", KeyID: e.KeyID, SHA256: e.SHA256, Time: e.Time},
		{Kind: verify.KindRevoked, Number: e.Number, Service: e.Service, KeyID: e.KeyID, SHA256: e.SHA256, Time: e.Time},
		{Kind: verify.KindRevoked, Number: e.Number, Service: e.Service, KeyID: e.KeyID, SHA256: e.SHA256, Time: e.Time, Reason: "a\nkind issued"},
	} {
		if _, err := verify.ParseEntry(bad.Marshal()); err == nil {
			t.Errorf("ParseEntry accepted %+v", bad)
		}
	}
}

func TestParseNumber(t *testing.T) {
	for _, ok := range []string{"1234567890123452", "1234-5678-9012-3452", "1234 5678 9012 3452"} {
		if n, err := verify.ParseNumber(ok); err != nil || n != "1234567890123452" || n.Format() != "1234-5678-9012-3452" {
			t.Errorf("ParseNumber(%q) = %q, %v", ok, n, err)
		}
	}
	for _, bad := range []string{"", "1234567890123451", "123456789012345", "12345678901234520", "1234567890123452x", "１234567890123452"} {
		if _, err := verify.ParseNumber(bad); err == nil {
			t.Errorf("ParseNumber(%q) accepted", bad)
		}
	}
}

func FuzzParseNumber(f *testing.F) {
	f.Add("1234-5678-9012-3452")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		n, err := verify.ParseNumber(s)
		if err == nil {
			if len(n) != 16 || verify.NumberCheckDigit(string(n[:15])) != n[15] || !verify.ValidNumber(string(n)) {
				t.Fatalf("accepted %q as %q", s, n)
			}
		}
	})
}

func FuzzParseEntry(f *testing.F) {
	f.Add(goldenEntry().Marshal())
	r := goldenEntry()
	r.Kind, r.Reason = verify.KindRevoked, "x"
	f.Add(r.Marshal())
	f.Add([]byte("minwon/log-entry/v1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := verify.ParseEntry(data)
		if err == nil && string(e.Marshal()) != string(data) {
			t.Fatalf("accepted non-canonical entry %q", data)
		}
	})
}

func FuzzParseCheckpoint(f *testing.F) {
	const origin = "minwon.test/log"
	f.Add(verify.FormatCheckpoint(origin, 5, verify.Hash{1}))
	f.Add("minwon.test/log\n-1\nAAAA\n")
	// Non-zero padding bits: the same root in a second byte form.
	f.Add("minwon.test/log\n0\n0000000000000000000000000000000000000000001=\n")
	f.Add(verify.FormatCheckpointAt(origin, 5, verify.Hash{1}, time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)))
	f.Add(verify.FormatCheckpoint(origin, 5, verify.Hash{1}) + "other extension\ntime 2026-11-30T09:00:00+09:00\n")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := verify.ParseCheckpoint(text, origin)
		if err == nil && (c.Size < 0 || !strings.HasPrefix(text, verify.FormatCheckpoint(origin, c.Size, c.Root))) {
			t.Fatalf("accepted %q as %+v", text, c)
		}
		if err == nil && !c.Time.IsZero() && !strings.Contains(text, "\ntime "+c.Time.Format(time.RFC3339)[:10]) && !strings.Contains(text, "\ntime ") {
			t.Fatalf("a time %v from %q, which has no time line", c.Time, text)
		}
	})
}

// FuzzCheckOffline feeds what `minwon verify` reads from outside (the saved
// answer and the key set) to the decoders and the offline check: nothing
// may panic, and nothing but a genuine proof may pass. The seeds are the
// test vectors; an answer or key set the fuzzer changed passes only if the
// change does not matter (e.g. the message), which is then checked by
// restoring the fields that must not change.
func FuzzCheckOffline(f *testing.F) {
	valid := readVector(f, "valid")
	pades := readVector(f, "pades-valid")
	for _, name := range []string{"valid", "tampered", "wrong-proof", "revoked", "revoked-key", "unknown-key", "wrong-log-key",
		"pades-valid", "pades-tampered", "pades-unknown-key", "pades-bad-cms-signature"} {
		v := readVector(f, name)
		answer, _ := json.Marshal(v.Proof)
		keys, _ := json.Marshal(v.Keys)
		f.Add(v.PDF, answer, keys)
	}
	f.Add(valid.PDF, []byte(`{"status":"valid","inclusion_proof":["!!"]}`), []byte(`{"log":{},"document_keys":[{"id":"x","public_key":"AA=="}]}`))
	validBundle, err := valid.Proof.Bundle()
	if err != nil {
		f.Fatal(err)
	}
	padesBundle, err := pades.Proof.Bundle()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, pdf, answer, keys []byte) {
		var a verify.ResultJSON
		var k verify.KeySetJSON
		if json.Unmarshal(answer, &a) != nil || json.Unmarshal(keys, &k) != nil {
			return
		}
		b, err := a.Bundle()
		if err != nil {
			return
		}
		pk, err := k.PublicKeys()
		if err != nil {
			return
		}
		if verify.CheckOffline(pdf, b, pk) != nil {
			return
		}
		// It passed: it must be the genuine document, logged where the
		// genuine proof says, under a checkpoint the genuine log key signed.
		genuine := func(want verify.Bundle) bool {
			return b.Number == want.Number && b.LogIndex == want.LogIndex && b.IssuedAt.Equal(want.IssuedAt)
		}
		if !(bytes.Equal(pdf, valid.PDF) && genuine(validBundle)) && !(bytes.Equal(pdf, pades.PDF) && genuine(padesBundle)) {
			t.Fatalf("a fabricated proof passed: %s / %s", answer, keys)
		}
		if !contains(pk.LogVerifierKeys, valid.Keys.Log.VerifierKey) {
			t.Fatalf("passed under an untrusted log key: %s", keys)
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func readVector(tb testing.TB, name string) Vector {
	tb.Helper()
	raw, err := os.ReadFile("testdata/vectors/" + name + ".json")
	if err != nil {
		tb.Fatal(err)
	}
	var v Vector
	if err := json.Unmarshal(raw, &v); err != nil {
		tb.Fatal(err)
	}
	return v
}

func TestCheckFresh(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	const origin = "minwon.example/log"
	vkey, err := note.NewEd25519VerifierKey(origin, priv.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner("PRIVATE+KEY+" + origin + "+" + vkey[len(origin)+1:len(origin)+9] + "+" + base64.StdEncoding.EncodeToString(append([]byte{1}, priv.Seed()...)))
	if err != nil {
		t.Fatal(err)
	}
	signedAt := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	sign := func(body string) verify.Bundle {
		cp, err := note.Sign(&note.Note{Text: body}, signer)
		if err != nil {
			t.Fatal(err)
		}
		return verify.Bundle{Checkpoint: cp}
	}
	timed := sign(verify.FormatCheckpointAt(origin, 3, verify.Hash{7}, signedAt))
	untimed := sign(verify.FormatCheckpoint(origin, 3, verify.Hash{7}))
	keys := verify.PublicKeys{LogVerifierKeys: []string{vkey}}
	for _, tc := range []struct {
		name   string
		b      verify.Bundle
		now    time.Time
		maxAge time.Duration
		stale  bool
	}{
		{"fresh", timed, signedAt.Add(time.Hour), 24 * time.Hour, false},
		{"just within", timed, signedAt.Add(24 * time.Hour), 24 * time.Hour, false},
		{"stale", timed, signedAt.Add(25 * time.Hour), 24 * time.Hour, true},
		{"any age accepted", timed, signedAt.Add(1000 * time.Hour), 0, false},
		{"no time", untimed, signedAt, 24 * time.Hour, true},
		{"no time, any age accepted", untimed, signedAt, 0, false},
	} {
		_, err := verify.CheckFresh(tc.b, keys, tc.now, tc.maxAge)
		if tc.stale != errors.Is(err, verify.ErrStaleProof) || (!tc.stale && err != nil) {
			t.Errorf("%s: err = %v, want stale %v", tc.name, err, tc.stale)
		}
	}
	if cp, err := verify.CheckFresh(timed, keys, signedAt, 0); err != nil || !cp.Time.Equal(signedAt) || cp.Size != 3 {
		t.Errorf("checkpoint = %+v, %v", cp, err)
	}
	bad := sign(verify.FormatCheckpoint(origin, 3, verify.Hash{7}) + "time yesterday\n")
	if _, err := verify.CheckFresh(bad, keys, signedAt, 0); err == nil {
		t.Error("a malformed time was accepted")
	}
}

// FuzzCheckDataOffline feeds `minwon verify x.data.json` arbitrary files
// against a genuine proof: only a data.json signed by the trusted key, for
// the PDF the log holds, may pass.
func FuzzCheckDataOffline(f *testing.F) {
	v := readVector(f, "valid")
	b, err := v.Proof.Bundle()
	if err != nil {
		f.Fatal(err)
	}
	trusted, err := v.Keys.PublicKeys()
	if err != nil {
		f.Fatal(err)
	}
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32)) // the vectors' document key
	doc, _ := json.Marshal(map[string]any{"number": b.Number, "service": b.Service, "issued_at": b.IssuedAt, "pdf_sha256": v.Proof.SHA256, "key_id": b.KeyID, "fields": []string{}})
	env, _ := json.MarshalIndent(map[string]any{"document": json.RawMessage(doc), "key_id": b.KeyID,
		"signature": base64.StdEncoding.EncodeToString(ed25519.Sign(key, verify.DataMessage(doc)))}, "", "  ")
	if _, err := verify.CheckDataOffline(env, b, trusted); err != nil {
		f.Fatalf("the genuine data.json: %v", err)
	}
	f.Add(env)
	f.Add([]byte(`{"document":{},"key_id":"","signature":""}`))
	f.Add(v.PDF)
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := verify.CheckDataOffline(data, b, trusted)
		if err == nil && (d.Number != b.Number || d.PDFSHA256 != v.Proof.SHA256 || d.KeyID != b.KeyID) {
			t.Fatalf("accepted %q as %+v", data, d)
		}
	})
}
