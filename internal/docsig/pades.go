package docsig

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"strconv"
	"time"

	"github.com/minwon/minwon/internal/verify"
)

// Certificate is a document-signing certificate of the government PKI
// with its key: what standard PDF readers check a document's signature
// against.
type Certificate struct {
	Chain []*x509.Certificate // the signer's certificate first, then its issuers
	Key   *ecdsa.PrivateKey
}

// LoadCertificate reads a document-signing certificate (PEM, the signer's
// first, then its issuers) and its PKCS#8 ECDSA key, as package pki writes
// them.
func LoadCertificate(certFile, keyFile string) (*Certificate, error) {
	raw, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("docsig: %w", err)
	}
	c := &Certificate{}
	for {
		var b *pem.Block
		if b, raw = pem.Decode(raw); b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("docsig: %s: %w", certFile, err)
		}
		c.Chain = append(c.Chain, cert)
	}
	if len(c.Chain) == 0 {
		return nil, fmt.Errorf("docsig: %s holds no certificate", certFile)
	}
	raw, err = os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("docsig: %w", err)
	}
	b, _ := pem.Decode(raw)
	if b == nil || b.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("docsig: %s is not a PKCS#8 private key", keyFile)
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("docsig: %s: %w", keyFile, err)
	}
	var ok bool
	if c.Key, ok = k.(*ecdsa.PrivateKey); !ok {
		return nil, fmt.Errorf("docsig: %s is not an ECDSA key", keyFile)
	}
	if !c.Key.PublicKey.Equal(c.Chain[0].PublicKey) {
		return nil, fmt.Errorf("docsig: %s is not the key of %s", keyFile, certFile)
	}
	return c, nil
}

// ErrNoSignatureField is returned for a PDF that has no empty signature
// field to fill: SignPDF signs PDFs package render wrote.
var ErrNoSignatureField = errors.New("docsig: the PDF has no signature field to fill")

// SignPDF fills the empty signature field of a PDF (render writes one)
// with a standard PDF signature (PAdES baseline B-B) by s.Cert, carrying
// minwon's Ed25519 signature of number and the signed bytes. The
// signature covers the whole file but its own /Contents.
func (s Signer) SignPDF(number string, pdf []byte) ([]byte, error) {
	if s.Cert == nil {
		return nil, errors.New("docsig: no document-signing certificate")
	}
	out := bytes.Clone(pdf)
	// The placeholders: /ByteRange [<spaces>] then /Contents <000…>.
	br := bytes.LastIndex(out, []byte("/ByteRange ["))
	if br < 0 {
		return nil, ErrNoSignatureField
	}
	brStart := br + len("/ByteRange [")
	brEnd := bytes.IndexByte(out[brStart:], ']')
	ct := bytes.Index(out[brStart:], []byte("/Contents <"))
	if brEnd < 0 || ct < 0 || len(bytes.TrimSpace(out[brStart:brStart+brEnd])) != 0 {
		return nil, ErrNoSignatureField
	}
	brEnd += brStart
	hole := brStart + ct + len("/Contents ")
	holeEnd := bytes.IndexByte(out[hole:], '>')
	if holeEnd < 0 {
		return nil, ErrNoSignatureField
	}
	holeEnd += hole + 1
	byteRange := fmt.Appendf(nil, "0 %d %d %d", hole, holeEnd, len(out)-holeEnd)
	if len(byteRange) > brEnd-brStart {
		return nil, ErrNoSignatureField
	}
	copy(out[brStart:brEnd], byteRange)

	h := sha256.New()
	h.Write(out[:hole])
	h.Write(out[holeEnd:])
	attrs := verify.PAdESSignedAttributes(h.Sum(nil), s.Cert.Chain[0].Raw)
	attrsHash := sha256.Sum256(attrs)
	// Deterministic ECDSA (RFC 6979): the same document signs to the same
	// bytes, as with Ed25519, so issuance stays reproducible.
	sig, err := s.Cert.Key.Sign(nil, attrsHash[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("docsig: sign: %w", err)
	}
	minwonSig := ed25519.Sign(s.Key, verify.PAdESMessage(number, attrs))
	chain := make([][]byte, len(s.Cert.Chain))
	for i, c := range s.Cert.Chain {
		chain[i] = c.Raw
	}
	cms, err := verify.MarshalPAdESCMS(chain, attrs, sig, s.KeyID, number, minwonSig)
	if err != nil {
		return nil, fmt.Errorf("docsig: %w", err)
	}
	room := holeEnd - hole - 2
	if 2*len(cms) > room {
		return nil, fmt.Errorf("docsig: the signature (%d bytes) does not fit the field (%s hex digits)", len(cms), strconv.Itoa(room))
	}
	hex.Encode(out[hole+1:], cms)
	return out, nil
}

// Unsigned returns pdf with its signature field emptied again, as package
// render wrote it, so it can be signed anew: what an insider holding the
// keys could do, which tests of forgeries need.
func Unsigned(pdf []byte) ([]byte, error) {
	out := bytes.Clone(pdf)
	br := bytes.LastIndex(out, []byte("/ByteRange ["))
	if br < 0 {
		return nil, ErrNoSignatureField
	}
	brStart := br + len("/ByteRange [")
	brEnd := bytes.IndexByte(out[brStart:], ']')
	ct := bytes.Index(out[brStart:], []byte("/Contents <"))
	if brEnd < 0 || ct < 0 {
		return nil, ErrNoSignatureField
	}
	for i := brStart; i < brStart+brEnd; i++ {
		out[i] = ' '
	}
	hole := brStart + ct + len("/Contents <")
	end := bytes.IndexByte(out[hole:], '>')
	if end < 0 {
		return nil, ErrNoSignatureField
	}
	for i := hole; i < hole+end; i++ {
		out[i] = '0'
	}
	return out, nil
}

// SelfSignedCertificate makes a document-signing certificate that signs
// itself, for measurements and tests: standard readers do not trust it,
// minwon's own check does not look at who issued it.
func SelfSignedCertificate(name string) (*Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	t := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, t, t, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Certificate{Chain: []*x509.Certificate{cert}, Key: key}, nil
}
