package issuance

import (
	"errors"
	"testing"
)

// TestRevokeRefusesReasonWithRRN: reasons are public, so an RRN in any
// spelling, post-2020 numbers included, is refused before anything is
// looked up or logged.
func TestRevokeRefusesReasonWithRRN(t *testing.T) {
	p := &Pipeline{} // no store: a refused reason never reaches it
	number := string(NewNumber())
	for _, reason := range []string{
		"issued to " + aliceRRN[:6] + "-" + aliceRRN[6:],
		"issued to " + aliceRRN,
		"issued to " + aliceRRN[:6] + " " + aliceRRN[6:],
		"issued to " + aliceRRN[:6] + " - " + aliceRRN[6:],
		"issued to " + aliceRRN[:6] + "–" + aliceRRN[6:],
		"issued to ９００１０１－１２３４５６８",
		"child 210315-3847261 listed twice", // post-2020, no check digit
	} {
		if _, err := p.Revoke(t.Context(), number, reason); !errors.Is(err, ErrReasonHasPII) || !errors.Is(err, ErrBadRequest) {
			t.Errorf("Revoke with reason %q = %v, want %v", reason, err, ErrReasonHasPII)
		}
	}
}
