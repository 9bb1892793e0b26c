package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"github.com/minwon/minwon/internal/httpjson"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/keyring"
	"github.com/minwon/minwon/internal/verification"
)

type keyAdmin interface {
	KeySet(ctx context.Context) (verification.KeySetJSON, error)
	Rotate(ctx context.Context) (string, error)
	Revoke(ctx context.Context, id, reason string) error
}

type revoker interface {
	Revoke(ctx context.Context, number, reason string) (*issuance.Revocation, error)
}

type alerts interface {
	Alerts(ctx context.Context, limit int) ([]issuance.Alert, error)
}

// Admin is the operators' API under /admin/v1: keys, revocations, alerts.
// It is meant for its own listener (loopback or an internal network) and
// every request must carry the admin token as a Bearer token.
type Admin struct {
	Token   string // compared in constant time; never logged
	Keys    keyAdmin
	Revoker revoker
	Alerts  alerts
	Log     *slog.Logger
}

// Handler returns the admin routes.
func (a *Admin) Handler() http.Handler {
	s := &Server{Log: a.Log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /admin/v1/keys", func(w http.ResponseWriter, r *http.Request) {
		ks, err := a.Keys.KeySet(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		httpjson.Write(w, http.StatusOK, ks)
	})
	mux.HandleFunc("POST /admin/v1/keys/rotate", func(w http.ResponseWriter, r *http.Request) {
		id, err := a.Keys.Rotate(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		httpjson.Write(w, http.StatusCreated, map[string]string{"id": id, "state": keyring.Active})
	})
	mux.HandleFunc("POST /admin/v1/keys/{id}/revoke", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Reason string `json:"reason"`
		}
		if !httpjson.Decode(w, r, &in) {
			return
		}
		if err := a.Keys.Revoke(r.Context(), r.PathValue("id"), in.Reason); err != nil {
			s.fail(w, r, err)
			return
		}
		httpjson.Write(w, http.StatusOK, map[string]string{"id": r.PathValue("id"), "state": keyring.Revoked})
	})
	mux.HandleFunc("POST /admin/v1/revocations", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Number string `json:"number"`
			Reason string `json:"reason"`
		}
		if !httpjson.Decode(w, r, &in) {
			return
		}
		rev, err := a.Revoker.Revoke(r.Context(), in.Number, in.Reason)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		httpjson.Write(w, http.StatusCreated, map[string]any{"number": rev.Number, "reason": rev.Reason, "revoked_at": rev.At.Format(time.RFC3339Nano), "log_index": rev.LogIndex})
	})
	mux.HandleFunc("GET /admin/v1/alerts", func(w http.ResponseWriter, r *http.Request) {
		list, err := a.Alerts.Alerts(r.Context(), 200)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		type alertJSON struct {
			At        string `json:"at"`
			Kind      string `json:"kind"`
			Service   string `json:"service"`
			Requester string `json:"requester_login"`
			Detail    string `json:"detail"`
		}
		out := make([]alertJSON, len(list))
		for i, al := range list {
			out[i] = alertJSON{al.At.Format(time.RFC3339Nano), al.Kind, al.Service, al.RequesterLogin, al.Detail}
		}
		httpjson.Write(w, http.StatusOK, out)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		httpjson.Error(w, http.StatusNotFound, "not_found", "no such admin endpoint")
	})
	return httpjson.NoStore(a.authorize(mux))
}

func (a *Admin) authorize(h http.Handler) http.Handler {
	want := sha256.Sum256([]byte(a.Token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
		if a.Token == "" || !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			httpjson.Error(w, http.StatusUnauthorized, "unauthenticated", "send the admin token as Authorization: Bearer TOKEN")
			return
		}
		h.ServeHTTP(w, r)
	})
}
