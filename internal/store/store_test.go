package store_test

import (
	"bytes"
	"context"
	"errors"
	"github.com/minwon/minwon/internal/auth"
	"github.com/minwon/minwon/internal/doclog"
	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/keyring"
	"sync"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/store"
	"github.com/minwon/minwon/internal/storetest"
)

func TestMigrateIsIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		db := b.Open(t)
		db.Close()
		db2 := b.Open(t)
		applied, files, err := store.MigrationsApplied(ctx, db2)
		if err != nil || applied != files {
			t.Fatalf("schema_migrations rows = %d, %v; want %d", applied, err, files)
		}
		if db2.Backend() != b.Name {
			t.Fatalf("Backend() = %q, want %q", db2.Backend(), b.Name)
		}
	})
}

// TestConcurrentMigrations starts several processes' worth of handles on
// one empty database at once: each migration must be applied exactly once.
func TestConcurrentMigrations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		const n = 4
		dbs := make([]*store.DB, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				dbs[i], errs[i] = b.OpenErr(ctx)
			}()
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("open %d: %v", i, errs[i])
			}
			defer dbs[i].Close()
		}
		applied, files, err := store.MigrationsApplied(ctx, dbs[0])
		if err != nil || applied != files {
			t.Fatalf("schema_migrations rows = %d, %v; want %d", applied, err, files)
		}
	})
}

func TestSeedAndAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		db := b.Open(t)
		accounts := []auth.Account{
			{Login: "citizen000001", PasswordHash: "h1", Subject: "PAAAAAAAAAA", Kind: "person"},
			{Login: "corp000001", PasswordHash: "h2", Subject: "CBBBBBBBBBB", Kind: "corporate"},
		}
		if err := db.Seed(ctx, map[string]string{"population": `{"people":1}`}, accounts); err != nil {
			t.Fatalf("Seed: %v", err)
		}
		a, err := db.Account(ctx, "corp000001")
		if err != nil || a.Subject != "CBBBBBBBBBB" || a.Kind != "corporate" || a.PasswordHash != "h2" {
			t.Fatalf("Account = %+v, %v", a, err)
		}
		if _, err := db.Account(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown login: %v, want ErrNotFound", err)
		}
		if v, err := db.Meta(ctx, "population"); err != nil || v != `{"people":1}` {
			t.Fatalf("Meta = %q, %v", v, err)
		}
		if _, err := db.Meta(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown meta: %v", err)
		}
		if n, err := db.CountAccounts(ctx); err != nil || n != 2 {
			t.Fatalf("CountAccounts = %d, %v", n, err)
		}
		if err := db.SetPasswordHash(ctx, "citizen000001", "h3"); err != nil {
			t.Fatal(err)
		}
		if a, _ := db.Account(ctx, "citizen000001"); a.PasswordHash != "h3" {
			t.Fatalf("password hash not replaced: %q", a.PasswordHash)
		}
	})
}

func TestSeedIsAllOrNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		db := b.Open(t)
		accounts := []auth.Account{
			{Login: "a", PasswordHash: "h", Subject: "P1", Kind: "person"},
			{Login: "a", PasswordHash: "h", Subject: "P2", Kind: "person"}, // duplicate login
		}
		if err := db.Seed(ctx, map[string]string{"population": "x"}, accounts); err == nil {
			t.Fatal("seed with a duplicate login succeeded")
		}
		if n, _ := db.CountAccounts(ctx); n != 0 {
			t.Fatalf("failed seed left %d accounts", n)
		}
		if _, err := db.Meta(ctx, "population"); !errors.Is(err, store.ErrNotFound) {
			t.Fatal("failed seed left its meta entry")
		}
		bad := []auth.Account{{Login: "b", PasswordHash: "h", Subject: "P3", Kind: "robot"}}
		if err := db.Seed(ctx, nil, bad); err == nil {
			t.Fatal("account of unknown kind stored")
		}
	})
}

func TestSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		db := b.Open(t)
		if err := db.Seed(ctx, nil, []auth.Account{{Login: "alice", PasswordHash: "h", Subject: "PALICE00001", Kind: "person"}}); err != nil {
			t.Fatal(err)
		}
		now := time.UnixMilli(1_764_000_000_123)
		s := auth.Session{TokenHash: "th1", Login: "alice", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := db.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateSession(ctx, auth.Session{TokenHash: "th2", Login: "nobody", CreatedAt: now, ExpiresAt: now}); err == nil {
			t.Fatal("session for an unknown login stored")
		}
		got, err := db.ActiveSession(ctx, "th1", now.Add(time.Minute))
		if err != nil || got.Login != "alice" || got.Subject != "PALICE00001" || got.Kind != "person" || !got.ExpiresAt.Equal(s.ExpiresAt) || !got.CreatedAt.Equal(now) {
			t.Fatalf("ActiveSession = %+v, %v", got, err)
		}
		if _, err := db.ActiveSession(ctx, "th1", now.Add(2*time.Hour)); !errors.Is(err, store.ErrNotFound) || !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("expired session: %v", err)
		}
		if err := db.EndSession(ctx, "th1", now.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ActiveSession(ctx, "th1", now.Add(3*time.Minute)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("ended session: %v", err)
		}
		if err := db.EndSession(ctx, "unknown", now); err != nil {
			t.Fatalf("ending an unknown session: %v", err)
		}
	})
}

// TestOtherSessionsAndPurge: a login's other live sessions are counted
// and ended; ended and expired sessions are purged, live ones kept.
func TestOtherSessionsAndPurge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		db := b.Open(t)
		accts := []auth.Account{{Login: "alice", PasswordHash: "h", Subject: "PALICE00001", Kind: "person"}, {Login: "bob", PasswordHash: "h", Subject: "PBOB0000001", Kind: "person"}}
		if err := db.Seed(ctx, nil, accts); err != nil {
			t.Fatal(err)
		}
		now := time.UnixMilli(1_764_000_000_123)
		for _, s := range []auth.Session{
			{TokenHash: "cur", Login: "alice", ExpiresAt: now.Add(time.Hour)},
			{TokenHash: "a2", Login: "alice", ExpiresAt: now.Add(time.Hour)},
			{TokenHash: "a3", Login: "alice", ExpiresAt: now.Add(time.Hour)},
			{TokenHash: "expired", Login: "alice", ExpiresAt: now.Add(-time.Minute)},
			{TokenHash: "ended", Login: "alice", ExpiresAt: now.Add(time.Hour)},
			{TokenHash: "bob", Login: "bob", ExpiresAt: now.Add(time.Hour)},
		} {
			s.CreatedAt = now.Add(-time.Hour)
			if err := db.CreateSession(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.EndSession(ctx, "ended", now.Add(-time.Second)); err != nil {
			t.Fatal(err)
		}
		if n, err := db.CountSessions(ctx, "alice", "cur", now); n != 2 || err != nil {
			t.Fatalf("CountSessions = %d, %v; want 2", n, err)
		}
		if n, err := db.EndOtherSessions(ctx, "alice", "cur", now); n != 2 || err != nil {
			t.Fatalf("EndOtherSessions = %d, %v; want 2", n, err)
		}
		if n, _ := db.CountSessions(ctx, "alice", "cur", now); n != 0 {
			t.Fatalf("%d other sessions left", n)
		}
		for _, h := range []string{"cur", "bob"} {
			if _, err := db.ActiveSession(ctx, h, now); err != nil {
				t.Fatalf("session %s was ended: %v", h, err)
			}
		}
		// a2 and a3 ended at now, so a purge just after takes them too.
		if n, err := db.PurgeSessions(ctx, now.Add(time.Millisecond)); n != 4 || err != nil {
			t.Fatalf("PurgeSessions = %d, %v; want 4 (expired, ended, a2, a3)", n, err)
		}
		for _, h := range []string{"cur", "bob"} {
			if _, err := db.ActiveSession(ctx, h, now); err != nil {
				t.Fatalf("live session %s purged: %v", h, err)
			}
		}
	})
}

