package verify_test

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

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
	f.Fuzz(func(t *testing.T, text string) {
		c, err := verify.ParseCheckpoint(text, origin)
		if err == nil && (c.Size < 0 || !strings.HasPrefix(text, verify.FormatCheckpoint(origin, c.Size, c.Root))) {
			t.Fatalf("accepted %q as %+v", text, c)
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
	for _, name := range []string{"valid", "tampered", "wrong-proof", "revoked", "revoked-key", "unknown-key", "wrong-log-key"} {
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
		if !bytes.Equal(pdf, valid.PDF) || b.Number != validBundle.Number || b.LogIndex != validBundle.LogIndex || !b.IssuedAt.Equal(validBundle.IssuedAt) {
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
