package doclog_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"github.com/minwon/minwon/internal/doclog"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/minwon/minwon/internal/store"
	"github.com/minwon/minwon/internal/storetest"
	"github.com/minwon/minwon/internal/verify"
)

const origin = "minwon.test/log"

// testNumber returns a valid issuance number made from i.
func testNumber(i int) string {
	s := fmt.Sprintf("%015d", i)
	return s + string(verify.NumberCheckDigit(s))
}

func testEntry(i int) doclog.Entry {
	return doclog.Entry{
		Kind: doclog.KindIssued, Number: testNumber(i), Service: "resident-registration-copy",
		KeyID: "doc-0123456789ab", SHA256: fmt.Sprintf("%064x", i), Time: time.Unix(1_764_000_000+int64(i), 0).UTC(),
	}
}

// openLog opens a store handle on b and a Log on it, as one process would.
func openLog(t *testing.T, b storetest.Backend, key ed25519.PrivateKey) (*doclog.Log, *store.DB) {
	t.Helper()
	return openLogFollowing(t, b, key, doclog.DefaultFollowEvery)
}

// openLogFollowing opens a log that re-reads the head every follow.
func openLogFollowing(t *testing.T, b storetest.Backend, key ed25519.PrivateKey, follow time.Duration) (*doclog.Log, *store.DB) {
	t.Helper()
	db, err := b.OpenErr(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	l, err := doclog.OpenFollowing(context.Background(), db, origin, key, follow)
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	return l, db
}

func newKey(t testing.TB) ed25519.PrivateKey {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestProofsAcrossAppendsAndRestarts appends concurrently over several
// restarts and checks every entry's inclusion proof and every pair of
// checkpoints' consistency proof.
func TestProofsAcrossAppendsAndRestarts(t *testing.T) {
	storetest.Each(t, testProofsAcrossAppendsAndRestarts)
}

func testProofsAcrossAppendsAndRestarts(t *testing.T, b storetest.Backend) {
	ctx := context.Background()
	key := newKey(t)
	type cp struct {
		size int64
		root doclog.Hash
	}
	var cps []cp
	indexOf := map[string]int64{}
	var mu sync.Mutex
	next := 0
	for round := 0; round < 3; round++ {
		l, db := openLog(t, b, key)
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(start int) {
				defer wg.Done()
				for i := 0; i < 40; i++ {
					e := testEntry(start*1000 + i)
					idx, err := l.Append(ctx, e, nil)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					indexOf[e.Number] = idx
					mu.Unlock()
				}
			}(next + w)
		}
		wg.Wait()
		next += 8
		size, root, signed := l.Checkpoint()
		cps = append(cps, cp{size, root})
		n, err := note.Open(signed, note.VerifierList(l.Verifier()))
		if err != nil {
			t.Fatalf("checkpoint does not verify: %v", err)
		}
		if c, err := doclog.ParseCheckpoint(n.Text, origin); err != nil || c.Size != size || c.Root != root {
			t.Fatalf("checkpoint %+v, %v", c, err)
		}
		l.Close()
		db.Close()
	}

	l, db := openLog(t, b, key)
	defer db.Close()
	defer l.Close()
	size, root, _ := l.Checkpoint()
	if size != int64(len(indexOf)) || size != 3*8*40 {
		t.Fatalf("size %d, appended %d", size, len(indexOf))
	}
	seen := map[int64]bool{}
	for num, idx := range indexOf {
		if seen[idx] {
			t.Fatalf("index %d given twice", idx)
		}
		seen[idx] = true
		entries, err := db.LogEntriesFor(ctx, num)
		if err != nil || len(entries) != 1 || entries[0].Index != idx {
			t.Fatalf("entries for %s: %+v, %v", num, entries, err)
		}
		proof, err := l.InclusionProof(ctx, idx, size)
		if err != nil {
			t.Fatal(err)
		}
		if err := doclog.CheckInclusion(proof, size, root, idx, entries[0].Data); err != nil {
			t.Fatalf("inclusion of %d: %v", idx, err)
		}
		if doclog.CheckInclusion(proof, size, root, idx, testEntry(999999).Marshal()) == nil {
			t.Fatal("inclusion proof accepted other data")
		}
	}
	for i := range cps {
		for j := i; j < len(cps); j++ {
			p, err := l.ConsistencyProof(ctx, cps[i].size, cps[j].size)
			if err != nil {
				t.Fatal(err)
			}
			if err := doclog.CheckConsistency(p, cps[j].size, cps[j].root, cps[i].size, cps[i].root); err != nil {
				t.Fatalf("consistency %d→%d: %v", cps[i].size, cps[j].size, err)
			}
		}
	}
}

func TestFailedPreAppendsNothing(t *testing.T) {
	storetest.Each(t, testFailedPreAppendsNothing)
}

func testFailedPreAppendsNothing(t *testing.T, b storetest.Backend) {
	ctx := context.Background()
	l, db := openLog(t, b, newKey(t))
	defer db.Close()
	defer l.Close()
	boom := errors.New("boom")
	if _, err := l.Append(ctx, testEntry(1), func(doclog.Tx) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if size, _, _ := l.Checkpoint(); size != 0 {
		t.Fatalf("size %d after failed append", size)
	}
	idx, err := l.Append(ctx, testEntry(2), nil)
	if err != nil || idx != 0 {
		t.Fatalf("next append: %d, %v", idx, err)
	}
}

func TestReopenWithOtherKeyFails(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		l, db := openLog(t, b, newKey(t))
		l.Close()
		db.Close()
		db2 := b.Open(t)
		if _, err := doclog.Open(context.Background(), db2, origin, newKey(t)); err == nil {
			t.Fatal("log opened with a key that did not sign its checkpoint")
		}
	})
}

