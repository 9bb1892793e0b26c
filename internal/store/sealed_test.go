package store_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/seal"
	"github.com/minwon/minwon/internal/store"
	"github.com/minwon/minwon/internal/storetest"
)

// personal is what a data.json holds and the database must not show.
var personal = [][]byte{[]byte("9001011234567"), []byte("홍길동"), []byte("서울특별시")}

func personalIssuance(number, login, key string) issuance.Issuance {
	is := testIssuance(number, login, key)
	is.DataJSON = []byte(`{"rrn":"9001011234567","name":"홍길동","address":"서울특별시 종로구"}`)
	is.PDF = []byte("%PDF- 홍길동 9001011234567")
	return is
}

func rawDocument(t *testing.T, b storetest.Backend, number string) (pdf, data []byte, keyID string) {
	t.Helper()
	err := b.SQL(t).QueryRow(store.Rebind(b.Name, `SELECT pdf, data_json, data_key_id FROM issuances WHERE number = ?`), number).Scan(&pdf, &data, &keyID)
	if err != nil {
		t.Fatal(err)
	}
	return pdf, data, keyID
}

func assertNoPersonal(t *testing.T, what string, raw []byte) {
	t.Helper()
	for _, p := range personal {
		if bytes.Contains(raw, p) {
			t.Errorf("%s holds %q in clear", what, p)
		}
	}
}

func TestSealedDocuments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		db := storetest.Protect(t, b.Open(t))
		a := personalIssuance("3000000000000001", "alice", "k1")
		if err := db.InsertIssuance(ctx, a); err != nil {
			t.Fatal(err)
		}
		pdf, data, keyID := rawDocument(t, b, a.Number)
		assertNoPersonal(t, "the stored pdf", pdf)
		assertNoPersonal(t, "the stored data_json", data)
		if len(keyID) < 4 || keyID[:3] != "dk-" {
			t.Fatalf("data_key_id = %q", keyID)
		}
		got, err := db.IssuanceVisibleTo(ctx, a.Number, "alice", "", true)
		if err != nil || !bytes.Equal(got.PDF, a.PDF) || !bytes.Equal(got.DataJSON, a.DataJSON) {
			t.Fatalf("read back = %q %q, %v", got.PDF, got.DataJSON, err)
		}

		// A ciphertext moved to another row does not open: an error, not empty.
		bis := personalIssuance("3000000000000002", "alice", "k2")
		if err := db.InsertIssuance(ctx, bis); err != nil {
			t.Fatal(err)
		}
		if _, err := b.SQL(t).Exec(store.Rebind(b.Name, `UPDATE issuances SET data_json = ? WHERE number = ?`), data, bis.Number); err != nil {
			t.Fatal(err)
		}
		if got, err := db.IssuanceVisibleTo(ctx, bis.Number, "alice", "", true); !errors.Is(err, seal.ErrOpen) {
			t.Fatalf("moved ciphertext: %q, %v; want seal.ErrOpen", got.DataJSON, err)
		}

		// A handle that was not protected neither stores nor opens documents.
		bare := b.Open(t)
		if err := bare.InsertIssuance(ctx, personalIssuance("3000000000000003", "alice", "k3")); err == nil {
			t.Fatal("an unprotected store stored a document")
		}
		if _, err := bare.IssuanceVisibleTo(ctx, a.Number, "alice", "", true); err == nil {
			t.Fatal("an unprotected store read a sealed document")
		}

		// A document an earlier minwon stored in clear reads, and is sealed
		// in place at the next Protect.
		legacy := personalIssuance("3000000000000004", "alice", "k4")
		if _, err := b.SQL(t).Exec(store.Rebind(b.Name, `INSERT INTO issuances (number, requester_login, requester_subject, subject, service, template_version, template_digest, issued_at, pdf_sha256, key_id, idempotency_key, request_hash, pdf, data_json)
			VALUES (?, 'alice', 'Palice', 'Palice', 's', 1, 'd', ?, 'ab', 'doc-1', 'k4', 'rh', ?, ?)`), legacy.Number, legacy.IssuedAt.UnixMilli(), legacy.PDF, legacy.DataJSON); err != nil {
			t.Fatal(err)
		}
		if got, err := db.IssuanceVisibleTo(ctx, legacy.Number, "alice", "", true); err != nil || !bytes.Equal(got.DataJSON, legacy.DataJSON) {
			t.Fatalf("document stored in clear: %q, %v", got.DataJSON, err)
		}
		storetest.Protect(t, b.Open(t))
		pdf, data, keyID = rawDocument(t, b, legacy.Number)
		assertNoPersonal(t, "the sealed-in-place pdf", pdf)
		assertNoPersonal(t, "the sealed-in-place data_json", data)
		if keyID == "" {
			t.Fatal("the document stored in clear was not sealed")
		}
		if got, err := db.IssuanceVisibleTo(ctx, legacy.Number, "alice", "", true); err != nil || !bytes.Equal(got.DataJSON, legacy.DataJSON) {
			t.Fatalf("sealed in place: %q, %v", got.DataJSON, err)
		}

		// KEK rotation rewraps the data keys; documents open under the new
		// KEK only.
		old, _ := seal.NewKEK([]byte("minwon storetest data KEK, 32 B!"))
		next, _ := seal.NewKEK(bytes.Repeat([]byte{7}, 32))
		if n, err := seal.Rotate(ctx, db, old, next); err != nil || n != 1 {
			t.Fatalf("Rotate = %d, %v", n, err)
		}
		if err := b.Open(t).Protect(ctx, old); err == nil {
			t.Fatal("the old KEK still opens the data keys")
		}
		rotated := b.Open(t)
		if err := rotated.Protect(ctx, next); err != nil {
			t.Fatal(err)
		}
		if got, err := rotated.IssuanceVisibleTo(ctx, a.Number, "alice", "", true); err != nil || !bytes.Equal(got.DataJSON, a.DataJSON) {
			t.Fatalf("after rotation: %q, %v", got.DataJSON, err)
		}

		// Retention deletes the files and keeps the row.
		n, err := db.PurgeDocuments(ctx, a.IssuedAt.Add(time.Millisecond))
		if err != nil || n != 3 {
			t.Fatalf("PurgeDocuments = %d, %v; want 3", n, err)
		}
		if _, err := db.IssuanceVisibleTo(ctx, a.Number, "alice", "", true); !errors.Is(err, issuance.ErrPurged) {
			t.Fatalf("purged document: %v; want ErrPurged", err)
		}
		if got, err := db.IssuanceVisibleTo(ctx, a.Number, "alice", "", false); err != nil || got.PDFSHA256 != a.PDFSHA256 {
			t.Fatalf("purged row: %+v, %v", got, err)
		}
		if pdf, data, _ := rawDocument(t, b, a.Number); len(pdf) != 0 || len(data) != 0 {
			t.Fatalf("purge left %d+%d bytes", len(pdf), len(data))
		}
		if n, err := db.PurgeDocuments(ctx, a.IssuedAt.Add(time.Millisecond)); err != nil || n != 0 {
			t.Fatalf("second PurgeDocuments = %d, %v; want 0", n, err)
		}
	})
}

