package linkage

import (
	"errors"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestBreaker(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	b := newBreaker(3, 10*time.Second, clk.now)
	boom := errors.New("boom")

	for i := 0; i < 2; i++ {
		if ok, _ := b.allow(); !ok {
			t.Fatalf("closed breaker refused call %d", i)
		}
		b.failure(boom)
	}
	if st, _, _ := b.snapshot(); st != Closed {
		t.Fatalf("state after 2 failures = %s, want closed", st)
	}
	b.allow()
	b.failure(boom)
	if st, _, _ := b.snapshot(); st != Open {
		t.Fatalf("state after 3 failures = %s, want open", st)
	}
	ok, wait := b.allow()
	if ok || wait != 10*time.Second {
		t.Fatalf("open breaker: allow = %v, wait %s; want refused, 10s", ok, wait)
	}

	clk.add(10 * time.Second)
	if ok, _ := b.allow(); !ok {
		t.Fatal("breaker refused the half-open probe")
	}
	if ok, _ := b.allow(); ok {
		t.Fatal("breaker let a second call through while probing")
	}
	b.failure(boom)
	if st, _, _ := b.snapshot(); st != Open {
		t.Fatalf("failed probe left state %s, want open", st)
	}

	clk.add(10 * time.Second)
	if ok, _ := b.allow(); !ok {
		t.Fatal("breaker refused the second probe")
	}
	b.success()
	if st, n, err := b.snapshot(); st != Closed || n != 0 || err != nil {
		t.Fatalf("after a good probe: %s, %d failures, %v; want closed, 0, nil", st, n, err)
	}
}

func TestBreakerSuccessResetsCount(t *testing.T) {
	b := newBreaker(2, time.Second, time.Now)
	b.failure(errors.New("x"))
	b.success()
	b.failure(errors.New("x"))
	if st, _, _ := b.snapshot(); st != Closed {
		t.Fatalf("non-consecutive failures opened the breaker")
	}
}
