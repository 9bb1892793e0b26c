package governance_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/governance"
	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/render"
	"github.com/minwon/minwon/internal/storetest"
)

// BenchmarkServing is what governance adds to every issuance: choosing the
// version (with a canary running) and holding it to its schema.
func BenchmarkServing(b *testing.B) {
	db := storetest.Open(b)
	g := &governance.Governor{Store: db, Agencies: agencies(), Golden: nil, Policy: governance.Policy{Share: 0.05}}
	ctx := context.Background()
	if err := g.Start(ctx); err != nil {
		b.Fatal(err)
	}
	hashes := make([]string, 1024)
	for i := range hashes {
		hashes[i] = fmt.Sprintf("%064x", i)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, ok := g.Serving(corpTax, hashes[i%len(hashes)])
		if !ok {
			b.Fatal("not served")
		}
		if err := form.Bind(s.Service, s.Schema); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGoldenCheck is the automatic check of one submission: golden
// renders of the synthetic subjects, pre-issuance verification of each,
// and the text diff against the active version.
func BenchmarkGoldenCheck(b *testing.B) {
	golden := benchGolden(b)
	cat, err := form.Builtin(agencies())
	if err != nil {
		b.Fatal(err)
	}
	for _, id := range []string{"resident-registration-copy", corpTax} {
		b.Run(id, func(b *testing.B) {
			svc, sch := cat.Service(id), cat.Schema(id)
			for i := 0; i < b.N; i++ {
				if _, err := golden.Check(svc, svc, sch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func agencies() *linkage.Schema { return linkage.DefaultSchema() }

func benchGolden(b *testing.B) *governance.Golden {
	r, err := render.New()
	if err != nil {
		b.Fatal(err)
	}
	g, err := governance.NewGolden(r)
	if err != nil {
		b.Fatal(err)
	}
	return g
}
