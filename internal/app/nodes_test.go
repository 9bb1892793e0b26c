package app_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/minwon/minwon/internal/guard"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/minwon/minwon/internal/apiwire"
	"github.com/minwon/minwon/internal/apptest"
	"github.com/minwon/minwon/internal/doclog"
	"github.com/minwon/minwon/internal/storetest"
	"github.com/minwon/minwon/internal/verification"
)

// mustEntry returns the stored log entry of an issued number.
func mustEntry(t *testing.T, env *apptest.Env, number string) []byte {
	t.Helper()
	e, err := env.DB.LogEntriesFor(context.Background(), number)
	if err != nil || len(e) != 1 {
		t.Fatalf("log entries of %s: %+v, %v", number, e, err)
	}
	return e[0].Data
}

// TestSeveralNodesOneDatabase runs three app nodes — each its own app, log
// committer, connection pool and HTTP server — on one database, under
// concurrent issuance through the HTTP API. Every request is sent to two
// nodes at once with one Idempotency-Key, with a session opened on a third
// node. On PostgreSQL a second round also kills one node's database
// sessions mid-load (a crashed node), and clients retry on another node.
// Then it checks that no number or document was duplicated or lost, that
// every issuance has exactly one log entry, that the log's indices run
// 0..n-1, and that every checkpoint any node signed verifies and is a
// prefix of the final tree.
func TestSeveralNodesOneDatabase(t *testing.T) {
	storetest.Each(t, testSeveralNodes)
}

// request is one document asked for with one Idempotency-Key.
type request struct {
	user    int
	service string
	key     string
	answers []apiwire.Issued // every 201 answer given for the key
}

func testSeveralNodes(t *testing.T, b storetest.Backend) {
	const nodes = 3
	users, perUser := 9, 4
	if testing.Short() {
		users, perUser = 6, 2
	}
	env := apptest.StartOpts(t, 300, 21, apptest.Options{Backend: &b, Nodes: nodes})
	w := env.World
	if len(w.Households) < users {
		t.Fatalf("only %d households", len(w.Households))
	}
	// Each user logs in on one node; the session is then used on all.
	clients := make([]*apptest.Client, users)
	for u := range users {
		clients[u] = env.LoginOn(t, env.Nodes[u%nodes], env.AccountOf(t, w.People[w.Households[u].Head].Subject))
	}
	var (
		mu   sync.Mutex
		reqs []*request
	)
	services := []string{"resident-registration-abstract", "resident-registration-copy"}

	// issue sends r to the nodes in order, concurrently when several,
	// retrying failures on the next node; it returns the 201 answers.
	issue := func(r *request, first int, fanout int, retries int) error {
		body := map[string]any{"service": r.service}
		header := map[string]string{"Idempotency-Key": r.key}
		var wg sync.WaitGroup
		errs := make([]error, fanout)
		for f := range fanout {
			wg.Add(1)
			go func() {
				defer wg.Done()
				node := (first + f) % nodes
				for attempt := 0; ; attempt++ {
					resp, data, err := clients[r.user].On(env.Nodes[node]).Try("POST", "/api/v1/issuances", body, header)
					if err == nil && resp.StatusCode == http.StatusCreated {
						var a apiwire.Issued
						if err := json.Unmarshal(data, &a); err != nil {
							errs[f] = err
							return
						}
						mu.Lock()
						r.answers = append(r.answers, a)
						mu.Unlock()
						return
					}
					if err == nil {
						err = fmt.Errorf("node %d: status %d: %s", node, resp.StatusCode, data)
					}
					if attempt >= retries {
						errs[f] = err
						return
					}
					node = (node + 1) % nodes // retry the same key elsewhere
					time.Sleep(20 * time.Millisecond)
				}
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return err
			}
		}
		return nil
	}

	// load runs every user's requests concurrently; onProgress is called
	// after each request completes.
	load := func(round string, retries int, onProgress func(done int64)) {
		var done atomic.Int64
		var wg sync.WaitGroup
		for u := range users {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range perUser {
					r := &request{user: u, service: services[j%2], key: fmt.Sprintf("%s-%d-%d", round, u, j)}
					mu.Lock()
					reqs = append(reqs, r)
					mu.Unlock()
					if err := issue(r, u+j, 2, retries); err != nil {
						t.Errorf("%s: %v", r.key, err)
					}
					if onProgress != nil {
						onProgress(done.Add(1))
					}
				}
			}()
		}
		wg.Wait()
	}

	// Round 1: all nodes healthy; no request may fail.
	load("healthy", 0, nil)
	if t.Failed() {
		t.FailNow()
	}

	// Round 2 (PostgreSQL): node 2 loses every database session mid-load,
	// as when its process or host dies; its log lock, if held, goes with
	// them. Clients retry failed requests with the same key elsewhere.
	if b.Name == "postgres" {
		admin := b.SQL(t)
		victim := env.Nodes[2].Application
		var killed atomic.Int64
		load("crash", 10, func(done int64) {
			if done%3 == 1 && done < int64(users*perUser) {
				var n int64
				err := admin.QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, victim).Scan(&n)
				if err != nil {
					t.Errorf("terminate node 2's sessions: %v", err)
				}
				killed.Add(n)
			}
		})
		t.Logf("terminated %d of node 2's database sessions during the load", killed.Load())
		if t.Failed() {
			t.FailNow()
		}
	}

	checkNodes(t, env, b, reqs)
}

