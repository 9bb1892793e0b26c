package population

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/minwon/minwon/internal/ident"
)

// ReferenceDate is "today" for the generator: ages, enrolments and tax
// years are computed against it, never against the clock, so a world is
// the same whenever it is generated.
var ReferenceDate = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// MaxPeople bounds a world; a million people take about a gigabyte less
// than this limit would need.
const MaxPeople = 5_000_000

// Generate returns the world cfg describes.
func Generate(cfg Config) (*World, error) { return GenerateProgress(cfg, nil) }

// GenerateProgress is Generate that calls progress(done, total) every
// 100,000 people on long runs.
func GenerateProgress(cfg Config, progress func(done, total int)) (*World, error) {
	if cfg.People < 1 || cfg.People > MaxPeople {
		return nil, fmt.Errorf("population: people must be between 1 and %d, not %d", MaxPeople, cfg.People)
	}
	g := &gen{
		rng:     rand.New(rand.NewPCG(uint64(cfg.Seed), 0x6d696e776f6e)),
		w:       &World{Config: cfg, People: make([]Person, 0, cfg.People)},
		rrns:    make(map[string]struct{}, cfg.People),
		subject: make(map[string]struct{}, cfg.People+cfg.People/30),
	}
	g.makeSchools()
	next := 100_000
	for len(g.w.People) < cfg.People {
		g.household(cfg.People - len(g.w.People))
		if progress != nil && len(g.w.People) >= next {
			progress(len(g.w.People), cfg.People)
			next += 100_000
		}
	}
	g.corporations()
	if progress != nil {
		progress(len(g.w.People), cfg.People)
	}
	return g.w, nil
}

type gen struct {
	rng     *rand.Rand
	w       *World
	rrns    map[string]struct{}
	subject map[string]struct{}
	brns    map[string]struct{}
	schools [4][][]int // kind-1 → region → school indexes
}

func (g *gen) pick(list []string) string { return list[g.rng.IntN(len(list))] }

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

func (g *gen) newSubject(prefix byte) string {
	for {
		b := make([]byte, 11)
		b[0] = prefix
		for i := 1; i < 11; i++ {
			b[i] = crockford[g.rng.IntN(32)]
		}
		s := string(b)
		if _, dup := g.subject[s]; !dup {
			g.subject[s] = struct{}{}
			return s
		}
	}
}

// household adds one household of at most room people.
func (g *gen) household(room int) {
	size := []int{1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 5, 6}[g.rng.IntN(12)]
	size = min(size, room)
	hi := len(g.w.Households)
	region := g.rng.IntN(len(regions))
	addr := g.address(region)
	h := Household{ID: fmt.Sprintf("H%09d", hi+1), Address: addr}

	headAge := 20 + g.rng.IntN(71)
	if size >= 3 {
		headAge = 28 + g.rng.IntN(35) // parents of children at home
	}
	headSex := Sex(1 + g.rng.IntN(2))
	headBirth := g.birthDate(headAge)
	surname := g.surname()
	head := g.person(surname, headSex, headBirth, hi, Head, addr, region)
	h.Head = head
	h.Members = append(h.Members, head)
	left := size - 1
	if left > 0 && size >= 2 && g.rng.IntN(10) < 8 {
		spouseAge := max(20, headAge+g.rng.IntN(9)-4)
		sp := g.person(g.surname(), 3-headSex, g.birthDate(spouseAge), hi, Spouse, addr, region)
		h.Members = append(h.Members, sp)
		left--
	}
	if left > 0 && headAge >= 35 && headAge <= 60 && g.rng.IntN(6) == 0 {
		parentAge := headAge + 24 + g.rng.IntN(10)
		pa := g.person(surname, Sex(1+g.rng.IntN(2)), g.birthDate(parentAge), hi, Parent, addr, region)
		h.Members = append(h.Members, pa)
		left--
	}
	// Children take the head's surname (the father's when the head is the
	// mother is not modelled) and are born when the head was 22–42.
	for ; left > 0; left-- {
		maxAge := headAge - 22
		if maxAge < 0 {
			maxAge = 0
		}
		age := max(0, maxAge-g.rng.IntN(21))
		c := g.person(surname, Sex(1+g.rng.IntN(2)), g.birthDate(age), hi, Child, addr, region)
		h.Members = append(h.Members, c)
	}
	g.w.Households = append(g.w.Households, h)
}

