package checkcode_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/minwon/minwon/internal/checkcode"
	"github.com/minwon/minwon/internal/storetest"
)

// BenchmarkIssueCode is what a code adds to an issuance: drawing it and
// hashing it for storage.
func BenchmarkIssueCode(b *testing.B) {
	h, _ := checkcode.NewHasher(bytes.Repeat([]byte{3}, checkcode.KeySize))
	for b.Loop() {
		c, err := checkcode.New(nil)
		if err != nil {
			b.Fatal(err)
		}
		_ = h.Sum("1000000000000001", c)
	}
}

// BenchmarkView is one view with the right code on SQLite: state read,
// hash check, the document opened and the audit record appended.
func BenchmarkView(b *testing.B) {
	f := newFixture(b, storetest.SQLite(b), 1)
	n := number(1)
	ctx := context.Background()
	for b.Loop() {
		if _, err := f.viewer.View(ctx, n, string(f.codes[n]), "192.0.2.1", "fields"); err != nil {
			b.Fatal(err)
		}
	}
}
