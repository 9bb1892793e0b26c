// Package verification answers whether a document is genuine: issued by
// minwon, in the transparency log, signed by a key that is not revoked, and
// not itself revoked, looking the document up in the log. It is the server
// side: the formats, the verdicts and the offline check of such an answer
// (against a checkpoint and the public keys, without trusting the server
// that gave it) are package verify's, which it builds on and re-exports.
//
// Its answers never carry personal data: only what the log holds (document
// hash, number, service, key id, time, revocation reason) and the proof
// that the log holds it.
package verification

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/minwon/minwon/internal/doclog"
	"github.com/minwon/minwon/internal/keyring"
	"github.com/minwon/minwon/internal/verify"
)

// Status is a verification verdict.
type Status = verify.Status

// The verdicts of API.md.
const (
	Valid    = verify.Valid
	Revoked  = verify.Revoked
	Unknown  = verify.Unknown
	Mismatch = verify.Mismatch
)

// Result is the answer about one document.
type Result struct {
	Status     Status
	Message    string // plain words for people, no personal data
	Number     string
	Service    string
	IssuedAt   time.Time
	KeyID      string
	SHA256     string // the logged document hash
	LogIndex   int64
	Revocation *Revocation
	// Proof that entry LogIndex is in the tree of Checkpoint.
	InclusionProof []doclog.Hash
	TreeSize       int64
	Checkpoint     []byte // C2SP signed note
}

// Revocation says why and when a document stopped being valid.
type Revocation = verify.Revocation

// ErrBadInput is returned for a malformed number or hash.
var ErrBadInput = errors.New("bad verification request")

type logEntries interface {
	LogEntriesFor(ctx context.Context, number string) ([]doclog.Record, error)
	LogEntriesForNumbers(ctx context.Context, numbers []string) ([]doclog.Record, error)
}

type prover interface {
	Checkpoint() (size int64, root doclog.Hash, signed []byte)
	Latest(ctx context.Context) (size int64, root doclog.Hash, signed []byte, err error)
	InclusionProof(ctx context.Context, index, size int64) ([]doclog.Hash, error)
}

type keys interface {
	verify.Keys
	Key(id string) (keyring.SigningKey, bool)
}

// Verifier checks documents against the log and the key inventory.
type Verifier struct {
	Entries logEntries
	Log     prover
	Keys    keys
}

// ByNumber verifies by issuance number and, if sha256hex is not empty, the
// document's SHA-256. Without a hash the answer says whether the number was
// issued and is still valid, and gives the logged hash to compare.
func (v *Verifier) ByNumber(ctx context.Context, number, sha256hex string) (*Result, error) {
	n, err := verify.ParseNumber(number)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	if sha256hex != "" && !verify.ValidSHA256(sha256hex) {
		return nil, fmt.Errorf("%w: sha256 must be 64 lowercase hex digits", ErrBadInput)
	}
	stored, err := v.Entries.LogEntriesFor(ctx, string(n))
	if err != nil {
		return nil, err
	}
	res, err := v.judge(string(n), sha256hex, stored)
	if err != nil || res.Status == Unknown {
		return res, err
	}
	if err := v.prove(ctx, res); err != nil {
		return nil, err
	}
	return res, nil
}

// Doc names a document for Statuses: its number and, if known, its hash.
type Doc struct {
	Number string
	SHA256 string
}

// Statuses gives the verdict on each document, as ByNumber would, but
// without inclusion proofs and with one read of the log's entries for all
// of them: for list pages, where a proof per row would cost a log read per
// document. A number that is not well formed is Unknown.
func (v *Verifier) Statuses(ctx context.Context, docs []Doc) (map[string]Status, error) {
	numbers := make([]string, 0, len(docs))
	for _, d := range docs {
		if verify.ValidNumber(d.Number) {
			numbers = append(numbers, d.Number)
		}
	}
	stored, err := v.Entries.LogEntriesForNumbers(ctx, numbers)
	if err != nil {
		return nil, err
	}
	byNumber := map[string][]doclog.Record{}
	for _, r := range stored {
		byNumber[r.Number] = append(byNumber[r.Number], r)
	}
	out := make(map[string]Status, len(docs))
	for _, d := range docs {
		res, err := v.judge(d.Number, d.SHA256, byNumber[d.Number])
		if err != nil {
			return nil, err
		}
		out[d.Number] = res.Status
	}
	return out, nil
}

