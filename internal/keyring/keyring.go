// Package keyring owns the inventory of minwon's signing keys: the
// document-signing keys and the transparency log's checkpoint key, their
// ids, which one is active, rotation and revocation.
//
// Private keys live in files under one directory (mode 0600, one file per
// key, named by key id). The inventory in the database holds only public
// keys and status, so every node and every verifier agrees on what a key id
// means. A revoked key never verifies again, whatever it signed; a retired
// key still verifies what it signed while it was active. Package keyring
// never prints or logs a private key.
package keyring

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/minwon/minwon/internal/docsig"
	"github.com/minwon/minwon/internal/keyfile"
	"github.com/minwon/minwon/internal/verify"
)

// Purposes of a key.
const (
	Document = "document"
	Log      = "log"
)

// Key states as verifiers see them.
const (
	Active  = verify.KeyActive
	Retired = verify.KeyRetired
	Revoked = verify.KeyRevoked
)

// SigningKey is one key of the inventory. It holds public keys only;
// private keys stay in key files.
type SigningKey struct {
	ID           string
	Purpose      string // Document or Log
	PublicKey    []byte
	CreatedAt    time.Time
	RetiredAt    time.Time // zero while the key is the active one
	RevokedAt    time.Time // zero unless revoked
	RevokeReason string
}

// inventory is the storage the ring needs; package store implements it.
type inventory interface {
	// SigningKeys returns the whole inventory, oldest first.
	SigningKeys(ctx context.Context) ([]SigningKey, error)
	// AddSigningKey makes k the active key of its purpose and retires the
	// previous one, in one transaction. A key already in the inventory is
	// an error matching ErrDuplicateKey.
	AddSigningKey(ctx context.Context, k SigningKey) error
	// RevokeSigningKey marks a key revoked (and retired). An unknown key is
	// an error matching ErrUnknownKey, a revoked one ErrAlreadyRevoked.
	RevokeSigningKey(ctx context.Context, id, reason string, at time.Time) error
}

// Errors the admin API maps to codes.
var (
	ErrUnknownKey     = errors.New("no such signing key")
	ErrAlreadyRevoked = errors.New("the key is already revoked")
	ErrDuplicateKey   = errors.New("the key is already in the inventory")
	ErrBadReason      = errors.New("a revocation needs a reason: one line of 1 to 200 characters")
	ErrBadPurpose     = errors.New(`purpose must be "document" or "log"`)
)

// Ring is the key inventory with the active document signer. It is safe
// for concurrent use; it re-reads the inventory at most every refresh
// interval, so a rotation or revocation made on another node takes effect
// here within that interval (and at once on the node that made it).
type Ring struct {
	db      inventory
	dir     string
	now     func() time.Time
	refresh time.Duration

	reloading atomic.Bool // one caller reloads; the others use what is loaded

	mu     sync.RWMutex
	loaded time.Time
	keys   map[string]SigningKey
	signer docsig.Signer
}

// legacyDocumentKey is where minwon kept its one document key before the
// inventory existed; Open adopts it so documents it signed still verify.
const legacyDocumentKey = "document-signing.key"

