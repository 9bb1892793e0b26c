// Package health owns minwon's health endpoints: /livez (the process
// answers) and /readyz (this node can issue: its checks pass). Readiness
// checks only what one node owns — its database, its signing keys, its
// log writer, its checkpoint's age — and never the agencies: one agency
// down must not take every node out of the load balancer, it degrades only
// the services that need it (see /status). A failed check is answered 503
// with the check's name and a short fixed reason; the error itself is
// logged, never shown.
package health

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"
)

// Check is one readiness check.
type Check struct {
	Name   string // e.g. "database"
	Reason string // what a failure says publicly, e.g. "database ping failed"
	Func   func(ctx context.Context) error
}

// Checker answers /livez and /readyz.
type Checker struct {
	Checks  []Check
	Timeout time.Duration // for all checks together; default 2s
	Log     *slog.Logger
}

// Failure is one failed check in a 503 answer.
type Failure struct {
	Check  string `json:"check"`
	Reason string `json:"reason"`
}

// Answer is the body of /readyz (and /livez).
type Answer struct {
	Status string    `json:"status"` // "ok" or "not_ready"
	Failed []Failure `json:"failed,omitempty"`
}

// Ready runs every check and returns the failures.
func (c *Checker) Ready(ctx context.Context) []Failure {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var failed []Failure
	for _, ch := range c.Checks {
		if err := ch.Func(ctx); err != nil {
			failed = append(failed, Failure{Check: ch.Name, Reason: ch.Reason})
			if c.Log != nil {
				c.Log.WarnContext(ctx, "not ready", "check", ch.Name, "err", err)
			}
		}
	}
	return failed
}

// Register adds GET /livez and GET /readyz to mux.
func (c *Checker) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, r *http.Request) {
		write(w, http.StatusOK, Answer{Status: "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if failed := c.Ready(r.Context()); len(failed) > 0 {
			write(w, http.StatusServiceUnavailable, Answer{Status: "not_ready", Failed: failed})
			return
		}
		write(w, http.StatusOK, Answer{Status: "ok"})
	})
}

func write(w http.ResponseWriter, status int, a Answer) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(a)
}

// MaxAge fails when the time at returns is older than max (or zero):
// for the log's newest checkpoint, which a live writer signs again at
// least every doclog.FreshEvery.
func MaxAge(at func() time.Time, max time.Duration, now func() time.Time) func(context.Context) error {
	return func(context.Context) error {
		t := at()
		if t.IsZero() {
			return errNoTime
		}
		if age := now().Sub(t); age > max {
			return &ageError{age: age, max: max}
		}
		return nil
	}
}

type healthError string

func (e healthError) Error() string { return string(e) }

const errNoTime = healthError("health: no time known")

type ageError struct{ age, max time.Duration }

func (e *ageError) Error() string {
	return "health: " + e.age.Round(time.Second).String() + " old, more than " + e.max.String()
}
