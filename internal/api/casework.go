package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/minwon/minwon/internal/apiwire"
	"github.com/minwon/minwon/internal/auth"
	"github.com/minwon/minwon/internal/casework"
	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/httpjson"
)

// ApplicationJSON is an application as the API answers it (also the
// counter's review queue).
func ApplicationJSON(cat *form.Catalog, a *casework.Application) apiwire.Application {
	out := apiwire.Application{ID: a.ID, Service: a.Service, Kind: a.Kind, Subject: a.Subject, Status: a.Status,
		CreatedAt: a.CreatedAt.UTC().Format(time.RFC3339Nano), Retroactive: a.Retroactive, History: []apiwire.ApplicationStatus{}}
	if a.Waiting != "" && !casework.Final(a.Status) {
		if svc := cat.Service(a.Service); svc != nil {
			out.WaitingFor = svc.Agency
		}
		out.NextAttemptAt = a.NextAttempt.UTC().Format(time.RFC3339)
	}
	for _, e := range a.History {
		out.History = append(out.History, apiwire.ApplicationStatus{At: e.At.UTC().Format(time.RFC3339Nano), Status: e.Status, Note: e.Note, Retroactive: e.Retroactive})
	}
	return out
}

func (s *Server) submitApplication(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	var in apiwire.ApplicationRequest
	if !httpjson.Decode(w, r, &in) {
		return
	}
	a, err := s.Casework.Submit(r.Context(), p, casework.Submission{Service: in.Service, Subject: in.Subject, Payload: in.Payload, IdempotencyKey: r.Header.Get("Idempotency-Key")})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/applications/"+a.ID)
	httpjson.Write(w, http.StatusAccepted, apiwire.ApplicationAccepted{ID: a.ID, Status: a.Status})
}

func (s *Server) listApplications(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	list, err := s.Casework.List(r.Context(), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]apiwire.Application, len(list))
	for i, a := range list {
		out[i] = ApplicationJSON(s.Catalog, a)
	}
	httpjson.Write(w, http.StatusOK, out)
}

func (s *Server) getApplication(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	a, err := s.Casework.Get(r.Context(), p, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, ApplicationJSON(s.Catalog, a))
}

// lookup answers a lookup service's data: no document, no log entry, an
// audit record of the use.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	res, err := s.Casework.Lookup(r.Context(), p, r.PathValue("service"), r.URL.Query().Get("subject"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, LookupJSON(res))
}

// LookupJSON is a lookup as the API answers it.
func LookupJSON(res *casework.LookupResult) apiwire.Lookup {
	out := apiwire.Lookup{Service: res.Service, Subject: res.Subject, At: res.At.UTC().Format(time.RFC3339Nano), Data: map[string]json.RawMessage{}}
	for _, f := range res.Fields {
		out.Data[f.Key] = f.Value
		out.Fields = append(out.Fields, apiwire.LookupField{Key: f.Key, Label: f.Label, LabelKo: f.LabelKo, Value: f.Value})
	}
	return out
}
