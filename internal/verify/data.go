package verify

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"
)

// data.json is an envelope around the document's fields as JSON:
//
//	{"document": {...}, "key_id": KEYID, "signature": BASE64}
//
// where signature is Ed25519 over "minwon data v1\n" and the compact JSON of
// document, by the document key KEYID. Package docsig writes it.
const dataContext = "minwon data v1\n"

// DataMessage returns the bytes a data.json signature signs.
func DataMessage(compactDocument []byte) []byte {
	return append([]byte(dataContext), compactDocument...)
}

// dataEnvelope is data.json.
type dataEnvelope struct {
	Document  json.RawMessage `json:"document"`
	KeyID     string          `json:"key_id"`
	Signature string          `json:"signature"`
}

// VerifyData checks a data.json envelope against keys and returns the
// signed document (compact JSON) and the key id.
func VerifyData(data []byte, keys Keys) (json.RawMessage, string, error) {
	var env dataEnvelope
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, "", fmt.Errorf("%w: not a data.json envelope: %v", ErrBadSignature, err)
	}
	sig, err := base64.StdEncoding.Strict().DecodeString(env.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, "", fmt.Errorf("%w: malformed signature", ErrBadSignature)
	}
	pub, ok := keys.PublicKey(env.KeyID)
	if !ok {
		return nil, "", fmt.Errorf("%w: signed by key %s, which is unknown or revoked", ErrBadSignature, env.KeyID)
	}
	// Indentation inside the envelope changes the raw bytes; compact them
	// back to what was signed.
	var compact bytes.Buffer
	if err := json.Compact(&compact, env.Document); err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	if !ed25519.Verify(pub, DataMessage(compact.Bytes()), sig) {
		return nil, "", fmt.Errorf("%w: signature does not match the data", ErrBadSignature)
	}
	return compact.Bytes(), env.KeyID, nil
}

// DataDocument is what a verified data.json says that ties it to the log:
// the PDF it goes with is the one the log holds.
type DataDocument struct {
	Number    string    `json:"number"`
	Service   string    `json:"service"`
	IssuedAt  time.Time `json:"issued_at"`
	PDFSHA256 string    `json:"pdf_sha256"`
	KeyID     string    `json:"key_id"`
}

// IsData reports whether file looks like a data.json rather than a PDF: a
// JSON object.
func IsData(file []byte) bool {
	t := bytes.TrimLeft(file, " \t\r\n\ufeff")
	return len(t) > 0 && t[0] == '{'
}

// CheckDataOffline decides, like CheckOffline for a PDF, whether data is
// the valid data.json of a logged, unrevoked document: its signature
// verifies with a trusted, unrevoked key; it names the same key as its
// envelope; and the log entry rebuilt from it (its number, its PDF's hash
// and key) is included in the bundle's trusted checkpoint.
func CheckDataOffline(data []byte, b Bundle, trusted PublicKeys) (DataDocument, error) {
	raw, keyID, err := VerifyData(data, trusted)
	if err != nil {
		return DataDocument{}, err
	}
	var doc DataDocument
	if err := json.Unmarshal(raw, &doc); err != nil {
		return DataDocument{}, fmt.Errorf("%w: the signed document is not a minwon document: %v", ErrBadSignature, err)
	}
	if doc.KeyID != keyID || !ValidNumber(doc.Number) || len(doc.PDFSHA256) != 64 {
		return DataDocument{}, fmt.Errorf("%w: the signed document lacks its number, PDF hash or key", ErrBadSignature)
	}
	if doc.Service != b.Service {
		return DataDocument{}, fmt.Errorf("the proof is for a %s, the data is a %s", b.Service, doc.Service)
	}
	return doc, checkBundle(doc.Number, keyID, doc.PDFSHA256, b, trusted)
}
