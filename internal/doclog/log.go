// Package doclog owns minwon's transparency log: an append-only Merkle log
// (RFC 6962 hashing, via golang.org/x/mod/sumdb/tlog) of every issued and
// revoked document, with checkpoints signed as C2SP signed notes and tiles
// laid out per C2SP tlog-tiles, so standard clients can check inclusion and
// consistency.
//
// Appends are group-committed: concurrent callers share one transaction and
// one fsync, and each caller's Append returns only after its entry and the
// checkpoint that covers it are durable. Package doclog never stores personal
// data.
//
// It declares the storage it needs (Store, Tx); package store implements it
// on SQLite and PostgreSQL, and doclogtest in memory. The formats of its
// entries, checkpoints and proofs are package verify's, so that verifiers
// need not import the log.
package doclog

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// maxBatch bounds one group commit, so one transaction stays short.
const maxBatch = 512

// Log is the transparency log. It is safe for concurrent use.
type Log struct {
	db       Store
	origin   string
	signer   note.Signer
	verifier note.Verifier
	now      func() time.Time

	reqs       chan *appendReq
	stop       chan struct{}
	done       chan struct{} // the committer ended
	followDone chan struct{} // the follower ended
	// followEvery is how often the follower re-reads the head.
	followEvery time.Duration

	mu         sync.RWMutex
	size       int64
	root       Hash
	checkpoint []byte
	signedAt   time.Time // when checkpoint was signed (zero if it says not)

	hashes   *hashCache
	previous []note.Verifier // retired log keys, trusted for the head only until it is signed again

	watchMu  sync.Mutex
	watchers []func()
}

// OnCheckpoint has fn called whenever this Log adopts a newer checkpoint
// (its own append, another node's, or the same tree signed again). fn must
// not block: it is called on the committer's path; signal a goroutine of
// your own and read Checkpoint there.
func (l *Log) OnCheckpoint(fn func()) {
	l.watchMu.Lock()
	defer l.watchMu.Unlock()
	l.watchers = append(l.watchers, fn)
}

func (l *Log) notify() {
	l.watchMu.Lock()
	ws := l.watchers
	l.watchMu.Unlock()
	for _, fn := range ws {
		fn()
	}
}

// hashCacheSize bounds the cache of committed Merkle hashes (about 24 MB):
// enough for the upper levels of the tree, which every proof reads, and the
// recent entries, whose documents are verified most.
const hashCacheSize = 1 << 18

// hashCache keeps committed Merkle hashes. A stored hash never changes once
// committed, so proofs and tiles can skip the database for it. When full,
// an arbitrary entry makes room.
type hashCache struct {
	mu sync.RWMutex
	m  map[int64]Hash
}

func (c *hashCache) get(id int64) (Hash, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	h, ok := c.m[id]
	return h, ok
}

func (c *hashCache) put(ids []int64, hashes func(int) Hash) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, id := range ids {
		if len(c.m) >= hashCacheSize {
			for k := range c.m {
				delete(c.m, k)
				break
			}
		}
		c.m[id] = hashes(i)
	}
}

