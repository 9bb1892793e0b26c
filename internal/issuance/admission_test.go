package issuance

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A request waits while every slot is taken, and gives up with its context.
func TestAdmissionWaitsForASlot(t *testing.T) {
	a := (&Pipeline{}).Admit(2)
	if cap(a.slots) != 2 {
		t.Fatalf("%d slots, want 2", cap(a.slots))
	}
	a.slots <- struct{}{}
	a.slots <- struct{}{} // both taken
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := a.Issue(ctx, Request{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's", err)
	}
	if waited := time.Since(start); waited < 40*time.Millisecond {
		t.Errorf("gave up after %s, before its context ended", waited)
	}
	if len(a.slots) != 2 {
		t.Errorf("a request that never ran holds a slot: %d taken", len(a.slots))
	}
	if d := (&Pipeline{}).Admit(0); cap(d.slots) < 2 {
		t.Errorf("default bound %d", cap(d.slots))
	}
}