func testIssuance(number, login, key string) issuance.Issuance {
	return issuance.Issuance{
		Number: number, RequesterLogin: login, RequesterSubject: "P" + login, Subject: "P" + login,
		Service: "resident-registration-copy", TemplateVersion: 3, TemplateDigest: "d1",
		IssuedAt: time.UnixMilli(1_764_000_000_000 + int64(len(number))).UTC(), PDFSHA256: "ab", KeyID: "doc-1",
		PDF: []byte("%PDF-\x00\xff binary"), DataJSON: []byte(`{"a":1}`), IdempotencyKey: key, RequestHash: "rh",
	}
}

func TestIssuances(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		db := storetest.Protect(t, b.Open(t))
		is := testIssuance("1000000000000001", "alice", "k1")
		if err := db.InsertIssuance(ctx, is); err != nil {
			t.Fatal(err)
		}
		// Same number, or same requester and key: ErrDuplicate.
		if err := db.InsertIssuance(ctx, testIssuance("1000000000000001", "bob", "k9")); !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("duplicate number: %v", err)
		}
		if err := db.InsertIssuance(ctx, testIssuance("1000000000000002", "alice", "k1")); !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("duplicate idempotency key: %v", err)
		}
		// Another requester may use the same key.
		if err := db.InsertIssuance(ctx, testIssuance("1000000000000003", "bob", "k1")); err != nil {
			t.Fatal(err)
		}
		got, err := db.IssuanceByIdempotencyKey(ctx, "alice", "k1")
		if err != nil || got.Number != is.Number || !got.IssuedAt.Equal(is.IssuedAt) || got.TemplateVersion != 3 || got.PDF != nil {
			t.Fatalf("by key = %+v, %v", got, err)
		}
		full, err := db.IssuanceVisibleTo(ctx, is.Number, "alice", "", true)
		if err != nil || !bytes.Equal(full.PDF, is.PDF) || !bytes.Equal(full.DataJSON, is.DataJSON) {
			t.Fatalf("with blobs = %+v, %v", full, err)
		}
		if _, err := db.IssuanceVisibleTo(ctx, is.Number, "mallory", "PMALLORY", false); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("visible to a stranger: %v", err)
		}
		if _, err := db.IssuanceVisibleTo(ctx, is.Number, "someone", "Palice", false); err != nil {
			t.Fatalf("not visible to its subject: %v", err)
		}
		list, err := db.IssuancesOf(ctx, "alice", 10)
		if err != nil || len(list) != 1 || list[0].Number != is.Number || list[0].LogIndex != -1 {
			t.Fatalf("IssuancesOf = %+v, %v", list, err)
		}
		unlogged, err := db.UnloggedIssuances(ctx)
		if err != nil || len(unlogged) != 2 {
			t.Fatalf("UnloggedIssuances = %d, %v", len(unlogged), err)
		}
		for i, kind := range []string{"a", "b", "c"} {
			if err := db.RecordAlert(ctx, issuance.Alert{At: time.UnixMilli(int64(i) * 1000), Kind: kind, Service: "s", RequesterLogin: "alice", Detail: "d"}); err != nil {
				t.Fatal(err)
			}
		}
		alerts, err := db.Alerts(ctx, 2)
		if err != nil || len(alerts) != 2 || alerts[0].Kind != "c" || alerts[1].Kind != "b" {
			t.Fatalf("Alerts = %+v, %v", alerts, err)
		}
	})
}