// birthDate returns a date that makes the person age years old on the
// reference date.
func (g *gen) birthDate(age int) time.Time {
	d := ReferenceDate.AddDate(-age-1, 0, 1+g.rng.IntN(365))
	if !d.Before(ReferenceDate) {
		d = ReferenceDate.AddDate(0, 0, -1-g.rng.IntN(300))
	}
	return d
}

func age(birth time.Time) int {
	a := ReferenceDate.Year() - birth.Year()
	if ReferenceDate.YearDay() < birth.YearDay() {
		a--
	}
	return a
}

func (g *gen) person(surname string, sex Sex, birth time.Time, household int, rel Relation, addr string, region int) int {
	i := len(g.w.People)
	p := Person{
		Subject:   g.newSubject('P'),
		Name:      surname + g.givenName(sex),
		BirthDate: birth,
		Sex:       sex,
		RRN:       g.rrn(birth, sex),
		Household: household,
		Relation:  rel,
		Address:   addr,
	}
	p.AddressHistory = g.history(birth, addr, region)
	p.Schools = g.schooling(i, birth, region)
	p.Tax = g.taxRecord(age(birth), false)
	g.w.People = append(g.w.People, p)
	return i
}

// NewRRNFormat is the day RRNs stopped carrying a region code and a check
// digit. The generator gives the new format to everyone born since: the
// synthetic world re-assigns no one, so older people keep old numbers.
var NewRRNFormat = time.Date(2020, 10, 1, 0, 0, 0, 0, time.UTC)

func (g *gen) rrn(birth time.Time, sex Sex) string {
	century := 1
	if birth.Year() >= 2000 {
		century = 3
	}
	code := century + int(sex) - 1
	for {
		front := fmt.Sprintf("%02d%02d%02d%d%04d%d", birth.Year()%100, int(birth.Month()), birth.Day(), code, g.rng.IntN(10000), g.rng.IntN(10))
		d := front + string(ident.RRNCheckDigit(front))
		if !birth.Before(NewRRNFormat) {
			// Post-2020 numbers have random back digits. The last one is
			// made to fail the old checksum, so nothing downstream can lean
			// on it, and without another draw, so everyone else's data (and
			// every golden document about them) stays the same.
			d = front + string('0'+(d[12]-'0'+1+d[11]%2)%10)
		}
		if _, dup := g.rrns[d]; !dup {
			g.rrns[d] = struct{}{}
			return d
		}
	}
}

func (g *gen) surname() string {
	// Weighted by frequency: Kim, Lee and Park are about 45% of Koreans.
	r := g.rng.IntN(100)
	switch {
	case r < 21:
		return "김"
	case r < 36:
		return "이"
	case r < 45:
		return "박"
	}
	return g.pick(surnames)
}

func (g *gen) givenName(sex Sex) string {
	if sex == Female {
		return g.pick(femaleFirst) + g.pick(femaleSecond)
	}
	return g.pick(maleFirst) + g.pick(maleSecond)
}

func (g *gen) address(region int) string {
	r := regions[region]
	a := r.name + " " + g.pick(r.districts) + " " + g.pick(roads) + " " + strconv.Itoa(1+g.rng.IntN(300))
	if g.rng.IntN(2) == 0 {
		a += fmt.Sprintf(", %d동 %d호", 101+g.rng.IntN(12), (1+g.rng.IntN(25))*100+1+g.rng.IntN(4))
	}
	return a
}

func (g *gen) history(birth time.Time, current string, region int) []AddressEntry {
	n := 1 + g.rng.IntN(5)
	span := ReferenceDate.Sub(birth)
	out := make([]AddressEntry, n)
	moved := birth
	for k := 0; k < n; k++ {
		addr := current
		if k < n-1 {
			addr = g.address(g.rng.IntN(len(regions)))
		}
		out[k] = AddressEntry{Address: addr, MovedIn: moved}
		// Each later move falls in the remaining time, strictly increasing.
		remaining := ReferenceDate.Sub(moved)
		step := time.Duration(g.rng.Int64N(int64(remaining/time.Duration(n-k+1))+1)) + 24*time.Hour
		if step >= remaining || span <= 0 {
			step = remaining / 2
		}
		moved = moved.Add(step).Truncate(24 * time.Hour)
		if !moved.After(out[k].MovedIn) {
			moved = out[k].MovedIn.AddDate(0, 0, 1)
		}
		if !moved.Before(ReferenceDate) {
			out = out[:k+1]
			break
		}
	}
	// The last entry must be the current address.
	out[len(out)-1].Address = current
	return out
}

