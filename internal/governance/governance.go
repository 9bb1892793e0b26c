// Package governance owns the life of service templates and schemas after
// they ship: versions kept in the database and never changed, the
// lifecycle submitted → approved by two officials other than the author
// (one a privacy officer) → canary → active, with rejection and rollback at
// any point, the automatic checks at submission (schema binding, golden
// renders of synthetic subjects scanned for personal data, a text diff
// against the active version), and the canary that serves a deterministic
// share of requests and rolls back at once on a privacy refusal.
//
// In 2024 a template change printed a CEO's name and RRN on 587 corporate
// certificates, found weeks later. Here the same edit is refused at
// submission naming the slot and the class; forced into the database
// behind the checks, it is refused before any agency is asked, on its
// first canary request, rolled back, and an incident is opened.
package governance

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/linkage"
)

// Kind says what a version is of.
type Kind string

const (
	TemplateKind Kind = "template" // layout and labels; which slots it shows
	SchemaKind   Kind = "schema"   // what each slot holds; changed with a privacy officer
)

// State is where a version is in its lifecycle.
type State string

const (
	Submitted  State = "submitted"   // passed the automatic checks, waiting for approvals
	Canary     State = "canary"      // approved; serves a share of requests
	Active     State = "active"      // serves every request not in a canary
	Retired    State = "retired"     // was active; superseded, kept to explain old documents
	Rejected   State = "rejected"    // refused by an approver
	RolledBack State = "rolled_back" // withdrawn from canary or from active
)

// Version is one stored version of a template or schema. Body is never
// changed once stored; Digest is its SHA-256.
type Version struct {
	Service   string
	Kind      Kind
	Number    int
	State     State
	Digest    string
	Body      []byte
	Author    string
	CreatedAt time.Time
	UpdatedAt time.Time
	Checks    Checks
	Canary    CanaryCount
}

// CanaryCount is how a canary has gone so far.
type CanaryCount struct {
	StartedAt time.Time
	Issued    int // documents issued with the canary version
	Refused   int // its requests refused by pre-issuance verification
}

// Checks is the report of the automatic checks at submission, shown to
// approvers.
type Checks struct {
	Goldens []GoldenResult `json:"goldens"`
	// Diff is the text of the golden renders, active version against this
	// one, in unified form; empty when nothing printed changes.
	Diff string `json:"diff"`
}

// GoldenResult is one golden render of the submitted version.
type GoldenResult struct {
	Case  string `json:"case"`
	Lines int    `json:"lines"` // strings drawn
}

// Approval is one official's approval of a version.
type Approval struct {
	Service  string
	Kind     Kind
	Number   int
	Approver string
	Role     Role
	At       time.Time
}

// Event is one attributed step in a version's life.
type Event struct {
	Service string
	Kind    Kind
	Number  int
	At      time.Time
	Actor   string
	Action  string
	Note    string
}

// Change moves one version from one state to another.
type Change struct {
	Service  string
	Kind     Kind
	Number   int
	From, To State
}

// Store is what governance keeps in the database.
type Store interface {
	// FormVersions returns every stored version, bodies included.
	FormVersions(ctx context.Context) ([]Version, error)
	// InsertFormVersion stores a new version and its event; ErrExists if
	// its number is taken.
	InsertFormVersion(ctx context.Context, v Version, e Event) error
	// ChangeFormStates applies all changes and records e, or none: ErrStale
	// if any version is no longer in its From state.
	ChangeFormStates(ctx context.Context, changes []Change, e Event) error
	// AddFormApproval records an approval; ErrApprovedTwice if the
	// approver already approved that version.
	AddFormApproval(ctx context.Context, a Approval, e Event) error
	FormApprovals(ctx context.Context, service string) ([]Approval, error)
	FormEvents(ctx context.Context, service string) ([]Event, error)
	AddFormEvent(ctx context.Context, e Event) error
	// CountCanary adds to a canary version's counts.
	CountCanary(ctx context.Context, service string, number, issued, refused int) error
	// IssuancesOfTemplate lists the numbers of the documents rendered with
	// that template version.
	IssuancesOfTemplate(ctx context.Context, service string, version int, digest string) ([]string, error)
}

