package governance

import (
	"fmt"
	"testing"
)

// TestBucketShare: the canary's share of requests is what it is set to,
// and the same request always lands in the same place.
func TestBucketShare(t *testing.T) {
	for _, share := range []float64{0.01, 0.05, 0.25, 0.5} {
		const n = 20000
		in := 0
		for i := 0; i < n; i++ {
			h := fmt.Sprintf("%064x", i)
			b := bucket(h)
			if b < 0 || b >= 1 {
				t.Fatalf("bucket %v out of [0,1)", b)
			}
			if b != bucket(h) {
				t.Fatal("bucket is not deterministic")
			}
			if b < share {
				in++
			}
		}
		got := float64(in) / n
		// Binomial standard deviation at n=20000 is under 0.0036; allow 4σ.
		if d := got - share; d > 0.0145 || d < -0.0145 {
			t.Errorf("share %.2f served %.4f of requests", share, got)
		}
	}
}

func TestDiffLines(t *testing.T) {
	tests := []struct {
		a, b []string
		want string
	}{
		{nil, nil, ""},
		{[]string{"a", "b"}, []string{"a", "b"}, ""},
		{[]string{"a", "b", "c"}, []string{"a", "x", "c"}, "+ x\n- b\n"},
		{nil, []string{"a"}, "+ a\n"},
		{[]string{"a"}, nil, "- a\n"},
	}
	for _, tt := range tests {
		if got := diffLines(tt.a, tt.b); got != tt.want {
			t.Errorf("diffLines(%q, %q) = %q, want %q", tt.a, tt.b, got, tt.want)
		}
	}
}
