package verify

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Status is a verification verdict.
type Status string

// The verdicts of API.md.
const (
	Valid    Status = "valid"    // issued, logged, key and document not revoked, bytes match
	Revoked  Status = "revoked"  // the document or its signing key was revoked
	Unknown  Status = "unknown"  // no such document in the log
	Mismatch Status = "mismatch" // a document by that number exists, but not these bytes
)

// Key states, as the key set publishes them.
const (
	KeyActive  = "active"
	KeyRetired = "retired"
	KeyRevoked = "revoked"
)

// Revocation says why and when a document stopped being valid.
type Revocation struct {
	Reason   string
	At       time.Time
	LogIndex int64 // -1 when the signing key, not the document, was revoked
}

// Bundle is what a client needs to check a document offline: the
// verification answer, as the API gives it.
type Bundle struct {
	Status         Status
	Number         string
	Service        string
	IssuedAt       time.Time
	KeyID          string
	LogIndex       int64
	InclusionProof []Hash
	Checkpoint     []byte
	Revocation     *Revocation
}

// PublicKeys is what an offline check trusts: the log's note verifier keys
// (C2SP signed-note "origin+hash+key"; the current one first, then retired
// ones) and the document keys by id with their state.
type PublicKeys struct {
	LogVerifierKeys []string
	Documents       map[string]DocumentKey
	// WitnessVerifierKeys, if any, are witnesses' cosignature/v1 keys
	// (C2SP tlog-witness): a checkpoint must then be cosigned by each, so
	// that a log showing this verifier a view the witnesses never saw (a
	// split view, a rolled-back log) is refused.
	WitnessVerifierKeys []string
}

// DocumentKey is a document-signing public key and its state.
type DocumentKey struct {
	PublicKey ed25519.PublicKey
	State     string // KeyActive, KeyRetired or KeyRevoked
	Reason    string
}

// PublicKey implements Keys for keys that are not revoked.
func (k PublicKeys) PublicKey(id string) (ed25519.PublicKey, bool) {
	d, ok := k.Documents[id]
	if !ok || d.State == KeyRevoked {
		return nil, false
	}
	return d.PublicKey, true
}

// CheckOffline decides, without trusting whoever supplied the bundle,
// whether pdf is a valid, logged, unrevoked document: the PDF's signature
// verifies with a trusted, unrevoked key; the checkpoint is signed by the
// trusted log key; the entry rebuilt from the PDF's own bytes is included in
// that checkpoint's tree; and the bundle reports no revocation. It returns
// nil only for a valid document.
func CheckOffline(pdf []byte, b Bundle, trusted PublicKeys) error {
	sig, err := VerifyPDF(pdf, trusted)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(pdf)
	return checkBundle(sig.Number, sig.KeyID, hex.EncodeToString(sum[:]), b, trusted)
}

// checkBundle checks that the bundle vouches for the document number,
// signed by keyID, whose PDF hashes to sha256: not revoked, and its entry
// included in a checkpoint of the trusted log.
func checkBundle(number, keyID, sha256 string, b Bundle, trusted PublicKeys) error {
	if b.Number != number {
		return fmt.Errorf("the proof is for document %s, the file is document %s", b.Number, number)
	}
	if b.Status == Revoked || b.Revocation != nil {
		reason := "revoked"
		if b.Revocation != nil {
			reason = "revoked: " + b.Revocation.Reason
		}
		return fmt.Errorf("document %s is %s", number, reason)
	}
	if b.Status != Valid {
		return fmt.Errorf("the log says document %s is %s", number, b.Status)
	}
	cp, err := OpenCosigned(b.Checkpoint, trusted.LogVerifierKeys, trusted.WitnessVerifierKeys)
	if err != nil {
		return err
	}
	entry := Entry{Kind: KindIssued, Number: number, Service: b.Service, KeyID: keyID, SHA256: sha256, Time: b.IssuedAt}
	if err := CheckInclusion(b.InclusionProof, cp.Size, cp.Root, b.LogIndex, entry.Marshal()); err != nil {
		return fmt.Errorf("the document is not in the log at index %d of checkpoint %d: %w", b.LogIndex, cp.Size, err)
	}
	return nil
}

// ErrStaleProof is returned for a saved proof older than a verifier
// accepts: the document may have been revoked since, which the proof
// cannot show.
var ErrStaleProof = errors.New("the proof is too old to vouch that the document is still valid")

// CheckFresh opens the bundle's checkpoint with the trusted log keys and
// checks that it was signed at most maxAge before now. A checkpoint without
// a time (made before the log wrote one) is of unknown age and refused. A
// maxAge of 0 accepts any age. It returns the checkpoint, whose Time says
// how fresh the proof is, even when it refuses it.
func CheckFresh(b Bundle, trusted PublicKeys, now time.Time, maxAge time.Duration) (Checkpoint, error) {
	cp, err := OpenCheckpoint(b.Checkpoint, trusted.LogVerifierKeys...)
	if err != nil {
		return Checkpoint{}, err
	}
	switch {
	case maxAge <= 0:
		return cp, nil
	case cp.Time.IsZero():
		return cp, fmt.Errorf("%w: its checkpoint does not say when it was signed", ErrStaleProof)
	case now.Sub(cp.Time) > maxAge:
		return cp, fmt.Errorf("%w: its checkpoint was signed at %s, %s ago (at most %s accepted)", ErrStaleProof,
			cp.Time.Format(time.RFC3339), now.Sub(cp.Time).Truncate(time.Second), maxAge)
	}
	return cp, nil
}
