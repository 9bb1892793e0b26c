package issuance

import (
	"context"
	"fmt"
	"runtime"
)

// Admission bounds how many issuances of one channel run at once. The
// portal and the counter share one pipeline, one log and two cores; bounding
// the portal's share keeps a flood of citizens from taking every core while
// an official issues at the counter (in the load harness a 256-client flood
// cut counter issuance to 8% of its rate without it). A request waits for a
// slot, or for its context to end.
type Admission struct {
	*Pipeline
	slots chan struct{}
}

// Admit returns p bounded to n issuances in flight; n ≤ 0 means two per
// core.
func (p *Pipeline) Admit(n int) *Admission {
	if n <= 0 {
		n = 2 * runtime.GOMAXPROCS(0)
	}
	return &Admission{Pipeline: p, slots: make(chan struct{}, n)}
}

// Issue issues once a slot is free.
func (a *Admission) Issue(ctx context.Context, r Request) (*Issued, error) {
	select {
	case a.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting to issue: %w", ctx.Err())
	}
	defer func() { <-a.slots }()
	return a.Pipeline.Issue(ctx, r)
}
