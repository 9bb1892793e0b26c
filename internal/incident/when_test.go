package incident

import (
	"errors"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"", time.Time{}, true},
		{"2026-11-20", time.Date(2026, 11, 19, 15, 0, 0, 0, time.UTC), true},
		{"2026-11-20T09:30:00+09:00", time.Date(2026, 11, 20, 0, 30, 0, 0, time.UTC), true},
		{"2026-11-20T00:30:00Z", time.Date(2026, 11, 20, 0, 30, 0, 0, time.UTC), true},
		{"2026-02-30", time.Time{}, false},
		{"yesterday", time.Time{}, false},
		{"20261120", time.Time{}, false},
	} {
		got, err := ParseTime(c.in)
		if c.ok != (err == nil) || !got.Equal(c.want) {
			t.Errorf("ParseTime(%q) = %v, %v", c.in, got, err)
		}
		if err != nil && !errors.Is(err, ErrBadRequest) {
			t.Errorf("ParseTime(%q): %v is not a bad request", c.in, err)
		}
	}
}

// FuzzParseTime: a filter's time from the admin API either parses to a UTC
// time that formats back to the same instant, or is a bad request.
func FuzzParseTime(f *testing.F) {
	f.Add("2026-11-20")
	f.Add("2026-11-20T09:30:00+09:00")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTime(s)
		if err != nil {
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("ParseTime(%q): %v", s, err)
			}
			return
		}
		if got.Location() != time.UTC {
			t.Fatalf("ParseTime(%q) = %v, not UTC", s, got)
		}
		back, err := ParseTime(got.Format(time.RFC3339Nano))
		if s != "" && (err != nil || !back.Equal(got)) {
			t.Fatalf("ParseTime(%q) = %v does not round-trip: %v %v", s, got, back, err)
		}
	})
}