// TestLogTables covers the log's storage: savepoints undo one caller's
// writes only, the log lock, entries, hashes and checkpoints.
func TestLogTables(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		db := storetest.Protect(t, b.Open(t))
		if _, _, _, err := db.LatestCheckpoint(ctx); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("empty log checkpoint: %v", err)
		}
		ltx, err := db.BeginLog(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tx := ltx.(*store.Tx)
		if _, _, _, err := tx.LatestCheckpoint(ctx); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("empty log checkpoint in tx: %v", err)
		}
		if err := tx.Savepoint(ctx, func() error {
			if err := tx.InsertIssuance(ctx, testIssuance("2000000000000001", "alice", "k1")); err != nil {
				return err
			}
			return tx.InsertLogEntries(ctx, []doclog.Record{{Index: 0, Number: "2000000000000001", Kind: "issued", Data: []byte("e0")}}, []int64{0}, [][]byte{[]byte("h0")})
		}); err != nil {
			t.Fatal(err)
		}
		// A failing caller (its issuance collides) leaves the others alone.
		if err := tx.Savepoint(ctx, func() error {
			if err := tx.InsertLogEntries(ctx, []doclog.Record{{Index: 1, Number: "2000000000000002", Kind: "issued", Data: []byte("e1")}}, []int64{1}, [][]byte{[]byte("h1")}); err != nil {
				return err
			}
			return tx.InsertIssuance(ctx, testIssuance("2000000000000002", "alice", "k1"))
		}); !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("colliding savepoint: %v", err)
		}
		if ok, err := tx.HasLogEntry(ctx, "2000000000000001", "issued"); err != nil || !ok {
			t.Fatalf("HasLogEntry of the batch's own entry = %v, %v", ok, err)
		}
		if ok, err := tx.HasLogEntry(ctx, "2000000000000002", "issued"); err != nil || ok {
			t.Fatalf("HasLogEntry of a rolled-back entry = %v, %v", ok, err)
		}
		if err := tx.InsertCheckpoint(ctx, 1, []byte("root1"), []byte("note1"), time.Now()); err != nil {
			t.Fatal(err)
		}
		if size, root, _, err := tx.LatestCheckpoint(ctx); err != nil || size != 1 || string(root) != "root1" {
			t.Fatalf("checkpoint in tx = %d %q %v", size, root, err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		size, root, note, err := db.LatestCheckpoint(ctx)
		if err != nil || size != 1 || string(root) != "root1" || string(note) != "note1" {
			t.Fatalf("checkpoint = %d %q %q %v", size, root, note, err)
		}
		entries, err := db.LogEntries(ctx, 0, 5)
		if err != nil || len(entries) != 1 || string(entries[0]) != "e0" {
			t.Fatalf("LogEntries = %q, %v", entries, err)
		}
		if e, err := db.LogEntriesFor(ctx, "2000000000000002"); err != nil || len(e) != 0 {
			t.Fatalf("rolled-back entry stored: %+v, %v", e, err)
		}
		hs, err := db.LogHashes(ctx, []int64{0})
		if err != nil || len(hs) != 1 || string(hs[0]) != "h0" {
			t.Fatalf("LogHashes = %q, %v", hs, err)
		}
		if _, err := db.LogHashes(ctx, []int64{0, 1}); err == nil {
			t.Fatal("missing hash not reported")
		}
		if u, err := db.UnloggedIssuances(ctx); err != nil || len(u) != 0 {
			t.Fatalf("UnloggedIssuances = %+v, %v", u, err)
		}
		if list, err := db.IssuancesOf(ctx, "alice", 10); err != nil || len(list) != 1 || list[0].LogIndex != 0 || list[0].Number != "2000000000000001" {
			t.Fatalf("IssuancesOf with the log index = %+v, %v", list, err)
		}
		if recs, err := db.LogEntriesForNumbers(ctx, []string{"2000000000000001", "2000000000000002", "2000000000000003"}); err != nil || len(recs) != 1 || recs[0].Number != "2000000000000001" || recs[0].Kind != "issued" || string(recs[0].Data) != "e0" {
			t.Fatalf("LogEntriesForNumbers = %+v, %v", recs, err)
		}
	})
}

// TestLogLockSerialises holds the log lock in one handle and checks that a
// second handle (another node) waits for it.
func TestLogLockSerialises(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		db1, db2 := b.Open(t), b.Open(t)
		tx1, err := db1.BeginLog(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if b.Name == "postgres" {
			if _, _, err := db2.LogSequencer(ctx); err != nil {
				t.Fatalf("LogSequencer while held: %v", err)
			}
		}
		got := make(chan error, 1)
		go func() {
			tx2, err := db2.BeginLog(ctx)
			if err == nil {
				err = tx2.Rollback()
			}
			got <- err
		}()
		select {
		case err := <-got:
			t.Fatalf("second BeginLog did not wait for the first: %v", err)
		case <-time.After(300 * time.Millisecond):
		}
		tx1.Rollback()
		select {
		case err := <-got:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("second BeginLog still waiting after the first ended")
		}
		if _, _, err := db2.LogSequencer(ctx); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("LogSequencer when idle: %v", err)
		}
	})
}

