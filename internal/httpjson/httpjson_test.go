package httpjson

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/linkage"
)

func TestDecode(t *testing.T) {
	type body struct {
		Service string `json:"service"`
	}
	cases := []struct {
		ctype, body string
		ok          bool
		status      int
		code        string
	}{
		{"application/json", `{"service":"x"}`, true, 0, ""},
		{"application/json; charset=utf-8", `{"service":"x"}`, true, 0, ""},
		{"text/plain", `{"service":"x"}`, false, 415, "unsupported_media_type"},
		{"application/json", `{"service":"x","extra":1}`, false, 400, "bad_json"},
		{"application/json", `{"service":`, false, 400, "bad_json"},
		{"application/json", `{"service":"` + strings.Repeat("a", MaxBody) + `"}`, false, 400, "bad_json"},
		{"application/json", `{"service":"x"} {"service":"y"}`, false, 400, "bad_json"},
		{"application/json", `{"service":"x"}garbage`, false, 400, "bad_json"},
		{"application/json", `{"service":"x"}` + "\n", true, 0, ""},
	}
	for _, tc := range cases {
		r := httptest.NewRequest("POST", "/", strings.NewReader(tc.body))
		r.Header.Set("Content-Type", tc.ctype)
		w := httptest.NewRecorder()
		var v body
		if ok := Decode(w, r, &v); ok != tc.ok {
			t.Errorf("%s %.40q: ok %v", tc.ctype, tc.body, ok)
			continue
		}
		if !tc.ok && (w.Code != tc.status || !strings.Contains(w.Body.String(), `"code":"`+tc.code+`"`)) {
			t.Errorf("%s %.40q: %d %s", tc.ctype, tc.body, w.Code, w.Body)
		}
	}
}

// The messages name the field in the API's words, never a Go type.
func TestDecodeMessages(t *testing.T) {
	type body struct {
		Login   string `json:"login"`
		Options struct {
			Show bool `json:"show"`
		} `json:"options"`
	}
	cases := []struct{ body, want string }{
		{`{"login":5}`, "field login must be a string"},
		{`{"options":{"show":"yes"}}`, "field options.show must be a boolean"},
		{`[1]`, "the body must be a JSON object"},
		{`{"login":"a"} x`, "there is more after the JSON value"},
		{`{"nope":1}`, `unknown field \"nope\"`},
		{``, "the body is empty"},
	}
	for _, tc := range cases {
		r := httptest.NewRequest("POST", "/", strings.NewReader(tc.body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		var v body
		Decode(w, r, &v)
		got := w.Body.String()
		if !strings.Contains(got, tc.want) || strings.Contains(got, "Go ") || strings.Contains(got, "body.") || strings.Contains(got, "struct") {
			t.Errorf("%q: %s, want %q and no Go type", tc.body, got, tc.want)
		}
	}
}

func TestFailAnswersFromTheTable(t *testing.T) {
	cases := []struct {
		err        error
		status     int
		code       string
		retryAfter bool
	}{
		{fmt.Errorf("issue: %w", issuance.ErrConflict), http.StatusConflict, "idempotency_conflict", false},
		{&linkage.UnavailableError{Agency: linkage.Registry}, http.StatusServiceUnavailable, "agency_unavailable", true},
		{errors.New("database on fire at 900101-1234568"), http.StatusInternalServerError, "internal", false},
	}
	for _, tc := range cases {
		w := httptest.NewRecorder()
		Fail(w, httptest.NewRequest("GET", "/", nil), nil, tc.err)
		if w.Code != tc.status || !strings.Contains(w.Body.String(), `"code":"`+tc.code+`"`) || (w.Header().Get("Retry-After") != "") != tc.retryAfter {
			t.Errorf("%v: %d %s Retry-After %q", tc.err, w.Code, w.Body, w.Header().Get("Retry-After"))
		}
		if strings.Contains(w.Body.String(), "900101") || strings.Contains(w.Body.String(), "fire") {
			t.Errorf("an internal error leaked: %s", w.Body)
		}
	}
	w := httptest.NewRecorder()
	NoStore(http.NotFoundHandler()).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Header().Get("Cache-Control") != "no-store" {
		t.Error("NoStore did not mark the answer")
	}
}
