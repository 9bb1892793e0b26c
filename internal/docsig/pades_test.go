package docsig_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/docsig"
	"github.com/minwon/minwon/internal/pki"
	"github.com/minwon/minwon/internal/pkitest"
	"github.com/minwon/minwon/internal/render"
)

const number = "1234567890123452"

var (
	rendererOnce sync.Once
	renderer     *render.Renderer
	rendererErr  error
)

// rendered is a real document as package render writes it, with its empty
// signature field.
func rendered(t testing.TB) []byte {
	t.Helper()
	rendererOnce.Do(func() { renderer, rendererErr = render.New() })
	if rendererErr != nil {
		t.Fatal(rendererErr)
	}
	out, err := renderer.Render(&render.Document{
		Title: "주민등록표 등본", Subtitle: "Resident Registration Copy", Number: "1234-5678-9012-3452",
		IssuedAt: time.Date(2026, 11, 30, 9, 30, 0, 0, time.UTC), Issuer: "행정안전부",
		VerifyURL: "http://127.0.0.1:8080/verify/" + number,
		Sections:  []render.Section{{Heading: "기본 사항", Rows: []render.Row{{Label: "성명 Name", Value: "김민준"}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.PDF
}

func padesSigner(t testing.TB, cert *docsig.Certificate) (docsig.Signer, docsig.KeyMap) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s := docsig.Signer{KeyID: docsig.KeyID(pub), Key: priv, Cert: cert}
	return s, docsig.KeyMap{s.KeyID: pub}
}

func selfSigned(t testing.TB) *docsig.Certificate {
	t.Helper()
	c, err := docsig.SelfSignedCertificate("test document signing")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPAdESSignature(t *testing.T) {
	s, keys := padesSigner(t, selfSigned(t))
	pdf := rendered(t)
	signed, err := s.SignPDF(number, pdf)
	if err != nil {
		t.Fatal(err)
	}
	if len(signed) != len(pdf) || !bytes.HasSuffix(signed, []byte("%%EOF\n")) {
		t.Fatalf("signing changed the file's length or end: %d → %d bytes", len(pdf), len(signed))
	}
	got, err := docsig.VerifyPDF(signed, keys)
	if err != nil || got.Number != number || got.KeyID != s.KeyID || got.PAdES == nil || !bytes.Equal(got.PAdES.Certificate, s.Cert.Chain[0].Raw) || got.PAdES.CommonName != "test document signing" {
		t.Fatalf("VerifyPDF = %+v, %v", got, err)
	}
	if n, ok := docsig.TrailerNumber(signed); !ok || n != number {
		t.Fatalf("TrailerNumber = %q, %v", n, ok)
	}
	hole := bytes.LastIndex(signed, []byte("/Contents <")) + len("/Contents <")
	flip := func(i int) []byte {
		b := bytes.Clone(signed)
		b[i] ^= 1
		return b
	}
	setHex := func(i int) []byte { // another hex digit inside the CMS
		b := bytes.Clone(signed)
		if b[i] == '0' {
			b[i] = '1'
		} else {
			b[i] = '0'
		}
		return b
	}
	br := bytes.LastIndex(signed, []byte("/ByteRange ["))
	other, _ := padesSigner(t, s.Cert)
	byOther, err := other.SignPDF(number, pdf)
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string][]byte{
		"first byte changed":                   flip(0),
		"byte of the content changed":          flip(len(signed) / 3),
		"last byte changed":                    flip(len(signed) - 1),
		"byte range changed":                   flip(br + len("/ByteRange [0 ")),
		"CMS byte changed (certificate)":       setHex(hole + 400),
		"CMS byte changed (near the end)":      setHex(hole + 2*1200),
		"bytes appended":                       append(bytes.Clone(signed), "x"...),
		"incremental update appended":          append(bytes.Clone(signed), "1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n"...),
		"unsigned":                             pdf,
		"signed by a key minwon does not know": byOther,
	}
	for name, b := range bad {
		if _, err := docsig.VerifyPDF(b, keys); !errors.Is(err, docsig.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	if _, err := s.SignPDF(number, signed); !errors.Is(err, docsig.ErrNoSignatureField) {
		t.Errorf("signing a signed PDF again: %v", err)
	}
	again, err := docsig.Unsigned(signed)
	if err != nil || !bytes.Equal(again, pdf) {
		t.Fatalf("Unsigned did not restore the rendered PDF: %v", err)
	}
}

// TestPdfsig has poppler's pdfsig (NSS) check an issued document: the
// signature valid, the whole file signed, and the certificate trusted once
// the PKI's root is in its certificate database.
func TestPdfsig(t *testing.T) {
	for _, tool := range []string{"pdfsig", "certutil"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s (poppler-utils, libnss3-tools) is required in CI", tool)
			}
			t.Skipf("%s not installed (Debian: poppler-utils, libnss3-tools): the standard signature is not checked by a standard reader", tool)
		}
	}
	cred := pkitest.DocumentSigner(t)
	cert, err := docsig.LoadCertificate(cred.CertFile, cred.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	s, keys := padesSigner(t, cert)
	signed, err := s.SignPDF(number, rendered(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := docsig.VerifyPDF(signed, keys); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "document.pdf")
	if err := os.WriteFile(file, signed, 0o600); err != nil {
		t.Fatal(err)
	}
	nss := filepath.Join(dir, "nss")
	if err := os.Mkdir(nss, 0o700); err != nil {
		t.Fatal(err)
	}
	run := func(name string, args ...string) string {
		t.Helper()
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("certutil", "-N", "-d", "sql:"+nss, "--empty-password")
	// Without the root: valid, but the certificate is not known.
	out := run("pdfsig", "-nssdir", "sql:"+nss, file)
	if !strings.Contains(out, "Signature Validation: Signature is Valid.") || strings.Contains(out, "Certificate is Trusted") {
		t.Fatalf("pdfsig without the root:\n%s", out)
	}
	run("certutil", "-A", "-d", "sql:"+nss, "-n", "minwon demo GPKI root", "-t", "CT,C,C", "-i", filepath.Join(pkitest.CA(t).Dir(), pki.RootCertFile))
	out = run("pdfsig", "-nssdir", "sql:"+nss, file)
	for _, want := range []string{
		"Signature Validation: Signature is Valid.",
		"Certificate Validation: Certificate is Trusted.",
		"Total document signed",
		"ETSI.CAdES.detached",
		"minwon document signing",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("pdfsig does not say %q:\n%s", want, out)
		}
	}
	// A changed byte is what pdfsig must catch too.
	tampered := bytes.Clone(signed)
	tampered[len(tampered)/3] ^= 1
	if err := os.WriteFile(file, tampered, 0o600); err != nil {
		t.Fatal(err)
	}
	raw, _ := exec.Command("pdfsig", "-nssdir", "sql:"+nss, file).CombinedOutput()
	if strings.Contains(string(raw), "Signature is Valid") {
		t.Errorf("pdfsig accepts a changed file:\n%s", raw)
	}
}

// BenchmarkSignPDF is what the signature alone costs per document: the
// older trailer against the standard signature.
func BenchmarkSignPDF(b *testing.B) {
	pdf := rendered(b)
	s, _ := padesSigner(b, selfSigned(b))
	b.Run("trailer", func(b *testing.B) {
		for b.Loop() {
			s.SignPDFTrailer(number, pdf)
		}
	})
	b.Run("pades", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.SignPDF(number, pdf); err != nil {
				b.Fatal(err)
			}
		}
	})
}
