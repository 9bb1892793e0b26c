package doclog

import (
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/note"
)

// OpenCheckpoint verifies a signed checkpoint with any of the trusted note
// verifier keys ("origin+hash+key", as VerifierKey returns; all for one
// origin, e.g. the current log key and retired ones) and parses it.
func OpenCheckpoint(signed []byte, verifierKeys ...string) (Checkpoint, error) {
	if len(verifierKeys) == 0 {
		return Checkpoint{}, errors.New("doclog: no trusted log key")
	}
	var vs []note.Verifier
	for _, k := range verifierKeys {
		v, err := note.NewVerifier(k)
		if err != nil {
			return Checkpoint{}, fmt.Errorf("doclog: log key: %w", err)
		}
		if len(vs) > 0 && v.Name() != vs[0].Name() {
			return Checkpoint{}, fmt.Errorf("doclog: the trusted log keys name different logs (%q, %q)", vs[0].Name(), v.Name())
		}
		vs = append(vs, v)
	}
	n, err := note.Open(signed, note.VerifierList(vs...))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("doclog: checkpoint is not signed by a trusted log key: %w", err)
	}
	return ParseCheckpoint(n.Text, vs[0].Name())
}
