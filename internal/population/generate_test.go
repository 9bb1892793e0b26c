package population

import (
	"reflect"
	"strings"
	"testing"

	"github.com/minwon/minwon/internal/ident"
)

func TestDeterministic(t *testing.T) {
	a, err := Generate(Config{People: 500, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Generate(Config{People: 500, Seed: 9})
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same config, different worlds")
	}
	if !reflect.DeepEqual(a.Grades(10, 1), b.Grades(10, 1)) {
		t.Fatal("grades differ between identical worlds")
	}
	c, _ := Generate(Config{People: 500, Seed: 10})
	if reflect.DeepEqual(a.People[0], c.People[0]) {
		t.Fatal("different seeds, same first person")
	}
}

// TestPost2020RRNs: people born since October 2020 have new-format numbers
// (no valid check digit), everyone older keeps a checksum-valid one.
func TestPost2020RRNs(t *testing.T) {
	w, err := Generate(Config{People: 2000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var young int
	for _, p := range w.People {
		d, err := ident.ParseRRN(p.RRN)
		if err != nil {
			t.Fatalf("%s born %v: %v", p.Subject, p.BirthDate, err)
		}
		post := !p.BirthDate.Before(NewRRNFormat)
		if post {
			young++
		}
		if ident.RRNHasCheckDigit(d) == post {
			t.Fatalf("%s born %v: old check digit %t", p.Subject, p.BirthDate, !post)
		}
	}
	if young == 0 {
		t.Fatal("no one born since October 2020 in 2000 people")
	}
}

func TestRefusesBadSizes(t *testing.T) {
	for _, n := range []int{0, -1, MaxPeople + 1} {
		if _, err := Generate(Config{People: n}); err == nil {
			t.Errorf("Generate(%d) succeeded", n)
		}
	}
}

// TestInvariants checks, over several seeds and sizes, every property the
// agencies and authorisation rely on.
func TestInvariants(t *testing.T) {
	for _, size := range []int{1, 2, 7, 100, 5000} {
		for seed := int64(0); seed < 3; seed++ {
			w, err := Generate(Config{People: size, Seed: seed})
			if err != nil {
				t.Fatal(err)
			}
			checkWorld(t, w, size)
		}
	}
}

func checkWorld(t *testing.T, w *World, size int) {
	t.Helper()
	if len(w.People) != size {
		t.Fatalf("%d people, want %d", len(w.People), size)
	}
	subjects := map[string]bool{}
	rrns := map[string]bool{}
	inHousehold := make([]int, len(w.People))
	for hi, h := range w.Households {
		if len(h.Members) == 0 || h.Members[0] != h.Head {
			t.Fatalf("household %d: head is not the first member", hi)
		}
		for _, m := range h.Members {
			inHousehold[m]++
			p := &w.People[m]
			if p.Household != hi || p.Address != h.Address {
				t.Fatalf("person %d does not point back to household %d", m, hi)
			}
			if (p.Relation == Head) != (m == h.Head) {
				t.Fatalf("person %d: relation %d, head %v", m, p.Relation, m == h.Head)
			}
			if p.Relation == Child && !p.BirthDate.After(w.People[h.Head].BirthDate) {
				t.Fatalf("child %d is not younger than the head", m)
			}
		}
		if age(w.People[h.Head].BirthDate) < 19 {
			t.Fatalf("household %d has a minor head", hi)
		}
	}
	for i := range w.People {
		p := &w.People[i]
		if inHousehold[i] != 1 {
			t.Fatalf("person %d is in %d households", i, inHousehold[i])
		}
		if len(p.Subject) != 11 || p.Subject[0] != 'P' || subjects[p.Subject] {
			t.Fatalf("person %d: bad or repeated subject %q", i, p.Subject)
		}
		subjects[p.Subject] = true
		d, err := ident.ParseRRN(p.RRN)
		if err != nil || rrns[d] {
			t.Fatalf("person %d: invalid or repeated RRN (%v)", i, err)
		}
		rrns[d] = true
		if b, _ := ident.RRNBirthDate(d); !b.Equal(p.BirthDate) {
			t.Fatalf("person %d: RRN birth date %v, record %v", i, b, p.BirthDate)
		}
		if male := (d[6]-'0')%2 == 1; male != (p.Sex == Male) {
			t.Fatalf("person %d: RRN sex digit %c for sex %d", i, d[6], p.Sex)
		}
		if !p.BirthDate.Before(ReferenceDate) || len([]rune(p.Name)) < 2 {
			t.Fatalf("person %d: birth %v name %q", i, p.BirthDate, p.Name)
		}
		hist := p.AddressHistory
		if len(hist) == 0 || hist[len(hist)-1].Address != p.Address {
			t.Fatalf("person %d: address history does not end at the current address", i)
		}
		for k := 1; k < len(hist); k++ {
			if !hist[k].MovedIn.After(hist[k-1].MovedIn) {
				t.Fatalf("person %d: address history not increasing", i)
			}
		}
		if hist[0].MovedIn.Before(p.BirthDate) {
			t.Fatalf("person %d: moved in before birth", i)
		}
		for k, r := range p.Schools {
			if r.School < 0 || r.School >= len(w.Schools) || r.Admitted.Before(p.BirthDate) {
				t.Fatalf("person %d: bad school record %+v", i, r)
			}
			for _, g := range w.Grades(i, k) {
				if g.Score < 0 || g.Score > 100 || g.Rank < 0 || g.Rank > 9 || g.Term < 1 || g.Term > 2 {
					t.Fatalf("person %d: grade out of range %+v", i, g)
				}
			}
			if strings.Count(r.StudentNumber, "-") != 1 {
				t.Fatalf("student number %q", r.StudentNumber)
			}
		}
		if age(p.BirthDate) < 19 && len(p.Tax.Years) > 0 {
			t.Fatalf("minor %d has tax records", i)
		}
	}
	brns := map[string]bool{}
	for ci, c := range w.Corporations {
		if len(c.Subject) != 11 || c.Subject[0] != 'C' || subjects[c.Subject] {
			t.Fatalf("corporation %d: bad subject", ci)
		}
		subjects[c.Subject] = true
		if !ident.ValidBusinessNumber(c.BusinessNumber) || brns[c.BusinessNumber] {
			t.Fatalf("corporation %d: bad business number", ci)
		}
		brns[c.BusinessNumber] = true
		if _, err := ident.ParseCorporateNumber(c.CorporateNumber); err != nil {
			t.Fatalf("corporation %d: bad corporate number", ci)
		}
		if age(w.People[c.Representative].BirthDate) < 19 {
			t.Fatalf("corporation %d has a minor representative", ci)
		}
		for _, e := range c.Employees {
			if e == c.Representative || age(w.People[e].BirthDate) < 19 {
				t.Fatalf("corporation %d: bad employee %d", ci, e)
			}
		}
	}
	if size >= 10 && len(w.Corporations) == 0 {
		t.Fatal("no corporation")
	}
}

func BenchmarkGenerate10k(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Generate(Config{People: 10_000, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGenerate1M(b *testing.B) {
	if testing.Short() {
		b.Skip("a million people take seconds; the CI smoke run is -short")
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Generate(Config{People: 1_000_000, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
