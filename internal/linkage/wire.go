package linkage

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Request is what minwon sends an agency: one subject, one dataset, the
// fields wanted, the purpose they are wanted for (a service id, or an access
// check's purpose) so the agency can hold the fields to what that purpose
// declares, and a fresh random correlation id the answer must echo.
// A retry of the same request reuses the correlation id, which is also the
// agency's idempotency key.
type Request struct {
	CorrelationID string   `json:"correlation_id"`
	Purpose       string   `json:"purpose"`
	Subject       string   `json:"subject"`
	Dataset       string   `json:"dataset"`
	Fields        []string `json:"fields"`
}

// Response is an agency's answer. The agency signs the exact body bytes;
// linkage checks the signature before it decodes anything.
type Response struct {
	Agency        string                     `json:"agency"`
	CorrelationID string                     `json:"correlation_id"`
	Subject       string                     `json:"subject"`
	Dataset       string                     `json:"dataset"`
	Fields        map[string]json.RawMessage `json:"fields"`
	AnsweredAt    time.Time                  `json:"answered_at"`
}

// SignatureHeader carries "KEYID BASE64SIG" over the response body.
const SignatureHeader = "Agency-Signature"

// QueryPath is where an agency answers requests (POST, JSON).
const QueryPath = "/v1/query"

// signedPrefix separates agency response signatures from every other use of
// Ed25519 in minwon, so no other signed object can pass for an answer.
const signedPrefix = "minwon agency response v1\n"

// NewCorrelationID returns 128 random bits in hex.
func NewCorrelationID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}

// KeyID names an agency public key: the agency and a hash of the key, so a
// key id can never silently point to another key.
func KeyID(agency string, pub ed25519.PublicKey) string {
	h := sha256.Sum256(pub)
	return agency + "-" + hex.EncodeToString(h[:6])
}

// Signer signs agency responses.
type Signer struct {
	KeyID string
	Key   ed25519.PrivateKey
}

// Sign returns the SignatureHeader value for body.
func (s Signer) Sign(body []byte) string { return s.sign(signedPrefix, body) }

func (s Signer) sign(prefix string, body []byte) string {
	msg := make([]byte, 0, len(prefix)+len(body))
	msg = append(append(msg, prefix...), body...)
	return s.KeyID + " " + base64.StdEncoding.EncodeToString(ed25519.Sign(s.Key, msg))
}

// Verifier checks agency responses against the keys trusted for each agency.
type Verifier struct {
	schema *Schema
	keys   map[string]map[string]ed25519.PublicKey // agency → key id → key
}

// NewVerifier returns a verifier that trusts keys[agency][keyID] only for
// that agency's answers.
func NewVerifier(schema *Schema, keys map[string]map[string]ed25519.PublicKey) *Verifier {
	return &Verifier{schema: schema, keys: keys}
}

// Decode checks an agency's answer to req and returns the record. In order:
// the signature header names a key trusted for this agency, the signature
// over the body verifies, the body is well-formed JSON of the expected shape,
// the agency, correlation id, subject and dataset are the ones asked for, and
// the fields are exactly the ones requested. Nothing of an answer that fails
// any check is returned.
func (v *Verifier) Decode(agency string, req *Request, sigHeader string, body []byte) (*Record, error) {
	if err := v.checkSignature(agency, signedPrefix, sigHeader, body); err != nil {
		return nil, err
	}
	keyID, _, _ := parseSignature(sigHeader)
	var resp Response
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&resp); err != nil {
		return nil, &IntegrityError{Agency: agency, Reason: "malformed answer: " + err.Error()}
	}
	if dec.More() {
		return nil, &IntegrityError{Agency: agency, Reason: "trailing data after answer"}
	}
	// A validly signed answer to another request is the swap that handed
	// people each other's certificates: refuse it, whatever it contains.
	switch {
	case resp.Agency != agency:
		return nil, &MismatchError{Agency: agency, What: "agency"}
	case resp.CorrelationID != req.CorrelationID:
		return nil, &MismatchError{Agency: agency, What: "correlation id"}
	case resp.Subject != req.Subject:
		return nil, &MismatchError{Agency: agency, What: "subject"}
	case resp.Dataset != req.Dataset:
		return nil, &MismatchError{Agency: agency, What: "dataset"}
	}
	if len(resp.Fields) != len(req.Fields) {
		return nil, &IntegrityError{Agency: agency, Reason: fmt.Sprintf("answer has %d fields, %d were asked for", len(resp.Fields), len(req.Fields))}
	}
	for _, f := range req.Fields {
		raw, ok := resp.Fields[f]
		if !ok {
			return nil, &IntegrityError{Agency: agency, Reason: fmt.Sprintf("answer lacks field %q", f)}
		}
		if !json.Valid(raw) {
			return nil, &IntegrityError{Agency: agency, Reason: fmt.Sprintf("field %q is not valid JSON", f)}
		}
	}
	return &Record{
		Agency:        agency,
		Dataset:       resp.Dataset,
		Subject:       resp.Subject,
		CorrelationID: resp.CorrelationID,
		KeyID:         keyID,
		AnsweredAt:    resp.AnsweredAt,
		Fields:        resp.Fields,
	}, nil
}

// checkSignature checks that sigHeader names a key trusted for agency and
// that its signature over prefix and body verifies.
func (v *Verifier) checkSignature(agency, prefix, sigHeader string, body []byte) error {
	keyID, sig, err := parseSignature(sigHeader)
	if err != nil {
		return &IntegrityError{Agency: agency, Reason: err.Error()}
	}
	pub, ok := v.keys[agency][keyID]
	if !ok {
		return &IntegrityError{Agency: agency, Reason: fmt.Sprintf("signed by key %q, which is not trusted for %s", keyID, agency)}
	}
	msg := make([]byte, 0, len(prefix)+len(body))
	msg = append(append(msg, prefix...), body...)
	if !ed25519.Verify(pub, msg, sig) {
		return &IntegrityError{Agency: agency, Reason: "signature does not verify"}
	}
	return nil
}

func parseSignature(h string) (keyID string, sig []byte, err error) {
	keyID, b64, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || keyID == "" {
		return "", nil, fmt.Errorf("missing or malformed %s header", SignatureHeader)
	}
	sig, err = base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return "", nil, fmt.Errorf("malformed signature in %s header", SignatureHeader)
	}
	return keyID, sig, nil
}

// Record is a verified agency answer: the subject is the one requested and
// the fields are exactly the ones asked for.
type Record struct {
	Agency        string
	Dataset       string
	Subject       string
	CorrelationID string
	KeyID         string
	AnsweredAt    time.Time
	Fields        map[string]json.RawMessage
}

// String decodes a string field.
func (r *Record) String(name string) (string, error) {
	var s string
	if err := r.Decode(name, &s); err != nil {
		return "", err
	}
	return s, nil
}

// Decode decodes field name into v.
func (r *Record) Decode(name string, v any) error {
	raw, ok := r.Fields[name]
	if !ok {
		return fmt.Errorf("%s.%s: field %q was not requested", r.Agency, r.Dataset, name)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s.%s: decode field %q: %w", r.Agency, r.Dataset, name, err)
	}
	return nil
}
