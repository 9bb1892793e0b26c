package docsig

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
)

func newSigner(t testing.TB) (Signer, KeyMap) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s := Signer{KeyID: KeyID(pub), Key: priv}
	return s, KeyMap{s.KeyID: pub}
}

const fakePDF = "%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\nstartxref\n9\n%%EOF\n"

func TestPDFSignature(t *testing.T) {
	s, keys := newSigner(t)
	_, otherKeys := newSigner(t)
	const number = "1234567890123452"
	signed := s.SignPDFTrailer(number, []byte(fakePDF))
	got, err := VerifyPDF(signed, keys)
	if err != nil || got.Number != number || got.KeyID != s.KeyID {
		t.Fatalf("VerifyPDF = %+v, %v", got, err)
	}
	if !bytes.HasSuffix(signed, []byte("%%EOF\n")) {
		t.Fatal("signed PDF does not end with the EOF marker")
	}
	flip := func(i int) []byte {
		b := bytes.Clone(signed)
		b[i] ^= 1
		return b
	}
	bad := map[string][]byte{
		"byte of the body changed":  flip(10),
		"first byte changed":        flip(0),
		"number in trailer changed": bytes.Replace(signed, []byte("number="+number), []byte("number=1234567890123460"), 1),
		"bytes appended":            append(bytes.Clone(signed), []byte("x")...),
		"trailer removed":           []byte(fakePDF),
		"empty":                     nil,
	}
	for name, b := range bad {
		if _, err := VerifyPDF(b, keys); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	if _, err := VerifyPDF(signed, otherKeys); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "unknown or revoked") {
		t.Errorf("unknown key: %v", err)
	}
}

func TestDataEnvelope(t *testing.T) {
	s, keys := newSigner(t)
	doc := map[string]any{"number": "1234567890123452", "name": "김민준 <&>"}
	data, err := s.SignData(doc)
	if err != nil {
		t.Fatal(err)
	}
	raw, keyID, err := VerifyData(data, keys)
	if err != nil || keyID != s.KeyID || !bytes.Contains(raw, []byte("김민준")) {
		t.Fatalf("VerifyData = %s, %s, %v", raw, keyID, err)
	}
	tampered := bytes.Replace(data, []byte("김민준"), []byte("이서연"), 1)
	if _, _, err := VerifyData(tampered, keys); !errors.Is(err, ErrInvalid) {
		t.Fatalf("tampered data: %v", err)
	}
	if _, _, err := VerifyData([]byte("{"), keys); !errors.Is(err, ErrInvalid) {
		t.Fatalf("garbage: %v", err)
	}
}

// fakeFieldPDF is a small PDF with an empty signature field, as render
// writes one, with room for a self-signed certificate's signature.
var fakeFieldPDF = "%PDF-1.7\n1 0 obj\n<< /Type /Sig /SubFilter /ETSI.CAdES.detached /ByteRange [" + strings.Repeat(" ", 40) +
	"] /Contents <" + strings.Repeat("0", 2400) + "> >>\nendobj\ntrailer\n<<>>\nstartxref\n9\n%%EOF\n"

// FuzzVerifyPDF feeds the verifier arbitrary files, as an upload would:
// the trailer parser and the PAdES one (byte range, CMS, attributes).
func FuzzVerifyPDF(f *testing.F) {
	s, keys := newSigner(f)
	cert, err := SelfSignedCertificate("fuzz")
	if err != nil {
		f.Fatal(err)
	}
	s.Cert = cert
	pades, err := s.SignPDF("1234567890123452", []byte(fakeFieldPDF))
	if err != nil {
		f.Fatal(err)
	}
	if _, err := VerifyPDF(pades, keys); err != nil {
		f.Fatal(err)
	}
	f.Add(pades)
	f.Add([]byte(fakeFieldPDF))
	f.Add(s.SignPDFTrailer("1234567890123452", []byte(fakePDF)))
	f.Add([]byte(fakePDF))
	f.Add([]byte("\n%minwon-signature v1 key=doc-x number=1234567890123452 sig=AAAA\n%%EOF\n"))
	f.Add([]byte("/ByteRange [0 1 3 0]/Contents <30>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		sig, err := VerifyPDF(b, keys)
		n, ok := TrailerNumber(b)
		if err == nil && (len(sig.Number) != 16 || !ok || n != sig.Number) {
			t.Fatalf("accepted a signature with number %q (the file names %q)", sig.Number, n)
		}
	})
}
