package verification

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/minwon/minwon/internal/doclog"
	"github.com/minwon/minwon/internal/keyring"
	"github.com/minwon/minwon/internal/store"
)

// ResultJSON is the answer of POST /api/v1/verify (API.md), and what
// `minwon verify` reads back as a Bundle.
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

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// JSON returns the wire form of r.
func (r *Result) JSON() ResultJSON {
	out := ResultJSON{
		Status: r.Status, Message: r.Message, Number: r.Number, Service: r.Service,
		IssuedAt: formatTime(r.IssuedAt), KeyID: r.KeyID, SHA256: r.SHA256,
		TreeSize: r.TreeSize, Checkpoint: string(r.Checkpoint), InclusionProof: []string{},
	}
	if r.LogIndex >= 0 {
		idx := r.LogIndex
		out.LogIndex = &idx
	}
	for _, h := range r.InclusionProof {
		out.InclusionProof = append(out.InclusionProof, base64.StdEncoding.EncodeToString(h[:]))
	}
	if rv := r.Revocation; rv != nil {
		out.Revocation = &RevocationJSON{Reason: rv.Reason, RevokedAt: formatTime(rv.At)}
		if rv.LogIndex >= 0 {
			idx := rv.LogIndex
			out.Revocation.LogIndex = &idx
		}
	}
	return out
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
		if err != nil || len(raw) != len(doclog.Hash{}) {
			return Bundle{}, fmt.Errorf("inclusion_proof[%d] is not a base64 hash", i)
		}
		var h doclog.Hash
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

// KeySet builds the public inventory from the stored one.
func KeySet(list []store.SigningKey, log LogKeyJSON) KeySetJSON {
	out := KeySetJSON{Log: log, DocumentKeys: []DocumentKeyJSON{}}
	for _, k := range list {
		if k.Purpose != keyring.Document {
			continue
		}
		out.DocumentKeys = append(out.DocumentKeys, DocumentKeyJSON{
			ID: k.ID, PublicKey: base64.StdEncoding.EncodeToString(k.PublicKey), State: keyring.State(k),
			CreatedAt: formatTime(k.CreatedAt), RetiredAt: formatTime(k.RetiredAt), RevokedAt: formatTime(k.RevokedAt),
			RevokeReason: k.RevokeReason,
		})
	}
	return out
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
		if keyring.ID(keyring.Document, raw) != d.ID {
			return PublicKeys{}, fmt.Errorf("document key %s: the id does not match the key", d.ID)
		}
		out.Documents[d.ID] = DocumentKey{PublicKey: raw, State: d.State, Reason: d.RevokeReason}
	}
	return out, nil
}

// Inventory is the key ring as verifiers and operators see it: the public
// key set, with the ring's rotation and revocation.
type Inventory struct {
	*keyring.Ring
	Log LogKeyJSON
}

// KeySet returns the public key set.
func (i Inventory) KeySet(ctx context.Context) (KeySetJSON, error) {
	list, err := i.List(ctx)
	if err != nil {
		return KeySetJSON{}, err
	}
	log := i.Log
	log.Previous = nil
	for _, k := range i.Previous(keyring.Log) {
		vk, err := doclog.VerifierKey(log.Origin, k.PublicKey)
		if err != nil {
			return KeySetJSON{}, err
		}
		log.Previous = append(log.Previous, vk)
	}
	return KeySet(list, log), nil
}
