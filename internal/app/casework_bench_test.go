package app_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/agency"
	"github.com/minwon/minwon/internal/app"
	"github.com/minwon/minwon/internal/apptest"
	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/storetest"
)

// BenchmarkCaseworkBacklog submits a backlog of move-in reports over the
// API while the registry is down (10,000 per run; run it with
// -benchtime 1x), then heals the registry and measures the time until every
// job is done. Linkage keeps its production breaker (5 failures open it
// for 1s here), the queue backs off from 100ms to 2s. SQLite by default;
// MINWON_BENCH_POSTGRES=1 (with MINWON_TEST_POSTGRES) runs it on PostgreSQL,
// on River, or on the table queue with MINWON_BENCH_QUEUE=table;
// MINWON_BENCH_QUEUE=river runs SQLite on River (riversqlite).
func BenchmarkCaseworkBacklog(b *testing.B) {
	const backlog, clients, perPerson = 10_000, 16, 50
	opt := apptest.Options{
		Linkage:  &linkage.Options{BreakerCooldown: time.Second},
		Casework: app.CaseworkOptions{Backoff: 100 * time.Millisecond, MaxBackoff: 2 * time.Second, Poll: 100 * time.Millisecond},
	}
	if os.Getenv("MINWON_BENCH_POSTGRES") != "" {
		pg := storetest.Postgres(b)
		opt.Backend = &pg
		opt.Casework.TableQueue = os.Getenv("MINWON_BENCH_QUEUE") == "table"
	} else {
		opt.Casework.RiverOnSQLite = os.Getenv("MINWON_BENCH_QUEUE") == "river"
	}
	env := apptest.StartOpts(b, 600, 77, opt)
	var people []*apptest.Client
	for i := 0; len(people) < backlog/perPerson; i++ {
		p := &env.World.People[i]
		if p.BirthDate.AddDate(19, 0, 0).After(time.Now()) {
			continue
		}
		people = append(people, env.Login(b, env.AccountOf(b, p.Subject)))
	}
	reg := env.Agencies[linkage.Registry]
	reg.SetFaults(agency.Faults{Error: 1})
	moved := time.Now().In(kst).AddDate(0, 0, -1).Format("2006-01-02")
	b.ResetTimer()
	for range b.N {
		var next atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					k := int(next.Add(1)) - 1
					if k >= backlog {
						return
					}
					c := people[k%len(people)]
					body := map[string]any{"service": "move-in-report", "payload": map[string]any{
						"new_address": fmt.Sprintf("서울특별시 관악구 행운로 %d", k+1), "moved_in": moved}}
					if code := c.Do("POST", "/api/v1/applications", body, newKey(), nil); code != http.StatusAccepted {
						b.Errorf("submit %d: %d", k, code)
						return
					}
				}
			}()
		}
		wg.Wait()
		submitted := time.Since(start)
		b.ReportMetric(float64(backlog)/submitted.Seconds(), "submissions/s")
		ctx := context.Background()
		counts, _ := env.DB.JobCounts(ctx)
		if counts["done"] != 0 {
			b.Fatalf("jobs done while the registry was down: %v", counts)
		}
		reg.SetFaults(agency.Faults{})
		healed := time.Now()
		for {
			counts, err := env.DB.JobCounts(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if counts["pending"] == 0 {
				break
			}
			if time.Since(healed) > 30*time.Minute {
				b.Fatalf("backlog not drained after 30 minutes: %v", counts)
			}
			time.Sleep(50 * time.Millisecond)
		}
		drain := time.Since(healed)
		b.ReportMetric(drain.Seconds(), "s-to-drain")
		b.ReportMetric(float64(backlog)/drain.Seconds(), "completions/s")
		b.StopTimer()
		reg.SetFaults(agency.Faults{Error: 1})
		b.StartTimer()
	}
}
