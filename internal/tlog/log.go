// Package tlog owns minwon's transparency log: an append-only Merkle log
// (RFC 6962 hashing, via golang.org/x/mod/sumdb/tlog) of every issued and
// revoked document, with checkpoints signed as C2SP signed notes and tiles
// laid out per C2SP tlog-tiles, so standard clients can check inclusion and
// consistency.
//
// Appends are group-committed: concurrent callers share one transaction and
// one fsync, and each caller's Append returns only after its entry and the
// checkpoint that covers it are durable. Package tlog never stores personal
// data.
package tlog

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/minwon/minwon/internal/store"
)

// Hash is a Merkle tree hash.
type Hash = tlog.Hash

// maxBatch bounds one group commit, so one transaction stays short.
const maxBatch = 512

// Log is the transparency log. It is safe for concurrent use.
type Log struct {
	db       *store.DB
	origin   string
	signer   note.Signer
	verifier note.Verifier
	now      func() time.Time

	reqs chan *appendReq
	stop chan struct{}
	done chan struct{}

	mu         sync.RWMutex
	size       int64
	root       Hash
	checkpoint []byte
}

type appendReq struct {
	entry Entry
	pre   func(*store.Tx) error
	index int64
	err   error
	done  chan struct{}
}

// NoteSigner turns an Ed25519 key into a signed-note signer for name.
func NoteSigner(name string, key ed25519.PrivateKey) (note.Signer, note.Verifier, error) {
	pub := key.Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(name, pub)
	if err != nil {
		return nil, nil, err
	}
	// vkey is name+hash+base64(alg||pub), hash 8 hex digits; the private
	// key shares name and hash. (base64 may itself contain '+'.)
	hash := vkey[len(name)+1 : len(name)+9]
	skey := "PRIVATE+KEY+" + name + "+" + hash + "+" + base64.StdEncoding.EncodeToString(append([]byte{1}, key.Seed()...))
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, nil, err
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, nil, err
	}
	return s, v, nil
}

// VerifierKey returns the note verifier key (name+hash+key) for the log's
// public key: what clients need to check checkpoints.
func VerifierKey(origin string, pub ed25519.PublicKey) (string, error) {
	return note.NewEd25519VerifierKey(origin, pub)
}

// Open loads the log from db and starts its committer. origin names the log
// in its checkpoints (e.g. "minwon.example/log").
func Open(ctx context.Context, db *store.DB, origin string, key ed25519.PrivateKey) (*Log, error) {
	signer, verifier, err := NoteSigner(origin, key)
	if err != nil {
		return nil, fmt.Errorf("tlog: key: %w", err)
	}
	l := &Log{
		db: db, origin: origin, signer: signer, verifier: verifier, now: time.Now,
		reqs: make(chan *appendReq, 4*maxBatch), stop: make(chan struct{}), done: make(chan struct{}),
	}
	size, root, cp, err := db.LatestCheckpoint(ctx)
	switch {
	case err == nil:
		if len(root) != tlog.HashSize {
			return nil, fmt.Errorf("tlog: stored root has %d bytes", len(root))
		}
		n, err := note.Open(cp, note.VerifierList(verifier))
		if err != nil {
			return nil, fmt.Errorf("tlog: the stored checkpoint does not verify with this key (was the log key replaced?): %w", err)
		}
		if _, err := ParseCheckpoint(n.Text, origin); err != nil {
			return nil, err
		}
		l.size, l.checkpoint = size, cp
		copy(l.root[:], root)
	case errors.Is(err, store.ErrNotFound):
		if err := l.commit(ctx, nil); err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	go l.run()
	return l, nil
}

// Close stops the committer after the batch in progress.
func (l *Log) Close() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	<-l.done
}

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("tlog: log is closed")

