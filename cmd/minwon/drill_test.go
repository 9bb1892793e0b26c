package main

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/loadtest"
	"github.com/minwon/minwon/internal/pgpair/pgpairtest"
)

// runMainEnv makes the test binary run as minwon itself, so tests can
// start real minwon processes (and kill -9 them) without building one.
const runMainEnv = "MINWON_TEST_RUN_MAIN=1"

func TestMain(m *testing.M) {
	if os.Getenv("MINWON_TEST_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// runDrill runs the alternate-site drill with this test binary as minwon,
// on any free ports, and logs its progress if the test fails (or -v).
func runDrill(t *testing.T, opt loadtest.SiteOptions) *loadtest.SiteResult {
	t.Helper()
	pgpairtest.Require(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	progress := &timedWriter{}
	t.Cleanup(func() {
		if t.Failed() || testing.Verbose() {
			t.Log(progress.String())
		}
	})
	opt.Minwon, opt.Env, opt.Progress = exe, []string{runMainEnv}, progress
	res, err := loadtest.RunSiteDrill(t.Context(), opt)
	if err != nil {
		t.Fatal(err)
	}
	res.Print(progress)
	return res
}

// The alternate-site drill, small: site A's node and cluster are lost
// under load, site B is promoted and takes over; no number a client
// received is lost or reused, B's log extends every checkpoint seen on A,
// documents from both sites verify with minwon verify. Everything is
// stopped and removed afterwards, also when the drill fails.
func TestAlternateSiteDrill(t *testing.T) {
	res := runDrill(t, loadtest.SiteOptions{People: 200, Logins: 40, Concurrency: 8, KillAfter: 40, Duration: 6 * time.Second, VerifyCLI: 4})
	if !res.OK() {
		t.Errorf("the drill failed: %v", res.Problems)
	}
	switch {
	case res.Lost != 0 || res.Reused != 0:
		t.Errorf("lost %d, reused %d", res.Lost, res.Reused)
	case res.DocsBefore < 40 || res.DocsAfter == 0:
		t.Errorf("documents before the loss %d, after %d: the load did not span it", res.DocsBefore, res.DocsAfter)
	case res.CheckpointsSeen == 0 || res.ConsistencyProofs != res.CheckpointsSeen:
		t.Errorf("%d of %d checkpoints seen on A proven prefixes of B's tree", res.ConsistencyProofs, res.CheckpointsSeen)
	case res.VerifyCLIChecked != 4 || res.VerifyCLIValid != 4:
		t.Errorf("minwon verify: %d of %d valid", res.VerifyCLIValid, res.VerifyCLIChecked)
	case res.ResumeSeconds <= 0 || res.ResumeSeconds < res.NodeReadySec:
		t.Errorf("time to resume %.2fs, node ready %.2fs", res.ResumeSeconds, res.NodeReadySec)
	}
}

// The drill's checks fail when they should: with asynchronous replication
// and the link between the sites cut, site B misses what site A issued,
// and the drill reports those numbers lost and their log indices reused.
func TestAlternateSiteDrillCatchesLoss(t *testing.T) {
	res := runDrill(t, loadtest.SiteOptions{People: 100, Logins: 20, Concurrency: 4, KillAfter: 20, Duration: 4 * time.Second,
		VerifyCLI: 2, Check: "none", UnsafeAsynchronous: true})
	if res.OK() {
		t.Fatal("the drill passed although site B lacked everything site A issued")
	}
	if res.Lost < int64(res.DocsBefore) || res.Reused == 0 || res.ConsistencyProofs == res.CheckpointsSeen {
		t.Errorf("lost %d of %d documents from site A, reused %d, %d of %d checkpoints proven: the loss was not fully seen",
			res.Lost, res.DocsBefore, res.Reused, res.ConsistencyProofs, res.CheckpointsSeen)
	}
}

// timedWriter keeps what is written, each write prefixed with the time
// since the first, to see where a slow run spent its time.
type timedWriter struct {
	mu    sync.Mutex
	start time.Time
	b     strings.Builder
}

func (w *timedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.start.IsZero() {
		w.start = time.Now()
	}
	fmt.Fprintf(&w.b, "%6.2fs %s", time.Since(w.start).Seconds(), p)
	return len(p), nil
}

func (w *timedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
