package demo

import (
	"context"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minwon/minwon/internal/auth"
	"github.com/minwon/minwon/internal/ident"
	"github.com/minwon/minwon/internal/population"
	"github.com/minwon/minwon/internal/store"
)

func readAccounts(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestPrepareSeedsThenRegenerates(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.OpenSQLite(ctx, filepath.Join(dir, "minwon.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cfg := population.Config{People: 300, Seed: 42}

	p, err := Prepare(ctx, db, dir, cfg, io.Discard)
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	if !p.Fresh {
		t.Fatal("first Prepare did not seed")
	}
	st, err := os.Stat(p.AccountsPath)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("accounts file: %v, mode %v; want 0600", err, st.Mode())
	}
	rows := readAccounts(t, p.AccountsPath)
	if strings.Join(rows[0], ",") != "login,password,subject,name,birth_date,kind" {
		t.Fatalf("header = %v", rows[0])
	}
	want := 1 + len(p.World.People) + len(p.World.Corporations)
	if len(rows) != want {
		t.Fatalf("%d rows, want %d", len(rows), want)
	}
	bySubject := map[string]population.Person{}
	for _, person := range p.World.People {
		bySubject[person.Subject] = person
	}
	for _, r := range rows[1:] {
		login, pw, subject, name, birth, kind := r[0], r[1], r[2], r[3], r[4], r[5]
		for _, v := range r {
			if ident.ValidRRN(v) {
				t.Fatalf("accounts file holds an RRN in row %s", login)
			}
		}
		switch kind {
		case "person":
			person, ok := bySubject[subject]
			if !ok || person.Name != name || person.BirthDate.Format("2006-01-02") != birth {
				t.Fatalf("row %s does not match the population", login)
			}
		case "corporate":
			if birth != "" || !strings.HasPrefix(subject, "C") {
				t.Fatalf("corporate row %s: subject %q birth %q", login, subject, birth)
			}
		default:
			t.Fatalf("row %s: kind %q", login, kind)
		}
		if login == rows[1][0] || kind == "corporate" {
			a, err := db.Account(ctx, login)
			if err != nil || a.Subject != subject || a.Kind != kind {
				t.Fatalf("account %s = %+v, %v", login, a, err)
			}
			if _, err := auth.VerifyPassword(a.PasswordHash, pw); err != nil {
				t.Fatalf("password of %s does not verify: %v", login, err)
			}
		}
	}

	// A restart with the same flags regenerates the same world, seeds nothing.
	p2, err := Prepare(ctx, db, dir, cfg, io.Discard)
	if err != nil || p2.Fresh {
		t.Fatalf("second Prepare: fresh=%v, %v", p2 != nil && p2.Fresh, err)
	}
	if p2.World.People[7].Subject != p.World.People[7].Subject {
		t.Fatal("restart produced another population")
	}
	// Other flags on a seeded directory are refused with a clear message.
	_, err = Prepare(ctx, db, dir, population.Config{People: 301, Seed: 42}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--people 300 --seed 42") {
		t.Fatalf("mismatched flags: %v", err)
	}
}
