// Package seal encrypts personal data at rest with envelope encryption
// (AES-256-GCM from the standard library). A stored value is sealed under a
// key derived (HKDF-SHA256) from a data key and the identity of its row,
// with the row and the column as additional data, so a ciphertext neither
// opens elsewhere nor moves to another row or column unnoticed. Data keys
// are kept in the database wrapped under a key-encryption key (KEK) that
// lives in a key file, never in the database: a copy of the database, its
// WAL or a backup without the key file reveals no document. Rotating the
// KEK rewraps the few data keys, never the documents.
//
// Package seal owns the formats and the keys in memory; the store keeps
// the wrapped data keys (KeyStore). It never logs a key or a plaintext and
// never puts either in an error. A value that does not open is an error,
// never an empty value.
package seal

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"time"
)

// KEKSize is the size of a key-encryption key: AES-256.
const KEKSize = 32

// version is the first byte of every sealed value and wrapped data key.
const version = 1

// ErrOpen is returned for a value or a data key that does not decrypt: the
// wrong key, or bytes altered or moved.
var ErrOpen = errors.New("seal: does not decrypt (wrong key, or altered or moved data)")

// KEK is a key-encryption key. Its ID is derived from the key, so the
// database records which KEK wraps each data key without holding it.
type KEK struct {
	id   string
	aead cipher.AEAD
}

// NewKEK makes a KEK of 32 secret bytes (keyfile.LoadOrCreateSecret).
func NewKEK(secret []byte) (*KEK, error) {
	if len(secret) != KEKSize {
		return nil, fmt.Errorf("seal: a key-encryption key has %d bytes, not %d", KEKSize, len(secret))
	}
	aead, err := newGCM(secret)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(append([]byte("minwon data KEK id\x00"), secret...))
	return &KEK{id: "kek-" + hex.EncodeToString(sum[:8]), aead: aead}, nil
}

// ID names the KEK: "kek-" and 16 hex digits.
func (k *KEK) ID() string { return k.id }

// WrappedKey is a data key as stored: wrapped under the KEK KEKID.
type WrappedKey struct {
	ID        string // "dk-" and 16 random hex digits
	KEKID     string
	Wrapped   []byte // version, 12-byte nonce, AES-256-GCM(KEK, data key, AAD "minwon data key\x00"+ID)
	CreatedAt time.Time
}

// KeyStore keeps the wrapped data keys: a small table (package store).
type KeyStore interface {
	// DataKeys returns every wrapped data key.
	DataKeys(ctx context.Context) ([]WrappedKey, error)
	// AddDataKey stores a new wrapped data key.
	AddDataKey(ctx context.Context, k WrappedKey) error
	// RewrapDataKeys replaces each stored key by fn's result, all in one
	// transaction: if fn fails for any key, none is replaced.
	RewrapDataKeys(ctx context.Context, fn func(WrappedKey) (WrappedKey, error)) error
}

// Sealer seals and opens values with the data keys; it seals new values
// under the newest one. It is safe for concurrent use once opened.
type Sealer struct {
	current string
	keys    map[string][]byte
}

// Open unwraps every data key with kek, creating the first data key if
// there is none. A data key wrapped under another KEK is an error: the
// wrong key file, or a rotation not finished (see Rotate).
func Open(ctx context.Context, ks KeyStore, kek *KEK, now time.Time) (*Sealer, error) {
	wrapped, err := ks.DataKeys(ctx)
	if err != nil {
		return nil, err
	}
	if len(wrapped) == 0 {
		w, err := newDataKey(kek, now)
		if err != nil {
			return nil, err
		}
		if err := ks.AddDataKey(ctx, w); err != nil {
			return nil, err
		}
		// Another node may have added one at the same time: read them all.
		if wrapped, err = ks.DataKeys(ctx); err != nil {
			return nil, err
		}
	}
	sort.Slice(wrapped, func(i, j int) bool {
		if !wrapped[i].CreatedAt.Equal(wrapped[j].CreatedAt) {
			return wrapped[i].CreatedAt.Before(wrapped[j].CreatedAt)
		}
		return wrapped[i].ID < wrapped[j].ID
	})
	s := &Sealer{keys: make(map[string][]byte, len(wrapped))}
	for _, w := range wrapped {
		key, err := unwrap(kek, w)
		if err != nil {
			return nil, err
		}
		s.keys[w.ID] = key
		s.current = w.ID
	}
	return s, nil
}