// Errors of the store.
var (
	ErrExists        = errors.New("governance: version exists")
	ErrStale         = errors.New("governance: the version changed state meanwhile")
	ErrApprovedTwice = errors.New("governance: already approved by this official")
)

// IncidentOpener opens an incident record (package incident implements it).
type IncidentOpener interface {
	OpenIncident(ctx context.Context, kind string, grade int, summary string, numbers []string) (string, error)
}

// Revoker revokes one issued document with a public reason.
type Revoker interface {
	Revoke(ctx context.Context, number, reason string) (*issuance.Revocation, error)
}

// Policy sets the canary. Zero fields take the defaults.
type Policy struct {
	Share          float64       // share of requests the canary serves (default 0.05)
	Documents      int           // promote after this many documents (default 200)
	For            time.Duration // or after this long with at least MinSample documents (default 30 min)
	MinSample      int           // requests before the refusal rate is judged (default 20)
	MaxRefusalRate float64       // refusals over served above this roll back (default 0.02)
}

func (p Policy) withDefaults() Policy {
	if p.Share <= 0 {
		p.Share = 0.05
	}
	if p.Documents <= 0 {
		p.Documents = 200
	}
	if p.For <= 0 {
		p.For = 30 * time.Minute
	}
	if p.MinSample <= 0 {
		p.MinSample = 20
	}
	if p.MaxRefusalRate <= 0 {
		p.MaxRefusalRate = 0.02
	}
	return p
}

// Governor runs governance for one node: it serves the versions the
// database says, and moves versions through their lifecycle.
type Governor struct {
	Store     Store
	Agencies  *linkage.Schema
	Golden    *Golden
	Incidents IncidentOpener // nil: rollbacks are only logged and audited
	Revoker   Revoker        // nil: canary documents are listed, not revoked
	Policy    Policy
	Log       *slog.Logger
	Now       func() time.Time

	state atomic.Pointer[snapshot]
	mu    sync.Mutex // one lifecycle step at a time on this node
}

// snapshot is what serves requests: the active version and the canary of
// every service, and the active schemas.
type snapshot struct {
	active  map[string]*served
	canary  map[string]*canaryRun
	schemas map[string]*form.Schema
	catalog *form.Catalog
}

type served struct {
	svc    *form.Service
	number int
	digest string // as stored
}

type canaryRun struct {
	served
	started         time.Time
	share           float64
	baseIssued      int
	baseRefused     int
	issued, refused atomic.Int64
	finished        atomic.Bool // rolled back or promoted by this node
}

func (g *Governor) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

func (g *Governor) log() *slog.Logger {
	if g.Log != nil {
		return g.Log
	}
	return slog.New(slog.DiscardHandler)
}

