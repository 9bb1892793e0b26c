package governance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/ident"
	"github.com/minwon/minwon/internal/issuance"
)

// Role is what an official may do in governance.
type Role string

const (
	Operator       Role = "operator"
	PrivacyOfficer Role = "privacy_officer"
	System         Role = "system" // minwon itself: seeding, canary decisions
)

// Official is who takes a step.
type Official struct {
	ID     string
	Office string
	Role   Role
}

// Domain errors; httperr maps them for the admin API.
var (
	// ErrRefused: the automatic checks refused a submission; the message
	// says what, naming the slot and the class.
	ErrRefused    = errors.New("refused by the automatic checks")
	ErrNotFound   = errors.New("no such form version")
	ErrOwnVersion = errors.New("the author of a version cannot approve it")
	ErrWrongState = errors.New("the version is not in a state that allows this")
	ErrNotAllowed = errors.New("this role may not take this step")
	ErrBusy       = errors.New("another version of this service is in canary; wait for it to finish or roll it back")
	ErrNoChange   = errors.New("the submitted version is the same as the active one")
)

// Submit stores a new version of a template or schema (told apart by its
// slots) after the automatic checks. The version number in the file is
// replaced by the next free one.
func (g *Governor) Submit(ctx context.Context, who Official, body []byte) (Version, error) {
	if who.Role != Operator && who.Role != PrivacyOfficer {
		return Version{}, ErrNotAllowed
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(body, &probe); err != nil {
		return Version{}, fmt.Errorf("%w: not a JSON object: %v", ErrRefused, err)
	}
	kind := TemplateKind
	if _, ok := probe["slots"]; ok {
		kind = SchemaKind
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.submit(ctx, who, kind, body, true)
}

func (g *Governor) submit(ctx context.Context, who Official, kind Kind, body []byte, checkGolden bool) (Version, error) {
	versions, err := g.Store.FormVersions(ctx)
	if err != nil {
		return Version{}, err
	}
	st := g.state.Load()
	var v Version
	switch kind {
	case TemplateKind:
		v, err = g.checkTemplate(st, versions, body, checkGolden)
	case SchemaKind:
		v, err = g.checkSchema(st, versions, body)
	}
	if err != nil {
		return Version{}, err
	}
	v.State, v.Author, v.CreatedAt, v.UpdatedAt = Submitted, who.ID, g.now(), g.now()
	note := fmt.Sprintf("digest %s", v.Digest[:16])
	if err := g.Store.InsertFormVersion(ctx, v, Event{Service: v.Service, Kind: kind, Number: v.Number, At: g.now(), Actor: who.ID, Action: "submitted", Note: note}); err != nil {
		if errors.Is(err, ErrExists) {
			return Version{}, fmt.Errorf("%w: version %d of %s was submitted meanwhile; submit again", ErrWrongState, v.Number, v.Service)
		}
		return Version{}, err
	}
	return v, nil
}

func nextNumber(versions []Version, service string, kind Kind) int {
	n := 0
	for _, v := range versions {
		if v.Service == service && v.Kind == kind {
			n = max(n, v.Number)
		}
	}
	return n + 1
}

// canonical re-encodes a template or schema with its version set to n.
func canonical(x any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(x); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (g *Governor) checkTemplate(st *snapshot, versions []Version, body []byte, checkGolden bool) (Version, error) {
	svc, err := form.Parse(body, g.Agencies)
	if err != nil {
		return Version{}, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	sch := st.schemas[svc.ID]
	if sch == nil {
		return Version{}, fmt.Errorf("%w: no schema for service %q; a new service starts with its schema", ErrRefused, svc.ID)
	}
	if err := form.Bind(svc, sch); err != nil {
		return Version{}, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	active := st.active[svc.ID]
	if active != nil && sameTemplate(active.svc, svc) {
		return Version{}, ErrNoChange
	}
	svc.Version = nextNumber(versions, svc.ID, TemplateKind)
	body, err = canonical(svc)
	if err != nil {
		return Version{}, err
	}
	if svc, err = form.Parse(body, g.Agencies); err != nil {
		return Version{}, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	v := Version{Service: svc.ID, Kind: TemplateKind, Number: svc.Version, Digest: svc.Digest, Body: body}
	if checkGolden && g.Golden != nil && svc.Kind == form.Certificate {
		var was *form.Service
		if active != nil {
			was = active.svc
		}
		checks, err := g.Golden.Check(svc, was, sch)
		if err != nil {
			return Version{}, fmt.Errorf("%w: %v", ErrRefused, err)
		}
		v.Checks = checks
	}
	return v, nil
}

func sameTemplate(a, b *form.Service) bool {
	x, y := *a, *b
	x.Version, y.Version, x.Digest, y.Digest = 0, 0, "", ""
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return bytes.Equal(ja, jb)
}

func (g *Governor) checkSchema(st *snapshot, versions []Version, body []byte) (Version, error) {
	sch, err := form.ParseSchema(body, g.Agencies)
	if err != nil {
		return Version{}, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	// The versions serving now must keep to the new schema: a schema
	// change never strands a template.
	for _, s := range []*served{st.active[sch.ID], canaryServed(st.canary[sch.ID])} {
		if s == nil {
			continue
		}
		if err := form.Bind(s.svc, sch); err != nil {
			return Version{}, fmt.Errorf("%w: template version %d in service would not keep to it: %v", ErrRefused, s.number, err)
		}
	}
	sch.Version = nextNumber(versions, sch.ID, SchemaKind)
	if body, err = canonical(sch); err != nil {
		return Version{}, err
	}
	if sch, err = form.ParseSchema(body, g.Agencies); err != nil {
		return Version{}, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	return Version{Service: sch.ID, Kind: SchemaKind, Number: sch.Version, Digest: sch.Digest, Body: body}, nil
}

func canaryServed(c *canaryRun) *served {
	if c == nil {
		return nil
	}
	return &c.served
}

func findVersion(versions []Version, service string, kind Kind, number int) (Version, bool) {
	for _, v := range versions {
		if v.Service == service && v.Kind == kind && v.Number == number {
			return v, true
		}
	}
	return Version{}, false
}

// Approve records who's approval of a submitted version. The second
// approval by another official than the author, with a privacy officer
// among the two, starts the canary (templates) or activates (schemas).
func (g *Governor) Approve(ctx context.Context, who Official, service string, kind Kind, number int) (Version, error) {
	if who.Role != Operator && who.Role != PrivacyOfficer {
		return Version{}, ErrNotAllowed
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	versions, err := g.Store.FormVersions(ctx)
	if err != nil {
		return Version{}, err
	}
	v, ok := findVersion(versions, service, kind, number)
	if !ok {
		return Version{}, ErrNotFound
	}
	if v.State != Submitted {
		return Version{}, fmt.Errorf("%w: version %d of %s is %s", ErrWrongState, number, service, v.State)
	}
	if v.Author == who.ID {
		return Version{}, ErrOwnVersion
	}
	all, err := g.Store.FormApprovals(ctx, service)
	if err != nil {
		return Version{}, err
	}
	var approvals []Approval
	for _, a := range all {
		if a.Kind == kind && a.Number == number {
			if a.Approver == who.ID {
				return Version{}, ErrApprovedTwice
			}
			approvals = append(approvals, a)
		}
	}
	a := Approval{Service: service, Kind: kind, Number: number, Approver: who.ID, Role: who.Role, At: g.now()}
	approvals = append(approvals, a)
	complete := len(approvals) >= 2 && slices.ContainsFunc(approvals, func(a Approval) bool { return a.Role == PrivacyOfficer })
	if len(approvals) >= 2 && !complete {
		return Version{}, fmt.Errorf("%w: the second approval must come from a privacy officer", ErrNotAllowed)
	}
	st := g.state.Load()
	if complete && kind == TemplateKind && st.canary[service] != nil {
		return Version{}, ErrBusy
	}
	if err := g.Store.AddFormApproval(ctx, a, Event{Service: service, Kind: kind, Number: number, At: g.now(), Actor: who.ID, Action: "approved", Note: string(who.Role)}); err != nil {
		return Version{}, err
	}
	v.UpdatedAt = g.now()
	if !complete {
		return v, nil
	}
	changes := []Change{{Service: service, Kind: kind, Number: number, From: Submitted, To: Canary}}
	action := "canary_started"
	if kind == SchemaKind {
		changes[0].To = Active
		action = "activated"
		if old, ok := activeVersion(versions, service, SchemaKind); ok {
			changes = append(changes, Change{Service: service, Kind: kind, Number: old.Number, From: Active, To: Retired})
		}
	}
	note := fmt.Sprintf("approved by %s", strings.Join(approvers(approvals), " and "))
	if err := g.Store.ChangeFormStates(ctx, changes, Event{Service: service, Kind: kind, Number: number, At: g.now(), Actor: who.ID, Action: action, Note: note}); err != nil {
		return Version{}, err
	}
	v.State = changes[0].To
	return v, g.Reload(ctx)
}

func approvers(as []Approval) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = fmt.Sprintf("%s (%s)", a.Approver, a.Role)
	}
	return out
}

func activeVersion(versions []Version, service string, kind Kind) (Version, bool) {
	for _, v := range versions {
		if v.Service == service && v.Kind == kind && v.State == Active {
			return v, true
		}
	}
	return Version{}, false
}

// Reject refuses a submitted version with a reason. The author may
// withdraw their own.
func (g *Governor) Reject(ctx context.Context, who Official, service string, kind Kind, number int, reason string) error {
	if who.Role != Operator && who.Role != PrivacyOfficer {
		return ErrNotAllowed
	}
	if err := checkReason(reason); err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	err := g.Store.ChangeFormStates(ctx, []Change{{Service: service, Kind: kind, Number: number, From: Submitted, To: Rejected}},
		Event{Service: service, Kind: kind, Number: number, At: g.now(), Actor: who.ID, Action: "rejected", Note: reason})
	if errors.Is(err, ErrStale) {
		return fmt.Errorf("%w: only a submitted version can be rejected", ErrWrongState)
	}
	return err
}

// checkReason refuses an empty reason or one holding a resident
// registration number: reasons are kept in the history and the audit log.
func checkReason(reason string) error {
	if strings.TrimSpace(reason) == "" {
		return fmt.Errorf("%w: give a reason", ErrRefused)
	}
	if len(reason) > 500 {
		return fmt.Errorf("%w: a reason is at most 500 bytes", ErrRefused)
	}
	if ident.ContainsRRN(reason) {
		return fmt.Errorf("%w: the reason contains a resident registration number", ErrRefused)
	}
	return nil
}

// RollbackReport says what a rollback did.
type RollbackReport struct {
	Service   string   `json:"service"`
	Version   int      `json:"version"`   // the version withdrawn
	Serving   int      `json:"serving"`   // the version that serves now
	Documents []string `json:"documents"` // issued with the withdrawn version
	Revoked   int      `json:"revoked"`   // of those, revoked now
	Incident  string   `json:"incident"`  // the incident opened, if any
	Reason    string   `json:"reason"`
}

// Rollback withdraws a service's canary, or, when none runs, its active
// template in favour of the version active before it. With revoke, the
// documents issued with the withdrawn version are revoked.
func (g *Governor) Rollback(ctx context.Context, who Official, service, reason string, revoke bool) (RollbackReport, error) {
	if who.Role != Operator && who.Role != PrivacyOfficer {
		return RollbackReport{}, ErrNotAllowed
	}
	if err := checkReason(reason); err != nil {
		return RollbackReport{}, err
	}
	st := g.state.Load()
	if c := st.canary[service]; c != nil {
		c.finished.Store(true)
		return g.rollback(ctx, who, service, c.number, Canary, reason, revoke)
	}
	a := st.active[service]
	if a == nil {
		return RollbackReport{}, ErrNotFound
	}
	return g.rollback(ctx, who, service, a.number, Active, reason, revoke)
}

func (g *Governor) rollback(ctx context.Context, who Official, service string, number int, from State, why string, revoke bool) (RollbackReport, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	versions, err := g.Store.FormVersions(ctx)
	if err != nil {
		return RollbackReport{}, err
	}
	v, ok := findVersion(versions, service, TemplateKind, number)
	if !ok {
		return RollbackReport{}, ErrNotFound
	}
	changes := []Change{{Service: service, Kind: TemplateKind, Number: number, From: from, To: RolledBack}}
	rep := RollbackReport{Service: service, Version: number, Reason: why}
	if from == Active {
		// The version active before this one serves again.
		prev := 0
		for _, o := range versions {
			if o.Service == service && o.Kind == TemplateKind && o.State == Retired && o.Number < number {
				prev = max(prev, o.Number)
			}
		}
		if prev == 0 {
			return RollbackReport{}, fmt.Errorf("%w: version %d is the only version %s has had; submit a corrected one", ErrWrongState, number, service)
		}
		changes = append(changes, Change{Service: service, Kind: TemplateKind, Number: prev, From: Retired, To: Active})
		rep.Serving = prev
	} else if a, ok := activeVersion(versions, service, TemplateKind); ok {
		rep.Serving = a.Number
	}
	if err := g.Store.ChangeFormStates(ctx, changes, Event{Service: service, Kind: TemplateKind, Number: number, At: g.now(), Actor: who.ID, Action: "rolled_back", Note: why}); err != nil {
		return RollbackReport{}, err
	}
	if err := g.Reload(ctx); err != nil {
		return rep, err
	}
	g.log().Warn("governance: template version rolled back", "service", service, "version", number, "by", who.ID, "reason", why)

	docs, err := g.Store.IssuancesOfTemplate(ctx, service, number, v.Digest)
	if err != nil {
		return rep, err
	}
	sort.Strings(docs)
	rep.Documents = docs
	if revoke && g.Revoker != nil {
		// A standard reason: published forever, it names no one.
		const reason = "wrong_template"
		for _, n := range docs {
			if _, err := g.Revoker.Revoke(ctx, n, reason); err != nil && !errors.Is(err, issuance.ErrAlreadyRevoked) {
				return rep, fmt.Errorf("governance: revoke %s: %w", n, err)
			}
			rep.Revoked++
		}
	}
	if g.Incidents != nil {
		grade := 3
		if who.Role == System && revoke {
			grade = 2 // a privacy refusal in canary
		}
		summary := fmt.Sprintf("template version %d of %s rolled back by %s: %s; %d documents issued with it, %d revoked", number, service, who.ID, why, len(docs), rep.Revoked)
		id, err := g.Incidents.OpenIncident(ctx, "form_rollback", grade, summary, docs)
		if err != nil {
			return rep, fmt.Errorf("governance: open incident: %w", err)
		}
		rep.Incident = id
	}
	note := fmt.Sprintf("%d documents issued with it, %d revoked", len(docs), rep.Revoked)
	if rep.Incident != "" {
		note += ", incident " + rep.Incident
	}
	// The documents are listed in the report and the incident; the event
	// keeps the counts.
	_ = g.Store.AddFormEvent(ctx, Event{Service: service, Kind: TemplateKind, Number: number, At: g.now(), Actor: who.ID, Action: "rollback_documents", Note: note})
	return rep, nil
}

// promote makes a canary that served well the active version.
func (g *Governor) promote(ctx context.Context, run *canaryRun) error {
	if !run.finished.CompareAndSwap(false, true) {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	versions, err := g.Store.FormVersions(ctx)
	if err != nil {
		run.finished.Store(false)
		return err
	}
	changes := []Change{{Service: run.svc.ID, Kind: TemplateKind, Number: run.number, From: Canary, To: Active}}
	if a, ok := activeVersion(versions, run.svc.ID, TemplateKind); ok {
		changes = append(changes, Change{Service: run.svc.ID, Kind: TemplateKind, Number: a.Number, From: Active, To: Retired})
	}
	issued := run.baseIssued + int(run.issued.Load())
	refused := run.baseRefused + int(run.refused.Load())
	note := fmt.Sprintf("canary served %d documents with %d refusals", issued, refused)
	if err := g.Store.ChangeFormStates(ctx, changes, Event{Service: run.svc.ID, Kind: TemplateKind, Number: run.number, At: g.now(), Actor: "minwon canary", Action: "activated", Note: note}); err != nil {
		return err
	}
	return g.Reload(ctx)
}
