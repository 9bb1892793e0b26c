package doclog_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/minwon/minwon/internal/doclog"
	"github.com/minwon/minwon/internal/doclog/doclogtest"
)

// TestAppendErrors fails the store under a running log in each way a
// commit can fail, then heals it. While it fails, Append must hand out no
// index, and every entry the store holds must be covered by the log's
// checkpoint; once healed, the log must go on from what is stored, with no
// gap and no entry lost. (The shape of sunlight's TestSequenceErrors.)
func TestAppendErrors(t *testing.T) {
	boom := errors.New("injected failure")
	otherKey := newKey(t)
	tests := []struct {
		name   string
		faults doclogtest.Faults
		// foreignHead replaces the head's signature with one by another
		// key while the fault lasts, as if another log's node wrote it.
		foreignHead bool
		// stored says whether the failed append's entry is durable anyway
		// (the commit succeeded, its acknowledgement did not).
		stored bool
	}{
		{name: "begin fails", faults: doclogtest.Faults{Begin: boom}},
		{name: "inserting entries fails", faults: doclogtest.Faults{InsertEntries: boom}},
		{name: "inserting the checkpoint fails", faults: doclogtest.Faults{InsertCheckpoint: boom}},
		{name: "commit fails (write or fsync)", faults: doclogtest.Faults{Commit: boom}},
		{name: "commit durable but reported failed", faults: doclogtest.Faults{CommitLies: boom}, stored: true},
		{name: "head lost", faults: doclogtest.Faults{LoseHead: true}},
		{name: "head signed by another key", foreignHead: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			st := doclogtest.NewMemStore()
			l, err := doclog.Open(ctx, st, origin, newKey(t))
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			for i := range 3 {
				if idx, err := l.Append(ctx, testEntry(i), nil); err != nil || idx != int64(i) {
					t.Fatalf("Append %d = %d, %v", i, idx, err)
				}
			}

			st.SetFaults(tt.faults)
			var restore func()
			if tt.foreignHead {
				restore = replaceHeadNote(t, st, otherKey)
			}
			const failing = 4 // concurrent appends, so a whole batch fails
			var wg sync.WaitGroup
			for i := range failing {
				wg.Go(func() {
					if idx, err := l.Append(ctx, testEntry(100+i), nil); err == nil {
						t.Errorf("Append during %q = index %d, want an error", tt.name, idx)
					}
				})
			}
			wg.Wait()
			if size, _, _ := l.Checkpoint(); size != 3 {
				t.Errorf("the log's checkpoint moved to %d during the failure", size)
			}
			want := 3
			if tt.stored {
				want = 3 + failing
			}
			if n := st.Len(); n != want {
				t.Fatalf("store holds %d entries after the failure, want %d", n, want)
			}

			st.SetFaults(doclogtest.Faults{})
			if restore != nil {
				restore()
			}
			idx, err := l.Append(ctx, testEntry(200), nil)
			if err != nil || idx != int64(want) {
				t.Fatalf("Append after healing = %d, %v; want index %d", idx, err, want)
			}
			checkStoreCovered(t, l, st)
		})
	}
}

// replaceHeadNote signs the stored head with key under the log's origin,
// and returns a function that puts the original signature back.
func replaceHeadNote(t *testing.T, st doclog.Store, key []byte) (restore func()) {
	t.Helper()
	ctx := context.Background()
	size, _, orig, err := st.LatestCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Read the head's text without trusting any key.
	_, err = note.Open(orig, note.VerifierList())
	var unknown *note.UnverifiedNoteError
	if !errors.As(err, &unknown) {
		t.Fatalf("reading the head: %v", err)
	}
	n := unknown.Note
	signer, _, err := doclog.NoteSigner(origin, key)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := note.Sign(&note.Note{Text: n.Text}, signer)
	if err != nil {
		t.Fatal(err)
	}
	set := func(b []byte) {
		tx, err := st.BeginLog(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.ReplaceCheckpointNote(ctx, size, b); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	set(forged)
	return func() { set(orig) }
}

// checkStoreCovered checks that the log's checkpoint covers exactly the
// stored entries, each at its index with a valid inclusion proof.
func checkStoreCovered(t *testing.T, l *doclog.Log, st *doclogtest.MemStore) {
	t.Helper()
	ctx := context.Background()
	size, root, _ := l.Checkpoint()
	recs := st.Records()
	if int64(len(recs)) != size {
		t.Fatalf("checkpoint of %d entries over %d stored", size, len(recs))
	}
	for i, r := range recs {
		if r.Index != int64(i) {
			t.Fatalf("stored entry %d has index %d", i, r.Index)
		}
		proof, err := l.InclusionProof(ctx, r.Index, size)
		if err != nil {
			t.Fatal(err)
		}
		if err := doclog.CheckInclusion(proof, size, root, r.Index, r.Data); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
}

// FuzzTile feeds outside tile paths (GET /log/tile/...) to Tile: nothing
// may panic, and whatever it serves must be a whole tile of the tree.
func FuzzTile(f *testing.F) {
	for _, p := range []string{"tile/0/000", "tile/0/000.p/5", "tile/1/000.p/1", "tile/entries/000.p/5", "tile/0/x001/000", "tile/entries/000", "tile/-1/000", "tile/0/000.p/0", "tile/9/000.p/1"} {
		f.Add(p)
	}
	ctx := context.Background()
	st := doclogtest.NewMemStore()
	l, err := doclog.Open(ctx, st, origin, newKey(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(l.Close)
	for i := range 5 {
		if _, err := l.Append(ctx, testEntry(i), nil); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, path string) {
		data, err := l.Tile(ctx, path)
		if err != nil {
			return
		}
		if len(data) == 0 {
			t.Fatalf("Tile(%q) served nothing", path)
		}
		if !strings.Contains(path, "entries") && len(data)%32 != 0 {
			t.Fatalf("Tile(%q) served %d bytes, not whole hashes", path, len(data))
		}
	})
}
