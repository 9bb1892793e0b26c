// Package keyfile stores Ed25519 private keys on disk: one file per key
// holding the hex of its 32-byte seed, readable by the owner only. It never
// prints or logs a key.
package keyfile

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// LoadOrCreate reads the key at path, or creates it (mode 0600, fsynced)
// if no file exists. Two processes racing to create it both end up with the
// one that won.
func LoadOrCreate(path string) (ed25519.PrivateKey, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := create(path); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, err
		}
		raw, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("keyfile: read %s: %w", path, err)
	}
	return parse(path, raw)
}

// Load reads the key at path; a missing file is an error, never a new key.
func Load(path string) (ed25519.PrivateKey, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keyfile: read %s: %w", path, err)
	}
	return parse(path, raw)
}

func parse(path string, raw []byte) (ed25519.PrivateKey, error) {
	seed, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("keyfile: %s is not a hex Ed25519 seed", path)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

func create(path string) error {
	key, err := Generate()
	if err != nil {
		return err
	}
	return Save(path, key)
}

// Generate returns a fresh Ed25519 key.
func Generate() (ed25519.PrivateKey, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("keyfile: generate: %w", err)
	}
	return key, nil
}

// Save writes key to a new file at path (mode 0600, fsynced). It refuses to
// overwrite an existing file: a key file is never replaced in place.
func Save(path string, key ed25519.PrivateKey) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("keyfile: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, werr := f.WriteString(hex.EncodeToString(key.Seed()) + "\n")
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(path)
		return fmt.Errorf("keyfile: write %s: %w", path, err)
	}
	return nil
}

// LoadOrCreateSecret reads or creates a 32-byte secret (an HMAC key) at
// path, in the same file format and with the same care as a signing key.
func LoadOrCreateSecret(path string) ([]byte, error) {
	key, err := LoadOrCreate(path)
	if err != nil {
		return nil, err
	}
	return key.Seed(), nil
}
