package seal_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/seal"
)

// memKeys is a KeyStore in memory.
type memKeys struct{ keys []seal.WrappedKey }

func (m *memKeys) DataKeys(context.Context) ([]seal.WrappedKey, error) {
	return append([]seal.WrappedKey(nil), m.keys...), nil
}

func (m *memKeys) AddDataKey(_ context.Context, k seal.WrappedKey) error {
	m.keys = append(m.keys, k)
	return nil
}

func (m *memKeys) RewrapDataKeys(_ context.Context, fn func(seal.WrappedKey) (seal.WrappedKey, error)) error {
	next := make([]seal.WrappedKey, len(m.keys))
	for i, k := range m.keys {
		w, err := fn(k)
		if err != nil {
			return err
		}
		next[i] = w
	}
	m.keys = next
	return nil
}

func newKEK(t *testing.T) *seal.KEK {
	t.Helper()
	secret := make([]byte, seal.KEKSize)
	rand.Read(secret)
	k, err := seal.NewKEK(secret)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpenAndRotate(t *testing.T) {
	ctx := context.Background()
	ks := &memKeys{}
	kek := newKEK(t)
	s, err := seal.Open(ctx, ks, kek, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte(`{"rrn":"900101-1234567","name":"홍길동"}`)
	id, sealed, err := s.Seal("issuance A", "data_json", plain)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("900101")) || bytes.Contains(sealed, []byte("홍길동")) {
		t.Fatal("the sealed value holds the plaintext")
	}
	got, err := s.Open(id, "issuance A", "data_json", sealed)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	// Moved to another row or column, or altered: an error, never empty.
	altered := bytes.Clone(sealed)
	altered[len(altered)-1] ^= 1
	for _, c := range []struct {
		name, row, field string
		sealed           []byte
	}{
		{"other row", "issuance B", "data_json", sealed},
		{"other column", "issuance A", "pdf", sealed},
		{"altered", "issuance A", "data_json", altered},
		{"truncated", "issuance A", "data_json", sealed[:10]},
		{"plaintext", "issuance A", "data_json", plain},
	} {
		if p, err := s.Open(id, c.row, c.field, c.sealed); !errors.Is(err, seal.ErrOpen) || p != nil {
			t.Errorf("%s: Open = %q, %v; want ErrOpen", c.name, p, err)
		}
	}

	// Rotation rewraps the one data key; the value still opens under the new KEK only.
	next := newKEK(t)
	if n, err := seal.Rotate(ctx, ks, kek, next); err != nil || n != 1 {
		t.Fatalf("Rotate = %d, %v", n, err)
	}
	if n, err := seal.Rotate(ctx, ks, kek, next); err != nil || n != 0 {
		t.Fatalf("second Rotate = %d, %v; want 0 (idempotent)", n, err)
	}
	if _, err := seal.Open(ctx, ks, kek, time.Now()); err == nil {
		t.Fatal("the old KEK still opens the data keys after rotation")
	}
	s2, err := seal.Open(ctx, ks, next, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s2.Open(id, "issuance A", "data_json", sealed); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("after rotation Open = %q, %v", got, err)
	}
	if len(ks.keys) != 1 {
		t.Fatalf("%d data keys; reopening must not add one", len(ks.keys))
	}
}

func TestNewKEKSize(t *testing.T) {
	if _, err := seal.NewKEK(make([]byte, 16)); err == nil {
		t.Fatal("a 16-byte KEK was accepted")
	}
}
