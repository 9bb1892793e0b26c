package app_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/apiwire"
	"github.com/minwon/minwon/internal/apptest"
	"github.com/minwon/minwon/internal/ident"
	"github.com/minwon/minwon/internal/pki"
	"github.com/minwon/minwon/internal/population"
	"github.com/minwon/minwon/internal/storetest"
	"github.com/minwon/minwon/internal/verification"
)

// issueWithRRN has n people issue their resident registration abstract
// with the full RRN shown, and returns them and their documents.
func issueWithRRN(t *testing.T, env *apptest.Env, n int) ([]*population.Person, []apiwire.Issued) {
	t.Helper()
	var people []*population.Person
	var docs []apiwire.Issued
	for i := range env.World.People {
		p := &env.World.People[i]
		if p.Address == "" || len(people) == n {
			continue
		}
		acc := env.AccountOf(t, p.Subject)
		c := env.Login(t, acc)
		var got apiwire.Issued
		body := map[string]any{"service": "resident-registration-abstract", "options": map[string]bool{"show_rrn_back": true}}
		if code := c.Do("POST", "/api/v1/issuances", body, newKey(), &got); code != http.StatusCreated {
			continue // not everyone may ask for this abstract (e.g. minors)
		}
		// The needles are right: the document holds them in clear.
		if _, data := c.Raw("GET", got.Data, nil, nil); !bytes.Contains(data, []byte(p.Name)) || !bytes.Contains(data, []byte(ident.FormatRRN(p.RRN))) {
			t.Fatalf("data.json of %s lacks the name or the full RRN: %s", got.Number, data)
		}
		people = append(people, p)
		docs = append(docs, got)
	}
	if len(people) < n {
		t.Fatalf("only %d people could issue", len(people))
	}
	return people, docs
}

// needles are the forms in which a person's data would be readable.
func needles(p *population.Person) [][]byte {
	return [][]byte{[]byte(p.RRN), []byte(ident.FormatRRN(p.RRN)), []byte(p.Name), []byte(p.Address)}
}

// The proof of issue 16: after people issue documents showing their full
// RRN, no RRN, name or address of theirs is readable in the database: in
// SQLite's file, WAL and shared memory, or in any column PostgreSQL
// returns to plain SQL. The audit and alert tables hold none by
// construction; this checks that too.
func TestPersonalDataAtRest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		env := apptest.StartOpts(t, 300, 16, apptest.Options{Backend: &b})
		people, _ := issueWithRRN(t, env, 6)
		// At the counter too, found by RRN and audited with a purpose.
		_, _, clerk := env.StartCounter(t, pki.DefaultGrace).Official(t, pki.CounterClerk)
		full := counterRequest("resident-registration-abstract", people[0].RRN, "")
		full["options"] = map[string]any{"show_rrn_back": true}
		if code := clerk.Do("POST", "/counter/v1/issuances", full, newKey(), nil); code != http.StatusCreated {
			t.Fatalf("counter issuance: %d", code)
		}
		var blobs []struct {
			where string
			raw   []byte
		}
		if b.Name == "sqlite" {
			for _, suffix := range []string{"", "-wal", "-shm"} {
				raw, err := os.ReadFile(b.DSN + suffix)
				if err != nil {
					t.Fatal(err)
				}
				blobs = append(blobs, struct {
					where string
					raw   []byte
				}{"minwon.db" + suffix, raw})
			}
		}
		for table, raw := range allRows(t, b) {
			blobs = append(blobs, struct {
				where string
				raw   []byte
			}{"table " + table, raw})
		}
		for _, p := range people {
			for _, needle := range needles(p) {
				for _, blob := range blobs {
					if i := bytes.Index(blob.raw, needle); i >= 0 {
						t.Errorf("%s holds %q of %s in clear at byte %d", blob.where, needle, p.Subject, i)
					}
				}
			}
		}
	})
}

// allRows returns every value of every table of b's database, as plain
// SQL reads them, by table.
func allRows(t *testing.T, b storetest.Backend) map[string][]byte {
	t.Helper()
	db := b.SQL(t)
	q := `SELECT name FROM sqlite_master WHERE type = 'table'`
	if b.Name == "postgres" {
		q = fmt.Sprintf(`SELECT table_name FROM information_schema.tables WHERE table_schema = '%s'`, b.Schema)
	}
	tables := queryStrings(t, db, q)
	if len(tables) < 5 {
		t.Fatalf("found only the tables %v", tables)
	}
	out := map[string][]byte{}
	for _, table := range tables {
		rows, err := db.Query(`SELECT * FROM ` + table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		var buf bytes.Buffer
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				if bs, ok := v.([]byte); ok {
					buf.Write(bs)
				} else {
					fmt.Fprint(&buf, v)
				}
				buf.WriteByte(0)
			}
		}
		rows.Close()
		out[table] = buf.Bytes()
	}
	return out
}

func queryStrings(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// Past retention a document's files are gone, with a clear answer, while
// its number still verifies against the log.
func TestRetentionPurge(t *testing.T) {
	env := apptest.Start(t, 300, 17)
	people, docs := issueWithRRN(t, env, 1)
	c := env.Login(t, env.AccountOf(t, people[0].Subject))
	got := docs[0]
	_, pdf := c.Raw("GET", got.Document, nil, nil)
	ctx := context.Background()
	if n, err := env.App.Purge(ctx, time.Now().Add(89*24*time.Hour)); err != nil || n != 0 {
		t.Fatalf("purge within retention = %d, %v", n, err)
	}
	if n, err := env.App.Purge(ctx, time.Now().Add(91*24*time.Hour)); err != nil || n != 1 {
		t.Fatalf("purge past retention = %d, %v", n, err)
	}
	for _, path := range []string{got.Document, got.Data} {
		var e apiwire.ErrorBody
		if code := c.Do("GET", path, nil, nil, &e); code != http.StatusNotFound || e.Error.Code != "document_purged" || !strings.Contains(e.Error.Message, "retention") {
			t.Errorf("GET %s after purge: %d %+v", path, code, e)
		}
	}
	if ans := verifyNumber(t, env.Anonymous(t), got.Number, sha(pdf)); ans.Status != verification.Valid {
		t.Fatalf("verify a purged document: %+v", ans)
	}
}
