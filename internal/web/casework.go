package web

import (
	"encoding/json"
	"github.com/minwon/minwon/internal/issuance"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/minwon/minwon/internal/access"
	"github.com/minwon/minwon/internal/auth"
	"github.com/minwon/minwon/internal/casework"
	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/httperr"
)

// Pages for applications, reports and lookups (package casework): the
// form, the list of one's applications with what each waits for, one
// application's history, and a lookup's data.

func (s *Server) caseRoutes(mux *http.ServeMux) {
	if s.Casework == nil {
		return
	}
	mux.HandleFunc("GET /apply/{service}", s.authed(s.applyForm))
	mux.HandleFunc("POST /apply/{service}", s.authed(s.apply))
	mux.HandleFunc("GET /applications", s.authed(s.applications))
	mux.HandleFunc("GET /applications/{id}", s.authed(s.application))
	mux.HandleFunc("GET /lookup/{service}", s.authed(s.lookupPage))
}

type applyView struct {
	Service  *form.Service
	Key      string
	Choices  []access.Choice
	Members  []access.Relation // who may move with the reporter (move-in)
	Today    string
	Agencies []string
}

func (s *Server) applyForm(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	svc := s.Catalog.Service(r.PathValue("service"))
	if svc == nil || (svc.Kind != form.Application && svc.Kind != form.Report) {
		s.errorPage(w, r, http.StatusNotFound, "err.notfound", "")
		return
	}
	prof, err := s.Profiles.Profile(r.Context(), p)
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	av := &applyView{Service: svc, Key: newKey(), Choices: access.Choices(p, prof, svc), Agencies: []string{svc.Agency}, Today: time.Now().In(kst).Format("2006-01-02")}
	if svc.ID == casework.MoveInReport {
		for _, rel := range prof.Relations {
			if rel.Relation == "household_member" || rel.Relation == "child" {
				av.Members = append(av.Members, rel)
			}
		}
	}
	v := s.newView(w, r, &p, "")
	v.Title = v.Tf("apply.title", v.Pick(svc.TitleKo, svc.Title))
	v.Data = av
	s.render(w, r, http.StatusOK, "apply", v)
}

func (s *Server) apply(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	svcID := r.PathValue("service")
	back := "/apply/" + url.PathEscape(svcID)
	svc := s.Catalog.Service(svcID)
	if svc == nil {
		s.errorPage(w, r, http.StatusNotFound, "err.notfound", "")
		return
	}
	payload := map[string]any{}
	for _, f := range svc.Payload {
		if v := r.PostFormValue(f.Key); v != "" {
			payload[f.Key] = v
		}
	}
	if members := r.PostForm["members"]; len(members) > 0 {
		payload["members"] = members
	}
	raw, _ := json.Marshal(payload)
	subject := r.PostFormValue("subject")
	if subject == p.Subject {
		subject = ""
	}
	a, err := s.Casework.Submit(r.Context(), p, casework.Submission{Service: svcID, Subject: subject, Payload: raw, IdempotencyKey: r.PostFormValue("key")})
	if err != nil {
		s.fail(w, r, err, back)
		return
	}
	http.Redirect(w, r, "/applications/"+url.PathEscape(a.ID)+"?submitted=1", http.StatusSeeOther)
}

type applicationsView struct {
	Items []applicationRow
}

type applicationRow struct {
	*casework.Application
	Service *form.Service
	Fields  [][2]string // the payload as labelled, for the owner's detail page
	Agency  string      // waited for, if waiting
}

func (s *Server) caseRow(a *casework.Application) applicationRow {
	row := applicationRow{Application: a, Service: s.Catalog.Service(a.Service)}
	if row.Service == nil {
		row.Service = &form.Service{ID: a.Service, Title: a.Service, TitleKo: a.Service}
	}
	if a.Waiting != "" && !casework.Final(a.Status) {
		row.Agency = row.Service.Agency
	}
	return row
}

func (s *Server) applications(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	list, err := s.Casework.List(r.Context(), p)
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	av := &applicationsView{}
	for _, a := range list {
		av.Items = append(av.Items, s.caseRow(a))
	}
	v := s.newView(w, r, &p, "apps.title")
	v.Data = av
	s.render(w, r, http.StatusOK, "applications", v)
}

type applicationView struct {
	applicationRow
	Submitted bool
}

func (s *Server) application(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	a, err := s.Casework.Get(r.Context(), p, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	av := &applicationView{applicationRow: s.caseRow(a), Submitted: r.URL.Query().Get("submitted") == "1"}
	if a.Requester == p.Login {
		av.Fields = casework.PayloadView(av.Service, a.Payload)
		s.memberNames(r, p, av.Fields)
	}
	v := s.newView(w, r, &p, "")
	v.Title = v.Pick(av.Service.TitleKo, av.Service.Title)
	v.Data = av
	s.render(w, r, http.StatusOK, "application", v)
}

type lookupView struct {
	Service *form.Service
	Result  *casework.LookupResult
	Values  map[string]string
}

// lookupPage shows a lookup's data: nothing is issued; the use is in the
// access log.
func (s *Server) lookupPage(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	res, err := s.Casework.Lookup(r.Context(), p, r.PathValue("service"), r.URL.Query().Get("subject"))
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	lv := &lookupView{Service: s.Catalog.Service(res.Service), Result: res, Values: map[string]string{}}
	for _, f := range res.Fields {
		var str string
		var n json.Number
		switch {
		case json.Unmarshal(f.Value, &str) == nil:
			lv.Values[f.Key] = str
		case json.Unmarshal(f.Value, &n) == nil:
			lv.Values[f.Key] = issuance.GroupDigits(n.String())
		default:
			lv.Values[f.Key] = string(f.Value)
		}
	}
	v := s.newView(w, r, &p, "")
	v.Title = v.Pick(lv.Service.TitleKo, lv.Service.Title)
	v.Data = lv
	s.render(w, r, http.StatusOK, "lookup", v)
}

// payloadDetail is the reason a bad application was refused, from the
// error table's message: it names the field and what is wrong with it.
func payloadDetail(a httperr.Answer) string {
	if a.Code == "bad_payload" {
		return a.Message
	}
	return ""
}

// memberNames shows the members who moved by name, as the registry knows
// the caller's household now; ids stay where it does not answer.
func (s *Server) memberNames(r *http.Request, p auth.Principal, fields [][2]string) {
	for i, f := range fields {
		if f[0] != "members" {
			continue
		}
		prof, err := s.Profiles.Profile(r.Context(), p)
		if err != nil {
			return
		}
		names := map[string]string{}
		for _, rel := range prof.Relations {
			names[rel.Subject] = rel.Name
		}
		ids := strings.Split(f[1], ", ")
		for k, id := range ids {
			if n, ok := names[id]; ok {
				ids[k] = n
			}
		}
		fields[i][1] = strings.Join(ids, ", ")
	}
}
