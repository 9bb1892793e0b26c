package incident

import (
	"fmt"
	"time"
)

// seoul is Korea Standard Time: a bare date in a filter is a Korean day.
var seoul = time.FixedZone("KST", 9*60*60)

// ParseTime reads a filter's time: RFC 3339, or a date YYYY-MM-DD meaning
// its midnight in Korea. An empty string is the zero time (open).
func ParseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, seoul); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%w: time %q is neither RFC 3339 nor YYYY-MM-DD", ErrBadRequest, s)
}