type appendReq struct {
	entries []Entry // appended consecutively, all or none
	pre     func(Tx) error
	index   int64 // of the first entry
	err     error
	done    chan struct{}
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
//
// Several Logs, in one process or in several minwon processes, may share one
// database: each batch is appended under the database's log lock
// (Store.BeginLog) after re-reading the log's head inside that transaction,
// so whichever process holds the lock is the sequencer for that batch and
// the log keeps one append order. All of them must use the same origin and
// key.
//
// previous are the log's earlier (retired, not revoked) public keys: after
// a key rotation the newest checkpoint may still be signed by one of them,
// and Open then signs it again with key.
func Open(ctx context.Context, db Store, origin string, key ed25519.PrivateKey, previous ...ed25519.PublicKey) (*Log, error) {
	return open(ctx, db, origin, key, DefaultFollowEvery, previous)
}

func open(ctx context.Context, db Store, origin string, key ed25519.PrivateKey, followEvery time.Duration, previous []ed25519.PublicKey) (*Log, error) {
	signer, verifier, err := NoteSigner(origin, key)
	if err != nil {
		return nil, fmt.Errorf("doclog: key: %w", err)
	}
	l := &Log{
		db: db, origin: origin, signer: signer, verifier: verifier, now: time.Now, followEvery: followEvery,
		reqs: make(chan *appendReq, 4*maxBatch), stop: make(chan struct{}), done: make(chan struct{}),
		followDone: make(chan struct{}), hashes: &hashCache{m: map[int64]Hash{}},
	}
	for _, pub := range previous {
		vkey, err := note.NewEd25519VerifierKey(origin, pub)
		if err != nil {
			return nil, fmt.Errorf("doclog: previous key: %w", err)
		}
		v, err := note.NewVerifier(vkey)
		if err != nil {
			return nil, fmt.Errorf("doclog: previous key: %w", err)
		}
		l.previous = append(l.previous, v)
	}
	found, err := l.Refresh(ctx)
	if err != nil {
		return nil, err
	}
	if found {
		if _, _, cp := l.Checkpoint(); !l.signedByCurrent(cp) {
			if err := l.resign(ctx); err != nil {
				return nil, err
			}
		}
	}
	if !found {
		// An empty log: sign its first checkpoint (size 0), unless another
		// process does so first.
		if err := l.commit(ctx, nil); err != nil {
			return nil, err
		}
	}
	go l.run()
	go l.follow()
	return l, nil
}

// DefaultFollowEvery is how often a Log re-reads the log's head, so
// Checkpoint on a node that appends nothing (or little) is at most about
// that stale.
const DefaultFollowEvery = time.Second

// follow refreshes the cached checkpoint until Close, for nodes that share
// the database: the others' appends show up in Checkpoint within
// followEvery. A failed read is ignored; the next one retries, and proofs
// and tiles beyond the cached size read the head themselves.
func (l *Log) follow() {
	defer close(l.followDone)
	every := l.followEvery
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), every)
			l.Refresh(ctx)
			l.freshen(ctx)
			cancel()
		}
	}
}

// FreshEvery is how old the newest checkpoint may grow on a log that
// appends nothing before a node signs the same tree again with the time
// now: a saved proof's checkpoint time then says when, at the latest, the
// log still held no revocation of the document, within this much.
const FreshEvery = time.Minute

// freshen signs the newest checkpoint again if it is older than FreshEvery.
// Errors are left for the next tick.
func (l *Log) freshen(ctx context.Context) {
	l.mu.RLock()
	stale := l.checkpoint != nil && l.now().Sub(l.signedAt) >= FreshEvery
	l.mu.RUnlock()
	if stale {
		l.resign(ctx)
	}
}

// head is a checkpoint read from the database and checked.
type head struct {
	size int64
	root Hash
	cp   []byte
	at   time.Time // when it was signed; zero for checkpoints without a time
}

// checkHead checks a stored checkpoint: it must be signed by this log's key
// for this origin and say the stored size and root. A checkpoint already
// held in memory is not checked again.
func (l *Log) checkHead(size int64, root, cp []byte) (head, error) {
	if len(root) != tlog.HashSize {
		return head{}, fmt.Errorf("doclog: stored root has %d bytes", len(root))
	}
	h := head{size: size, cp: cp}
	copy(h.root[:], root)
	l.mu.RLock()
	known := l.size == size && l.root == h.root && bytes.Equal(l.checkpoint, cp)
	h.at = l.signedAt
	l.mu.RUnlock()
	if known {
		return h, nil
	}
	n, err := note.Open(cp, note.VerifierList(append([]note.Verifier{l.verifier}, l.previous...)...))
	if err != nil {
		return head{}, fmt.Errorf("doclog: the stored checkpoint does not verify with this key (was the log key replaced, or does another node use another key?): %w", err)
	}
	c, err := ParseCheckpoint(n.Text, l.origin)
	if err != nil {
		return head{}, err
	}
	if c.Size != size || c.Root != h.root {
		return head{}, fmt.Errorf("doclog: stored checkpoint %d says size %d", size, c.Size)
	}
	h.at = c.Time
	return h, nil
}

// adopt makes h the newest checkpoint this Log knows, unless it already
// knows a newer one.
func (l *Log) adopt(h head) {
	l.mu.Lock()
	// The same tree signed again later (see freshen) replaces the older
	// signature.
	newer := h.size > l.size || l.checkpoint == nil || (h.size == l.size && h.at.After(l.signedAt))
	if newer {
		l.size, l.root, l.checkpoint, l.signedAt = h.size, h.root, h.cp, h.at
	}
	l.mu.Unlock()
	if newer {
		l.notify()
	}
}

