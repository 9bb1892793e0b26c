package verify

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
)

// The PDF signature trailer: a PDF comment before the final %%EOF,
//
//	%minwon-signature v1 key=KEYID number=NUMBER sig=BASE64
//	%%EOF
//
// where sig is Ed25519 over PDFMessage(number, the bytes before the
// trailer). Package docsig writes it.
const trailerTag = "%minwon-signature v1 "

const pdfContext = "minwon document v1\n"

// PDFMessage returns the bytes a PDF signature signs: a context string, the
// number and the PDF body, so that no other minwon signature can pass for
// one.
func PDFMessage(number string, body []byte) []byte {
	msg := make([]byte, 0, len(pdfContext)+len(number)+1+len(body))
	msg = append(msg, pdfContext...)
	msg = append(msg, number...)
	msg = append(msg, '\n')
	return append(msg, body...)
}

// AppendTrailer appends the signature trailer to body, which must end in a
// newline.
func AppendTrailer(body []byte, keyID, number string, sig []byte) []byte {
	return fmt.Appendf(body, "%skey=%s number=%s sig=%s\n%%%%EOF\n", trailerTag, keyID, number, base64.StdEncoding.EncodeToString(sig))
}

// trailerRE cuts the trailer into its fields; the number's format is
// checked by ValidNumber.
var trailerRE = regexp.MustCompile(`^%minwon-signature v1 key=([A-Za-z0-9-]{1,64}) number=([0-9]{16}) sig=([A-Za-z0-9+/=]{86,88})\n%%EOF\n$`)

// DocumentKeyID names a document-signing public key by its hash.
func DocumentKeyID(pub ed25519.PublicKey) string {
	h := sha256.Sum256(pub)
	return "doc-" + hex.EncodeToString(h[:6])
}

// Keys finds public keys by id. A key that is unknown or revoked is absent.
type Keys interface {
	PublicKey(keyID string) (ed25519.PublicKey, bool)
}

// ErrBadSignature is returned for a document whose signature is missing,
// malformed, by an unknown key, or does not verify.
var ErrBadSignature = errors.New("document signature is not valid")

// PDFSignature is what a verified PDF signature says.
type PDFSignature struct {
	KeyID  string
	Number string
	PAdES  *PAdESSignature // nil for a document of the older trailer format
}

// VerifyPDF checks the signature of a signed PDF against keys: the
// standard PDF signature (PAdES) with minwon's signature inside it, or, for
// documents issued before those, the signature trailer.
func VerifyPDF(signed []byte, keys Keys) (PDFSignature, error) {
	r, cms, found, err := findPAdES(signed)
	if err != nil {
		return PDFSignature{}, err
	}
	if found {
		return verifyPAdES(signed, r, cms, keys)
	}
	return verifyTrailer(signed, keys)
}

// verifyTrailer checks the signature trailer of an older document.
func verifyTrailer(signed []byte, keys Keys) (PDFSignature, error) {
	i := bytes.LastIndex(signed, []byte("\n"+trailerTag))
	if i < 0 {
		return PDFSignature{}, fmt.Errorf("%w: no minwon signature in the file", ErrBadSignature)
	}
	body, trailer := signed[:i+1], signed[i+1:]
	m := trailerRE.FindSubmatch(trailer)
	if m == nil || !ValidNumber(string(m[2])) {
		return PDFSignature{}, fmt.Errorf("%w: malformed signature trailer", ErrBadSignature)
	}
	keyID, number := string(m[1]), string(m[2])
	sig, err := base64.StdEncoding.Strict().DecodeString(string(m[3]))
	if err != nil || len(sig) != ed25519.SignatureSize {
		return PDFSignature{}, fmt.Errorf("%w: malformed signature", ErrBadSignature)
	}
	pub, ok := keys.PublicKey(keyID)
	if !ok {
		return PDFSignature{}, fmt.Errorf("%w: signed by key %s, which is unknown or revoked", ErrBadSignature, keyID)
	}
	if !ed25519.Verify(pub, PDFMessage(number, body), sig) {
		return PDFSignature{}, fmt.Errorf("%w: signature does not match the file's contents", ErrBadSignature)
	}
	return PDFSignature{KeyID: keyID, Number: number}, nil
}

// TrailerNumber returns the issuance number a document's signature names
// (its PAdES signature, or the trailer of an older one), without checking
// the signature or the number's check digit: enough to look the document
// up. A PAdES signature lies before the file's last kilobytes: give the
// whole file.
func TrailerNumber(signed []byte) (string, bool) {
	if n, ok := padesNumber(signed); ok {
		return n, true
	}
	i := bytes.LastIndex(signed, []byte("\n"+trailerTag))
	if i < 0 {
		return "", false
	}
	m := trailerRE.FindSubmatch(signed[i+1:])
	if m == nil {
		return "", false
	}
	return string(m[2]), true
}
