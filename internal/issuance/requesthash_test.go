package issuance

import "testing"

// TestGoldenRequestHash pins the stored hash that tells a retry from a
// reuse of an idempotency key: stored issuances compare against it, so a
// changed format would turn every retry across an upgrade into a conflict.
// The format is hex(SHA-256(service NUL subject NUL show_rrn_back)); the
// expected values are `printf 'SERVICE\0SUBJECT\0false' | sha256sum`.
func TestGoldenRequestHash(t *testing.T) {
	tests := []struct {
		r       Request
		subject string
		want    string
	}{
		{Request{Service: "resident-registration-copy"}, "PABCDE12345", "d64585ee8bdff6e4f2eb0d7cb945e741e3b59300e2cd0d31f22618ce706e24f9"},
		{Request{Service: "resident-registration-copy", ShowRRNBack: true}, "PABCDE12345", "94f9d0c583e76d93f4dc1d45202d6c8bbd97824088d8df0f3980f733dacea753"},
	}
	for _, tt := range tests {
		if got := requestHash(tt.r, tt.subject); got != tt.want {
			t.Errorf("requestHash(%s, %s, %t) = %s, want %s", tt.r.Service, tt.subject, tt.r.ShowRRNBack, got, tt.want)
		}
	}
}
