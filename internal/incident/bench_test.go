package incident_test

import (
	"context"
	"fmt"
	"github.com/minwon/minwon/internal/notify"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/incident"
	"github.com/minwon/minwon/internal/store"
	"github.com/minwon/minwon/internal/storetest"
)

// countingNotifier queues each notice in the durable outbox, as the app
// does, and counts them.
type countingNotifier struct {
	outbox *notify.Outbox
	n      atomic.Int64
}

func (c *countingNotifier) SubjectNotice(subject, kind, title, body string) (notify.Notice, error) {
	c.n.Add(1)
	return c.outbox.SubjectNotice(subject, kind, title, body)
}

// BenchmarkRecall is the recall target's harness: it seeds
// MINWON_RECALL_DOCS (default 100,000) issued documents through the log
// (a row and an issued entry each, sealed, as the pipeline stores them;
// not timed), then times a recall of all of them: creation (selection,
// the reason checked against every subject's name, the items written),
// approval, the run (every revocation logged in the log's group commits,
// each item marked in the same transaction), the affected subjects listed
// and a notice per subject queued in the durable outbox. Run it once:
//
//	go test -run '^$' -bench Recall -benchtime 1x ./internal/incident
//
// With MINWON_TEST_POSTGRES set it also runs on PostgreSQL.
func BenchmarkRecall(b *testing.B) {
	n := 100_000
	if v := os.Getenv("MINWON_RECALL_DOCS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("sqlite", func(b *testing.B) { benchRecall(b, storetest.SQLite(b), n) })
	if os.Getenv(storetest.EnvPostgres) != "" {
		b.Run("postgres", func(b *testing.B) { benchRecall(b, storetest.Postgres(b), n) })
	}
}

func benchRecall(b *testing.B, be storetest.Backend, n int) {
	ctx := context.Background()
	for range b.N {
		b.StopTimer()
		e := newEnv(b, be)
		docs := make([]doc, n)
		subjects := n / 2
		var index []store.IndexRow
		for s := range subjects {
			index = append(index, store.IndexRow{Digest: fmt.Appendf(nil, "hmac-%08d-padding-to-32-bytes!", s), Kind: "rrn", Subject: fmt.Sprintf("P%08d", s)})
		}
		for i := range docs {
			docs[i] = doc{service: "grade-certificate", key: "doc-bench", subject: fmt.Sprintf("P%08d", i%subjects), requester: fmt.Sprintf("login%06d", i%(n/3+1)), name: "김민준", at: day.Add(time.Duration(i) * time.Second)}
		}
		t0 := time.Now()
		e.seed(b, docs)
		if err := e.db.PutSubjectIndex(ctx, index); err != nil {
			b.Fatal(err)
		}
		b.Logf("seeded %d documents and %d subject-index rows in %s", n, subjects, time.Since(t0).Round(time.Millisecond))
		notifier := &countingNotifier{outbox: &notify.Outbox{Store: e.db}}
		if os.Getenv("MINWON_RECALL_NO_NOTIFY") == "" {
			e.svc.Notifier = notifier
		}
		b.StartTimer()

		cpu0 := cpuTime()
		start := time.Now()
		rc, err := e.svc.CreateRecall(ctx, "op001", incident.Filter{Service: "grade-certificate"}, "wrong_template", 1)
		if err != nil {
			b.Fatal(err)
		}
		created := time.Since(start)
		if _, err := e.svc.Approve(ctx, "op002", rc.ID); err != nil {
			b.Fatal(err)
		}
		e.svc.Wait()
		ran := time.Since(start)
		d, err := e.svc.Show(ctx, rc.IncidentID, 20)
		if err != nil {
			b.Fatal(err)
		}
		total := time.Since(start)
		cpu := cpuTime() - cpu0

		b.StopTimer()
		r, err := e.svc.RecallStatus(ctx, rc.ID)
		if err != nil {
			b.Fatal(err)
		}
		if r.State != incident.Done || r.Items[incident.ItemRevoked] != n || len(d.Subjects) != subjects || (e.svc.Notifier != nil && notifier.n.Load() != int64(subjects)) {
			b.Fatalf("recall %+v, %d subjects listed, %d notices", r.Items, len(d.Subjects), notifier.n.Load())
		}
		b.Logf("%s: %d documents recalled, %d subjects listed and notified in %s (create %s, a standard reason: no names check; approve+run+notify %s; show %s): %.0f documents/s",
			be.Name, n, subjects, total.Round(time.Millisecond), created.Round(time.Millisecond), (ran - created).Round(time.Millisecond), (total - ran).Round(time.Millisecond), float64(n)/total.Seconds())
		b.Logf("process CPU during the recall: %s (%.0f µs per document); the machine's load average: %s", cpu.Round(time.Millisecond), float64(cpu.Microseconds())/float64(n), loadAvg())
		b.ReportMetric(total.Seconds(), "s/recall")
		b.ReportMetric(float64(n)/total.Seconds(), "docs/s")
		b.StartTimer()
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAvg is /proc/loadavg's first three fields, where there is one: the
// figure depends on what else the machine runs.
func loadAvg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
