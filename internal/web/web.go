// Package web serves minwon's server-rendered pages: for now the portal's
// home page with the service catalog. Pages hold no personal data unless the
// viewer is its owner, and every page is rendered with html/template.
package web

import (
	"embed"
	"html/template"
	"net/http"

	"github.com/minwon/minwon/internal/form"
)

//go:embed templates/*.html
var templates embed.FS

// Server holds the pages' collaborators.
type Server struct {
	Catalog *form.Catalog
	tmpl    *template.Template
}

// New parses the page templates.
func New(c *form.Catalog) (*Server, error) {
	t, err := template.ParseFS(templates, "templates/*.html")
	if err != nil {
		return nil, err
	}
	return &Server{Catalog: c, tmpl: t}, nil
}

type group struct {
	Kind    form.Kind
	TitleKo string
	Title   string
	Items   []*form.Service
}

// Handler returns the page routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.home)
	return mux
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	groups := []group{
		{Kind: form.Certificate, TitleKo: "증명서 발급", Title: "Certificates"},
		{Kind: form.Application, TitleKo: "신청", Title: "Applications"},
		{Kind: form.Report, TitleKo: "신고", Title: "Reports"},
		{Kind: form.Lookup, TitleKo: "조회", Title: "Lookups"},
	}
	for _, svc := range s.Catalog.Services() {
		for i := range groups {
			if groups[i].Kind == svc.Kind {
				groups[i].Items = append(groups[i].Items, svc)
			}
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if err := s.tmpl.ExecuteTemplate(w, "home.html", groups); err != nil {
		http.Error(w, "page could not be rendered", http.StatusInternalServerError)
	}
}
