package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/minwon/minwon/internal/governance"
	"github.com/minwon/minwon/internal/httpjson"
	"github.com/minwon/minwon/internal/pki"
)

// forms is form governance as the admin API uses it.
type forms interface {
	List(ctx context.Context) ([]governance.ServiceSummary, error)
	Show(ctx context.Context, service string) (governance.ServiceView, error)
	Submit(ctx context.Context, who governance.Official, body []byte) (governance.Version, error)
	Approve(ctx context.Context, who governance.Official, service string, kind governance.Kind, number int) (governance.Version, error)
	Reject(ctx context.Context, who governance.Official, service string, kind governance.Kind, number int, reason string) error
	Rollback(ctx context.Context, who governance.Official, service, reason string, revoke bool) (governance.RollbackReport, error)
}

// Who changes forms: operators author and approve, privacy officers
// approve (one of the two approvals must be theirs); governance enforces
// the rest.
var formChangers = []pki.Role{pki.Operator, pki.PrivacyOfficer}

func (s *Server) formRoutes(mux *http.ServeMux) {
	if s.Forms == nil {
		return
	}
	mux.HandleFunc("GET /admin/v1/forms", s.as(readers, s.formList))
	mux.HandleFunc("GET /admin/v1/forms/{service}", s.as(readers, s.formShow))
	mux.HandleFunc("POST /admin/v1/forms", s.as(formChangers, s.formSubmit))
	mux.HandleFunc("POST /admin/v1/forms/{service}/{kind}/{version}/approve", s.as(formChangers, s.formApprove))
	mux.HandleFunc("POST /admin/v1/forms/{service}/{kind}/{version}/reject", s.as(formChangers, s.formReject))
	mux.HandleFunc("POST /admin/v1/forms/{service}/rollback", s.as(formChangers, s.formRollback))
}

func official(c pki.Caller) governance.Official {
	return governance.Official{ID: c.ID, Office: c.Office, Role: governance.Role(c.Role)}
}

func (s *Server) formList(w http.ResponseWriter, r *http.Request, _ pki.Caller) {
	list, err := s.Forms.List(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, list)
}

func (s *Server) formShow(w http.ResponseWriter, r *http.Request, _ pki.Caller) {
	view, err := s.Forms.Show(r.Context(), r.PathValue("service"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, view)
}

// FormVersion is the answer to a submission or an approval.
type FormVersion struct {
	Service string             `json:"service"`
	Kind    governance.Kind    `json:"kind"`
	Version int                `json:"version"`
	State   governance.State   `json:"state"`
	Checks  *governance.Checks `json:"checks,omitempty"`
}

// maxFormBytes bounds a submitted template or schema.
const maxFormBytes = 256 << 10

func (s *Server) formSubmit(w http.ResponseWriter, r *http.Request, c pki.Caller) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBytes))
	if err != nil {
		httpjson.Error(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("a form file is at most %d bytes", maxFormBytes))
		return
	}
	v, err := s.Forms.Submit(r.Context(), official(c), body)
	if err != nil {
		// A refused submission is kept in the audit log with its reason.
		if errors.Is(err, governance.ErrRefused) {
			_ = s.record(r.Context(), c, "form_submit_refused", "", err.Error())
		}
		s.fail(w, r, err)
		return
	}
	if err := s.record(r.Context(), c, "form_submit", "", fmt.Sprintf("%s %s v%d digest %s", v.Service, v.Kind, v.Number, v.Digest)); err != nil {
		s.fail(w, r, err)
		return
	}
	out := FormVersion{Service: v.Service, Kind: v.Kind, Version: v.Number, State: v.State}
	if len(v.Checks.Goldens) > 0 {
		out.Checks = &v.Checks
	}
	httpjson.Write(w, http.StatusCreated, out)
}

// versionPath reads {service}/{kind}/{version}.
func versionPath(r *http.Request) (service string, kind governance.Kind, number int, ok bool) {
	kind = governance.Kind(r.PathValue("kind"))
	n, err := strconv.Atoi(r.PathValue("version"))
	if err != nil || n < 1 || (kind != governance.TemplateKind && kind != governance.SchemaKind) {
		return "", "", 0, false
	}
	return r.PathValue("service"), kind, n, true
}

func (s *Server) formApprove(w http.ResponseWriter, r *http.Request, c pki.Caller) {
	service, kind, n, ok := versionPath(r)
	if !ok {
		httpjson.Error(w, http.StatusNotFound, "unknown_form_version", "the path is /admin/v1/forms/SERVICE/template|schema/VERSION/approve")
		return
	}
	v, err := s.Forms.Approve(r.Context(), official(c), service, kind, n)
	if err == nil {
		err = s.record(r.Context(), c, "form_approve", "", fmt.Sprintf("%s %s v%d, now %s", service, kind, n, v.State))
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, FormVersion{Service: service, Kind: kind, Version: n, State: v.State})
}

func (s *Server) formReject(w http.ResponseWriter, r *http.Request, c pki.Caller) {
	service, kind, n, ok := versionPath(r)
	if !ok {
		httpjson.Error(w, http.StatusNotFound, "unknown_form_version", "the path is /admin/v1/forms/SERVICE/template|schema/VERSION/reject")
		return
	}
	var in ReasonRequest
	if !httpjson.Decode(w, r, &in) {
		return
	}
	err := s.Forms.Reject(r.Context(), official(c), service, kind, n, in.Reason)
	if err == nil {
		err = s.record(r.Context(), c, "form_reject", "", fmt.Sprintf("%s %s v%d: %s", service, kind, n, in.Reason))
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, FormVersion{Service: service, Kind: kind, Version: n, State: governance.Rejected})
}

// RollbackRequest is the body of a rollback.
type RollbackRequest struct {
	Reason string `json:"reason"`
	Revoke bool   `json:"revoke"`
}

func (s *Server) formRollback(w http.ResponseWriter, r *http.Request, c pki.Caller) {
	var in RollbackRequest
	if !httpjson.Decode(w, r, &in) {
		return
	}
	service := r.PathValue("service")
	rep, err := s.Forms.Rollback(r.Context(), official(c), service, in.Reason, in.Revoke)
	if rep.Version > 0 {
		// Recorded even when revoking failed part-way: the rollback itself
		// took effect.
		if rerr := s.record(r.Context(), c, "form_rollback", "", fmt.Sprintf("%s v%d: %s; %d documents, %d revoked", service, rep.Version, in.Reason, len(rep.Documents), rep.Revoked)); err == nil {
			err = rerr
		}
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, rep)
}
