// Package httpjson is the JSON shape the API, the counter and the admin API
// share: bodies decoded strictly (application/json, bounded, no unknown
// fields), values written with the same headers, errors answered from the
// one error table (package httperr). It holds no state and knows no domain.
package httpjson

import (
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"net/http"

	"github.com/minwon/minwon/internal/apiwire"
	"github.com/minwon/minwon/internal/httperr"
)

// MaxBody bounds a request body.
const MaxBody = 64 << 10

// Decode reads r's JSON body into v. On failure it answers (415 for another
// media type, 400 for JSON that is not v's shape) and returns false.
func Decode(w http.ResponseWriter, r *http.Request, v any) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" {
		Error(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "send the body as application/json")
		return false
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, MaxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		Error(w, http.StatusBadRequest, "bad_json", "the body is not the expected JSON: "+err.Error())
		return false
	}
	return true
}

// Write answers v as JSON with status.
func Write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// Error answers {"error":{"code","message"}} with status.
func Error(w http.ResponseWriter, status int, code, message string) {
	Write(w, status, apiwire.ErrorBody{Error: apiwire.Error{Code: code, Message: message}})
}

// Fail answers err from the error table, with its Retry-After, logging
// errors that are minwon's own fault.
func Fail(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	a := httperr.Of(err)
	if a.Internal && log != nil {
		// Errors carry no personal data by construction; log for operators.
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if ra := a.RetryAfterHeader(); ra != "" {
		w.Header().Set("Retry-After", ra)
	}
	Write(w, a.Status, apiwire.ErrorBody{Error: apiwire.Error{Code: a.Code, Message: a.Message, Rule: a.Rule}})
}

// NoStore marks every answer of h uncacheable.
func NoStore(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}