// Append adds e to the log and returns its index once the entry and a
// checkpoint covering it are durable. If pre is not nil it runs first in the
// same transaction (e.g. storing the issued document); if pre fails, e is
// not appended and Append returns pre's error.
func (l *Log) Append(ctx context.Context, e Entry, pre func(*store.Tx) error) (int64, error) {
	if _, err := ParseEntry(e.Marshal()); err != nil {
		return 0, fmt.Errorf("tlog: refusing entry: %w", err)
	}
	r := &appendReq{entry: e, pre: pre, done: make(chan struct{})}
	select {
	case l.reqs <- r:
	case <-l.stop:
		return 0, ErrClosed
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	// Once queued the append happens whatever the caller does; wait for it
	// so the caller never reports failure for a stored document.
	<-r.done
	return r.index, r.err
}

func (l *Log) run() {
	defer close(l.done)
	for {
		var first *appendReq
		select {
		case first = <-l.reqs:
		case <-l.stop:
			l.failQueued()
			return
		}
		batch := []*appendReq{first}
	drain:
		for len(batch) < maxBatch {
			select {
			case r := <-l.reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		if err := l.commit(context.Background(), batch); err != nil {
			for _, r := range batch {
				if r.err == nil {
					r.err = err
				}
			}
		}
		for _, r := range batch {
			close(r.done)
		}
	}
}

func (l *Log) failQueued() {
	for {
		select {
		case r := <-l.reqs:
			r.err = ErrClosed
			close(r.done)
		default:
			return
		}
	}
}

// commit writes a batch and a new checkpoint in one transaction.
func (l *Log) commit(ctx context.Context, batch []*appendReq) error {
	tx, err := l.db.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()

	l.mu.RLock()
	size := l.size
	l.mu.RUnlock()
	local := map[int64]Hash{}
	reader := l.hashReader(ctx, local)
	for _, r := range batch {
		var ids []int64
		var hashes []Hash
		err := tx.Savepoint(ctx, func() error {
			if r.pre != nil {
				if err := r.pre(tx); err != nil {
					return err
				}
			}
			data := r.entry.Marshal()
			var err error
			hashes, err = tlog.StoredHashes(size, data, reader)
			if err != nil {
				return fmt.Errorf("tlog: hashes: %w", err)
			}
			base := tlog.StoredHashIndex(0, size)
			ids = make([]int64, len(hashes))
			raw := make([][]byte, len(hashes))
			for i := range hashes {
				ids[i] = base + int64(i)
				raw[i] = hashes[i][:]
			}
			return tx.InsertLogEntry(ctx, size, r.entry.Number, r.entry.Kind, data, ids, raw)
		})
		if err != nil {
			r.err = err
			continue
		}
		for i, id := range ids {
			local[id] = hashes[i]
		}
		r.index = size
		size++
	}
	if batch != nil && size == l.size {
		return nil // every item failed alone; nothing to commit
	}
	root, err := tlog.TreeHash(size, reader)
	if err != nil {
		return fmt.Errorf("tlog: tree hash: %w", err)
	}
	cp, err := note.Sign(&note.Note{Text: FormatCheckpoint(l.origin, size, root)}, l.signer)
	if err != nil {
		return fmt.Errorf("tlog: sign checkpoint: %w", err)
	}
	if err := tx.InsertCheckpoint(ctx, size, root[:], cp, l.now()); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	l.mu.Lock()
	l.size, l.root, l.checkpoint = size, root, cp
	l.mu.Unlock()
	return nil
}

// hashReader reads stored hashes from local (this batch's, not yet
// committed) or the database.
func (l *Log) hashReader(ctx context.Context, local map[int64]Hash) tlog.HashReader {
	return tlog.HashReaderFunc(func(ids []int64) ([]Hash, error) {
		out := make([]Hash, len(ids))
		var missing []int64
		for i, id := range ids {
			if h, ok := local[id]; ok {
				out[i] = h
			} else {
				missing = append(missing, id)
			}
		}
		if len(missing) == 0 {
			return out, nil
		}
		raw, err := l.db.LogHashes(ctx, missing)
		if err != nil {
			return nil, err
		}
		k := 0
		for i, id := range ids {
			if _, ok := local[id]; ok {
				continue
			}
			copy(out[i][:], raw[k])
			k++
		}
		return out, nil
	})
}

// Checkpoint returns the latest signed checkpoint and what it says.
func (l *Log) Checkpoint() (size int64, root Hash, signed []byte) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.size, l.root, l.checkpoint
}

// Origin returns the log's name.
func (l *Log) Origin() string { return l.origin }

// Verifier returns the checkpoint verifier.
func (l *Log) Verifier() note.Verifier { return l.verifier }

// InclusionProof proves entry index is in the tree of the given size.
func (l *Log) InclusionProof(ctx context.Context, index, size int64) ([]Hash, error) {
	if cur, _, _ := l.Checkpoint(); size > cur || index >= size || index < 0 {
		return nil, fmt.Errorf("tlog: no entry %d in a tree of size %d", index, size)
	}
	p, err := tlog.ProveRecord(size, index, l.hashReader(ctx, nil))
	if err != nil {
		return nil, fmt.Errorf("tlog: inclusion proof: %w", err)
	}
	return p, nil
}

// ConsistencyProof proves the tree of size old is a prefix of size new.
func (l *Log) ConsistencyProof(ctx context.Context, old, new int64) ([]Hash, error) {
	if cur, _, _ := l.Checkpoint(); new > cur || old > new || old < 0 {
		return nil, fmt.Errorf("tlog: no consistency proof from %d to %d", old, new)
	}
	p, err := tlog.ProveTree(new, old, l.hashReader(ctx, nil))
	if err != nil {
		return nil, fmt.Errorf("tlog: consistency proof: %w", err)
	}
	return p, nil
}

// FormatCheckpoint returns the C2SP tlog-checkpoint body.
func FormatCheckpoint(origin string, size int64, root Hash) string {
	return fmt.Sprintf("%s\n%d\n%s\n", origin, size, base64.StdEncoding.EncodeToString(root[:]))
}

// Checkpoint is a parsed checkpoint body.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   Hash
}

// ParseCheckpoint parses a C2SP checkpoint body for the expected origin.
func ParseCheckpoint(text, origin string) (Checkpoint, error) {
	lines := strings.SplitN(text, "\n", 4)
	if len(lines) < 4 || lines[0] != origin {
		return Checkpoint{}, fmt.Errorf("tlog: checkpoint is not for log %q", origin)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return Checkpoint{}, errors.New("tlog: malformed checkpoint size")
	}
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(raw) != tlog.HashSize {
		return Checkpoint{}, errors.New("tlog: malformed checkpoint root")
	}
	cp := Checkpoint{Origin: origin, Size: size}
	copy(cp.Root[:], raw)
	return cp, nil
}

// RecordHash is the leaf hash of entry data (RFC 6962).
func RecordHash(data []byte) Hash { return tlog.RecordHash(data) }

// CheckInclusion verifies that data is entry index of the tree (size, root).
func CheckInclusion(proof []Hash, size int64, root Hash, index int64, data []byte) error {
	return tlog.CheckRecord(proof, size, root, index, tlog.RecordHash(data))
}

// CheckConsistency verifies that tree (oldSize, oldRoot) is a prefix of
// (size, root).
func CheckConsistency(proof []Hash, size int64, root Hash, oldSize int64, oldRoot Hash) error {
	return tlog.CheckTree(proof, size, root, oldSize, oldRoot)
}

// tileHeight is fixed by C2SP tlog-tiles.
const tileHeight = 8

// ErrNoTile is returned for a tile path that is malformed or beyond the
// log's current size.
var ErrNoTile = errors.New("tlog: no such tile")

// Tile returns the contents of a C2SP tlog-tiles resource, path relative
// to the log prefix: "tile/<L>/<N>[.p/<W>]" or "tile/entries/<N>[.p/<W>]".
func (l *Log) Tile(ctx context.Context, path string) ([]byte, error) {
	rest, ok := strings.CutPrefix(path, "tile/")
	if !ok {
		return nil, ErrNoTile
	}
	if r, ok := strings.CutPrefix(rest, "entries/"); ok {
		rest = "data/" + r
	}
	t, err := tlog.ParseTilePath("tile/" + strconv.Itoa(tileHeight) + "/" + rest)
	if err != nil || t.H != tileHeight {
		return nil, ErrNoTile
	}
	size, _, _ := l.Checkpoint()
	// The tile must exist in the current tree: its last leaf-level index
	// must be below the size scaled to its level.
	start := t.N << uint(tileHeight)
	if t.L < 0 {
		if start+int64(t.W) > size {
			return nil, ErrNoTile
		}
		entries, err := l.db.LogEntries(ctx, start, start+int64(t.W))
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		for _, e := range entries {
			var n [2]byte
			binary.BigEndian.PutUint16(n[:], uint16(len(e)))
			b.Write(n[:])
			b.Write(e)
		}
		return b.Bytes(), nil
	}
	levelSize := size >> uint(t.L*tileHeight)
	if start+int64(t.W) > levelSize {
		return nil, ErrNoTile
	}
	data, err := tlog.ReadTileData(t, l.hashReader(ctx, nil))
	if err != nil {
		return nil, fmt.Errorf("tlog: read tile: %w", err)
	}
	return data, nil
}