// checkNodes checks the database and every node's log after the load.
func checkNodes(t *testing.T, env *apptest.Env, b storetest.Backend, reqs []*request) {
	t.Helper()
	ctx := context.Background()
	raw := b.SQL(t)

	// One number per key, whichever node answered; numbers never repeat.
	byNumber := map[string]*request{}
	for _, r := range reqs {
		if len(r.answers) == 0 {
			t.Fatalf("%s: no answer", r.key)
		}
		a0 := r.answers[0]
		for _, a := range r.answers[1:] {
			if a != a0 {
				t.Fatalf("%s: nodes answered %+v and %+v", r.key, a0, a)
			}
		}
		if prev, dup := byNumber[a0.Number]; dup {
			t.Fatalf("number %s given for %s and %s", a0.Number, prev.key, r.key)
		}
		byNumber[a0.Number] = r
	}
	n := int64(len(reqs))

	// The database holds exactly those documents, each logged once.
	var stored, distinct int64
	if err := raw.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT number) FROM issuances`).Scan(&stored, &distinct); err != nil {
		t.Fatal(err)
	}
	if stored != n || distinct != n {
		t.Fatalf("%d issuances stored (%d distinct numbers) for %d keys", stored, distinct, n)
	}
	var entries, entryNumbers, minIdx, maxIdx int64
	if err := raw.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT number), MIN(idx), MAX(idx) FROM log_entries`).Scan(&entries, &entryNumbers, &minIdx, &maxIdx); err != nil {
		t.Fatal(err)
	}
	if entries != n || entryNumbers != n || minIdx != 0 || maxIdx != n-1 {
		t.Fatalf("log: %d entries, %d numbers, indices %d..%d; want %d entries at 0..%d", entries, entryNumbers, minIdx, maxIdx, n, n-1)
	}
	var orphans int64
	if err := raw.QueryRow(`SELECT COUNT(*) FROM log_entries e WHERE NOT EXISTS (SELECT 1 FROM issuances i WHERE i.number = e.number)`).Scan(&orphans); err != nil || orphans != 0 {
		t.Fatalf("%d log entries without a document, %v", orphans, err)
	}
	if unlogged, err := env.DB.UnloggedIssuances(ctx); err != nil || len(unlogged) != 0 {
		t.Fatalf("%d documents without a log entry, %v", len(unlogged), err)
	}
	rows, err := raw.Query(`SELECT number, pdf_sha256 FROM issuances`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var num, sum string
		if err := rows.Scan(&num, &sum); err != nil {
			t.Fatal(err)
		}
		r, ok := byNumber[num]
		if !ok {
			t.Fatalf("stored document %s was never handed out", num)
		}
		if r.answers[0].SHA256 != sum {
			t.Fatalf("%s: answered sha256 %s, stored %s", num, r.answers[0].SHA256, sum)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()

	// The log's entries, rehashed independently, give the root every node
	// reports, and each answer's log index holds its document.
	data, err := env.DB.LogEntries(ctx, 0, n)
	if err != nil {
		t.Fatal(err)
	}
	hashes := map[int64]tlog.Hash{}
	reader := tlog.HashReaderFunc(func(ids []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ids))
		for i, id := range ids {
			out[i] = hashes[id]
		}
		return out, nil
	})
	for i, d := range data {
		hs, err := tlog.StoredHashes(int64(i), d, reader)
		if err != nil {
			t.Fatal(err)
		}
		for k, h := range hs {
			hashes[tlog.StoredHashIndex(0, int64(i))+int64(k)] = h
		}
		e, err := doclog.ParseEntry(d)
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		if r := byNumber[e.Number]; r == nil || r.answers[0].LogIndex != int64(i) || r.answers[0].SHA256 != e.SHA256 {
			t.Fatalf("entry %d is %s, answered as %+v", i, e.Number, r)
		}
	}
	root, err := tlog.TreeHash(n, reader)
	if err != nil {
		t.Fatal(err)
	}
	for i, node := range env.Nodes {
		size, r, signed, err := node.App.Log.Latest(ctx)
		// A node whose sessions were killed fails once per pooled
		// connection, as after a database restart; clients retry.
		for attempt := 0; err != nil && attempt < 10; attempt++ {
			size, r, signed, err = node.App.Log.Latest(ctx)
		}
		if err != nil || size != n || r != root {
			t.Fatalf("node %d: log size %d root %v, %v; want %d %v", i, size, r, err, n, root)
		}
		if _, err := note.Open(signed, note.VerifierList(node.App.Log.Verifier())); err != nil {
			t.Fatalf("node %d: checkpoint does not verify: %v", i, err)
		}
	}

	// Every checkpoint any node signed verifies and is a prefix of the
	// final tree, proved by a node other than its signer.
	cps, err := raw.Query(`SELECT size, root, note FROM log_checkpoints ORDER BY size`)
	if err != nil {
		t.Fatal(err)
	}
	defer cps.Close()
	count := 0
	for cps.Next() {
		var size int64
		var rootRaw, signed []byte
		if err := cps.Scan(&size, &rootRaw, &signed); err != nil {
			t.Fatal(err)
		}
		node := env.Nodes[count%len(env.Nodes)]
		count++
		nt, err := note.Open(signed, note.VerifierList(node.App.Log.Verifier()))
		if err != nil {
			t.Fatalf("checkpoint %d: %v", size, err)
		}
		c, err := doclog.ParseCheckpoint(nt.Text, node.App.Log.Origin())
		if err != nil || c.Size != size || !bytes.Equal(c.Root[:], rootRaw) {
			t.Fatalf("checkpoint %d says %+v, %v", size, c, err)
		}
		if size == 0 {
			continue // the empty tree is a prefix of any; there is no proof
		}
		p, err := node.App.Log.ConsistencyProof(ctx, size, n)
		if err != nil {
			t.Fatal(err)
		}
		if err := doclog.CheckConsistency(p, n, root, size, c.Root); err != nil {
			t.Fatalf("checkpoint %d is not a prefix of the final tree: %v", size, err)
		}
	}
	if err := cps.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d documents, %d checkpoints, from %d nodes", n, count, len(env.Nodes))

	// Documents are served by any node, a document issued on one node
	// verifies at once on the others, and a logout on one node ends the
	// session on all.
	r := reqs[0]
	a := r.answers[0]
	c := env.Login(t, env.AccountOf(t, env.World.People[env.World.Households[r.user].Head].Subject))
	var fresh apiwire.Issued
	if code := c.Do("POST", "/api/v1/issuances", map[string]any{"service": "resident-registration-abstract"}, map[string]string{"Idempotency-Key": "fresh-after-load"}, &fresh); code != http.StatusCreated {
		t.Fatalf("issue after the load: %d", code)
	}
	for i, node := range env.Nodes {
		res, err := node.App.Verifier.ByNumber(ctx, fresh.Number, fresh.SHA256)
		if err != nil || res.Status != verification.Valid || res.LogIndex != fresh.LogIndex || res.TreeSize <= fresh.LogIndex {
			t.Fatalf("node %d verifies a document just issued on node 0 as %+v, %v", i, res, err)
		}
		nt, err := note.Open(res.Checkpoint, note.VerifierList(node.App.Log.Verifier()))
		if err != nil {
			t.Fatal(err)
		}
		cp, err := doclog.ParseCheckpoint(nt.Text, node.App.Log.Origin())
		if err != nil || doclog.CheckInclusion(res.InclusionProof, cp.Size, cp.Root, res.LogIndex, mustEntry(t, env, fresh.Number)) != nil {
			t.Fatalf("node %d: inclusion proof of the fresh document does not check: %v", i, err)
		}
	}
	for i, node := range env.Nodes {
		resp, pdf := c.On(node).Raw("GET", a.Document, nil, nil)
		sum := sha256.Sum256(pdf)
		if resp.StatusCode != 200 || hex.EncodeToString(sum[:]) != a.SHA256 {
			t.Fatalf("node %d served %s with status %d, sha256 %x", i, a.Document, resp.StatusCode, sum)
		}
	}
	if code := c.On(env.Nodes[1]).Do("POST", "/api/v1/logout", nil, nil, nil); code != 200 {
		t.Fatalf("logout: %d", code)
	}
	for i, node := range env.Nodes {
		if code := c.On(node).Do("GET", "/api/v1/me", nil, nil, nil); code != 401 {
			t.Fatalf("node %d accepts a session ended on node 1: %d", i, code)
		}
	}
}

