// Package api serves minwon's JSON API under /api/v1. Handlers are thin:
// decode, call one domain function, encode. Every error is
// {"error":{"code","message"}} with a fitting status; never a stack trace,
// never another person's data.
package api

import (
	"encoding/json"
	"net/http"

	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/linkage"
)

// agencyHealth reports the linkage layer's view of each agency.
type agencyHealth interface {
	Status() []linkage.AgencyStatus
}

// Server holds the API's collaborators.
type Server struct {
	Catalog  *form.Catalog
	Agencies agencyHealth
}

// Handler returns the API routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/services", s.services)
	mux.HandleFunc("GET /api/v1/status", s.status)
	mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such API endpoint")
	})
	return mux
}

type serviceJSON struct {
	ID         string           `json:"id"`
	Kind       form.Kind        `json:"kind"`
	Title      string           `json:"title"`
	TitleKo    string           `json:"title_ko"`
	Agency     string           `json:"agency"`
	Requesters []form.Requester `json:"requesters"`
	Version    int              `json:"version"`
}

func (s *Server) services(w http.ResponseWriter, r *http.Request) {
	list := s.Catalog.Services()
	out := make([]serviceJSON, len(list))
	for i, svc := range list {
		out[i] = serviceJSON{ID: svc.ID, Kind: svc.Kind, Title: svc.Title, TitleKo: svc.TitleKo, Agency: svc.Agency, Requesters: svc.Requesters, Version: svc.Version}
	}
	writeJSON(w, http.StatusOK, out)
}

type statusJSON struct {
	Status   string                 `json:"status"` // "ok" or "degraded"
	Agencies []linkage.AgencyStatus `json:"agencies"`
	Degraded []string               `json:"degraded_services,omitempty"`
}

// status reports each agency's health and the services it degrades.
func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	st := statusJSON{Status: "ok", Agencies: s.Agencies.Status()}
	down := map[string]bool{}
	for _, a := range st.Agencies {
		if a.State != linkage.Closed {
			down[a.Agency] = true
			st.Status = "degraded"
		}
	}
	for _, svc := range s.Catalog.Services() {
		for _, n := range svc.Needs() {
			if down[n.Agency] {
				st.Degraded = append(st.Degraded, svc.ID)
				break
			}
		}
	}
	writeJSON(w, http.StatusOK, st)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// writeError writes the API's one error shape.
func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": message}})
}
