package verify_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/minwon/minwon/internal/docsig"
	"github.com/minwon/minwon/internal/verify"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors from the generator")

// Vector is one file of testdata/vectors (see its README).
type Vector struct {
	Expect string            `json:"expect"` // "valid" or "invalid"
	Why    string            `json:"why"`
	PDF    []byte            `json:"pdf"` // base64 in the file
	Proof  verify.ResultJSON `json:"proof"`
	Keys   verify.KeySetJSON `json:"keys"`
}

// Check runs a vector the way `minwon-verify --checkpoint --key` does. A
// key set or proof that does not decode counts as not valid.
func (v Vector) Check() error {
	trusted, err := v.Keys.PublicKeys()
	if err != nil {
		return err
	}
	b, err := v.Proof.Bundle()
	if err != nil {
		return err
	}
	return verify.CheckOffline(v.PDF, b, trusted)
}

// TestVectors checks every vector against its expected result.
func TestVectors(t *testing.T) {
	if *update {
		writeVectors(t)
	}
	files, err := filepath.Glob("testdata/vectors/*.json")
	if err != nil || len(files) < 5 {
		t.Fatalf("vectors: %d files, %v", len(files), err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var v Vector
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
			err = v.Check()
			switch v.Expect {
			case "valid":
				if err != nil {
					t.Errorf("want valid (%s), got: %v", v.Why, err)
				}
			case "invalid":
				if err == nil {
					t.Errorf("want invalid (%s), got valid", v.Why)
				} else if want := vectorFailures[strings.TrimSuffix(filepath.Base(f), ".json")]; !strings.Contains(err.Error(), want) {
					t.Errorf("invalid for another reason than %q: %v", want, err)
				}
			default:
				t.Fatalf("expect is %q", v.Expect)
			}
		})
	}
}

// vectorFailures is why this implementation refuses each invalid vector,
// so a vector cannot pass by failing for the wrong reason.
var vectorFailures = map[string]string{
	"pades-tampered":          "does not match the file's contents",
	"pades-unknown-key":       "which is unknown or revoked",
	"pades-bad-cms-signature": "the certificate's signature does not verify",
	"tampered":                "does not match the file's contents",
	"wrong-proof":             "not in the log at index 1",
	"revoked":                 "is revoked: issued in error",
	"revoked-key":             "which is unknown or revoked",
	"unknown-key":             "which is unknown or revoked",
	"wrong-log-key":           "not signed by a trusted log key",
}

// The vectors' keys come from fixed seeds so that regenerating them changes
// nothing unless a format changed.
func seedKey(b byte) ed25519.PrivateKey { return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, 32)) }

const vectorOrigin = "minwon.example/log"

func noteSigner(t *testing.T, name string, key ed25519.PrivateKey) (note.Signer, string) {
	t.Helper()
	vkey, err := note.NewEd25519VerifierKey(name, key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	hash := vkey[len(name)+1 : len(name)+9]
	s, err := note.NewSigner("PRIVATE+KEY+" + name + "+" + hash + "+" + base64.StdEncoding.EncodeToString(append([]byte{1}, key.Seed()...)))
	if err != nil {
		t.Fatal(err)
	}
	return s, vkey
}

func signPDF(key ed25519.PrivateKey, number string, body []byte) []byte {
	sig := ed25519.Sign(key, verify.PDFMessage(number, body))
	return verify.AppendTrailer(bytes.Clone(body), verify.DocumentKeyID(key.Public().(ed25519.PublicKey)), number, sig)
}

func number(i int) string {
	s := strings.Repeat("0", 14) + string(rune('0'+i))
	return s + string(verify.NumberCheckDigit(s))
}

// testLog is a small log: its entries, and proofs against its whole tree.
type testLog struct {
	hashes  map[int64]tlog.Hash
	entries [][]byte
}

func (l *testLog) add(t *testing.T, e verify.Entry) int64 {
	t.Helper()
	idx := int64(len(l.entries))
	hs, err := tlog.StoredHashes(idx, e.Marshal(), l)
	if err != nil {
		t.Fatal(err)
	}
	base := tlog.StoredHashIndex(0, idx)
	for i, h := range hs {
		l.hashes[base+int64(i)] = h
	}
	l.entries = append(l.entries, e.Marshal())
	return idx
}

func (l *testLog) ReadHashes(ids []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(ids))
	for i, id := range ids {
		out[i] = l.hashes[id]
	}
	return out, nil
}

func (l *testLog) proof(t *testing.T, idx int64) (size int64, root tlog.Hash, proof []string) {
	t.Helper()
	size = int64(len(l.entries))
	root, err := tlog.TreeHash(size, l)
	if err != nil {
		t.Fatal(err)
	}
	p, err := tlog.ProveRecord(size, idx, l)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range p {
		proof = append(proof, base64.StdEncoding.EncodeToString(h[:]))
	}
	return size, root, proof
}