// TestTilesServeTheTree rebuilds the tree hash from the served tiles with
// x/mod's own tile reader, as a standard client would.
func TestTilesServeTheTree(t *testing.T) {
	storetest.Each(t, testTilesServeTheTree)
}

func testTilesServeTheTree(t *testing.T, b storetest.Backend) {
	ctx := context.Background()
	l, db := openLog(t, b, newKey(t))
	defer db.Close()
	defer l.Close()
	for i := 0; i < 600; i++ {
		if _, err := l.Append(ctx, testEntry(i), nil); err != nil {
			t.Fatal(err)
		}
	}
	size, root, _ := l.Checkpoint()
	tree := tlog.Tree{N: size, Hash: root}
	tr := tileReader{l: l, t: t}
	got, err := tlog.TreeHash(size, tlog.TileHashReader(tree, tr))
	if err != nil || got != root {
		t.Fatalf("tree hash from tiles = %v, %v; want %v", got, err, root)
	}
	// Entry bundles: 2-byte length + entry.
	data, err := l.Tile(ctx, "tile/entries/002.p/88")
	if err != nil {
		t.Fatal(err)
	}
	e := testEntry(512).Marshal()
	if int(data[0])<<8|int(data[1]) != len(e) || string(data[2:2+len(e)]) != string(e) {
		t.Fatal("entry bundle does not start with entry 512")
	}
	for _, bad := range []string{"tile/entries/003", "tile/0/003", "tile/0/002", "tile/9/000", "x", "tile/entries/002.p/89", "../etc"} {
		if _, err := l.Tile(ctx, bad); !errors.Is(err, doclog.ErrNoTile) {
			t.Errorf("Tile(%q) = %v, want ErrNoTile", bad, err)
		}
	}
}

type tileReader struct {
	l *doclog.Log
	t *testing.T
}

func (tileReader) Height() int { return doclog.TileHeight }

func (r tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		p := strings.Replace(t.Path(), "tile/8/", "tile/", 1)
		d, err := r.l.Tile(context.Background(), p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		out[i] = d
	}
	return out, nil
}

func (tileReader) SaveTiles([]tlog.Tile, [][]byte) {}

// TestAppendAll: a batch's entries get consecutive indexes among
// concurrent single appends, each with a valid inclusion proof, and a
// batch whose pre-function fails appends none of its entries.
func TestAppendAll(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		l, db := openLog(t, b, newKey(t))
		defer db.Close()
		defer l.Close()
		if _, err := l.AppendAll(ctx, nil, nil); err == nil {
			t.Fatal("an empty batch was accepted")
		}
		boom := errors.New("boom")
		if _, err := l.AppendAll(ctx, []doclog.Entry{testEntry(1), testEntry(2)}, func(doclog.Tx) error { return boom }); !errors.Is(err, boom) {
			t.Fatalf("failing batch: %v", err)
		}
		var wg sync.WaitGroup
		firsts := make([]int64, 4)
		for w := range 4 {
			wg.Go(func() {
				batch := make([]doclog.Entry, 25)
				for i := range batch {
					batch[i] = testEntry(1000*(w+1) + i)
				}
				first, err := l.AppendAll(ctx, batch, func(doclog.Tx) error { return nil })
				if err != nil {
					t.Error(err)
				}
				firsts[w] = first
			})
			wg.Go(func() {
				for i := range 10 {
					if _, err := l.Append(ctx, testEntry(100*(w+1)+i), nil); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		size, root, _ := l.Checkpoint()
		if size != 4*25+4*10 {
			t.Fatalf("size %d, want %d", size, 4*25+4*10)
		}
		for w, first := range firsts {
			for i := range 25 {
				num := testEntry(1000*(w+1) + i).Number
				entries, err := db.LogEntriesFor(ctx, num)
				if err != nil || len(entries) != 1 || entries[0].Index != first+int64(i) {
					t.Fatalf("batch %d entry %d: %+v, %v (batch starts at %d)", w, i, entries, err, first)
				}
				proof, err := l.InclusionProof(ctx, entries[0].Index, size)
				if err != nil {
					t.Fatal(err)
				}
				if err := doclog.CheckInclusion(proof, size, root, entries[0].Index, entries[0].Data); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, n := range []int{1, 2} {
			if entries, _ := db.LogEntriesFor(ctx, testEntry(n).Number); len(entries) != 0 {
				t.Errorf("entry %d of the failed batch was appended", n)
			}
		}
	})
}