// Start seeds the shipped templates and schemas as version 1 where the
// database has none, and loads what serves. A shipped file that differs
// from every stored version of its service (a release changed it) is
// stored as a submitted version by "minwon release", to be approved like
// any other.
func (g *Governor) Start(ctx context.Context) error {
	templates, schemas, err := form.BuiltinFiles()
	if err != nil {
		return fmt.Errorf("governance: %w", err)
	}
	stored, err := g.Store.FormVersions(ctx)
	if err != nil {
		return err
	}
	have := map[string]map[string]bool{} // kind/service → digests
	for _, v := range stored {
		k := string(v.Kind) + "/" + v.Service
		if have[k] == nil {
			have[k] = map[string]bool{}
		}
		have[k][v.Digest] = true
	}
	seed := func(kind Kind, files map[string][]byte) error {
		ids := make([]string, 0, len(files))
		for id := range files {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			body := files[id]
			sum := sha256.Sum256(body)
			digest := fmt.Sprintf("%x", sum)
			k := string(kind) + "/" + id
			if have[k][digest] {
				continue
			}
			if len(have[k]) == 0 {
				v := Version{Service: id, Kind: kind, Number: 1, State: Active, Digest: digest, Body: body, Author: "minwon", CreatedAt: g.now(), UpdatedAt: g.now()}
				if err := g.Store.InsertFormVersion(ctx, v, Event{Service: id, Kind: kind, Number: 1, At: g.now(), Actor: "minwon", Action: "seeded", Note: "shipped version, active on first start"}); err != nil && !errors.Is(err, ErrExists) {
					return err
				}
				continue
			}
			g.log().Warn("a shipped form differs from every stored version; stored as submitted for approval", "kind", kind, "service", id)
			if _, err := g.submit(ctx, Official{ID: "minwon release", Role: Operator}, kind, body, false); err != nil {
				return fmt.Errorf("governance: shipped %s %s: %w", kind, id, err)
			}
		}
		return nil
	}
	if err := seed(SchemaKind, schemas); err != nil {
		return err
	}
	if err := seed(TemplateKind, templates); err != nil {
		return err
	}
	return g.Reload(ctx)
}

// Reload rebuilds what serves from the database. Nodes call it
// periodically (Watch); a node calls it itself after each change it makes.
func (g *Governor) Reload(ctx context.Context) error {
	versions, err := g.Store.FormVersions(ctx)
	if err != nil {
		return err
	}
	next := &snapshot{active: map[string]*served{}, canary: map[string]*canaryRun{}, schemas: map[string]*form.Schema{}}
	for _, v := range versions {
		if v.Kind == SchemaKind && v.State == Active {
			sch, err := form.ParseSchema(v.Body, g.Agencies)
			if err != nil {
				return fmt.Errorf("governance: active schema %s v%d: %w", v.Service, v.Number, err)
			}
			next.schemas[v.Service] = sch
		}
	}
	var services []*form.Service
	for _, v := range versions {
		if v.Kind != TemplateKind || (v.State != Active && v.State != Canary) {
			continue
		}
		// Parsed for structure and the agencies' classes only: whether it
		// keeps to its schema is decided per request, so that a version
		// forced into the database is refused, not silently skipped.
		svc, err := form.Parse(v.Body, g.Agencies)
		if err != nil {
			return fmt.Errorf("governance: %s template v%d: %w", v.Service, v.Number, err)
		}
		s := served{svc: svc, number: v.Number, digest: v.Digest}
		if v.State == Active {
			next.active[v.Service] = &s
			services = append(services, svc)
			continue
		}
		// The counts so far are in the database: each outcome is stored
		// as it happens.
		run := &canaryRun{served: s, started: v.Canary.StartedAt, share: g.Policy.withDefaults().Share, baseIssued: v.Canary.Issued, baseRefused: v.Canary.Refused}
		next.canary[v.Service] = run
	}
	// The catalog lists what is active; a version that no longer keeps to
	// its schema is still listed, and refused per request.
	next.catalog, err = catalogOf(services, next.schemas)
	if err != nil {
		return err
	}
	g.state.Store(next)
	return nil
}

func catalogOf(services []*form.Service, schemas map[string]*form.Schema) (*form.Catalog, error) {
	var ok []*form.Service
	for _, s := range services {
		if form.Bind(s, schemas[s.ID]) == nil {
			ok = append(ok, s)
		}
	}
	return form.NewCatalog(ok, schemas)
}

// Watch reloads every interval until ctx ends, so that a change made on
// another node (an approval, a rollback) serves here within one interval.
func (g *Governor) Watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := g.Reload(ctx); err != nil && ctx.Err() == nil {
				g.log().Error("governance: reload", "err", err)
			}
			g.checkCanaries(ctx)
		}
	}
}

// Catalog returns the active services.
func (g *Governor) Catalog() *form.Catalog { return g.state.Load().catalog }

