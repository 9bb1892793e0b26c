package guard_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/guard"
)

type alerts struct {
	mu   sync.Mutex
	list []string
}

func (a *alerts) Alert(_ context.Context, kind, principal, detail string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.list = append(a.list, kind+" "+principal+" "+detail)
	return nil
}

type incidents struct{ opened []string }

func (i *incidents) OpenIncident(_ context.Context, kind string, grade int, summary string, _ []string) (string, error) {
	i.opened = append(i.opened, fmt.Sprintf("%s/%d %s", kind, grade, summary))
	return fmt.Sprintf("INC-%d", len(i.opened)), nil
}

func newGuard(t *testing.T, clock *time.Time) (*guard.Guard, *alerts, *incidents) {
	t.Helper()
	al, inc := &alerts{}, &incidents{}
	g, err := guard.New(guard.Limits{
		Rules: map[string]guard.Rule{
			guard.Issuance: {Window: 10 * time.Second, Alert: 3, Block: 5},
			guard.Lookup:   {Window: time.Hour, Alert: 2, Block: 4, Distinct: true},
		},
		BlockFor: time.Minute,
	}, al)
	if err != nil {
		t.Fatal(err)
	}
	g.Incidents, g.Now = inc, func() time.Time { return *clock }
	return g, al, inc
}

func TestSlidingWindowAlertsThenBlocks(t *testing.T) {
	clock := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	g, al, inc := newGuard(t, &clock)
	ctx := t.Context()
	check := func(p string) error { return g.Check(ctx, p, guard.Issuance, "s-1") }
	// Five in a window pass; the third is above the alert threshold.
	for i := range 5 {
		if err := check("u1"); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		clock = clock.Add(time.Second)
	}
	if len(al.list) != 1 || !strings.HasPrefix(al.list[0], "bulk_access:issuance u1") {
		t.Fatalf("alerts %v", al.list)
	}
	// The window slides: after the first requests fall out, more pass.
	clock = clock.Add(6 * time.Second) // the first two are now older than 10s
	for i := range 2 {
		if err := check("u1"); err != nil {
			t.Fatalf("after sliding, request %d: %v", i+1, err)
		}
	}
	// The sixth in a window blocks: alert, incident, then refused for BlockFor.
	if err := check("u1"); !errors.Is(err, guard.ErrLimited) {
		t.Fatalf("sixth in the window: %v", err)
	}
	if len(inc.opened) != 1 || !strings.HasPrefix(inc.opened[0], "bulk_access/2") {
		t.Errorf("incidents %v", inc.opened)
	}
	if err := check("u1"); !errors.Is(err, guard.ErrBlocked) {
		t.Errorf("while blocked: %v", err)
	}
	if b := g.Blocked(); len(b) != 1 || b[0].Principal != "u1" || b[0].Incident != "INC-1" {
		t.Errorf("blocked %+v", b)
	}
	// Others are not affected.
	if err := check("u2"); err != nil {
		t.Errorf("another login: %v", err)
	}
	// The block ends by itself, or by an operator.
	clock = clock.Add(time.Minute)
	if err := check("u1"); err != nil {
		t.Errorf("after the block: %v", err)
	}
	for range 6 {
		check("u2")
	}
	if !g.Unblock("u2") || g.Unblock("u2") {
		t.Error("unblock")
	}
	if err := check("u2"); err != nil {
		t.Errorf("after unblocking: %v", err)
	}
}

// Looking up the same citizen again is not bulk access; many different
// ones (or numbers that belong to nobody) is.
func TestDistinctSubjects(t *testing.T) {
	clock := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	g, _, inc := newGuard(t, &clock)
	ctx := t.Context()
	for range 50 {
		if err := g.Check(ctx, "official:c1", guard.Lookup, "s-1"); err != nil {
			t.Fatalf("the same citizen again: %v", err)
		}
	}
	for _, s := range []string{"s-2", "", "s-3"} {
		if err := g.Check(ctx, "official:c1", guard.Lookup, s); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
	}
	if err := g.Check(ctx, "official:c1", guard.Lookup, ""); !errors.Is(err, guard.ErrLimited) {
		t.Fatalf("fifth different citizen: %v", err)
	}
	if len(inc.opened) != 1 || !strings.Contains(inc.opened[0], "different citizens") {
		t.Errorf("incidents %v", inc.opened)
	}
}

// Concurrent requests cannot slip past the block threshold together.
func TestConcurrentBurst(t *testing.T) {
	clock := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	g, _, _ := newGuard(t, &clock)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 150 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if g.Check(context.Background(), "u1", guard.Issuance, "s-1") == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ok != 5 {
		t.Errorf("%d of 150 concurrent requests passed, want 5", ok)
	}
}

func TestLimitsCheck(t *testing.T) {
	if err := guard.DefaultLimits().Check(); err != nil {
		t.Fatal(err)
	}
	bad := guard.DefaultLimits()
	bad.Rules[guard.Issuance] = guard.Rule{Window: time.Minute, Alert: 50, Block: 10}
	if err := bad.Check(); err == nil {
		t.Error("alert above block accepted")
	}
}

func TestParseLimits(t *testing.T) {
	l, err := guard.ParseLimits([]byte(`{"rules":{"issuance":{"window":"30s","alert":5,"block":10}},"block_for":"2h"}`))
	if err != nil || l.Rules[guard.Issuance] != (guard.Rule{Window: 30 * time.Second, Alert: 5, Block: 10}) || l.BlockFor != 2*time.Hour ||
		l.Rules[guard.Lookup] != guard.DefaultLimits().Rules[guard.Lookup] {
		t.Fatalf("%+v %v", l, err)
	}
	for _, bad := range []string{
		`{"rules":{"issuance":{"window":"30s","alert":5,"block":10,"x":1}}}`,
		`{"rules":{"printing":{"window":"30s","alert":5,"block":10}}}`,
		`{"rules":{"issuance":{"window":"soon","alert":5,"block":10}}}`,
		`{"rules":{"issuance":{"window":"-1s","alert":5,"block":10}}}`,
		`{"rules":{"issuance":{"window":"1s","alert":50,"block":10}}}`,
		`{"block_for":"0s"}`,
		`{} {}`,
		`[]`,
	} {
		if _, err := guard.ParseLimits([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func FuzzParseLimits(f *testing.F) {
	f.Add([]byte(`{"rules":{"issuance":{"window":"30s","alert":5,"block":10}},"block_for":"2h"}`))
	f.Add([]byte(`{"rules":{"counter_lookup":{"window":"1h","alert":1,"block":2,"distinct":true}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := guard.ParseLimits(data)
		if err != nil {
			return
		}
		if err := l.Check(); err != nil {
			t.Fatalf("parsed limits fail their check: %v", err)
		}
		if _, err := guard.New(l, nil); err != nil {
			t.Fatal(err)
		}
	})
}