// BenchmarkIssue measures issuances/s through the HTTP API with 32
// concurrent clients spread over one or three app nodes. Nodes share the
// machine's cores here, so more nodes measure coordination cost, not
// capacity.
func BenchmarkIssue(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		for _, nodes := range []int{1, 3} {
			b.Run(fmt.Sprintf("%s/nodes=%d", backend, nodes), func(b *testing.B) {
				be := storetest.SQLite(b)
				if backend == "postgres" {
					be = storetest.Postgres(b)
				}
				off := guard.Off()
				env := apptest.StartOpts(b, 200, 31, apptest.Options{Backend: &be, Nodes: nodes, Limits: &off})
				w := env.World
				clients := make([]*apptest.Client, 16)
				for i := range clients {
					clients[i] = env.LoginOn(b, env.Nodes[i%nodes], env.AccountOf(b, w.People[w.Households[i].Head].Subject))
				}
				var next atomic.Int64
				b.SetParallelism(32 / runtime.GOMAXPROCS(0))
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						i := next.Add(1)
						c := clients[int(i)%len(clients)].On(env.Nodes[int(i)%nodes])
						resp, data, err := c.Try("POST", "/api/v1/issuances", map[string]any{"service": "resident-registration-abstract"},
							map[string]string{"Idempotency-Key": fmt.Sprintf("bench-%d", i)})
						if err != nil || resp.StatusCode != http.StatusCreated {
							b.Errorf("issue: %v %s", err, data)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "issuances/s")
			})
		}
	}
}
