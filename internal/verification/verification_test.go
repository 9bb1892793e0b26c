package verification_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/doclog"
	"github.com/minwon/minwon/internal/doclog/doclogtest"
	"github.com/minwon/minwon/internal/docsig"
	"github.com/minwon/minwon/internal/keyring"
	"github.com/minwon/minwon/internal/verification"
	"github.com/minwon/minwon/internal/verify"
)

// entries looks entries up by number in the in-memory log store.
type entries struct{ st *doclogtest.MemStore }

func (e entries) LogEntriesFor(ctx context.Context, number string) ([]doclog.Record, error) {
	var out []doclog.Record
	for _, r := range e.st.Records() {
		if r.Number == number {
			out = append(out, r)
		}
	}
	return out, nil
}

func (e entries) LogEntriesForNumbers(ctx context.Context, numbers []string) ([]doclog.Record, error) {
	var out []doclog.Record
	for _, n := range numbers {
		rs, _ := e.LogEntriesFor(ctx, n)
		out = append(out, rs...)
	}
	return out, nil
}

// keys is a fixed inventory.
type keys map[string]keyring.SigningKey

func (k keys) Key(id string) (keyring.SigningKey, bool) { s, ok := k[id]; return s, ok }

func (k keys) PublicKey(id string) (ed25519.PublicKey, bool) {
	s, ok := k[id]
	if !ok || !s.RevokedAt.IsZero() {
		return nil, false
	}
	return s.PublicKey, true
}

type signedDoc struct {
	number string
	pdf    []byte
	sha    string
}

// TestVerifier runs the server side of verification on an in-memory log:
// every verdict, and the answer of a valid one checks offline with the core.
func TestVerifier(t *testing.T) {
	ctx := context.Background()
	st := doclogtest.NewMemStore()
	_, logKey, _ := ed25519.GenerateKey(rand.Reader)
	l, err := doclog.Open(ctx, st, "minwon.test/log", logKey)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	newSigner := func() docsig.Signer {
		pub, priv, _ := ed25519.GenerateKey(rand.Reader)
		return docsig.Signer{KeyID: docsig.KeyID(pub), Key: priv}
	}
	active, revokedKey, unknownKey := newSigner(), newSigner(), newSigner()
	inventory := keys{
		active.KeyID:     {ID: active.KeyID, Purpose: keyring.Document, PublicKey: active.Key.Public().(ed25519.PublicKey)},
		revokedKey.KeyID: {ID: revokedKey.KeyID, Purpose: keyring.Document, PublicKey: revokedKey.Key.Public().(ed25519.PublicKey), RevokedAt: time.Now(), RevokeReason: "lost"},
	}
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	issue := func(i int, s docsig.Signer) signedDoc {
		t.Helper()
		n := make15(i) + string(verify.NumberCheckDigit(make15(i)))
		pdf := s.SignPDFTrailer(n, []byte("%PDF-1.7\n"))
		sum := sha256.Sum256(pdf)
		d := signedDoc{number: n, pdf: pdf, sha: hex.EncodeToString(sum[:])}
		if _, err := l.Append(ctx, doclog.Entry{Kind: doclog.KindIssued, Number: n, Service: "resident-registration-copy", KeyID: s.KeyID, SHA256: d.sha, Time: at}, nil); err != nil {
			t.Fatal(err)
		}
		return d
	}
	valid, revokedDoc, byRevokedKey, byUnknownKey := issue(1, active), issue(2, active), issue(3, revokedKey), issue(4, unknownKey)
	rev, _ := doclog.ParseEntry(doclog.Entry{Kind: doclog.KindIssued, Number: revokedDoc.number, Service: "resident-registration-copy", KeyID: active.KeyID, SHA256: revokedDoc.sha, Time: at}.Marshal())
	rev.Kind, rev.Reason, rev.Time = doclog.KindRevoked, "issued in error", at.Add(time.Hour)
	if _, err := l.Append(ctx, rev, nil); err != nil {
		t.Fatal(err)
	}

	v := &verification.Verifier{Entries: entries{st}, Log: l, Keys: inventory}
	unknownNumber := make15(9) + string(verify.NumberCheckDigit(make15(9)))
	for _, tc := range []struct {
		name, number, sha string
		want              verification.Status
	}{
		{"valid", valid.number, valid.sha, verification.Valid},
		{"valid, number only", valid.number, "", verification.Valid},
		{"other bytes", valid.number, revokedDoc.sha, verification.Mismatch},
		{"revoked document", revokedDoc.number, revokedDoc.sha, verification.Revoked},
		{"revoked key", byRevokedKey.number, byRevokedKey.sha, verification.Revoked},
		{"unknown key", byUnknownKey.number, byUnknownKey.sha, verification.Revoked},
		{"not logged", unknownNumber, "", verification.Unknown},
	} {
		res, err := v.ByNumber(ctx, tc.number, tc.sha)
		if err != nil || res.Status != tc.want {
			t.Errorf("%s: ByNumber = %+v, %v; want %s", tc.name, res, err, tc.want)
		}
	}
	// The batch status gives the same verdicts, without proofs.
	statuses, err := v.Statuses(ctx, []verification.Doc{
		{valid.number, valid.sha}, {revokedDoc.number, revokedDoc.sha}, {byRevokedKey.number, ""},
		{byUnknownKey.number, byUnknownKey.sha}, {unknownNumber, ""}, {valid.number, revokedDoc.sha}, {"12", ""},
	})
	if err != nil {
		t.Fatal(err)
	}
	for n, want := range map[string]verification.Status{
		revokedDoc.number: verification.Revoked, byRevokedKey.number: verification.Revoked,
		byUnknownKey.number: verification.Revoked, unknownNumber: verification.Unknown, "12": verification.Unknown,
		valid.number: verification.Mismatch, // the last query about it wins
	} {
		if statuses[n] != want {
			t.Errorf("Statuses[%s] = %s, want %s", n, statuses[n], want)
		}
	}
	if s, _ := v.Statuses(ctx, []verification.Doc{{valid.number, valid.sha}}); s[valid.number] != verification.Valid {
		t.Errorf("Statuses of a valid document = %v", s)
	}
	if _, err := v.ByNumber(ctx, "1234", ""); !errors.Is(err, verification.ErrBadInput) {
		t.Errorf("malformed number: %v", err)
	}
	if res, _ := v.ByNumber(ctx, revokedDoc.number, ""); res.Revocation == nil || res.Revocation.Reason != "issued in error" || res.Revocation.LogIndex != 4 {
		t.Errorf("revocation = %+v", res.Revocation)
	}

	// The answer about a valid PDF checks offline against the public keys.
	res, err := v.ByPDF(ctx, valid.pdf)
	if err != nil || res.Status != verification.Valid {
		t.Fatalf("ByPDF(valid) = %+v, %v", res, err)
	}
	vkey, _ := doclog.VerifierKey("minwon.test/log", logKey.Public().(ed25519.PublicKey))
	ks := verification.KeySet([]keyring.SigningKey{inventory[active.KeyID]}, verification.LogKeyJSON{Origin: "minwon.test/log", VerifierKey: vkey})
	trusted, err := ks.PublicKeys()
	if err != nil {
		t.Fatal(err)
	}
	b, err := res.JSON().Bundle()
	if err != nil {
		t.Fatal(err)
	}
	if err := verification.CheckOffline(valid.pdf, b, trusted); err != nil {
		t.Fatalf("the server's answer does not check offline: %v", err)
	}
	tampered := append([]byte(nil), valid.pdf...)
	tampered[3] ^= 1
	if res, err := v.ByPDF(ctx, tampered); err != nil || res.Status != verification.Mismatch {
		t.Errorf("ByPDF(tampered) = %+v, %v", res, err)
	}
	if res, err := v.ByPDF(ctx, []byte("%PDF-1.7\n")); err != nil || res.Status != verification.Unknown {
		t.Errorf("ByPDF(unsigned) = %+v, %v", res, err)
	}

	// Uploads stream into the hash and give the same verdicts.
	up := verification.NewUploads(v, 1, time.Second)
	for _, tc := range []struct {
		name string
		pdf  []byte
		want verification.Status
	}{
		{"valid", valid.pdf, verification.Valid},
		{"tampered", tampered, verification.Mismatch},
		{"unsigned", []byte("%PDF-1.7\n"), verification.Unknown},
		{"revoked", revokedDoc.pdf, verification.Revoked},
	} {
		if res, err := up.ByPDF(ctx, bytes.NewReader(tc.pdf)); err != nil || res.Status != tc.want {
			t.Errorf("Uploads.ByPDF(%s) = %+v, %v; want %s", tc.name, res, err, tc.want)
		}
	}
	// A logged document too large to hold whole cannot have its signature
	// checked while streaming: it fails closed.
	big := issueBody(t, ctx, l, active, 5, append(bytes.Repeat([]byte("%pad\n"), 300_000), "%PDF-1.7\n"...), at)
	if res, err := up.ByPDF(ctx, bytes.NewReader(big)); err != nil || res.Status != verification.Mismatch {
		t.Errorf("Uploads.ByPDF(%d bytes) = %+v, %v; want mismatch", len(big), res, err)
	}
}

