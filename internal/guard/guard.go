// Package guard owns the per-principal limits that stop bulk access to
// personal data: how many documents one login may be issued, how many it
// may download, and how many different citizens one official may look up
// at the counter, each in a sliding window. Past a limit's alert threshold
// operators are alerted; past its block threshold the principal is blocked
// for a while, an alert is raised and, if an IncidentOpener is wired, an
// incident is opened.
//
// The windows and blocks live in the memory of one minwon process: with
// several nodes each enforces its own share, and a restart lifts a block
// (the alert and the incident stay). Package guard never sees an RRN: a
// subject is the opaque subject id.
package guard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"
)

// Actions that are limited.
const (
	Issuance = "issuance"       // a document issued (portal or counter), per requesting login
	Download = "download"       // a stored document's PDF or data.json fetched again
	Lookup   = "counter_lookup" // an official found a citizen by number: distinct citizens count
)

// Errors; the API answers both 429.
var (
	ErrLimited = errors.New("too many requests for this account in a short time; try again later")
	ErrBlocked = errors.New("this account is blocked for bulk access to personal data; operators were alerted")
)

// Rule limits one action per principal in a sliding window.
type Rule struct {
	Window time.Duration `json:"window"`
	// Alert: more than this many in the window alerts operators (once
	// per window). Block: more than this many blocks the principal.
	Alert int `json:"alert"`
	Block int `json:"block"`
	// Distinct counts different subjects rather than requests.
	Distinct bool `json:"distinct,omitempty"`
}

// Limits are the rules per action and how long a block lasts.
type Limits struct {
	Rules    map[string]Rule `json:"rules"`
	BlockFor time.Duration   `json:"block_for"`
}

// DefaultLimits: a household's documents in a minute pass (a family of six
// each with a few certificates); 150 in four seconds does not. A counter
// official serves a few citizens an hour, not a hundred.
func DefaultLimits() Limits {
	return Limits{
		Rules: map[string]Rule{
			Issuance: {Window: time.Minute, Alert: 20, Block: 40},
			Download: {Window: time.Minute, Alert: 60, Block: 120},
			Lookup:   {Window: time.Hour, Alert: 40, Block: 80, Distinct: true},
		},
		BlockFor: time.Hour,
	}
}

// Check validates the limits.
func (l Limits) Check() error {
	for a, r := range l.Rules {
		if r.Window <= 0 || r.Block <= 0 || r.Alert < 0 || r.Alert > r.Block {
			return fmt.Errorf("guard: rule %s: want window > 0 and 0 <= alert <= block, block > 0", a)
		}
	}
	if l.BlockFor <= 0 {
		return errors.New("guard: block_for must be positive")
	}
	return nil
}

// IncidentOpener opens an incident record (package incident implements
// it); it returns the incident's id.
type IncidentOpener interface {
	OpenIncident(ctx context.Context, kind string, grade int, summary string, numbers []string) (string, error)
}

// Alerter raises an operator alert (the alerts `minwon admin alerts` lists).
type Alerter interface {
	Alert(ctx context.Context, kind, principal, detail string) error
}

// Guard keeps the windows. Its zero value is not usable: call New.
type Guard struct {
	Alerts    Alerter        // required
	Incidents IncidentOpener // nil: blocks alert only
	Log       *slog.Logger
	Now       func() time.Time

	mu      sync.Mutex
	limits  Limits
	windows map[key]*window
	blocked map[string]Block
	calls   int
	unknown int
}

type key struct{ principal, action string }

type hit struct {
	at      time.Time
	subject string
}

type window struct {
	hits     []hit
	subjects map[string]int // distinct rules: hits per subject in the window
	alerted  time.Time      // when the last alert was raised
}

// Block is a blocked principal.
type Block struct {
	Principal string    `json:"principal"`
	Action    string    `json:"action"`
	Count     int       `json:"count"`
	Since     time.Time `json:"since"`
	Until     time.Time `json:"until"`
	Incident  string    `json:"incident,omitempty"`
}

// New returns a guard enforcing limits.
func New(limits Limits, alerts Alerter) (*Guard, error) {
	if err := limits.Check(); err != nil {
		return nil, err
	}
	return &Guard{Alerts: alerts, limits: limits, windows: map[key]*window{}, blocked: map[string]Block{}}, nil
}

func (g *Guard) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

// Limits returns the limits in force.
func (g *Guard) Limits() Limits {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.limits
}

