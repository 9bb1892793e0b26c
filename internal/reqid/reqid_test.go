package reqid

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	for _, tc := range []struct {
		in   string
		keep bool
	}{
		{"", false},
		{"abc-123_x.y:z", true},
		{strings.Repeat("a", MaxLen), true},
		{strings.Repeat("a", MaxLen+1), false},
		{"has space", false},
		{"new\nline", false},
		{"<script>", false},
		{"한글", false},
		{"900101-1234568", false}, // an RRN is not a request id
	} {
		var seen string
		h := Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = From(r.Context()) }))
		req := httptest.NewRequest("GET", "/", nil)
		if tc.in != "" {
			req.Header.Set(Header, tc.in)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		got := rec.Header().Get(Header)
		if got != seen {
			t.Errorf("%q: echoed %q, context had %q", tc.in, got, seen)
		}
		if tc.keep && got != tc.in {
			t.Errorf("%q: replaced by %q", tc.in, got)
		}
		if !tc.keep && (got == tc.in || !Valid(got)) {
			t.Errorf("%q: kept or replaced by an invalid %q", tc.in, got)
		}
	}
	if a, b := New(), New(); a == b || !Valid(a) {
		t.Errorf("new ids %q and %q: equal or invalid", a, b)
	}
}

func FuzzValid(f *testing.F) {
	f.Add("abc")
	f.Add("900101-1234568")
	f.Fuzz(func(t *testing.T, s string) {
		if Valid(s) && (len(s) > MaxLen || strings.ContainsAny(s, " \r\n\"<>")) {
			t.Fatalf("Valid(%q)", s)
		}
	})
}