// Open loads the inventory and the active document-signing key from dir,
// creating the first key if there is none.
func Open(ctx context.Context, db inventory, dir string) (*Ring, error) {
	r := &Ring{db: db, dir: dir, now: time.Now, refresh: 2 * time.Second}
	if err := r.load(ctx); err != nil {
		return nil, err
	}
	if _, ok := r.activeID(Document); !ok {
		var key ed25519.PrivateKey
		legacy := filepath.Join(dir, legacyDocumentKey)
		if _, err := os.Stat(legacy); err == nil {
			if key, err = keyfile.Load(legacy); err != nil {
				return nil, err
			}
			if err := keyfile.Save(r.path(docsig.KeyID(key.Public().(ed25519.PublicKey))), key); err != nil && !errors.Is(err, os.ErrExist) {
				return nil, fmt.Errorf("keyring: adopt %s: %w", legacy, err)
			}
		}
		if _, err := r.add(ctx, Document, key); err != nil {
			return nil, err
		}
	}
	if err := r.load(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Ring) path(id string) string { return filepath.Join(r.dir, id+".key") }

// ID returns the key id for a public key of purpose.
func ID(purpose string, pub ed25519.PublicKey) string {
	if purpose == Document {
		return docsig.KeyID(pub)
	}
	h := sha256.Sum256(pub)
	return "log-" + hex.EncodeToString(h[:6])
}

// add stores key (a fresh one if nil) as the active key of purpose.
func (r *Ring) add(ctx context.Context, purpose string, key ed25519.PrivateKey) (string, error) {
	if key == nil {
		var err error
		if key, err = keyfile.Generate(); err != nil {
			return "", err
		}
	}
	pub := key.Public().(ed25519.PublicKey)
	id := ID(purpose, pub)
	if purpose == Document {
		// The private key is written before the inventory names it, so an
		// active key always has its file.
		if err := keyfile.Save(r.path(id), key); err != nil && !errors.Is(err, os.ErrExist) {
			return "", fmt.Errorf("keyring: save %s: %w", id, err)
		}
	}
	err := r.db.AddSigningKey(ctx, SigningKey{ID: id, Purpose: purpose, PublicKey: pub, CreatedAt: r.now().UTC()})
	if err != nil {
		return "", fmt.Errorf("keyring: add %s: %w", id, err)
	}
	return id, r.load(ctx)
}

// load re-reads the inventory and, if the active document key changed,
// its private key.
func (r *Ring) load(ctx context.Context) error {
	list, err := r.db.SigningKeys(ctx)
	if err != nil {
		return err
	}
	keys := make(map[string]SigningKey, len(list))
	for _, k := range list {
		keys[k.ID] = k
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keys, r.loaded = keys, r.now()
	id, ok := r.activeIDLocked(Document)
	if !ok || id == r.signer.KeyID {
		return nil
	}
	// Load only: a node without the file must not invent a key under
	// that id. Every node signing documents shares the key directory.
	key, err := keyfile.Load(r.path(id))
	if err != nil {
		return fmt.Errorf("keyring: active document key %s (is the key directory shared by every node?): %w", id, err)
	}
	if docsig.KeyID(key.Public().(ed25519.PublicKey)) != id {
		return fmt.Errorf("keyring: key file %s does not hold key %s", r.path(id), id)
	}
	r.signer = docsig.Signer{KeyID: id, Key: key}
	return nil
}

// fresh reloads the inventory when it is older than the refresh interval.
// A failed reload keeps the last good inventory: verification must not stop
// because one read failed.
func (r *Ring) fresh() {
	r.mu.RLock()
	stale := r.now().Sub(r.loaded) > r.refresh
	r.mu.RUnlock()
	if stale && r.reloading.CompareAndSwap(false, true) {
		defer r.reloading.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = r.load(ctx)
	}
}

func (r *Ring) activeID(purpose string) (string, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.activeIDLocked(purpose)
}

func (r *Ring) activeIDLocked(purpose string) (string, bool) {
	var best SigningKey
	for _, k := range r.keys {
		if k.Purpose == purpose && k.RetiredAt.IsZero() && k.RevokedAt.IsZero() && !k.CreatedAt.Before(best.CreatedAt) {
			best = k
		}
	}
	return best.ID, best.ID != ""
}

// ErrNoSigner is Ready's answer when no document key is loaded.
var ErrNoSigner = errors.New("keyring: no active document-signing key loaded")

// Ready reports whether a document-signing key is loaded (for readiness):
// without one nothing can be issued.
func (r *Ring) Ready() error {
	if s := r.Signer(); s.Key == nil || s.KeyID == "" {
		return ErrNoSigner
	}
	return nil
}

// Signer returns the active document signer.
func (r *Ring) Signer() docsig.Signer {
	r.fresh()
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.signer
}

// PublicKey implements docsig.Keys: a document key that is in the
// inventory and not revoked.
func (r *Ring) PublicKey(id string) (ed25519.PublicKey, bool) {
	k, ok := r.Key(id)
	if !ok || k.Purpose != Document || !k.RevokedAt.IsZero() {
		return nil, false
	}
	return ed25519.PublicKey(k.PublicKey), true
}

// Key returns the inventory entry for id.
func (r *Ring) Key(id string) (SigningKey, bool) {
	r.fresh()
	r.mu.RLock()
	defer r.mu.RUnlock()
	k, ok := r.keys[id]
	return k, ok
}

// State says whether k is active, retired or revoked.
func State(k SigningKey) string {
	switch {
	case !k.RevokedAt.IsZero():
		return Revoked
	case !k.RetiredAt.IsZero():
		return Retired
	}
	return Active
}

// List returns the inventory, oldest first.
func (r *Ring) List(ctx context.Context) ([]SigningKey, error) {
	return r.db.SigningKeys(ctx)
}

// RegisterLog records the log's checkpoint key in the inventory (once) and
// returns its id. A log key that was revoked is refused: the log must not
// sign with it again.
func (r *Ring) RegisterLog(ctx context.Context, key ed25519.PrivateKey) (string, error) {
	id := ID(Log, key.Public().(ed25519.PublicKey))
	if k, ok := r.Key(id); ok {
		if !k.RevokedAt.IsZero() {
			return "", fmt.Errorf("keyring: the log key %s was revoked (%s); replace it before starting", id, k.RevokeReason)
		}
		return id, nil
	}
	if _, err := r.add(ctx, Log, key); err != nil && !errors.Is(err, ErrDuplicateKey) {
		return "", err
	}
	return id, nil
}

// Previous returns the retired, unrevoked keys of purpose, oldest first:
// what still verifies what it signed while it was active.
func (r *Ring) Previous(purpose string) []SigningKey {
	r.fresh()
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []SigningKey
	for _, k := range r.keys {
		if k.Purpose == purpose && State(k) == Retired {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out
}

// Rotate makes a fresh document-signing key the active one; the previous
// key is retired and still verifies what it signed.
func (r *Ring) Rotate(ctx context.Context) (string, error) {
	return r.add(ctx, Document, nil)
}

// Revoke revokes a key: nothing it signed verifies any more. Revoking the
// active document key rotates first, so issuance goes on with a new key.
func (r *Ring) Revoke(ctx context.Context, id, reason string) error {
	if err := CheckReason(reason); err != nil {
		return err
	}
	if cur, ok := r.activeID(Document); ok && cur == id {
		if _, err := r.Rotate(ctx); err != nil {
			return err
		}
	}
	err := r.db.RevokeSigningKey(ctx, id, reason, r.now().UTC())
	switch {
	case errors.Is(err, ErrUnknownKey):
		return ErrUnknownKey
	case errors.Is(err, ErrAlreadyRevoked):
		return ErrAlreadyRevoked
	case err != nil:
		return err
	}
	return r.load(ctx)
}

// CheckReason accepts a revocation reason: one printable line of 1 to 200
// characters. Reasons are public (verifiers see them), so callers must also
// keep personal data out of them.
func CheckReason(reason string) error {
	n := len([]rune(reason))
	if !utf8.ValidString(reason) || n == 0 || n > 200 || strings.TrimSpace(reason) != reason {
		return ErrBadReason
	}
	for _, c := range reason {
		if c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029' {
			return ErrBadReason
		}
	}
	return nil
}