func writeVectors(t *testing.T) {
	docKey, otherDocKey, logKey, otherLogKey := seedKey(1), seedKey(2), seedKey(3), seedKey(4)
	docPub := docKey.Public().(ed25519.PublicKey)
	logSigner, logVerifier := noteSigner(t, vectorOrigin, logKey)
	otherLogSigner, _ := noteSigner(t, vectorOrigin, otherLogKey)
	issuedAt := time.Date(2026, 11, 25, 10, 0, 0, 123_000_000, time.UTC)
	body := []byte("%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n")

	keys := func(state string) verify.KeySetJSON {
		return verify.KeySetJSON{
			Log: verify.LogKeyJSON{Origin: vectorOrigin, KeyID: "log-test", VerifierKey: logVerifier},
			DocumentKeys: []verify.DocumentKeyJSON{{
				ID: verify.DocumentKeyID(docPub), PublicKey: base64.StdEncoding.EncodeToString(docPub), State: state,
				CreatedAt: "2026-11-01T00:00:00Z",
			}},
		}
	}
	// Three documents in the log; the vectors are about the third.
	l := &testLog{hashes: map[int64]tlog.Hash{}}
	var pdfs [][]byte
	for i := range 3 {
		pdf := signPDF(docKey, number(i+1), body)
		sum := sha256.Sum256(pdf)
		l.add(t, verify.Entry{Kind: verify.KindIssued, Number: number(i + 1), Service: "resident-registration-copy",
			KeyID: verify.DocumentKeyID(docPub), SHA256: hex.EncodeToString(sum[:]), Time: issuedAt.Add(time.Duration(i) * time.Second)})
		pdfs = append(pdfs, pdf)
	}
	proofFor := func(i int, signer note.Signer) verify.ResultJSON {
		size, root, p := l.proof(t, int64(i))
		cp, err := note.Sign(&note.Note{Text: verify.FormatCheckpoint(vectorOrigin, size, root)}, signer)
		if err != nil {
			t.Fatal(err)
		}
		e, _ := verify.ParseEntry(l.entries[i])
		idx := int64(i)
		return verify.ResultJSON{Status: verify.Valid, Message: "This document was issued by minwon, is in the transparency log and has not been revoked.",
			Number: e.Number, Service: e.Service, IssuedAt: verify.FormatTime(e.Time), KeyID: e.KeyID, SHA256: e.SHA256,
			LogIndex: &idx, InclusionProof: p, TreeSize: size, Checkpoint: string(cp)}
	}
	valid := Vector{Expect: "valid", Why: "a signed document, its inclusion proof and a checkpoint signed by the trusted log key", PDF: pdfs[2], Proof: proofFor(2, logSigner), Keys: keys(verify.KeyActive)}

	tampered := valid
	tampered.Expect = "invalid"
	tampered.Why = "one byte of the PDF body changed after signing: the signature fails"
	tampered.PDF = bytes.Clone(valid.PDF)
	tampered.PDF[20] ^= 0x20

	wrongProof := valid
	wrongProof.Expect = "invalid"
	wrongProof.Why = "the inclusion proof is the second document's: the entry rebuilt from the file is not at that index"
	wrongProof.Proof = proofFor(1, logSigner)
	wrongProof.Proof.Number = valid.Proof.Number

	revoked := valid
	revoked.Expect = "invalid"
	revoked.Why = "the log answer says the document was revoked"
	revoked.Proof.Status = verify.Revoked
	revoked.Proof.Message = "This document was revoked and is no longer valid."
	revokedIdx := int64(3)
	revoked.Proof.Revocation = &verify.RevocationJSON{Reason: "issued in error", RevokedAt: "2026-11-26T09:00:00Z", LogIndex: &revokedIdx}

	revokedKey := valid
	revokedKey.Expect = "invalid"
	revokedKey.Why = "the key set says the document's signing key is revoked"
	revokedKey.Keys = keys(verify.KeyRevoked)
	revokedKey.Keys.DocumentKeys[0].RevokedAt, revokedKey.Keys.DocumentKeys[0].RevokeReason = "2026-11-27T00:00:00Z", "key compromised"

	unknownKey := valid
	unknownKey.Expect = "invalid"
	unknownKey.Why = "the PDF is signed by a key the key set does not hold"
	unknownKey.PDF = signPDF(otherDocKey, number(3), body)

	wrongLogKey := valid
	wrongLogKey.Expect = "invalid"
	wrongLogKey.Why = "the checkpoint is signed by a key other than the trusted log key"
	wrongLogKey.Proof = proofFor(2, otherLogSigner)

	vectors := map[string]Vector{
		"valid": valid, "tampered": tampered, "wrong-proof": wrongProof, "revoked": revoked,
		"revoked-key": revokedKey, "unknown-key": unknownKey, "wrong-log-key": wrongLogKey,
	}
	maps.Copy(vectors, padesVectors(t, keys(verify.KeyActive), logSigner))
	for name, v := range vectors {
		raw, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata/vectors", name+".json"), append(raw, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// padesBody is a small PDF with an empty signature field, as package render
// writes one.
var padesBody = []byte("%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [3 0 R] /SigFlags 3 >> >>\nendobj\n" +
	"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n" +
	"3 0 obj\n<< /FT /Sig /T (minwon) /V 4 0 R >>\nendobj\n" +
	"4 0 obj\n<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /M (D:20261125100000Z) /ByteRange [" + strings.Repeat(" ", 40) +
	"] /Contents <" + strings.Repeat("0", 2400) + "> >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")

// padesVectors are the cases of documents with the standard PDF signature,
// in a log of their own (so the older vectors stay as they were).
func padesVectors(t *testing.T, keys verify.KeySetJSON, logSigner note.Signer) map[string]Vector {
	t.Helper()
	cert, err := docsig.LoadCertificate("testdata/vector-signer.pem", "testdata/vector-signer.key")
	if err != nil {
		t.Fatal(err)
	}
	docKey, otherDocKey := seedKey(1), seedKey(2)
	sign := func(key ed25519.PrivateKey, n string) []byte {
		s := docsig.Signer{KeyID: verify.DocumentKeyID(key.Public().(ed25519.PublicKey)), Key: key, Cert: cert}
		pdf, err := s.SignPDF(n, padesBody)
		if err != nil {
			t.Fatal(err)
		}
		return pdf
	}
	issuedAt := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	l := &testLog{hashes: map[int64]tlog.Hash{}}
	pdf := sign(docKey, number(5))
	sum := sha256.Sum256(pdf)
	e := verify.Entry{Kind: verify.KindIssued, Number: number(5), Service: "resident-registration-copy",
		KeyID: verify.DocumentKeyID(docKey.Public().(ed25519.PublicKey)), SHA256: hex.EncodeToString(sum[:]), Time: issuedAt}
	l.add(t, e)
	size, root, p := l.proof(t, 0)
	cp, err := note.Sign(&note.Note{Text: verify.FormatCheckpoint(vectorOrigin, size, root)}, logSigner)
	if err != nil {
		t.Fatal(err)
	}
	idx := int64(0)
	valid := Vector{Expect: "valid", Why: "a document with the standard PDF signature (PAdES), its inclusion proof and a checkpoint signed by the trusted log key", PDF: pdf, Keys: keys,
		Proof: verify.ResultJSON{Status: verify.Valid, Message: "This document was issued by minwon, is in the transparency log and has not been revoked.",
			Number: e.Number, Service: e.Service, IssuedAt: verify.FormatTime(e.Time), KeyID: e.KeyID, SHA256: e.SHA256,
			LogIndex: &idx, InclusionProof: p, TreeSize: size, Checkpoint: string(cp)}}

	tampered := valid
	tampered.Expect, tampered.Why = "invalid", "one signed byte of the PDF changed after signing: the message digest fails"
	tampered.PDF = bytes.Clone(pdf)
	tampered.PDF[20] ^= 0x20

	unknownKey := valid
	unknownKey.Expect, unknownKey.Why = "invalid", "minwon's signature inside the CMS is by a key the key set does not hold"
	unknownKey.PDF = sign(otherDocKey, number(5))

	// The certificate's ECDSA signature, changed in the /Contents hex: it
	// follows the ecdsa-with-SHA256 algorithm identifier and its OCTET
	// STRING header.
	badCMS := valid
	badCMS.Expect, badCMS.Why = "invalid", "a byte of the certificate's ECDSA signature in the CMS changed: the standard signature fails"
	badCMS.PDF = bytes.Clone(pdf)
	hole := bytes.LastIndex(badCMS.PDF, []byte("/Contents <")) + len("/Contents <")
	alg, _ := hex.DecodeString("06082a8648ce3d040302")
	at := bytes.LastIndex(badCMS.PDF[hole:], []byte(hex.EncodeToString(alg))) // the signer's, after the certificates'
	if at < 0 {
		t.Fatal("no ECDSA algorithm identifier in the CMS")
	}
	at += hole + 2*len(alg) + 2*2 + 2*8 // the 9th byte of the DER signature
	badCMS.PDF[at] ^= 0x01              // '0'↔'1', '2'↔'3', 'a'↔'`': stays in the hole either way
	if c := badCMS.PDF[at]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
		badCMS.PDF[at] ^= 0x01
		badCMS.PDF[at] ^= 0x03
	}
	return map[string]Vector{"pades-valid": valid, "pades-tampered": tampered, "pades-unknown-key": unknownKey, "pades-bad-cms-signature": badCMS}
}