// judge decides the verdict on number (and its hash, if not empty) from
// the log entries stored about it, oldest first. It leaves the proof out.
func (v *Verifier) judge(number, sha256hex string, stored []doclog.Record) (*Result, error) {
	res := &Result{Number: number, LogIndex: -1}
	var issued *doclog.Entry
	for _, se := range stored {
		e, err := doclog.ParseEntry(se.Data)
		if err != nil {
			return nil, fmt.Errorf("verification: log entry %d: %w", se.Index, err)
		}
		switch e.Kind {
		case doclog.KindIssued:
			issued, res.LogIndex = &e, se.Index
		case doclog.KindRevoked:
			res.Revocation = &Revocation{Reason: e.Reason, At: e.Time, LogIndex: se.Index}
		}
	}
	if issued == nil {
		res.Status, res.Message = Unknown, "No document with this number is in the transparency log."
		return res, nil
	}
	res.Service, res.IssuedAt, res.KeyID, res.SHA256 = issued.Service, issued.Time, issued.KeyID, issued.SHA256
	switch key, known := v.Keys.Key(issued.KeyID); {
	case sha256hex != "" && sha256hex != issued.SHA256:
		res.Status, res.Message = Mismatch, "A document with this number was issued, but these are not its contents: the file was altered or is another document."
	case res.Revocation != nil:
		res.Status, res.Message = Revoked, "This document was revoked and is no longer valid."
	case !known:
		res.Status, res.Message = Revoked, "The key that signed this document is not in the key inventory; the document is not valid."
		res.Revocation = &Revocation{Reason: "signing key " + issued.KeyID + " is unknown", LogIndex: -1}
	case !key.RevokedAt.IsZero():
		res.Status, res.Message = Revoked, "The key that signed this document was revoked; the document is no longer valid."
		res.Revocation = &Revocation{Reason: "signing key " + key.ID + " revoked: " + key.RevokeReason, At: key.RevokedAt, LogIndex: -1}
	default:
		res.Status, res.Message = Valid, "This document was issued by minwon, is in the transparency log and has not been revoked."
	}
	return res, nil
}

// prove fills in the checkpoint and the inclusion proof of the issued entry.
func (v *Verifier) prove(ctx context.Context, res *Result) error {
	size, _, signed := v.Log.Checkpoint()
	if res.LogIndex >= size {
		// Appended on another node after the checkpoint this node holds:
		// read the newest one, which covers it.
		var err error
		if size, _, signed, err = v.Log.Latest(ctx); err != nil {
			return err
		}
	}
	if res.LogIndex >= size {
		return fmt.Errorf("verification: entry %d is beyond checkpoint %d", res.LogIndex, size)
	}
	proof, err := v.Log.InclusionProof(ctx, res.LogIndex, size)
	if err != nil {
		return err
	}
	res.InclusionProof, res.TreeSize, res.Checkpoint = proof, size, signed
	return nil
}

// The offline check and its inputs are package verify's, which outside
// verifiers and cmd/minwon-verify import without the server's dependencies.
type (
	// Bundle is what a client needs to check a document offline.
	Bundle = verify.Bundle
	// PublicKeys is what an offline check trusts.
	PublicKeys = verify.PublicKeys
	// DocumentKey is a document-signing public key and its state.
	DocumentKey = verify.DocumentKey
)

// CheckOffline decides, without trusting whoever supplied the bundle,
// whether pdf is a valid, logged, unrevoked document (verify.CheckOffline).
func CheckOffline(pdf []byte, b Bundle, trusted PublicKeys) error {
	return verify.CheckOffline(pdf, b, trusted)
}
