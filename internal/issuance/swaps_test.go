package issuance

import (
	"context"
	"sync"
	"testing"
	"time"
)

type openedIncidents struct {
	mu    sync.Mutex
	kinds []string
}

func (o *openedIncidents) OpenIncident(_ context.Context, kind string, _ int, _ string, _ []string) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.kinds = append(o.kinds, kind)
	return "inc", nil
}

// TestSwapWatch: the fifth swap within a minute opens one incident; more
// swaps in the same window open none; a new run after the window opens
// another; swaps spread out open none.
func TestSwapWatch(t *testing.T) {
	clock := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	in := &openedIncidents{}
	w := &SwapWatch{Incidents: in, Now: func() time.Time { return clock }}
	ctx := context.Background()
	for i := 1; i <= 8; i++ {
		id, err := w.note(ctx, "svc")
		if err != nil {
			t.Fatal(err)
		}
		if (id != "") != (i == 5) {
			t.Fatalf("swap %d: incident %q", i, id)
		}
		clock = clock.Add(time.Second)
	}
	clock = clock.Add(2 * time.Minute)
	for i := 0; i < 4; i++ {
		clock = clock.Add(20 * time.Second)
		if id, _ := w.note(ctx, "svc"); id != "" {
			t.Fatalf("spread-out swap %d opened an incident", i)
		}
	}
	for i := 0; i < 5; i++ {
		w.note(ctx, "svc")
	}
	if len(in.kinds) != 2 || in.kinds[0] != "agency_swap" {
		t.Fatalf("incidents %v, want two agency_swap", in.kinds)
	}
	var nilWatch *SwapWatch
	if id, err := nilWatch.note(ctx, "svc"); id != "" || err != nil {
		t.Fatal("a nil watch opened an incident")
	}
}