// Rotate rewraps every data key from old to next in one transaction and
// returns how many it rewrapped; the documents are not touched. Keys
// already under next are left as they are, so an interrupted rotation can
// be run again.
func Rotate(ctx context.Context, ks KeyStore, old, next *KEK) (int, error) {
	n := 0
	err := ks.RewrapDataKeys(ctx, func(w WrappedKey) (WrappedKey, error) {
		if w.KEKID == next.id {
			return w, nil
		}
		key, err := unwrap(old, w)
		if err != nil {
			return WrappedKey{}, err
		}
		n++
		return wrap(next, w.ID, key, w.CreatedAt)
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

func newDataKey(kek *KEK, now time.Time) (WrappedKey, error) {
	var id [8]byte
	key := make([]byte, 32)
	rand.Read(id[:])
	rand.Read(key)
	return wrap(kek, "dk-"+hex.EncodeToString(id[:]), key, now)
}

func wrapAAD(id string) []byte { return []byte("minwon data key\x00" + id) }

func wrap(kek *KEK, id string, key []byte, created time.Time) (WrappedKey, error) {
	return WrappedKey{ID: id, KEKID: kek.id, Wrapped: sealWith(kek.aead, key, wrapAAD(id)), CreatedAt: created}, nil
}

func unwrap(kek *KEK, w WrappedKey) ([]byte, error) {
	if w.KEKID != kek.id {
		return nil, fmt.Errorf("seal: data key %s is wrapped under %s, not under the key file's %s (the wrong key file, or a KEK rotation not finished)", w.ID, w.KEKID, kek.id)
	}
	key, err := openWith(kek.aead, w.Wrapped, wrapAAD(w.ID))
	if err != nil {
		return nil, fmt.Errorf("seal: data key %s: %w", w.ID, err)
	}
	return key, nil
}

// Has reports whether s holds the data key id: one another node created
// after s was opened is not held until the caller opens a new Sealer.
func (s *Sealer) Has(id string) bool {
	_, ok := s.keys[id]
	return ok
}

// Seal encrypts plaintext for the column field of the row whose immutable
// identity is row (e.g. "issuance 20261130-…"). It returns the id of the
// data key used, to store with the row, and the sealed bytes: a version
// byte, a 12-byte random nonce and the AES-256-GCM ciphertext and tag.
func (s *Sealer) Seal(row, field string, plaintext []byte) (keyID string, sealed []byte, err error) {
	aead, err := s.rowAEAD(s.current, row)
	if err != nil {
		return "", nil, err
	}
	return s.current, sealWith(aead, plaintext, valueAAD(row, field)), nil
}

// Open decrypts what Seal returned for the same row and field.
func (s *Sealer) Open(keyID, row, field string, sealed []byte) ([]byte, error) {
	aead, err := s.rowAEAD(keyID, row)
	if err != nil {
		return nil, err
	}
	p, err := openWith(aead, sealed, valueAAD(row, field))
	if err != nil {
		return nil, fmt.Errorf("seal: %s of %s: %w", field, row, err)
	}
	return p, nil
}

// rowAEAD derives the row's own key from the data key: each derived key
// seals a handful of values, far from GCM's random-nonce limits however
// many documents one data key serves.
func (s *Sealer) rowAEAD(keyID, row string) (cipher.AEAD, error) {
	dk, ok := s.keys[keyID]
	if !ok {
		return nil, fmt.Errorf("seal: no data key %q", keyID)
	}
	rk, err := hkdf.Key(sha256.New, dk, nil, "minwon row key\x00"+row, 32)
	if err != nil {
		return nil, fmt.Errorf("seal: derive row key: %w", err)
	}
	return newGCM(rk)
}

func valueAAD(row, field string) []byte { return []byte("minwon sealed\x00" + row + "\x00" + field) }

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return cipher.NewGCM(block)
}

func sealWith(aead cipher.AEAD, plaintext, aad []byte) []byte {
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out[0] = version
	rand.Read(out[1:])
	return aead.Seal(out, out[1:], plaintext, aad)
}

func openWith(aead cipher.AEAD, sealed, aad []byte) ([]byte, error) {
	if len(sealed) < 1+aead.NonceSize()+aead.Overhead() || sealed[0] != version {
		return nil, ErrOpen
	}
	p, err := aead.Open(nil, sealed[1:1+aead.NonceSize()], sealed[1+aead.NonceSize():], aad)
	if err != nil {
		return nil, ErrOpen
	}
	return p, nil
}
