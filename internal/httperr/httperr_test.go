package httperr

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/linkage"
)

var snake = regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`)

// The statuses API.md allows an error to have, 413 for an upload past its
// bound, and 500 for our own faults.
var allowed = map[int]bool{400: true, 401: true, 403: true, 404: true, 409: true, 413: true, 422: true, 429: true, 503: true, 500: true}

func TestRows(t *testing.T) {
	for _, row := range Rows() {
		if row.Err == nil && row.match == nil {
			t.Errorf("%s: matches nothing", row.Code)
		}
		if !snake.MatchString(row.Code) || !allowed[row.Status] || row.Key == "" || row.Heading == "" {
			t.Errorf("row %+v: want a snake_case code, an allowed status and page keys", row.Answer)
		}
		for _, err := range []error{row.Example, fmt.Errorf("context: %w", row.Example)} {
			a := Of(err)
			if a.Status != row.Status || a.Code != row.Code || a.Key != row.Key {
				t.Errorf("Of(%v) = %d %s, want the row's %d %s", err, a.Status, a.Code, row.Status, row.Code)
			}
			if a.Message == "" {
				t.Errorf("Of(%v): no message", err)
			}
			if (a.Status == http.StatusServiceUnavailable || a.Status == http.StatusTooManyRequests) && a.RetryAfter <= 0 {
				t.Errorf("Of(%v): %d without Retry-After", err, a.Status)
			}
			if a.Internal != (a.Status == http.StatusInternalServerError) {
				t.Errorf("Of(%v): 500s and only they are logged as internal", err)
			}
		}
	}
}

func TestDetailsFromTheError(t *testing.T) {
	a := Of(fmt.Errorf("fetch grades: %w", &linkage.UnavailableError{Agency: "education", RetryAfter: 2500 * time.Millisecond}))
	if a.Agency != "education" || a.RetryAfterHeader() != "3" || a.Message != "the education agency is not answering; try again in 3 seconds" {
		t.Errorf("unavailable: %+v", a)
	}
	a = Of(&issuance.RefusedError{Rule: issuance.RuleRRNExposed, Message: "an RRN would be printed"})
	if a.Rule != "rrn_exposed" || a.Status != 422 {
		t.Errorf("refused: %+v", a)
	}
	a = Of(fmt.Errorf("%w: show_rrn_back is only for your own documents", issuance.ErrBadRequest))
	if a.Message != "show_rrn_back is only for your own documents" {
		t.Errorf("bad request message %q", a.Message)
	}
	a = Of(fmt.Errorf("profile: %w", &linkage.MismatchError{Agency: "registry", What: "subject"}))
	if a.Status != 503 || a.Agency != "registry" || a.RetryAfter == 0 || !a.AgencyFault {
		t.Errorf("mismatch: %+v", a)
	}
	if a := Of(errors.New("anything else")); a != Unknown() || a.Status != 500 {
		t.Errorf("unknown: %+v", a)
	}
}
