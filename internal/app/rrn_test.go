package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/minwon/minwon/internal/apiwire"
	"github.com/minwon/minwon/internal/apptest"
	"github.com/minwon/minwon/internal/counter"
	"github.com/minwon/minwon/internal/ident"
	"github.com/minwon/minwon/internal/pki"
	"github.com/minwon/minwon/internal/population"
)

// youngChild finds a household whose child was born since October 2020 and
// so has a new-format RRN, without a valid check digit.
func youngChild(t *testing.T, w *population.World) (head, child *population.Person) {
	t.Helper()
	for _, h := range w.Households {
		for _, m := range h.Members {
			p := &w.People[m]
			if p.Relation == population.Child && !p.BirthDate.Before(population.NewRRNFormat) && w.People[h.Head].Relation == population.Head {
				if ident.RRNHasCheckDigit(p.RRN) {
					t.Fatalf("child born %v has an old-format RRN", p.BirthDate)
				}
				return &w.People[h.Head], p
			}
		}
	}
	t.Fatal("no household with a child born since October 2020")
	return nil, nil
}

// A household with a child born after October 2020 used to get a 422: the
// child's RRN has no check digit and the copy could not print it. The
// parent now gets the copy and the child's abstract, and a counter clerk
// finds the child by that number.
func TestHouseholdWithPost2020Child(t *testing.T) {
	env := apptest.Start(t, 400, 11)
	head, child := youngChild(t, env.World)
	c := env.Login(t, env.AccountOf(t, head.Subject))

	for _, tc := range []struct{ service, subject string }{
		{"resident-registration-copy", ""},
		{"resident-registration-abstract", child.Subject},
	} {
		var got apiwire.Issued
		if code := c.Do("POST", "/api/v1/issuances", map[string]any{"service": tc.service, "subject": tc.subject}, newKey(), &got); code != http.StatusCreated {
			t.Fatalf("%s: status %d", tc.service, code)
		}
		_, pdf := c.Raw("GET", got.Document, nil, nil)
		text := apptest.PDFText(t, pdf)
		if !strings.Contains(text, ident.MaskRRN(child.RRN)) || strings.Contains(text, ident.FormatRRN(child.RRN)) {
			t.Errorf("%s: the child's RRN is not printed masked:\n%s", tc.service, text)
		}
	}

	cs := env.StartCounter(t, pki.DefaultGrace)
	_, _, clerk := cs.Official(t, pki.CounterClerk)
	var is counter.IssuedJSON
	if code := clerk.Do("POST", "/counter/v1/issuances", counterRequest("resident-registration-abstract", child.RRN, ""), newKey(), &is); code != http.StatusCreated || is.Subject != child.Subject {
		t.Fatalf("counter, by the child's RRN: %d %+v", code, is)
	}
}
