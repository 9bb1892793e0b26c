package tlog

import (
	"fmt"

	"golang.org/x/mod/sumdb/note"
)

// OpenCheckpoint verifies a signed checkpoint with a note verifier key
// ("origin+hash+key", as VerifierKey returns) and parses it. The origin is
// the key's name.
func OpenCheckpoint(signed []byte, verifierKey string) (Checkpoint, error) {
	v, err := note.NewVerifier(verifierKey)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("tlog: log key: %w", err)
	}
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("tlog: checkpoint is not signed by the trusted log key: %w", err)
	}
	return ParseCheckpoint(n.Text, v.Name())
}
