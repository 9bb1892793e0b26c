package witness_test

import (
	"strconv"
	"testing"

	"github.com/minwon/minwon/internal/witness"
)

// FuzzParseSize parses a witness's 409 answer: only a canonical decimal
// size and a newline.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"0\n", "42\n", "-1\n", "007\n", "9223372036854775807\n", "1", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := witness.ParseSize(b)
		if err != nil {
			return
		}
		if n < 0 || strconv.FormatInt(n, 10)+"\n" != string(b) {
			t.Fatalf("ParseSize(%q) = %d", b, n)
		}
	})
}