func TestSplitStatements(t *testing.T) {
	got := store.SplitStatements("-- c\nCREATE TABLE a (x INT);\n\nCREATE INDEX i ON a (x);\n")
	if len(got) != 2 || got[0] != "CREATE TABLE a (x INT);" || got[1] != "CREATE INDEX i ON a (x);" {
		t.Fatalf("splitStatements = %q", got)
	}
}

func TestRebind(t *testing.T) {
	q := `SELECT a FROM t WHERE b = ? AND c IN (?, ?)`
	if got := store.Rebind("sqlite", q); got != q {
		t.Fatalf("sqlite rebind = %q", got)
	}
	if got := store.Rebind("postgres", q); got != `SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)` {
		t.Fatalf("postgres rebind = %q", got)
	}
}

func TestSigningKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		db := b.Open(t)
		t0 := time.UnixMilli(1_764_000_000_000).UTC()
		k1 := keyring.SigningKey{ID: "doc-1", Purpose: "document", PublicKey: []byte{1, 2, 3}, CreatedAt: t0}
		k2 := keyring.SigningKey{ID: "doc-2", Purpose: "document", PublicKey: []byte{4, 5, 6}, CreatedAt: t0.Add(time.Second)}
		lk := keyring.SigningKey{ID: "log-1", Purpose: "log", PublicKey: []byte{7}, CreatedAt: t0}
		for _, k := range []keyring.SigningKey{k1, lk, k2} {
			if err := db.AddSigningKey(ctx, k); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.AddSigningKey(ctx, k1); !errors.Is(err, store.ErrDuplicate) || !errors.Is(err, keyring.ErrDuplicateKey) {
			t.Fatalf("adding a key twice: %v", err)
		}
		if err := db.AddSigningKey(ctx, keyring.SigningKey{ID: "x", Purpose: "other", PublicKey: []byte{1}, CreatedAt: t0}); err == nil {
			t.Fatal("key of unknown purpose stored")
		}
		keys, err := db.SigningKeys(ctx)
		if err != nil || len(keys) != 3 {
			t.Fatalf("SigningKeys = %+v, %v", keys, err)
		}
		byID := map[string]keyring.SigningKey{}
		for _, k := range keys {
			byID[k.ID] = k
		}
		// Adding doc-2 retired doc-1 (and the failed re-add of doc-1 was
		// rolled back whole), not the log key.
		if !byID["doc-1"].RetiredAt.Equal(k2.CreatedAt) || !byID["doc-2"].RetiredAt.IsZero() || !byID["log-1"].RetiredAt.IsZero() {
			t.Fatalf("retirement: %+v", byID)
		}
		if !bytes.Equal(byID["doc-2"].PublicKey, k2.PublicKey) || !byID["doc-2"].CreatedAt.Equal(k2.CreatedAt) {
			t.Fatalf("doc-2 = %+v", byID["doc-2"])
		}
		at := t0.Add(time.Hour)
		if err := db.RevokeSigningKey(ctx, "doc-2", "compromised", at); err != nil {
			t.Fatal(err)
		}
		if err := db.RevokeSigningKey(ctx, "doc-2", "again", at); !errors.Is(err, keyring.ErrAlreadyRevoked) {
			t.Fatalf("revoking twice: %v", err)
		}
		if err := db.RevokeSigningKey(ctx, "nope", "x", at); !errors.Is(err, store.ErrNotFound) || !errors.Is(err, keyring.ErrUnknownKey) {
			t.Fatalf("revoking an unknown key: %v", err)
		}
		keys, _ = db.SigningKeys(ctx)
		for _, k := range keys {
			if k.ID == "doc-2" && (!k.RevokedAt.Equal(at) || !k.RetiredAt.Equal(at) || k.RevokeReason != "compromised") {
				t.Fatalf("revoked key = %+v", k)
			}
		}
	})
}
