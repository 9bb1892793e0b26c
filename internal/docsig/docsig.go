// Package docsig owns the signature formats of issued documents: the
// standard PDF signature (PAdES baseline B-B: a CMS signature by the
// document-signing certificate of the government PKI, carrying minwon's own
// Ed25519 signature), the older signature trailer appended to a PDF, and the
// signed envelope of data.json. minwon's signatures are Ed25519 with a key
// id of the key ring, over domain-separated bytes, so a signature of one
// kind can never pass for another.
//
// The PDF signature formats and their checks are package verify's, so third
// parties can check documents without this package; docsig writes them.
// Package docsig checks signatures only; whether a document is logged or
// revoked is for the transparency log to say.
package docsig

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/minwon/minwon/internal/verify"
)

// Signer signs documents.
type Signer struct {
	KeyID string
	Key   ed25519.PrivateKey
	// Cert is the document-signing certificate the standard PDF signature
	// is made with. SignPDF needs it.
	Cert *Certificate
}

// KeyID names a document-signing public key by its hash.
func KeyID(pub ed25519.PublicKey) string { return verify.DocumentKeyID(pub) }

// Keys finds public keys by id. A key that is unknown or revoked is absent.
type Keys = verify.Keys

// KeyMap is a fixed set of keys.
type KeyMap map[string]ed25519.PublicKey

// PublicKey implements Keys.
func (m KeyMap) PublicKey(id string) (ed25519.PublicKey, bool) { k, ok := m[id]; return k, ok }

// ErrInvalid is returned for a document whose signature is missing,
// malformed, by an unknown key, or does not verify.
var ErrInvalid = verify.ErrBadSignature

// SignPDFTrailer appends a signature trailer over the issuance number and
// the PDF bytes: the format of documents issued before the standard PDF
// signature, kept so they can be made again in tests. The trailer is a PDF
// comment followed by %%EOF, so viewers still open the file, but show it as
// unsigned.
func (s Signer) SignPDFTrailer(number string, pdf []byte) []byte {
	if len(pdf) > 0 && pdf[len(pdf)-1] != '\n' {
		pdf = append(pdf, '\n')
	}
	sig := ed25519.Sign(s.Key, verify.PDFMessage(number, pdf))
	out := make([]byte, 0, len(pdf)+200)
	out = append(out, pdf...)
	return verify.AppendTrailer(out, s.KeyID, number, sig)
}

// PDFSignature is what a verified PDF trailer says.
type PDFSignature = verify.PDFSignature

// VerifyPDF checks the signature trailer of a signed PDF against keys. The
// trailer's format and its check are package verify's, which third-party
// verifiers import.
func VerifyPDF(signed []byte, keys Keys) (PDFSignature, error) { return verify.VerifyPDF(signed, keys) }

// Envelope is data.json: the document's fields as JSON and a signature over
// their exact bytes.
type Envelope struct {
	Document  json.RawMessage `json:"document"`
	KeyID     string          `json:"key_id"`
	Signature string          `json:"signature"`
}

// SignData returns the data.json bytes for doc (any JSON-encodable value).
func (s Signer) SignData(doc any) ([]byte, error) {
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("docsig: encode document: %w", err)
	}
	msg := verify.DataMessage(raw)
	env := Envelope{Document: raw, KeyID: s.KeyID, Signature: base64.StdEncoding.EncodeToString(ed25519.Sign(s.Key, msg))}
	return json.MarshalIndent(env, "", "  ")
}

// VerifyData checks a data.json envelope and returns the signed document
// bytes. The format's check is package verify's.
func VerifyData(data []byte, keys Keys) (json.RawMessage, string, error) {
	return verify.VerifyData(data, keys)
}

// TrailerNumber returns the issuance number a signature trailer names,
// without checking the signature: enough to look the document up.
func TrailerNumber(signed []byte) (string, bool) { return verify.TrailerNumber(signed) }