// Refresh reads the newest checkpoint from the database, which another
// process sharing it may have appended, and makes it the one Checkpoint
// returns. It reports whether the log has any checkpoint yet.
func (l *Log) Refresh(ctx context.Context) (bool, error) {
	size, root, cp, err := l.db.LatestCheckpoint(ctx)
	if errors.Is(err, ErrNoCheckpoint) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	h, err := l.checkHead(size, root, cp)
	if err != nil {
		return false, err
	}
	l.adopt(h)
	return true, nil
}

// Latest returns the newest checkpoint in the database, including appends
// by other processes: Checkpoint after a Refresh.
func (l *Log) Latest(ctx context.Context) (size int64, root Hash, signed []byte, err error) {
	if _, err := l.Refresh(ctx); err != nil {
		return 0, Hash{}, nil, err
	}
	size, root, signed = l.Checkpoint()
	return size, root, signed, nil
}

// signedByCurrent says whether cp carries a valid signature by the log's
// current key.
func (l *Log) signedByCurrent(cp []byte) bool {
	_, err := note.Open(cp, note.VerifierList(l.verifier))
	return err == nil
}

// resign signs the newest checkpoint again with the current key, after a
// key rotation, so clients that know only the new key can check it. The
// older checkpoints keep their old signatures.
func (l *Log) resign(ctx context.Context) error {
	tx, err := l.db.BeginLog(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	size, root, cp, err := tx.LatestCheckpoint(ctx)
	if err != nil {
		return err
	}
	h, err := l.checkHead(size, root, cp)
	if err != nil {
		return err
	}
	at := l.now().UTC().Truncate(time.Second)
	signed, err := note.Sign(&note.Note{Text: FormatCheckpointAt(l.origin, h.size, h.root, at)}, l.signer)
	if err != nil {
		return fmt.Errorf("doclog: sign checkpoint: %w", err)
	}
	if err := tx.ReplaceCheckpointNote(ctx, h.size, signed); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	l.mu.Lock()
	newer := h.size >= l.size
	if newer {
		l.size, l.root, l.checkpoint, l.signedAt = h.size, h.root, signed, at
	}
	l.mu.Unlock()
	if newer {
		l.notify()
	}
	return nil
}

// Close stops the committer after the batch in progress.
func (l *Log) Close() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	<-l.done
	<-l.followDone
}

// ErrDuplicateEntry refuses an append of an entry whose number and kind
// another request of the same batch is appending (see commit).
var ErrDuplicateEntry = errors.New("doclog: another append of this batch logs the same number and kind")

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("doclog: log is closed")

// Append adds e to the log and returns its index once the entry and a
// checkpoint covering it are durable. If pre is not nil it runs first in the
// same transaction (e.g. storing the issued document, through the Store's
// own Tx type, which pre type-asserts); if pre fails, e is not appended and
// Append returns pre's error.
func (l *Log) Append(ctx context.Context, e Entry, pre func(Tx) error) (int64, error) {
	return l.AppendAll(ctx, []Entry{e}, pre)
}

