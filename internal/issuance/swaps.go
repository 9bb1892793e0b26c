package issuance

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// IncidentOpener opens an incident (package incident implements it).
type IncidentOpener interface {
	OpenIncident(ctx context.Context, kind string, grade int, summary string, numbers []string) (string, error)
}

// SwapWatch opens an incident when agencies answer with another request's
// data more than Threshold times within Window: each such answer is
// refused (nothing is issued), but many of them mean an agency or the path
// to it is broken, and someone must look. One incident per window.
type SwapWatch struct {
	Incidents IncidentOpener
	Threshold int           // default 5
	Window    time.Duration // default 1 minute
	Now       func() time.Time

	mu     sync.Mutex
	seen   []time.Time
	opened time.Time
}

func (w *SwapWatch) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

// note counts one swap refusal of service and opens an incident when
// there were too many; it returns the incident's id, or "".
func (w *SwapWatch) note(ctx context.Context, service string) (string, error) {
	if w == nil || w.Incidents == nil {
		return "", nil
	}
	threshold, window := w.Threshold, w.Window
	if threshold <= 0 {
		threshold = 5
	}
	if window <= 0 {
		window = time.Minute
	}
	now := w.now()
	w.mu.Lock()
	keep := w.seen[:0]
	for _, t := range w.seen {
		if now.Sub(t) < window {
			keep = append(keep, t)
		}
	}
	w.seen = append(keep, now)
	n := len(w.seen)
	open := n >= threshold && (w.opened.IsZero() || now.Sub(w.opened) >= window)
	if open {
		w.opened = now
	}
	w.mu.Unlock()
	if !open {
		return "", nil
	}
	summary := fmt.Sprintf("%d agency answers with another request's data within %s (latest for %s); each was refused and nothing was issued with them; check the agencies and the linkage path", n, window, service)
	return w.Incidents.OpenIncident(context.WithoutCancel(ctx), "agency_swap", 2, summary, nil)
}
