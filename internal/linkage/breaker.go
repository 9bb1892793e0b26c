package linkage

import (
	"sync"
	"time"
)

// BreakerState is the state of one agency's circuit breaker.
type BreakerState string

const (
	Closed   BreakerState = "closed"    // calls flow
	Open     BreakerState = "open"      // calls fail fast until the cooldown ends
	HalfOpen BreakerState = "half_open" // one probe call decides
)

// breaker opens after threshold consecutive failures, stays open for
// cooldown, then lets a single probe through; the probe's result closes or
// reopens it. Failing fast keeps a dead agency from tying up every request
// for the length of its timeouts.
type breaker struct {
	threshold int
	cooldown  time.Duration
	now       func() time.Time

	mu       sync.Mutex
	state    BreakerState
	failures int
	openedAt time.Time
	probing  bool
	lastErr  error
}

func newBreaker(threshold int, cooldown time.Duration, now func() time.Time) *breaker {
	return &breaker{threshold: threshold, cooldown: cooldown, now: now, state: Closed}
}

// allow reports whether a call may go out; if not, how long until it may.
func (b *breaker) allow() (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case Open:
		wait := b.cooldown - b.now().Sub(b.openedAt)
		if wait > 0 {
			return false, wait
		}
		b.state = HalfOpen
		b.probing = true
		return true, 0
	case HalfOpen:
		if b.probing {
			return false, b.cooldown
		}
		b.probing = true
		return true, 0
	}
	return true, 0
}

func (b *breaker) success() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.state = Closed
	b.failures = 0
	b.probing = false
	b.lastErr = nil
}

func (b *breaker) failure(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lastErr = err
	b.failures++
	if b.state == HalfOpen || b.failures >= b.threshold {
		b.state = Open
		b.openedAt = b.now()
		b.probing = false
	}
}

// done releases a half-open probe slot that ended without a verdict on the
// agency's health (e.g. the caller's context was cancelled).
func (b *breaker) done() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == HalfOpen {
		b.probing = false
	}
}

func (b *breaker) snapshot() (BreakerState, int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state, b.failures, b.lastErr
}