// The database, its WAL and its shared memory are the owner's alone,
// whatever the umask.
func TestSQLiteFileModes(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "minwon.db")
	db, err := store.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.Protect(t, db)
	if err := db.InsertIssuance(context.Background(), personalIssuance("3000000000000001", "alice", "k1")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", filepath.Base(p), st.Mode().Perm())
		}
	}
}

// Sealing in place leaves no copy of a document stored in clear in the
// SQLite file or its WAL: secure_delete zeroes the freed pages, and the
// WAL is checkpointed.
func TestSealInPlaceLeavesNoClearCopy(t *testing.T) {
	ctx := context.Background()
	b := storetest.SQLite(t)
	legacy := personalIssuance("3000000000000001", "alice", "k1")
	legacy.DataJSON = append(legacy.DataJSON, bytes.Repeat([]byte(" 홍길동"), 2000)...) // overflow pages too
	func() {
		db := b.Open(t)
		defer db.Close()
		if _, err := b.SQL(t).Exec(`INSERT INTO issuances (number, requester_login, requester_subject, subject, service, template_version, template_digest, issued_at, pdf_sha256, key_id, idempotency_key, request_hash, pdf, data_json)
			VALUES (?, 'alice', 'Palice', 'Palice', 's', 1, 'd', 1, 'ab', 'doc-1', 'k1', 'rh', ?, ?)`, legacy.Number, legacy.PDF, legacy.DataJSON); err != nil {
			t.Fatal(err)
		}
	}()
	db := storetest.Protect(t, b.Open(t))
	got, err := db.IssuanceVisibleTo(ctx, legacy.Number, "alice", "", true)
	if err != nil || !bytes.Equal(got.DataJSON, legacy.DataJSON) {
		t.Fatalf("sealed in place: %v", err)
	}
	for _, suffix := range []string{"", "-wal"} {
		raw, err := os.ReadFile(b.DSN + suffix)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		assertNoPersonal(t, "minwon.db"+suffix, raw)
	}
}
