package admin

import (
	"context"
	"net/http"
	"strconv"

	"github.com/minwon/minwon/internal/audit"
	"github.com/minwon/minwon/internal/httpjson"
	"github.com/minwon/minwon/internal/incident"
	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/pki"
)

// incidents is what the admin API needs from package incident.
type incidents interface {
	List(ctx context.Context, limit int) ([]incident.Summary, error)
	Show(ctx context.Context, id string, sample int) (*incident.Detail, error)
	ReportPDF(d *incident.Detail) ([]byte, error)
	OpenByHand(ctx context.Context, actor string, grade int, title string) (string, error)
	AddNote(ctx context.Context, actor, id, text string) error
	MarkReported(ctx context.Context, actor, id string) error
	OpenKeyIncident(ctx context.Context, actor, keyID, reason string) (string, error)
	DryRun(ctx context.Context, f incident.Filter, reason string, sample int) (*incident.Preview, error)
	CreateRecall(ctx context.Context, actor string, f incident.Filter, reason string, grade int) (*incident.Recall, error)
	Approve(ctx context.Context, actor, id string) (*incident.Recall, error)
	RecallStatus(ctx context.Context, id string) (*incident.Recall, error)
}

// Who handles incidents: operators act, the privacy officer also files the
// report to the regulator; every central role reads.
var reporters = []pki.Role{pki.Operator, pki.PrivacyOfficer}

func (s *Server) incidentRoutes(mux *http.ServeMux) {
	if s.Incidents == nil {
		return
	}
	mux.HandleFunc("GET /admin/v1/reasons", s.as(readers, s.reasons))
	mux.HandleFunc("GET /admin/v1/incidents", s.as(readers, s.listIncidents))
	mux.HandleFunc("POST /admin/v1/incidents", s.as(changers, s.openIncident))
	mux.HandleFunc("GET /admin/v1/incidents/{id}", s.as(readers, s.showIncident(false)))
	mux.HandleFunc("GET /admin/v1/incidents/{id}/report.json", s.as(readers, s.showIncident(true)))
	mux.HandleFunc("GET /admin/v1/incidents/{id}/report.pdf", s.as(readers, s.incidentPDF))
	mux.HandleFunc("POST /admin/v1/incidents/{id}/notes", s.as(changers, s.incidentNote))
	mux.HandleFunc("POST /admin/v1/incidents/{id}/reported", s.as(reporters, s.incidentReported))
	mux.HandleFunc("POST /admin/v1/recalls", s.as(changers, s.createRecall))
	mux.HandleFunc("GET /admin/v1/recalls/{id}", s.as(readers, s.recallStatus))
	mux.HandleFunc("POST /admin/v1/recalls/{id}/approve", s.as(changers, s.approveRecall))
}

func (s *Server) reasons(w http.ResponseWriter, r *http.Request, _ pki.Caller) {
	httpjson.Write(w, http.StatusOK, issuance.StandardReasons)
}

func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request, _ pki.Caller) {
	list, err := s.Incidents.List(r.Context(), 200)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]incident.Report, len(list))
	for i, inc := range list {
		out[i] = incident.SummaryJSON(inc)
	}
	httpjson.Write(w, http.StatusOK, out)
}

// OpenIncidentRequest is the body of opening an incident by hand.
type OpenIncidentRequest struct {
	Grade int    `json:"grade"`
	Title string `json:"title"`
}

// IncidentID answers an action on an incident.
type IncidentID struct {
	ID string `json:"id"`
}

func (s *Server) openIncident(w http.ResponseWriter, r *http.Request, c pki.Caller) {
	var in OpenIncidentRequest
	if !httpjson.Decode(w, r, &in) {
		return
	}
	id, err := s.Incidents.OpenByHand(r.Context(), c.ID, in.Grade, in.Title)
	if err == nil {
		err = s.record(r.Context(), c, "incident_open", "", "incident "+id)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusCreated, IncidentID{ID: id})
}

// showSample and showSubjects bound what GET /admin/v1/incidents/{id}
// lists; the report has everything.
const (
	showSample   = 20
	showSubjects = 50
)

// showIncident answers an incident, or its whole report. Both list
// affected subjects and who received their data: reading them is audited.
func (s *Server) showIncident(full bool) func(http.ResponseWriter, *http.Request, pki.Caller) {
	return func(w http.ResponseWriter, r *http.Request, c pki.Caller) {
		d, ok := s.incidentDetail(w, r, c, full)
		if !ok {
			return
		}
		out := incident.ReportOf(d)
		if !full && len(out.Subjects) > showSubjects {
			out.Subjects = out.Subjects[:showSubjects]
		}
		httpjson.Write(w, http.StatusOK, out)
	}
}

