package verification

import (
	"context"
	"encoding/base64"

	"github.com/minwon/minwon/internal/doclog"
	"github.com/minwon/minwon/internal/keyring"
	"github.com/minwon/minwon/internal/verify"
)

// The wire forms are package verify's.
type (
	// ResultJSON is the answer of POST /api/v1/verify.
	ResultJSON = verify.ResultJSON
	// RevocationJSON is the revocation part of ResultJSON.
	RevocationJSON = verify.RevocationJSON
	// KeySetJSON is the public key inventory (GET /api/v1/keys).
	KeySetJSON = verify.KeySetJSON
	// LogKeyJSON names the log and its checkpoint key.
	LogKeyJSON = verify.LogKeyJSON
	// DocumentKeyJSON is one document-signing key.
	DocumentKeyJSON = verify.DocumentKeyJSON
)

var formatTime = verify.FormatTime

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

// KeySet builds the public inventory from the stored one.
func KeySet(list []keyring.SigningKey, log LogKeyJSON) KeySetJSON {
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
