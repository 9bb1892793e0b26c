// Package httpjson is the JSON shape the API, the counter and the admin API
// share: bodies decoded strictly (application/json, bounded, no unknown
// fields), values written with the same headers, errors answered from the
// one error table (package httperr). It holds no state and knows no domain.
package httpjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/minwon/minwon/internal/apiwire"
	"github.com/minwon/minwon/internal/httperr"
)

// MaxBody bounds a request body.
const MaxBody = 64 << 10

// Decode reads r's JSON body into v: one JSON value and nothing after it.
// On failure it answers (415 for another media type, 400 for JSON that is
// not v's shape, in words that name the field, never a Go type) and
// returns false.
func Decode(w http.ResponseWriter, r *http.Request, v any) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" {
		Error(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "send the body as application/json")
		return false
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, MaxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		// Trailing data is refused: a body is one value, and what a
		// proxy or a parser might read after it is not ours to guess.
		if _, terr := dec.Token(); terr != io.EOF {
			err = errTrailing
		}
	}
	if err != nil {
		Error(w, http.StatusBadRequest, "bad_json", "the body is not the expected JSON: "+describe(err))
		return false
	}
	return true
}

var errTrailing = errors.New("trailing data after the JSON value")

// describe says what is wrong with a body in the API's words: the
// decoder's own messages name Go types (e.g. "cannot unmarshal number into
// Go struct field LoginRequest.login of type string").
func describe(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.Is(err, errTrailing):
		return "there is more after the JSON value; send exactly one object"
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return "the body must be a JSON " + jsonKind(typeErr.Type.Kind().String())
		}
		return fmt.Sprintf("field %s must be a %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String()))
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("malformed JSON at byte %d", syntaxErr.Offset)
	case errors.Is(err, io.EOF):
		return "the body is empty"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON ends too soon (or is larger than 64 KiB)"
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return "unknown field " + f
	}
	return "malformed JSON"
}

// jsonKind names a Go kind as the JSON value it decodes from.
func jsonKind(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean (true or false)"
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "array"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "whole number"
	case "float32", "float64":
		return "number"
	}
	return "value of another type"
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
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
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

// Allowed returns the methods mux serves r's path with, other than through
// its catch-all pattern: for a 405's Allow header when a catch-all (which
// matches every method) would otherwise answer 404. The pages use it too.
func Allowed(mux *http.ServeMux, r *http.Request, catchAll string) []string {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.WithContext(r.Context())
		probe.Method = m
		if _, pattern := mux.Handler(probe); pattern != "" && pattern != catchAll {
			allow = append(allow, m)
		}
	}
	return allow
}
