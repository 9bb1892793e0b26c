// Package doclogtest has an in-memory doclog.Store with failure switches,
// for tests of the log's error paths, and TestStore, the conformance test
// every doclog.Store implementation runs.
package doclogtest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/minwon/minwon/internal/doclog"
)

// Faults makes a MemStore fail. Each error, when set, is returned by that
// call instead of doing it.
type Faults struct {
	Begin            error
	InsertEntries    error
	InsertCheckpoint error
	// Commit fails the commit; the writes are dropped, as when a write or
	// fsync fails.
	Commit error
	// CommitLies fails the commit after applying it: the writes are
	// durable but the caller is told otherwise.
	CommitLies error
	// LoseHead makes LatestCheckpoint answer as if the log were empty,
	// although entries are stored.
	LoseHead bool
}

type checkpoint struct {
	size       int64
	root, note []byte
	at         time.Time
}

type state struct {
	entries     []doclog.Record
	hashes      map[int64][]byte
	checkpoints []checkpoint
}

func (s *state) clone() *state {
	c := &state{entries: slices.Clone(s.entries), hashes: make(map[int64][]byte, len(s.hashes)), checkpoints: slices.Clone(s.checkpoints)}
	for k, v := range s.hashes {
		c.hashes[k] = v
	}
	return c
}

// MemStore is an in-memory doclog.Store. Its zero value is not usable; call
// NewMemStore.
type MemStore struct {
	lock chan struct{} // the append lock, held from BeginLog to the end of the Tx

	mu        sync.Mutex
	committed *state
	faults    Faults
}

// NewMemStore returns an empty store.
func NewMemStore() *MemStore {
	return &MemStore{lock: make(chan struct{}, 1), committed: &state{hashes: map[int64][]byte{}}}
}

// SetFaults replaces the store's faults; Faults{} heals it.
func (m *MemStore) SetFaults(f Faults) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.faults = f
}

func (m *MemStore) getFaults() Faults {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.faults
}

// Len returns the number of committed entries.
func (m *MemStore) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.committed.entries)
}

// Records returns the committed entries.
func (m *MemStore) Records() []doclog.Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.committed.entries)
}

// BeginLog implements doclog.Store: it waits for the append lock.
func (m *MemStore) BeginLog(ctx context.Context) (doclog.Tx, error) {
	if err := m.getFaults().Begin; err != nil {
		return nil, err
	}
	select {
	case m.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return &memTx{m: m, s: m.committed.clone()}, nil
}

// LatestCheckpoint implements doclog.Store.
func (m *MemStore) LatestCheckpoint(ctx context.Context) (int64, []byte, []byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.faults.LoseHead {
		return 0, nil, nil, doclog.ErrNoCheckpoint
	}
	return latest(m.committed)
}

func latest(s *state) (int64, []byte, []byte, error) {
	if len(s.checkpoints) == 0 {
		return 0, nil, nil, doclog.ErrNoCheckpoint
	}
	c := s.checkpoints[len(s.checkpoints)-1]
	return c.size, slices.Clone(c.root), slices.Clone(c.note), nil
}

// LogHashes implements doclog.Store.
func (m *MemStore) LogHashes(ctx context.Context, ids []int64) ([][]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return hashes(m.committed, ids)
}

func hashes(s *state, ids []int64) ([][]byte, error) {
	out := make([][]byte, len(ids))
	for i, id := range ids {
		h, ok := s.hashes[id]
		if !ok {
			return nil, fmt.Errorf("doclogtest: log hash %d missing", id)
		}
		out[i] = slices.Clone(h)
	}
	return out, nil
}

// LogEntries implements doclog.Store.
func (m *MemStore) LogEntries(ctx context.Context, start, end int64) ([][]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out [][]byte
	for i := max(start, 0); i < end && i < int64(len(m.committed.entries)); i++ {
		out = append(out, slices.Clone(m.committed.entries[i].Data))
	}
	return out, nil
}

// memTx works on a copy of the committed state, swapped in at commit.
type memTx struct {
	m    *MemStore
	s    *state
	done bool
}

func (t *memTx) end() {
	if !t.done {
		t.done = true
		<-t.m.lock
	}
}

func (t *memTx) live() error {
	if t.done {
		return fmt.Errorf("doclogtest: transaction has ended")
	}
	return nil
}

func (t *memTx) LatestCheckpoint(ctx context.Context) (int64, []byte, []byte, error) {
	if err := t.live(); err != nil {
		return 0, nil, nil, err
	}
	if t.m.getFaults().LoseHead {
		return 0, nil, nil, doclog.ErrNoCheckpoint
	}
	return latest(t.s)
}

func (t *memTx) LogHashes(ctx context.Context, ids []int64) ([][]byte, error) {
	if err := t.live(); err != nil {
		return nil, err
	}
	return hashes(t.s, ids)
}

func (t *memTx) Savepoint(ctx context.Context, fn func() error) error {
	if err := t.live(); err != nil {
		return err
	}
	saved := t.s.clone()
	if err := fn(); err != nil {
		t.s = saved
		return err
	}
	return nil
}

func (t *memTx) InsertLogEntries(ctx context.Context, entries []doclog.Record, hashIDs []int64, hs [][]byte) error {
	if err := t.live(); err != nil {
		return err
	}
	if err := t.m.getFaults().InsertEntries; err != nil {
		return err
	}
	for _, e := range entries {
		if e.Index != int64(len(t.s.entries)) {
			return fmt.Errorf("doclogtest: entry %d inserted at size %d", e.Index, len(t.s.entries))
		}
		e.Data = slices.Clone(e.Data)
		t.s.entries = append(t.s.entries, e)
	}
	for i, id := range hashIDs {
		if _, ok := t.s.hashes[id]; ok {
			return fmt.Errorf("doclogtest: hash %d already stored", id)
		}
		t.s.hashes[id] = slices.Clone(hs[i])
	}
	return nil
}

func (t *memTx) InsertCheckpoint(ctx context.Context, size int64, root, note []byte, at time.Time) error {
	if err := t.live(); err != nil {
		return err
	}
	if err := t.m.getFaults().InsertCheckpoint; err != nil {
		return err
	}
	for _, c := range t.s.checkpoints {
		if c.size == size {
			return fmt.Errorf("doclogtest: checkpoint %d already stored", size)
		}
	}
	t.s.checkpoints = append(t.s.checkpoints, checkpoint{size: size, root: slices.Clone(root), note: slices.Clone(note), at: at})
	slices.SortFunc(t.s.checkpoints, func(a, b checkpoint) int { return int(a.size - b.size) })
	return nil
}

func (t *memTx) ReplaceCheckpointNote(ctx context.Context, size int64, note []byte) error {
	if err := t.live(); err != nil {
		return err
	}
	for i := range t.s.checkpoints {
		if t.s.checkpoints[i].size == size {
			t.s.checkpoints[i].note = slices.Clone(note)
		}
	}
	return nil
}

func (t *memTx) Commit() error {
	if err := t.live(); err != nil {
		return err
	}
	defer t.end()
	f := t.m.getFaults()
	if f.Commit != nil {
		return f.Commit
	}
	t.m.mu.Lock()
	t.m.committed = t.s
	t.m.mu.Unlock()
	return f.CommitLies
}

func (t *memTx) Rollback() error {
	t.end()
	return nil
}

var _ doclog.Store = (*MemStore)(nil)