// Blocked lists the principals blocked now.
func (g *Guard) Blocked() []Block {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	var out []Block
	for p, b := range g.blocked {
		if now.Before(b.Until) {
			out = append(out, b)
		} else {
			delete(g.blocked, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Since.Before(out[j].Since) })
	return out
}

// Unblock lifts principal's block and clears its windows; false if it was
// not blocked.
func (g *Guard) Unblock(principal string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, ok := g.blocked[principal]
	delete(g.blocked, principal)
	for k := range g.windows {
		if k.principal == principal {
			delete(g.windows, k)
		}
	}
	return ok
}

// Check counts one action of principal about subject ("" for an unknown
// one, which counts as a new subject) and says whether it may go ahead:
// nil, ErrLimited past the block threshold (the principal is then blocked,
// operators alerted and an incident opened), or ErrBlocked while blocked.
func (g *Guard) Check(ctx context.Context, principal, action, subject string) error {
	g.mu.Lock()
	rule, ok := g.limits.Rules[action]
	if !ok || principal == "" {
		g.mu.Unlock()
		return nil
	}
	now := g.now()
	if b, ok := g.blocked[principal]; ok {
		if now.Before(b.Until) {
			g.mu.Unlock()
			return ErrBlocked
		}
		delete(g.blocked, principal)
	}
	g.sweep(now)
	k := key{principal, action}
	w := g.windows[k]
	if w == nil {
		w = &window{subjects: map[string]int{}}
		g.windows[k] = w
	}
	// Slide: drop what fell out of the window.
	cut := now.Add(-rule.Window)
	drop := 0
	for drop < len(w.hits) && !w.hits[drop].at.After(cut) {
		if s := w.hits[drop].subject; rule.Distinct {
			if w.subjects[s]--; w.subjects[s] <= 0 {
				delete(w.subjects, s)
			}
		}
		drop++
	}
	w.hits = w.hits[drop:]
	if subject == "" {
		g.unknown++
		subject = fmt.Sprintf("\x00unknown-%d", g.unknown) // every unknown one is another
	}
	var count int
	if rule.Distinct {
		// A subject already in the window is not counted again (nor kept
		// twice: memory stays bounded by the block threshold).
		if w.subjects[subject] == 0 {
			w.hits = append(w.hits, hit{now, subject})
			w.subjects[subject] = 1
		}
		count = len(w.subjects)
	} else {
		w.hits = append(w.hits, hit{now, subject})
		count = len(w.hits)
	}
	var alert, block bool
	if count > rule.Block {
		block = true
		g.blocked[principal] = Block{Principal: principal, Action: action, Count: count, Since: now, Until: now.Add(g.limits.BlockFor)}
		delete(g.windows, k)
	} else if count > rule.Alert && (w.alerted.IsZero() || now.Sub(w.alerted) >= rule.Window) {
		alert = true
		w.alerted = now
	}
	g.mu.Unlock()

	what := "requests"
	if rule.Distinct {
		what = "different citizens"
	}
	detail := fmt.Sprintf("%s: %d %s in %v (alert above %d, block above %d)", action, count, what, rule.Window, rule.Alert, rule.Block)
	// Alerts and incidents must be written even if the client has gone.
	actx := context.WithoutCancel(ctx)
	switch {
	case block:
		g.raise(actx, "bulk_access_blocked:"+action, principal, detail+"; blocked for "+g.limits.BlockFor.String())
		if g.Incidents != nil {
			id, err := g.Incidents.OpenIncident(actx, "bulk_access", 2, "bulk access to personal data by "+principal+": "+detail, nil)
			if err != nil {
				g.logErr("open incident", err)
			} else {
				g.mu.Lock()
				if b, ok := g.blocked[principal]; ok {
					b.Incident = id
					g.blocked[principal] = b
				}
				g.mu.Unlock()
			}
		}
		return ErrLimited
	case alert:
		g.raise(actx, "bulk_access:"+action, principal, detail)
	}
	return nil
}

func (g *Guard) raise(ctx context.Context, kind, principal, detail string) {
	if g.Alerts == nil {
		return
	}
	if err := g.Alerts.Alert(ctx, kind, principal, detail); err != nil {
		g.logErr("raise alert", err)
	}
}

func (g *Guard) logErr(what string, err error) {
	if g.Log != nil {
		g.Log.Error("guard: "+what, "err", err)
	}
}

// sweep drops, every few thousand calls, the windows with nothing in them
// any more, so that memory follows the active principals only.
func (g *Guard) sweep(now time.Time) {
	g.calls++
	if g.calls%4096 != 0 {
		return
	}
	for k, w := range g.windows {
		r := g.limits.Rules[k.action]
		if len(w.hits) == 0 || !w.hits[len(w.hits)-1].at.After(now.Add(-r.Window)) {
			delete(g.windows, k)
		}
	}
}

// AlertFunc adapts a function to Alerter.
type AlertFunc func(ctx context.Context, kind, principal, detail string) error

// Alert implements Alerter.
func (f AlertFunc) Alert(ctx context.Context, kind, principal, detail string) error {
	return f(ctx, kind, principal, detail)
}

// Off is no limit at all: for load harnesses, whose synthetic clients
// are bulk access by design.
func Off() Limits { return Limits{Rules: map[string]Rule{}, BlockFor: time.Hour} }
