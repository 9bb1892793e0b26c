package docsig

import (
	"crypto/ed25519"

	"github.com/minwon/minwon/internal/keyfile"
)

// LoadOrCreateSigner reads the document-signing key at path, creating it if
// it does not exist.
func LoadOrCreateSigner(path string) (Signer, error) {
	key, err := keyfile.LoadOrCreate(path)
	if err != nil {
		return Signer{}, err
	}
	return Signer{KeyID: KeyID(key.Public().(ed25519.PublicKey)), Key: key}, nil
}
