// Package reqid owns the request id: the correlation id one HTTP request
// carries through minwon — in its response header, its log lines, the calls
// it makes to agencies and the audit records it writes — so that an
// operator can follow one request across all of them. An incoming
// X-Request-Id is kept only if it is short and made of safe characters;
// otherwise a fresh random one replaces it. A request id never holds
// personal data: the one minwon makes is random, and one it accepts is
// scanned for RRNs and dropped if it holds one.
package reqid

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"net/http"

	"github.com/minwon/minwon/internal/ident"
)

// Header is the HTTP header that carries the request id, in both
// directions and on the calls to the agencies.
const Header = "X-Request-Id"

// MaxLen bounds an accepted request id.
const MaxLen = 64

// Valid reports whether id may be used as given: 1 to MaxLen characters of
// letters, digits, '-', '_', '.' and ':', and no RRN in any spelling.
func Valid(id string) bool {
	if id == "" || len(id) > MaxLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == ':':
		default:
			return false
		}
	}
	return !ident.ContainsRRN(id)
}

var enc = base32.StdEncoding.WithPadding(base32.NoPadding)

// New returns a fresh random request id (26 characters, 128 bits).
func New() string {
	var b [16]byte
	rand.Read(b[:])
	return enc.EncodeToString(b[:])
}

type key struct{}

// With returns ctx carrying id.
func With(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, key{}, id)
}

// From returns the request id in ctx, or "".
func From(ctx context.Context) string {
	s, _ := ctx.Value(key{}).(string)
	return s
}

// Handler gives every request a request id: the caller's X-Request-Id if
// Valid, else a new one. It echoes the id in the response header and puts
// it in the request's context.
func Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(Header)
		if !Valid(id) {
			id = New()
		}
		w.Header().Set(Header, id)
		h.ServeHTTP(w, r.WithContext(With(r.Context(), id)))
	})
}
