package verify

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"time"
)

// ResultJSON is the answer of POST /api/v1/verify (API.md): what `minwon
// verify --save-proof` saves and --checkpoint reads back as a Bundle.
type ResultJSON struct {
	Status         Status          `json:"status"`
	Message        string          `json:"message"`
	Number         string          `json:"number,omitempty"`
	Service        string          `json:"service,omitempty"`
	IssuedAt       string          `json:"issued_at,omitempty"`
	KeyID          string          `json:"key_id,omitempty"`
	SHA256         string          `json:"sha256,omitempty"`
	LogIndex       *int64          `json:"log_index,omitempty"`
	Revocation     *RevocationJSON `json:"revocation,omitempty"`
	InclusionProof []string        `json:"inclusion_proof"`
	TreeSize       int64           `json:"tree_size,omitempty"`
	Checkpoint     string          `json:"checkpoint,omitempty"`
}

// RevocationJSON is the revocation part of ResultJSON.
type RevocationJSON struct {
	Reason    string `json:"reason"`
	RevokedAt string `json:"revoked_at,omitempty"`
	LogIndex  *int64 `json:"log_index,omitempty"`
}

// FormatTime is the wire form of times: RFC 3339 in UTC, empty for zero.
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// Bundle decodes the wire form for an offline check.
func (j ResultJSON) Bundle() (Bundle, error) {
	b := Bundle{Status: j.Status, Number: j.Number, Service: j.Service, KeyID: j.KeyID, Checkpoint: []byte(j.Checkpoint), LogIndex: -1}
	if j.IssuedAt != "" {
		t, err := time.Parse(time.RFC3339Nano, j.IssuedAt)
		if err != nil {
			return Bundle{}, fmt.Errorf("issued_at: %w", err)
		}
		b.IssuedAt = t
	}
	if j.LogIndex != nil {
		b.LogIndex = *j.LogIndex
	}
	for i, s := range j.InclusionProof {
		raw, err := base64.StdEncoding.Strict().DecodeString(s)
		if err != nil || len(raw) != len(Hash{}) {
			return Bundle{}, fmt.Errorf("inclusion_proof[%d] is not a base64 hash", i)
		}
		var h Hash
		copy(h[:], raw)
		b.InclusionProof = append(b.InclusionProof, h)
	}
	if j.Revocation != nil {
		b.Revocation = &Revocation{Reason: j.Revocation.Reason, LogIndex: -1}
	}
	return b, nil
}

// KeySetJSON is the public key inventory (GET /api/v1/keys), and the file
// `minwon verify --key` trusts.
type KeySetJSON struct {
	Log          LogKeyJSON        `json:"log"`
	DocumentKeys []DocumentKeyJSON `json:"document_keys"`
}

// LogKeyJSON names the log and its checkpoint key.
type LogKeyJSON struct {
	Origin      string `json:"origin"`
	KeyID       string `json:"key_id"`
	VerifierKey string `json:"verifier_key"` // C2SP signed-note verifier key
	// Previous are the verifier keys of earlier, retired log keys: the
	// checkpoints signed before a rotation still verify with them.
	Previous []string `json:"previous_verifier_keys,omitempty"`
}

// DocumentKeyJSON is one document-signing key.
type DocumentKeyJSON struct {
	ID           string `json:"id"`
	PublicKey    string `json:"public_key"` // base64 Ed25519
	State        string `json:"state"`
	CreatedAt    string `json:"created_at"`
	RetiredAt    string `json:"retired_at,omitempty"`
	RevokedAt    string `json:"revoked_at,omitempty"`
	RevokeReason string `json:"revoke_reason,omitempty"`
}

// PublicKeys decodes the key set for an offline check.
func (k KeySetJSON) PublicKeys() (PublicKeys, error) {
	if k.Log.VerifierKey == "" {
		return PublicKeys{}, fmt.Errorf("the key set names no log verifier key")
	}
	out := PublicKeys{LogVerifierKeys: append([]string{k.Log.VerifierKey}, k.Log.Previous...), Documents: map[string]DocumentKey{}}
	for _, d := range k.DocumentKeys {
		raw, err := base64.StdEncoding.Strict().DecodeString(d.PublicKey)
		if err != nil || len(raw) != ed25519.PublicKeySize {
			return PublicKeys{}, fmt.Errorf("document key %s: not a base64 Ed25519 public key", d.ID)
		}
		if DocumentKeyID(raw) != d.ID {
			return PublicKeys{}, fmt.Errorf("document key %s: the id does not match the key", d.ID)
		}
		out.Documents[d.ID] = DocumentKey{PublicKey: raw, State: d.State, Reason: d.RevokeReason}
	}
	return out, nil
}