func (s *Server) incidentDetail(w http.ResponseWriter, r *http.Request, c pki.Caller, full bool) (*incident.Detail, bool) {
	id := r.PathValue("id")
	sample, action := showSample, "incident_view"
	if full {
		sample, action = 0, "incident_report"
	}
	d, err := s.Incidents.Show(r.Context(), id, sample)
	if err == nil {
		err = s.Audit.Record(r.Context(), audit.Event{ActorKind: audit.Operator, Actor: c.ID, Office: c.Office, Action: action, Detail: "incident " + id})
	}
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	return d, true
}

func (s *Server) incidentPDF(w http.ResponseWriter, r *http.Request, c pki.Caller) {
	d, ok := s.incidentDetail(w, r, c, true)
	if !ok {
		return
	}
	pdf, err := s.Incidents.ReportPDF(d)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="`+d.ID+`.pdf"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(pdf)))
	w.Write(pdf)
}

// NoteRequest is the body of a timeline note.
type NoteRequest struct {
	Text string `json:"text"`
}

func (s *Server) incidentNote(w http.ResponseWriter, r *http.Request, c pki.Caller) {
	var in NoteRequest
	if !httpjson.Decode(w, r, &in) {
		return
	}
	id := r.PathValue("id")
	err := s.Incidents.AddNote(r.Context(), c.ID, id, in.Text)
	if err == nil {
		err = s.record(r.Context(), c, "incident_note", "", "incident "+id)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusCreated, IncidentID{ID: id})
}

func (s *Server) incidentReported(w http.ResponseWriter, r *http.Request, c pki.Caller) {
	id := r.PathValue("id")
	err := s.Incidents.MarkReported(r.Context(), c.ID, id)
	if err == nil {
		err = s.record(r.Context(), c, "incident_reported", "", "incident "+id)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, IncidentID{ID: id})
}

// RecallRequest is the body of POST /admin/v1/recalls. Times are RFC 3339
// or YYYY-MM-DD (a Korean day); grade defaults to 2.
type RecallRequest struct {
	Service         string `json:"service,omitempty"`
	TemplateVersion string `json:"template_version,omitempty"`
	Agency          string `json:"agency,omitempty"`
	Key             string `json:"key,omitempty"`
	From            string `json:"from,omitempty"`
	To              string `json:"to,omitempty"`
	Reason          string `json:"reason"`
	Grade           int    `json:"grade,omitempty"`
	DryRun          bool   `json:"dry_run,omitempty"`
}

// RecallPreview answers a dry run.
type RecallPreview struct {
	Count  int                       `json:"count"`
	Sample []incident.ReportDocument `json:"sample"`
	Reason string                    `json:"reason"`
}

// previewSample is how many matching documents a dry run shows.
const previewSample = 10

func (s *Server) createRecall(w http.ResponseWriter, r *http.Request, c pki.Caller) {
	var in RecallRequest
	if !httpjson.Decode(w, r, &in) {
		return
	}
	f := incident.Filter{Service: in.Service, TemplateVersion: in.TemplateVersion, Agency: in.Agency, Key: in.Key}
	var err error
	if f.From, err = incident.ParseTime(in.From); err == nil {
		f.To, err = incident.ParseTime(in.To)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if in.DryRun {
		p, err := s.Incidents.DryRun(r.Context(), f, in.Reason, previewSample)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		out := RecallPreview{Count: p.Count, Reason: p.Reason, Sample: []incident.ReportDocument{}}
		for _, d := range p.Sample {
			out.Sample = append(out.Sample, incident.DocumentJSON(d))
		}
		httpjson.Write(w, http.StatusOK, out)
		return
	}
	rc, err := s.Incidents.CreateRecall(r.Context(), c.ID, f, in.Reason, in.Grade)
	if err == nil {
		err = s.record(r.Context(), c, "recall_create", "", "recall "+rc.ID+" incident "+rc.IncidentID+" documents "+strconv.Itoa(rc.Total)+" filter "+f.String())
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusCreated, incident.RecallJSON(*rc))
}

func (s *Server) approveRecall(w http.ResponseWriter, r *http.Request, c pki.Caller) {
	id := r.PathValue("id")
	rc, err := s.Incidents.Approve(r.Context(), c.ID, id)
	if err == nil {
		err = s.record(r.Context(), c, "recall_approve", "", "recall "+id+" incident "+rc.IncidentID)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusAccepted, incident.RecallJSON(*rc))
}

func (s *Server) recallStatus(w http.ResponseWriter, r *http.Request, _ pki.Caller) {
	rc, err := s.Incidents.RecallStatus(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, incident.RecallJSON(*rc))
}