func (g *gen) makeSchools() {
	kinds := []struct {
		kind   SchoolKind
		suffix string
		per    int
	}{{Elementary, "초등학교", 4}, {Middle, "중학교", 3}, {High, "고등학교", 3}, {University, "대학교", 1}}
	for ri, r := range regions {
		for _, k := range kinds {
			for n := 0; n < k.per; n++ {
				name := r.short + schoolStems[(ri*7+n*3+int(k.kind))%len(schoolStems)] + k.suffix
				if k.kind == University {
					name = r.short + schoolStems[(ri+n)%len(schoolStems)] + k.suffix
				}
				idx := len(g.w.Schools)
				g.w.Schools = append(g.w.Schools, School{Code: fmt.Sprintf("S%07d", idx+1), Name: name, Kind: k.kind, Region: r.name})
				if g.schools[k.kind-1] == nil {
					g.schools[k.kind-1] = make([][]int, len(regions))
				}
				g.schools[k.kind-1][ri] = append(g.schools[k.kind-1][ri], idx)
			}
		}
	}
}

// schooling enrols a person by age: elementary at 7 for six years, middle
// for three, high for three, and university for about 60%.
func (g *gen) schooling(person int, birth time.Time, region int) []SchoolRecord {
	var out []SchoolRecord
	stages := []struct {
		kind       SchoolKind
		start, len int
	}{{Elementary, 7, 6}, {Middle, 13, 3}, {High, 16, 3}, {University, 19, 4}}
	for _, st := range stages {
		admitted := time.Date(birth.Year()+st.start, 3, 2, 0, 0, 0, 0, time.UTC)
		if !admitted.Before(ReferenceDate) {
			break
		}
		if st.kind == University && g.rng.IntN(10) >= 6 {
			break
		}
		pool := g.schools[st.kind-1][region]
		rec := SchoolRecord{
			School:        pool[g.rng.IntN(len(pool))],
			StudentNumber: fmt.Sprintf("%d-%05d", admitted.Year(), g.rng.IntN(100000)),
			Admitted:      admitted,
		}
		grad := time.Date(birth.Year()+st.start+st.len, 2, 14, 0, 0, 0, 0, time.UTC)
		if grad.Before(ReferenceDate) {
			rec.Graduated = grad
		}
		out = append(out, rec)
		if rec.Graduated.IsZero() {
			break
		}
	}
	return out
}

func (g *gen) taxRecord(age int, corporate bool) TaxRecord {
	if !corporate && (age < 20 || age > 75 || g.rng.IntN(10) < 2) {
		return TaxRecord{}
	}
	years := 3 + g.rng.IntN(3)
	base := int64(200_000 + g.rng.IntN(8_000_000))
	if corporate {
		base *= 20
	}
	t := TaxRecord{Years: make([]TaxYear, years)}
	for k := 0; k < years; k++ {
		assessed := base + int64(g.rng.IntN(int(base/5)+1)) - base/10
		assessed -= assessed % 10
		t.Years[k] = TaxYear{Year: 2025 - years + 1 + k, Assessed: assessed, Paid: assessed}
	}
	if g.rng.IntN(20) == 0 { // about 5% in arrears
		k := g.rng.IntN(years)
		unpaid := t.Years[k].Assessed / int64(2+g.rng.IntN(4))
		unpaid -= unpaid % 10
		t.Years[k].Paid -= unpaid
		t.Arrears = unpaid
	}
	return t
}

