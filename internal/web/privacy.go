package web

import (
	"net/http"

	"github.com/minwon/minwon/internal/audit"
	"github.com/minwon/minwon/internal/auth"
	"github.com/minwon/minwon/internal/notify"
)

type accessRow struct {
	audit.Event
	You bool // the caller did it
}

type accessView struct{ Entries []accessRow }

// accessLog shows who used the caller's personal data, newest first; not
// where from (another person's address is not theirs to see).
func (s *Server) accessLog(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	events, err := s.Access.AccessLog(r.Context(), p.Subject)
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	av := &accessView{}
	for _, e := range events {
		e.From = ""
		av.Entries = append(av.Entries, accessRow{Event: e, You: e.ActorKind == audit.Citizen && e.Actor == p.Login})
	}
	v := s.newView(w, r, &p, "access.title")
	v.Data = av
	s.render(w, r, http.StatusOK, "accesslog", v)
}

type inboxView struct{ Notices []notify.Notice }

func (s *Server) notifications(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	list, err := s.Inbox.Inbox(r.Context(), p.Subject)
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	v := s.newView(w, r, &p, "inbox.title")
	v.Data = &inboxView{Notices: list}
	s.render(w, r, http.StatusOK, "notifications", v)
}

func (s *Server) readNotification(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := s.Inbox.MarkRead(r.Context(), p.Subject, r.PathValue("id")); err != nil {
		s.fail(w, r, err, "/notifications")
		return
	}
	http.Redirect(w, r, "/notifications", http.StatusSeeOther)
}