// bucket maps a request hash to [0, 1): the same request always lands in
// the same place, so a retry is served by the same version.
func bucket(requestHash string) float64 {
	sum := sha256.Sum256([]byte("minwon canary\x00" + requestHash))
	return float64(binary.BigEndian.Uint64(sum[:8])>>11) / (1 << 53)
}

// Serving implements issuance.Templates.
func (g *Governor) Serving(serviceID, requestHash string) (issuance.Served, bool) {
	st := g.state.Load()
	sch := st.schemas[serviceID]
	if c := st.canary[serviceID]; c != nil && !c.finished.Load() && bucket(requestHash) < c.share {
		return issuance.Served{Service: c.svc, Schema: sch, Digest: c.digest, Canary: true}, true
	}
	a := st.active[serviceID]
	if a == nil {
		return issuance.Served{}, false
	}
	return issuance.Served{Service: a.svc, Schema: sch, Digest: a.digest}, true
}

// Outcome implements issuance.Templates: it counts a canary request, rolls
// the canary back at once on a privacy refusal or when refusals pass the
// threshold, and promotes it when it has served enough.
func (g *Governor) Outcome(ctx context.Context, s issuance.Served, number string, err error) {
	st := g.state.Load()
	run := st.canary[s.Service.ID]
	if run == nil || run.svc != s.Service || run.finished.Load() {
		return
	}
	ctx = context.WithoutCancel(ctx)
	var re *issuance.RefusedError
	switch {
	case err == nil:
		run.issued.Add(1)
		g.count(ctx, run, 1, 0)
	case errors.As(err, &re):
		run.refused.Add(1)
		g.count(ctx, run, 0, 1)
		if re.Rule.Privacy() {
			g.autoRollback(ctx, run, fmt.Sprintf("a canary request was refused by pre-issuance verification (%s)", re.Rule), true)
			return
		}
	default:
		// An agency down or a requester without the right is not the
		// template's doing.
		return
	}
	g.judge(ctx, run)
}

func (g *Governor) count(ctx context.Context, run *canaryRun, issued, refused int) {
	if err := g.Store.CountCanary(ctx, run.svc.ID, run.number, issued, refused); err != nil {
		g.log().Error("governance: canary count", "service", run.svc.ID, "version", run.number, "err", err)
	}
}

// judge rolls back or promotes a canary by its counts.
func (g *Governor) judge(ctx context.Context, run *canaryRun) {
	p := g.Policy.withDefaults()
	issued := run.baseIssued + int(run.issued.Load())
	refused := run.baseRefused + int(run.refused.Load())
	if n := issued + refused; n >= p.MinSample && float64(refused)/float64(n) > p.MaxRefusalRate {
		g.autoRollback(ctx, run, fmt.Sprintf("canary refusals %d of %d requests, above %.1f%%", refused, n, 100*p.MaxRefusalRate), false)
		return
	}
	if issued >= p.Documents || (issued >= p.MinSample && !run.started.IsZero() && g.now().Sub(run.started) >= p.For) {
		if err := g.promote(ctx, run); err != nil && !errors.Is(err, ErrStale) {
			g.log().Error("governance: promote", "service", run.svc.ID, "version", run.number, "err", err)
		}
	}
}

// checkCanaries judges the canaries by time as well as by requests.
func (g *Governor) checkCanaries(ctx context.Context) {
	for _, run := range g.state.Load().canary {
		if !run.finished.Load() {
			g.judge(ctx, run)
		}
	}
}

func (g *Governor) autoRollback(ctx context.Context, run *canaryRun, why string, revoke bool) {
	if !run.finished.CompareAndSwap(false, true) {
		return
	}
	if _, err := g.rollback(ctx, Official{ID: "minwon canary", Role: System}, run.svc.ID, run.number, Canary, why, revoke); err != nil && !errors.Is(err, ErrStale) {
		g.log().Error("governance: automatic rollback failed; the canary is withheld on this node", "service", run.svc.ID, "version", run.number, "err", err)
	}
}