// AppendAll is Append for several entries that stand or fall together
// with pre: they get consecutive indexes, the first of which it returns.
// A recall revokes its documents in such batches, one pre-function (one
// round of queries) for all of them instead of one each.
func (l *Log) AppendAll(ctx context.Context, es []Entry, pre func(Tx) error) (int64, error) {
	if len(es) == 0 {
		return 0, errors.New("doclog: no entries to append")
	}
	for _, e := range es {
		if _, err := ParseEntry(e.Marshal()); err != nil {
			return 0, fmt.Errorf("doclog: refusing entry: %w", err)
		}
	}
	r := &appendReq{entries: es, pre: pre, done: make(chan struct{})}
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
		// The batch grows while commit waits for the log lock (another
		// node's batch): see drain.
		if err := l.commit(context.Background(), &batch); err != nil {
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

// drain adds queued requests to batch, up to maxBatch, without waiting.
func (l *Log) drain(batch *[]*appendReq) {
	for len(*batch) < maxBatch {
		select {
		case r := <-l.reqs:
			*batch = append(*batch, r)
		default:
			return
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

// commit writes a batch and a new checkpoint in one transaction. It takes
// the log lock and reads the log's head inside the transaction, so the
// batch goes after whatever any process appended before, and nobody appends
// until it commits. Once it holds the lock it adds what was queued
// meanwhile to *pbatch. A nil pbatch signs the first checkpoint of an empty
// log.
func (l *Log) commit(ctx context.Context, pbatch *[]*appendReq) error {
	tx, err := l.db.BeginLog(ctx)
	if pbatch != nil {
		l.drain(pbatch) // also on error: the caller fails the whole batch
	}
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var batch []*appendReq
	if pbatch != nil {
		batch = *pbatch
	}

	var prev head
	hasHead := true
	rawSize, rawRoot, rawCP, err := tx.LatestCheckpoint(ctx)
	switch {
	case errors.Is(err, ErrNoCheckpoint):
		hasHead = false
	case err != nil:
		return err
	default:
		if prev, err = l.checkHead(rawSize, rawRoot, rawCP); err != nil {
			return err
		}
	}
	if batch == nil && hasHead {
		l.adopt(prev) // another process signed the first checkpoint
		return nil
	}
	if batch != nil && !hasHead {
		return ErrNoCheckpoint
	}

	size := prev.size
	// The callers' pre-functions run one by one, each in a savepoint so a
	// failing one is undone alone; the entries and hashes of those that
	// succeeded are then written together.
	local := map[int64]Hash{}
	// Read through the transaction's own connection: see Tx.LogHashes.
	reader := l.hashReader(ctx, local, tx.LogHashes)
	var (
		rows     []Record
		hashIDs  []int64
		hashData [][]byte
	)
	// A number has at most one entry of each kind. A pre-function checks
	// that against what is committed; the entries of this batch are written
	// only after every pre-function ran, so two requests for the same
	// number and kind in one batch (two concurrent revocations) are told
	// apart here: the later one fails.
	pending := map[string]bool{}
	for _, r := range batch {
		if slices.ContainsFunc(r.entries, func(e Entry) bool { return pending[e.Number+"\x00"+e.Kind] }) {
			r.err = ErrDuplicateEntry
			continue
		}
		if r.pre != nil {
			if err := tx.Savepoint(ctx, func() error { return r.pre(tx) }); err != nil {
				r.err = err
				continue
			}
		}
		r.index = size
		for _, e := range r.entries {
			pending[e.Number+"\x00"+e.Kind] = true
			data := e.Marshal()
			hashes, err := tlog.StoredHashes(size, data, reader)
			if err != nil {
				return fmt.Errorf("doclog: hashes: %w", err)
			}
			base := tlog.StoredHashIndex(0, size)
			for i := range hashes {
				local[base+int64(i)] = hashes[i]
				hashIDs = append(hashIDs, base+int64(i))
				hashData = append(hashData, hashes[i][:])
			}
			rows = append(rows, Record{Index: size, Number: e.Number, Kind: e.Kind, Data: data})
			size++
		}
	}
	if batch != nil && size == prev.size {
		l.adopt(prev)
		return nil // every item failed alone; nothing to commit
	}
	if err := tx.InsertLogEntries(ctx, rows, hashIDs, hashData); err != nil {
		return err
	}
	root, err := tlog.TreeHash(size, reader)
	if err != nil {
		return fmt.Errorf("doclog: tree hash: %w", err)
	}
	at := l.now().UTC().Truncate(time.Second)
	cp, err := note.Sign(&note.Note{Text: FormatCheckpointAt(l.origin, size, root, at)}, l.signer)
	if err != nil {
		return fmt.Errorf("doclog: sign checkpoint: %w", err)
	}
	if err := tx.InsertCheckpoint(ctx, size, root[:], cp, l.now()); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	l.hashes.put(hashIDs, func(i int) Hash { return local[hashIDs[i]] })
	l.adopt(head{size: size, root: root, cp: cp, at: at})
	return nil
}

// hashReader reads stored hashes from local (this batch's, not yet
// committed, and those already read) or the database, adding what it reads
// to local: stored hashes never change.
func (l *Log) hashReader(ctx context.Context, local map[int64]Hash, readDB func(context.Context, []int64) ([][]byte, error)) tlog.HashReader {
	if local == nil {
		local = map[int64]Hash{}
	}
	return tlog.HashReaderFunc(func(ids []int64) ([]Hash, error) {
		out := make([]Hash, len(ids))
		var missing []int64
		for i, id := range ids {
			if h, ok := local[id]; ok {
				out[i] = h
			} else if h, ok := l.hashes.get(id); ok {
				out[i], local[id] = h, h
			} else {
				missing = append(missing, id)
			}
		}
		if len(missing) == 0 {
			return out, nil
		}
		raw, err := readDB(ctx, missing)
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
		for i, id := range missing {
			var h Hash
			copy(h[:], raw[i])
			local[id] = h
		}
		l.hashes.put(missing, func(i int) Hash { return local[missing[i]] })
		return out, nil
	})
}

// Checkpoint returns the newest signed checkpoint this Log knows and what
// it says: the one it last committed or read. With several processes on one
// database another may have appended since (up to about DefaultFollowEvery ago);
// Latest reads the database.
func (l *Log) Checkpoint() (size int64, root Hash, signed []byte) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.size, l.root, l.checkpoint
}

// Origin returns the log's name.
func (l *Log) Origin() string { return l.origin }

// Verifier returns the checkpoint verifier.
func (l *Log) Verifier() note.Verifier { return l.verifier }

// knownSize returns the size of the newest checkpoint, reading the
// database only when want is beyond the one in memory (another process may
// have appended it).
func (l *Log) knownSize(ctx context.Context, want int64) (int64, error) {
	cur, _, _ := l.Checkpoint()
	if want <= cur {
		return cur, nil
	}
	if _, err := l.Refresh(ctx); err != nil {
		return 0, err
	}
	cur, _, _ = l.Checkpoint()
	return cur, nil
}

// InclusionProof proves entry index is in the tree of the given size.
func (l *Log) InclusionProof(ctx context.Context, index, size int64) ([]Hash, error) {
	cur, err := l.knownSize(ctx, size)
	if err != nil {
		return nil, err
	}
	if size > cur || index >= size || index < 0 {
		return nil, fmt.Errorf("doclog: no entry %d in a tree of size %d", index, size)
	}
	p, err := tlog.ProveRecord(size, index, l.hashReader(ctx, nil, l.db.LogHashes))
	if err != nil {
		return nil, fmt.Errorf("doclog: inclusion proof: %w", err)
	}
	return p, nil
}

// ConsistencyProof proves the tree of size old is a prefix of size new.
func (l *Log) ConsistencyProof(ctx context.Context, old, new int64) ([]Hash, error) {
	cur, err := l.knownSize(ctx, new)
	if err != nil {
		return nil, err
	}
	if new > cur || old > new || old < 0 {
		return nil, fmt.Errorf("doclog: no consistency proof from %d to %d", old, new)
	}
	p, err := tlog.ProveTree(new, old, l.hashReader(ctx, nil, l.db.LogHashes))
	if err != nil {
		return nil, fmt.Errorf("doclog: consistency proof: %w", err)
	}
	return p, nil
}

// tileHeight is fixed by C2SP tlog-tiles.
const tileHeight = 8

// ErrNoTile is returned for a tile path that is malformed or beyond the
// log's current size.
var ErrNoTile = errors.New("doclog: no such tile")

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
	// The tile must exist in the current tree: its last leaf-level index
	// must be below the size scaled to its level.
	if t.N < 0 || t.N > math.MaxInt64>>(2*tileHeight) {
		return nil, ErrNoTile
	}
	start := t.N << uint(tileHeight)
	need := start + int64(t.W) // leaves (L<0) or level-L hashes the tile needs
	if t.L > 0 {
		shift := uint(t.L * tileHeight)
		if shift >= 62 || need > math.MaxInt64>>shift {
			return nil, ErrNoTile // beyond any possible size
		}
		need <<= shift
	}
	size, err := l.knownSize(ctx, need)
	if err != nil {
		return nil, err
	}
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
	data, err := tlog.ReadTileData(t, l.hashReader(ctx, nil, l.db.LogHashes))
	if err != nil {
		return nil, fmt.Errorf("doclog: read tile: %w", err)
	}
	return data, nil
}
