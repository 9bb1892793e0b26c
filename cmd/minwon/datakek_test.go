package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/datadir"
	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/keyfile"
	"github.com/minwon/minwon/internal/seal"
	"github.com/minwon/minwon/internal/store"
)

func protect(t *testing.T, db *store.DB, keys datadir.KeyDir) error {
	t.Helper()
	secret, err := keyfile.LoadOrCreateSecret(keys.DataKEK())
	if err != nil {
		t.Fatal(err)
	}
	kek, err := seal.NewKEK(secret)
	if err != nil {
		t.Fatal(err)
	}
	return db.Protect(context.Background(), kek)
}

// A KEK rotation rewraps the data keys: documents stored before it read
// with the new key file, and no longer with the old one.
func TestRotateDataKEK(t *testing.T) {
	ctx := context.Background()
	dir := datadir.Dir(t.TempDir())
	keys := dir.Keys()
	if err := os.MkdirAll(keys.Path(), 0o700); err != nil {
		t.Fatal(err)
	}
	db, err := store.OpenSQLite(ctx, dir.Database())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := protect(t, db, keys); err != nil {
		t.Fatal(err)
	}
	is := issuance.Issuance{Number: "4000000000000001", RequesterLogin: "a", RequesterSubject: "P", Subject: "P", Service: "s",
		TemplateVersion: 1, TemplateDigest: "d", IssuedAt: time.Now(), PDFSHA256: "ab", KeyID: "k",
		PDF: []byte("%PDF-"), DataJSON: []byte(`{"name":"홍길동"}`), IdempotencyKey: "k1", RequestHash: "h"}
	if err := db.InsertIssuance(ctx, is); err != nil {
		t.Fatal(err)
	}
	oldSecret, _ := os.ReadFile(keys.DataKEK())

	r, err := rotateDataKEK(ctx, db, keys)
	if err != nil || r.rewrapped != 1 || r.old == r.next {
		t.Fatalf("rotate = %+v, %v", r, err)
	}
	if got, _ := os.ReadFile(r.retired); !bytes.Equal(got, oldSecret) {
		t.Fatal("the old KEK was not kept as the retired file")
	}
	if _, err := os.Stat(keys.DataKEK() + ".next"); !os.IsNotExist(err) {
		t.Fatalf("the .next file is left: %v", err)
	}
	fresh, err := store.OpenSQLite(ctx, dir.Database())
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if err := protect(t, fresh, keys); err != nil {
		t.Fatalf("the new key file does not open the data keys: %v", err)
	}
	got, err := fresh.IssuanceVisibleTo(ctx, is.Number, "a", "", true)
	if err != nil || !bytes.Equal(got.DataJSON, is.DataJSON) {
		t.Fatalf("after rotation: %q, %v", got.DataJSON, err)
	}
	if err := protect(t, fresh, datadir.KeyDir(filepath.Join(t.TempDir()))); err == nil {
		t.Fatal("another KEK opened the data keys")
	}
}
