package demo

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/minwon/minwon/internal/datadir"

	"github.com/minwon/minwon/internal/ident"
	"github.com/minwon/minwon/internal/population"
	"github.com/minwon/minwon/internal/store"
)

// IndexSubjects fills the subject index (keyed hashes of every person's
// RRN and every corporation's business number) if it is not complete, so
// the counter can find citizens by number. It is idempotent.
func IndexSubjects(ctx context.Context, db *store.DB, w *population.World, x ident.Indexer, progress io.Writer) error {
	want := len(w.People) + len(w.Corporations)
	have, err := db.SubjectIndexSize(ctx)
	if err != nil {
		return err
	}
	if have >= want {
		return nil
	}
	start := time.Now()
	rows := make([]store.IndexRow, 0, want)
	for i := range w.People {
		p := &w.People[i]
		rows = append(rows, store.IndexRow{Digest: x.RRN(p.RRN), Kind: "rrn", Subject: p.Subject})
	}
	for i := range w.Corporations {
		c := &w.Corporations[i]
		rows = append(rows, store.IndexRow{Digest: x.BusinessNumber(c.BusinessNumber), Kind: "business_number", Subject: c.Subject})
	}
	if err := db.PutSubjectIndex(ctx, rows); err != nil {
		return err
	}
	fmt.Fprintf(progress, "subject index: %d keyed hashes in %s\n", len(rows), time.Since(start).Round(time.Millisecond))
	return nil
}

// WriteResidents writes DIR/demo-residents.csv (subject,name,kind,number):
// each person's RRN and each corporation's business registration number,
// what a citizen would show an official at the counter. The population is
// synthetic; the file is still readable by the owner only, and minwon's
// database never holds these numbers (only their keyed hashes).
func WriteResidents(dir string, w *population.World) error {
	path := datadir.Dir(dir).Residents()
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	recs := make([][]string, 0, len(w.People)+len(w.Corporations))
	for i := range w.People {
		p := &w.People[i]
		recs = append(recs, []string{p.Subject, p.Name, "person", ident.FormatRRN(p.RRN)})
	}
	for i := range w.Corporations {
		c := &w.Corporations[i]
		recs = append(recs, []string{c.Subject, c.Name, "corporation", ident.FormatBusinessNumber(c.BusinessNumber)})
	}
	return writeCSV(path, []string{"subject", "name", "kind", "number"}, recs)
}
