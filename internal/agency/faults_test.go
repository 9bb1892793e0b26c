package agency

import "testing"

// The fault rates are sequences, not coins: a test that retries after a
// drop must see the same faults on every run.
func TestFaultSeqSpreadsEvenly(t *testing.T) {
	cases := []struct {
		rate float64
		n    int
		want string // x = hit, . = passed
	}{
		{0, 6, "......"},
		{1, 4, "xxxx"},
		{0.5, 6, ".x.x.x"},
		{0.25, 8, "...x...x"},
		{0.4, 5, "..x.x"},
	}
	for _, tc := range cases {
		var q faultSeq
		got := make([]byte, tc.n)
		for i := range got {
			got[i] = '.'
			if q.hit(tc.rate) {
				got[i] = 'x'
			}
		}
		if string(got) != tc.want {
			t.Errorf("rate %v: %s, want %s", tc.rate, got, tc.want)
		}
	}
	var q faultSeq
	hits := 0
	for range 10000 {
		if q.hit(0.01) {
			hits++
		}
	}
	if hits != 100 {
		t.Errorf("rate 0.01 over 10,000 requests: %d hits, want 100", hits)
	}
}
