package agency

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/population"
)

// TestGoldenAnswers pins the field values the agencies encode for a fixed
// world: every field of every dataset for the first subjects, hashed. The
// answers are the agencies' side of the linkage contract; a change of a
// field's JSON shape must be deliberate.
func TestGoldenAnswers(t *testing.T) {
	const want = "020cf20ce9d728e82c1cea70337bacd4f89770350dd8f92ccaaafa841482f7f4"
	w, err := population.Generate(population.Config{People: 200, Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	d := indexWorld(w)
	schema := linkage.DefaultSchema()
	h := sha256.New()
	for _, ds := range []struct{ agency, dataset string }{
		{linkage.Registry, "person"}, {linkage.Education, "student"}, {linkage.Tax, "taxpayer"}, {linkage.Tax, "corporation"},
	} {
		var fields []string
		for _, f := range schema.Dataset(ds.agency, ds.dataset).Fields {
			fields = append(fields, f.Name)
		}
		subjects := []string{w.People[0].Subject, w.People[1].Subject, w.People[len(w.People)-1].Subject}
		if ds.dataset == "corporation" {
			subjects = []string{w.Corporations[0].Subject, w.Corporations[len(w.Corporations)-1].Subject}
		}
		for _, s := range subjects {
			answer, ok := d.answer(ds.agency, ds.dataset, s, fields)
			if !ok {
				t.Fatalf("%s.%s has no %s", ds.agency, ds.dataset, s)
			}
			for _, f := range fields {
				fmt.Fprintf(h, "%s.%s %s %s=%s\n", ds.agency, ds.dataset, s, f, answer[f])
			}
		}
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		t.Errorf("answers hash to %s, want %s", got, want)
	}
}