func issueBody(t *testing.T, ctx context.Context, l *doclog.Log, s docsig.Signer, i int, body []byte, at time.Time) []byte {
	t.Helper()
	n := make15(i) + string(verify.NumberCheckDigit(make15(i)))
	pdf := s.SignPDFTrailer(n, body)
	sum := sha256.Sum256(pdf)
	if _, err := l.Append(ctx, doclog.Entry{Kind: doclog.KindIssued, Number: n, Service: "resident-registration-copy", KeyID: s.KeyID, SHA256: hex.EncodeToString(sum[:]), Time: at}, nil); err != nil {
		t.Fatal(err)
	}
	return pdf
}

// At most n uploads are read at once; the next waits, then is refused; an
// upload past MaxUpload is refused without being held.
func TestUploadsBound(t *testing.T) {
	ctx := context.Background()
	up := verification.NewUploads(&verification.Verifier{}, 1, 20*time.Millisecond)
	pr, pw := io.Pipe()
	first := make(chan error, 1)
	go func() {
		_, err := up.ByPDF(ctx, pr)
		first <- err
	}()
	// The first upload holds the slot once it reads.
	if _, err := pw.Write([]byte("%PDF")); err != nil {
		t.Fatal(err)
	}
	if _, err := up.ByPDF(ctx, strings.NewReader("%PDF")); !errors.Is(err, verification.ErrBusy) {
		t.Errorf("second upload while the slot is taken: %v, want ErrBusy", err)
	}
	pw.CloseWithError(errors.New("client went away"))
	if err := <-first; !errors.Is(err, verification.ErrBadInput) {
		t.Errorf("first upload: %v", err)
	}
	if _, err := up.ByPDF(ctx, io.LimitReader(zeros{}, verification.MaxUpload+1)); !errors.Is(err, verification.ErrTooLarge) {
		t.Errorf("upload past MaxUpload: %v, want ErrTooLarge", err)
	}
	if _, err := up.ByPDF(ctx, strings.NewReader("")); !errors.Is(err, verification.ErrBadInput) {
		t.Errorf("empty upload: %v", err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// make15 returns 15 digits ending in i, to which a check digit is added.
func make15(i int) string { return "00000000000000" + string(rune('0'+i)) }
