package counter

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"

	"github.com/minwon/minwon/internal/api"
	"github.com/minwon/minwon/internal/apiwire"
	"github.com/minwon/minwon/internal/audit"
	"github.com/minwon/minwon/internal/casework"
	"github.com/minwon/minwon/internal/httpjson"
	"github.com/minwon/minwon/internal/ident"
	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/pki"
)

// cases is the casework service as the counter uses it.
type cases interface {
	ReviewQueue(ctx context.Context) ([]*casework.Application, error)
	ForOfficial(ctx context.Context, id string) (*casework.Application, error)
	Decide(ctx context.Context, o casework.Official, id string, approve bool, reason string) (*casework.Application, error)
	SubmitAtCounter(ctx context.Context, o casework.Official, in casework.Submission) (*casework.Application, error)
	EnterRetroactive(ctx context.Context, o casework.Official, e casework.RetroactiveEntry) (*casework.Application, error)
}

func (o Official) caseOfficial() casework.Official {
	return casework.Official{ID: o.ID, Name: o.Name, Office: o.Office, Role: string(o.Role)}
}

// reviewers are the roles that decide applications.
var reviewers = []pki.Role{pki.CounterClerk, pki.Operator}

// ApplicationRequest is the body of POST /counter/v1/applications: an
// application or report taken at the counter, or (with retroactive_on)
// one taken on paper during an outage and entered afterwards.
type ApplicationRequest struct {
	Service       string          `json:"service"`
	SubjectRRN    string          `json:"subject_rrn"`
	Payload       json.RawMessage `json:"payload"`
	IdentityCheck struct {
		Method   string `json:"method"`
		Verified bool   `json:"verified"`
	} `json:"identity_check"`
	// RetroactiveOn is the day the work was done on paper (YYYY-MM-DD).
	RetroactiveOn string `json:"retroactive_on,omitempty"`
}

// DecisionRequest is the body of approve and reject.
type DecisionRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) caseRoutes(mux *http.ServeMux) {
	if s.Cases == nil {
		return
	}
	mux.HandleFunc("GET /counter/v1/applications", s.official(true, s.reviewQueue))
	mux.HandleFunc("POST /counter/v1/applications", s.official(true, s.counterApplication))
	mux.HandleFunc("GET /counter/v1/applications/{id}", s.official(true, s.reviewOne))
	mux.HandleFunc("POST /counter/v1/applications/{id}/approve", s.official(true, s.decide(true)))
	mux.HandleFunc("POST /counter/v1/applications/{id}/reject", s.official(true, s.decide(false)))
}

// reviewQueue lists the applications waiting for a decision, without
// their payloads.
func (s *Server) reviewQueue(w http.ResponseWriter, r *http.Request, o Official) {
	if err := o.May(reviewers...); err != nil {
		s.fail(w, r, err)
		return
	}
	list, err := s.Cases.ReviewQueue(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]apiwire.Application, len(list))
	for i, a := range list {
		out[i] = api.ApplicationJSON(s.Catalog, a)
	}
	httpjson.Write(w, http.StatusOK, out)
}

// reviewOne shows one application with its payload: a use of the
// citizen's data, recorded before it is answered.
func (s *Server) reviewOne(w http.ResponseWriter, r *http.Request, o Official) {
	if err := o.May(reviewers...); err != nil {
		s.fail(w, r, err)
		return
	}
	a, err := s.Cases.ForOfficial(r.Context(), r.PathValue("id"))
	if err == nil {
		err = s.Audit.Record(r.Context(), audit.Event{ActorKind: audit.Official, Actor: o.ID, Role: string(o.Role), Office: o.Office,
			Action: "application_view", Service: a.Service, Subject: a.Subject, Purpose: "review", Detail: "application=" + a.ID})
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := api.ApplicationJSON(s.Catalog, a)
	out.Payload = a.Payload
	httpjson.Write(w, http.StatusOK, out)
}

func (s *Server) decide(approve bool) func(http.ResponseWriter, *http.Request, Official) {
	return func(w http.ResponseWriter, r *http.Request, o Official) {
		if err := o.May(reviewers...); err != nil {
			s.fail(w, r, err)
			return
		}
		var in DecisionRequest
		if !httpjson.Decode(w, r, &in) {
			return
		}
		a, err := s.Cases.Decide(r.Context(), o.caseOfficial(), r.PathValue("id"), approve, in.Reason)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		httpjson.Write(w, http.StatusOK, api.ApplicationJSON(s.Catalog, a))
	}
}

// counterApplication takes an application or report for the citizen in
// front of the official (identity checked in person), or enters paper
// work afterwards with its original date.
func (s *Server) counterApplication(w http.ResponseWriter, r *http.Request, o Official) {
	if err := o.May(pki.CounterClerk); err != nil {
		s.fail(w, r, err)
		return
	}
	var in ApplicationRequest
	if !httpjson.Decode(w, r, &in) {
		return
	}
	rrn, err := ident.ParseRRN(in.SubjectRRN)
	if err != nil {
		s.fail(w, r, errBadInput("subject_rrn is not a valid resident registration number"))
		return
	}
	if in.RetroactiveOn == "" && (!in.IdentityCheck.Verified || !slices.Contains(IdentityMethods, in.IdentityCheck.Method)) {
		s.fail(w, r, issuance.ErrIdentityNotChecked)
		return
	}
	subject, err := s.Subjects.PersonByRRN(r.Context(), rrn)
	if err = s.counted(r.Context(), o, subject, err); err != nil {
		s.fail(w, r, err)
		return
	}
	var a *casework.Application
	if in.RetroactiveOn != "" {
		a, err = s.Cases.EnterRetroactive(r.Context(), o.caseOfficial(), casework.RetroactiveEntry{
			Service: in.Service, Subject: subject, Payload: in.Payload, On: in.RetroactiveOn, IdempotencyKey: r.Header.Get("Idempotency-Key")})
	} else {
		a, err = s.Cases.SubmitAtCounter(r.Context(), o.caseOfficial(), casework.Submission{
			Service: in.Service, Subject: subject, Payload: in.Payload, IdempotencyKey: r.Header.Get("Idempotency-Key")})
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusAccepted, apiwire.ApplicationAccepted{ID: a.ID, Status: a.Status})
}
