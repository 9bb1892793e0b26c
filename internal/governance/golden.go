package governance

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/minwon/minwon/internal/agency"
	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/ident"
	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/population"
	"github.com/minwon/minwon/internal/render"
)

// Golden renders every submitted certificate template for a fixed set of
// synthetic subjects chosen for their edges — a child with a post-2020 RRN
// without check digit, a household with a cohabitant, a very long name, a
// graduate and a pupil, a person and a corporation in arrears — and runs
// pre-issuance verification (the personal-data scan) on each render.
type Golden struct {
	renderer *render.Renderer
	dir      *agency.Directory
	cases    []goldenCase
	at       time.Time
}

type goldenCase struct {
	name        string
	subject     string
	corporation bool
	opts        issuance.Options
}

// NewGolden builds the synthetic world and picks its cases.
func NewGolden(r *render.Renderer) (*Golden, error) {
	w, err := population.Generate(population.Config{People: 400, Seed: 2024})
	if err != nil {
		return nil, err
	}
	g := &Golden{renderer: r, at: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	first := func(name string, ok func(p *population.Person) bool) (int, error) {
		for i := range w.People {
			if ok(&w.People[i]) {
				return i, nil
			}
		}
		return 0, fmt.Errorf("governance: the golden world has no %s", name)
	}
	add := func(name string, i int) {
		g.cases = append(g.cases, goldenCase{name: name, subject: w.People[i].Subject})
	}
	head, err := first("household of three", func(p *population.Person) bool {
		return p.Relation == population.Head && len(w.Households[p.Household].Members) >= 3
	})
	if err != nil {
		return nil, err
	}
	add("household head, family of "+fmt.Sprint(len(w.Households[w.People[head].Household].Members)), head)
	g.cases = append(g.cases, goldenCase{name: "household head, every option ticked (relations, RRN back digits, past addresses)", subject: w.People[head].Subject,
		opts: issuance.Options{RRNBack: true, Relations: true, MemberRRNBack: true, AddressHistory: true}})

	// A cohabitant (동거인) joins another household: the generator makes
	// none.
	lodger, err := first("second adult of another household", func(p *population.Person) bool {
		return p.Relation == population.Spouse && p.Household != w.People[head].Household
	})
	if err != nil {
		return nil, err
	}
	cohab := &w.People[lodger]
	old := &w.Households[cohab.Household]
	old.Members = removeInt(old.Members, lodger)
	hh := &w.Households[w.People[head].Household]
	hh.Members = append(hh.Members, lodger)
	cohab.Household, cohab.Relation, cohab.Address = w.People[head].Household, population.Cohabitant, hh.Address
	add("cohabitant (동거인)", lodger)

	child, err := first("child with a post-2020 RRN", func(p *population.Person) bool {
		return p.RRN != "" && !ident.RRNHasCheckDigit(p.RRN)
	})
	if err != nil {
		return nil, err
	}
	add("child with a post-2020 RRN without check digit", child)

	long, err := first("adult", func(p *population.Person) bool {
		return p.Relation == population.Head && p.Subject != w.People[head].Subject
	})
	if err != nil {
		return nil, err
	}
	w.People[long].Name = "황보김수한무거북이와두루미삼천갑자동방삭"
	add("very long name", long)

	graduate, err := first("graduate", func(p *population.Person) bool {
		return len(p.Schools) >= 2 && !p.Schools[len(p.Schools)-1].Graduated.IsZero()
	})
	if err != nil {
		return nil, err
	}
	add("graduate of several schools", graduate)
	g.cases = append(g.cases, goldenCase{name: "graduate of several schools, high school chosen", subject: w.People[graduate].Subject,
		opts: issuance.Options{SchoolLevel: "high"}})
	pupil, err := first("pupil", func(p *population.Person) bool {
		return len(p.Schools) > 0 && p.Schools[len(p.Schools)-1].Graduated.IsZero()
	})
	if err != nil {
		return nil, err
	}
	add("pupil", pupil)
	arrears, err := first("person in arrears", func(p *population.Person) bool { return p.Tax.Arrears > 0 && len(p.Tax.Years) > 0 })
	if err != nil {
		return nil, err
	}
	add("person in arrears", arrears)

	if len(w.Corporations) < 2 {
		return nil, errors.New("governance: the golden world has too few corporations")
	}
	w.Corporations[0].Tax.Arrears = 12_345_000
	g.cases = append(g.cases,
		goldenCase{name: "corporation in arrears", subject: w.Corporations[0].Subject, corporation: true},
		goldenCase{name: "corporation", subject: w.Corporations[1].Subject, corporation: true},
	)
	g.dir = agency.NewDirectory(w)
	return g, nil
}

func removeInt(list []int, v int) []int {
	out := list[:0:0]
	for _, x := range list {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

// render renders svc for one case; ok is false when the case does not
// apply (a corporation for a person's certificate, a person without the
// records the certificate needs).
func (g *Golden) render(svc *form.Service, sch *form.Schema, c goldenCase) (text []string, ok bool, err error) {
	if c.corporation != (svc.SubjectKind == form.CorporationSubject) {
		return nil, false, nil
	}
	if c.opts != (issuance.Options{}) {
		// Only the options the service offers.
		offers := svc.Offers(true)
		c.opts.RRNBack = c.opts.RRNBack && slices.Contains(offers, form.OptionRRNBack)
		c.opts.Relations = c.opts.Relations && slices.Contains(offers, form.OptionRelations)
		c.opts.MemberRRNBack = c.opts.MemberRRNBack && slices.Contains(offers, form.OptionMemberRRNBack)
		c.opts.AddressHistory = c.opts.AddressHistory && slices.Contains(offers, form.OptionAddressHistory)
		if svc.CheckChoice(form.ChoiceSchoolLevel, c.opts.SchoolLevel) != nil {
			c.opts.SchoolLevel = ""
		}
		if c.opts == (issuance.Options{}) {
			return nil, false, nil
		}
	}
	var records []*linkage.Record
	for _, n := range issuance.FetchNeeds(svc, sch) {
		rec, found := g.dir.Record(n.Agency, n.Dataset, c.subject, n.Fields)
		if !found {
			return nil, false, nil
		}
		records = append(records, rec)
	}
	relation := form.Self
	if c.corporation {
		relation = form.CorporateRepresentative
	}
	text, err = issuance.Preview(g.renderer, svc, sch, records, c.subject, relation, c.opts, g.at)
	if errors.Is(err, issuance.ErrNotIssuable) {
		// The certificate is not issued to this case at all (a pupil's
		// graduation certificate, a 납세증명서 in arrears): nothing to check.
		return nil, false, nil
	}
	return text, err == nil, err
}

// Check renders the submitted version (and the active one, was, if any)
// for every case. A refusal of any render refuses the submission; the
// diff of the two versions' text goes to the approvers.
func (g *Golden) Check(svc, was *form.Service, sch *form.Schema) (Checks, error) {
	var out Checks
	var diff strings.Builder
	for _, c := range g.cases {
		text, ok, err := g.render(svc, sch, c)
		if err != nil {
			return Checks{}, fmt.Errorf("golden render %q: %w", c.name, err)
		}
		if !ok {
			continue
		}
		out.Goldens = append(out.Goldens, GoldenResult{Case: c.name, Lines: len(text)})
		var before []string
		if was != nil {
			// The active version is rendered against the same schema; if
			// it no longer renders, its side of the diff is empty.
			before, _, _ = g.render(was, sch, c)
		}
		if d := diffLines(before, text); d != "" {
			fmt.Fprintf(&diff, "=== %s\n%s", c.name, d)
		}
	}
	if len(out.Goldens) == 0 {
		return Checks{}, errors.New("no golden subject applies to this service: nothing could be checked")
	}
	out.Diff = diff.String()
	return out, nil
}

// diffLines is a line diff of a and b ("-" removed, "+" added), without
// the lines they share; empty when they are equal.
func diffLines(a, b []string) string {
	// Longest common subsequence; renders are a few hundred lines.
	n, m := len(a), len(b)
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out strings.Builder
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			i++
			j++
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			fmt.Fprintf(&out, "+ %s\n", b[j])
			j++
		default:
			fmt.Fprintf(&out, "- %s\n", a[i])
			i++
		}
	}
	return out.String()
}
