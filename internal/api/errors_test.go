package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/minwon/minwon/internal/portal/portaltest"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/minwon/minwon/internal/apiwire"
	"github.com/minwon/minwon/internal/httperr"
)

func getMe(t *testing.T, err error, log *slog.Logger) (*httptest.ResponseRecorder, apiwire.ErrorBody) {
	t.Helper()
	h := (&Server{Sessions: portaltest.OneSession{}, Profiles: portaltest.FailingProfiles{Err: err}, Log: log}).Handler()
	req := httptest.NewRequest(http.MethodGet, "/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer tok")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var body apiwire.ErrorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("%s: not the error shape: %v", rec.Body, err)
	}
	return rec, body
}

// Every row of the error table, returned by a domain call behind a handler
// (bare and wrapped with context), gives that row's status, code, message
// and Retry-After in the API's one error shape.
func TestEveryErrorRow(t *testing.T) {
	for _, row := range httperr.Rows() {
		for _, err := range []error{row.Example, fmt.Errorf("look up household: %w", row.Example)} {
			t.Run(row.Code+"/"+err.Error(), func(t *testing.T) {
				want := httperr.Of(err)
				if want.Status != row.Status || want.Code != row.Code {
					t.Fatalf("Of(%v) = %d %s, want the row's %d %s: an earlier row shadows it", err, want.Status, want.Code, row.Status, row.Code)
				}
				rec, body := getMe(t, err, slog.New(slog.DiscardHandler))
				if rec.Code != row.Status || body.Error.Code != row.Code || body.Error.Message != want.Message || body.Error.Message == "" {
					t.Fatalf("got %d %+v, want %d %s %q", rec.Code, body.Error, row.Status, row.Code, want.Message)
				}
				if got := rec.Header().Get("Retry-After"); got != want.RetryAfterHeader() {
					t.Fatalf("Retry-After %q, want %q", got, want.RetryAfterHeader())
				}
				if (row.Status == http.StatusServiceUnavailable || row.Status == http.StatusTooManyRequests) && rec.Header().Get("Retry-After") == "" {
					t.Fatalf("%d without Retry-After", row.Status)
				}
				if body.Error.Rule != want.Rule {
					t.Fatalf("rule %q, want %q", body.Error.Rule, want.Rule)
				}
			})
		}
	}
}

// An error no row knows is a 500 with a generic message: the caller learns
// nothing of it, the operators' log gets all of it.
func TestUnknownErrorIs500WithoutDetail(t *testing.T) {
	secret := errors.New("pq: duplicate key value violates unique constraint \"accounts_pkey\" (login)=(kim.minsu)")
	var logged bytes.Buffer
	rec, body := getMe(t, fmt.Errorf("load profile: %w", secret), slog.New(slog.NewTextHandler(&logged, nil)))
	if rec.Code != http.StatusInternalServerError || body.Error.Code != "internal" {
		t.Fatalf("got %d %+v", rec.Code, body.Error)
	}
	if body.Error.Message != httperr.Unknown().Message {
		t.Fatalf("message %q, want the generic one", body.Error.Message)
	}
	for _, leak := range []string{"pq", "kim.minsu", "profile", "constraint"} {
		if strings.Contains(rec.Body.String(), leak) {
			t.Fatalf("the answer leaks %q: %s", leak, rec.Body)
		}
	}
	if !strings.Contains(logged.String(), "kim.minsu") {
		t.Fatalf("the operators' log lacks the error: %q", logged.String())
	}
}