func (g *gen) corporations() {
	var adults []int
	for i := range g.w.People {
		if age(g.w.People[i].BirthDate) >= 19 {
			adults = append(adults, i)
		}
	}
	if len(adults) == 0 {
		return
	}
	n := len(g.w.People) / 40
	if n == 0 && len(g.w.People) >= 10 {
		n = 1
	}
	g.brns = make(map[string]struct{}, n)
	corpNos := make(map[string]struct{}, n)
	for k := 0; k < n; k++ {
		region := g.rng.IntN(len(regions))
		c := Corporation{
			Subject:        g.newSubject('C'),
			Name:           g.companyName(),
			Representative: adults[g.rng.IntN(len(adults))],
			Address:        g.address(region),
			Opened:         ReferenceDate.AddDate(-1-g.rng.IntN(30), -g.rng.IntN(12), -g.rng.IntN(28)),
		}
		bt := businessTypes[g.rng.IntN(len(businessTypes))]
		c.BusinessType, c.BusinessItem = bt[0], bt[1]
		for {
			front := fmt.Sprintf("%03d%s%04d", 101+g.rng.IntN(899), []string{"81", "85", "86", "87", "88"}[g.rng.IntN(5)], g.rng.IntN(10000))
			d := front + string(ident.BusinessNumberCheckDigit(front))
			if _, dup := g.brns[d]; !dup {
				g.brns[d] = struct{}{}
				c.BusinessNumber = d
				break
			}
		}
		for {
			front := fmt.Sprintf("%04d%02d%06d", 1101+g.rng.IntN(300), 11, g.rng.IntN(1_000_000))
			d := front + string(ident.CorporateNumberCheckDigit(front))
			if _, dup := corpNos[d]; !dup {
				corpNos[d] = struct{}{}
				c.CorporateNumber = d
				break
			}
		}
		for e := g.rng.IntN(4); e > 0; e-- {
			emp := adults[g.rng.IntN(len(adults))]
			if emp != c.Representative && !contains(c.Employees, emp) {
				c.Employees = append(c.Employees, emp)
			}
		}
		c.Tax = g.taxRecord(0, true)
		g.w.Corporations = append(g.w.Corporations, c)
	}
}

func contains(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func (g *gen) companyName() string {
	stem := g.pick(companyStems) + g.pick(companySuffixes)
	if g.rng.IntN(2) == 0 {
		return "주식회사 " + stem
	}
	return "(주)" + stem
}

// Grades returns the course results of person p's rec-th school record,
// derived from the seed, the person and the record, so they cost no memory
// and are the same on every call. Elementary schools have no grades.
func (w *World) Grades(p, rec int) []Grade {
	if p < 0 || p >= len(w.People) || rec < 0 || rec >= len(w.People[p].Schools) {
		return nil
	}
	person := &w.People[p]
	r := person.Schools[rec]
	kind := w.Schools[r.School].Kind
	if kind == Elementary {
		return nil
	}
	var seed uint64
	for _, c := range person.Subject {
		seed = seed*131 + uint64(c)
	}
	rng := rand.New(rand.NewPCG(uint64(w.Config.Seed)^seed, uint64(rec)+1))
	years := 3
	courses := secondaryCourses
	if kind == University {
		years, courses = 4, universityCourses
	}
	end := r.Graduated
	if end.IsZero() {
		end = ReferenceDate
	}
	var out []Grade
	for y := 1; y <= years; y++ {
		for term := 1; term <= 2; term++ {
			// Only terms that have started by the end date.
			start := time.Date(r.Admitted.Year()+y-1, time.Month(3+6*(term-1)), 1, 0, 0, 0, 0, time.UTC)
			if !start.Before(end) {
				return out
			}
			n := 5 + rng.IntN(3)
			if kind == University {
				n = 5
			}
			offset := rng.IntN(len(courses))
			for k := 0; k < n; k++ {
				g := Grade{Year: y, Term: term, Course: courses[(offset+k)%len(courses)], Score: 40 + rng.IntN(61), Credits: 1 + rng.IntN(3)}
				if kind == High {
					g.Rank = 1 + rng.IntN(9)
				}
				if kind == University {
					// Few fail at university: 60–100, letter grades D0 to A+.
					g.Score = 60 + (g.Score-40)*2/3
				}
				if kind != University {
					g.Mean = float64(550+rng.IntN(260)) / 10
					g.SD = float64(100+rng.IntN(150)) / 10
					g.Achievement = achievementOf(g.Score)
				}
				out = append(out, g)
			}
		}
	}
	return out
}

// achievementOf is a secondary school's 성취도 for a raw score, by the
// 성취평가제 bands (90, 80, 70, 60).
func achievementOf(score int) string {
	switch {
	case score >= 90:
		return "A"
	case score >= 80:
		return "B"
	case score >= 70:
		return "C"
	case score >= 60:
		return "D"
	}
	return "E"
}
