package governance

import (
	"context"
	"sort"
	"time"
)

// ServiceSummary is one line of the form queue.
type ServiceSummary struct {
	Service       string       `json:"service"`
	Active        int          `json:"active"`                   // active template version
	Schema        int          `json:"schema"`                   // active schema version
	Canary        *CanaryState `json:"canary,omitempty"`         // the running canary
	Pending       []int        `json:"pending,omitempty"`        // submitted template versions
	PendingSchema []int        `json:"pending_schema,omitempty"` // submitted schema versions
}

// CanaryState is a running canary.
type CanaryState struct {
	Version   int       `json:"version"`
	StartedAt time.Time `json:"started_at"`
	Share     float64   `json:"share"`
	Issued    int       `json:"issued"`
	Refused   int       `json:"refused"`
	Target    int       `json:"target"` // documents before it becomes active
}

// List summarises every service's versions.
func (g *Governor) List(ctx context.Context) ([]ServiceSummary, error) {
	versions, err := g.Store.FormVersions(ctx)
	if err != nil {
		return nil, err
	}
	p := g.Policy.withDefaults()
	by := map[string]*ServiceSummary{}
	for _, v := range versions {
		s := by[v.Service]
		if s == nil {
			s = &ServiceSummary{Service: v.Service}
			by[v.Service] = s
		}
		switch {
		case v.Kind == SchemaKind && v.State == Active:
			s.Schema = v.Number
		case v.Kind == SchemaKind && v.State == Submitted:
			s.PendingSchema = append(s.PendingSchema, v.Number)
		case v.State == Active:
			s.Active = v.Number
		case v.State == Submitted:
			s.Pending = append(s.Pending, v.Number)
		case v.State == Canary:
			s.Canary = &CanaryState{Version: v.Number, StartedAt: v.Canary.StartedAt, Share: p.Share, Issued: v.Canary.Issued, Refused: v.Canary.Refused, Target: p.Documents}
		}
	}
	out := make([]ServiceSummary, 0, len(by))
	for _, s := range by {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Service < out[j].Service })
	return out, nil
}

// VersionView is one version as approvers see it.
type VersionView struct {
	Kind      Kind        `json:"kind"`
	Version   int         `json:"version"`
	State     State       `json:"state"`
	Digest    string      `json:"digest"`
	Author    string      `json:"author"`
	CreatedAt time.Time   `json:"created_at"`
	Approvals []string    `json:"approvals,omitempty"` // "id (role)"
	Checks    *Checks     `json:"checks,omitempty"`
	Canary    CanaryCount `json:"canary"`
	Body      string      `json:"body"`
}

// EventView is one step of the history.
type EventView struct {
	At      time.Time `json:"at"`
	Kind    Kind      `json:"kind"`
	Version int       `json:"version"`
	Actor   string    `json:"actor"`
	Action  string    `json:"action"`
	Note    string    `json:"note,omitempty"`
}

// ServiceView is everything about one service's forms.
type ServiceView struct {
	Service  string        `json:"service"`
	Versions []VersionView `json:"versions"` // newest first
	History  []EventView   `json:"history"`  // oldest first
}

// Show returns one service's versions, approvals, checks and history.
func (g *Governor) Show(ctx context.Context, service string) (ServiceView, error) {
	versions, err := g.Store.FormVersions(ctx)
	if err != nil {
		return ServiceView{}, err
	}
	approvals, err := g.Store.FormApprovals(ctx, service)
	if err != nil {
		return ServiceView{}, err
	}
	events, err := g.Store.FormEvents(ctx, service)
	if err != nil {
		return ServiceView{}, err
	}
	out := ServiceView{Service: service}
	for _, v := range versions {
		if v.Service != service {
			continue
		}
		vv := VersionView{Kind: v.Kind, Version: v.Number, State: v.State, Digest: v.Digest, Author: v.Author, CreatedAt: v.CreatedAt, Canary: v.Canary, Body: string(v.Body)}
		if len(v.Checks.Goldens) > 0 {
			c := v.Checks
			vv.Checks = &c
		}
		for _, a := range approvals {
			if a.Kind == v.Kind && a.Number == v.Number {
				vv.Approvals = append(vv.Approvals, a.Approver+" ("+string(a.Role)+")")
			}
		}
		out.Versions = append(out.Versions, vv)
	}
	if len(out.Versions) == 0 {
		return ServiceView{}, ErrNotFound
	}
	sort.Slice(out.Versions, func(i, j int) bool {
		a, b := out.Versions[i], out.Versions[j]
		if a.Kind != b.Kind {
			return a.Kind == TemplateKind
		}
		return a.Version > b.Version
	})
	for _, e := range events {
		out.History = append(out.History, EventView{At: e.At, Kind: e.Kind, Version: e.Number, Actor: e.Actor, Action: e.Action, Note: e.Note})
	}
	return out, nil
}
