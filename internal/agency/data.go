package agency

import (
	"encoding/json"

	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/population"
)

const dateLayout = "2006-01-02"

// data indexes the world by subject for the agencies' lookups.
type data struct {
	world      *population.World
	people     map[string]int32
	corps      map[string]int32
	corpsOfPer map[int32][]corpRole // person index → corporations they act for
	ch         *changes             // the registry's changes since the seed
}

type corpRole struct {
	corp int32
	role string
}

func indexWorld(w *population.World) *data {
	d := &data{
		world:      w,
		people:     make(map[string]int32, len(w.People)),
		corps:      make(map[string]int32, len(w.Corporations)),
		corpsOfPer: make(map[int32][]corpRole),
	}
	d.initChanges()
	for i := range w.People {
		d.people[w.People[i].Subject] = int32(i)
	}
	for i := range w.Corporations {
		c := &w.Corporations[i]
		d.corps[c.Subject] = int32(i)
		d.corpsOfPer[int32(c.Representative)] = append(d.corpsOfPer[int32(c.Representative)], corpRole{int32(i), "representative"})
		for _, e := range c.Employees {
			d.corpsOfPer[int32(e)] = append(d.corpsOfPer[int32(e)], corpRole{int32(i), "employee"})
		}
	}
	return d
}

// answer returns the requested fields of subject's record in agency.dataset,
// or false if the agency has no such subject. The fields were checked
// against the schema by the caller.
func (d *data) answer(agency, dataset, subject string, fields []string) (map[string]json.RawMessage, bool) {
	var value func(string) any
	switch agency + "." + dataset {
	case "registry.person":
		i, ok := d.people[subject]
		if !ok {
			return nil, false
		}
		value = func(f string) any { return d.registryPerson(int(i), f) }
	case "education.student":
		i, ok := d.people[subject]
		if !ok {
			return nil, false
		}
		value = func(f string) any { return d.educationStudent(int(i), f) }
	case "tax.taxpayer":
		i, ok := d.people[subject]
		if !ok {
			return nil, false
		}
		value = func(f string) any { return d.taxpayer(int(i), f) }
	case "tax.corporation":
		i, ok := d.corps[subject]
		if !ok {
			return nil, false
		}
		value = func(f string) any { return d.corporation(int(i), f) }
	default:
		return nil, false
	}
	d.ch.mu.RLock()
	defer d.ch.mu.RUnlock()
	out := make(map[string]json.RawMessage, len(fields))
	for _, f := range fields {
		b, err := json.Marshal(value(f))
		if err != nil {
			return nil, false
		}
		out[f] = b
	}
	return out, true
}

func relation(r population.Relation) string {
	switch r {
	case population.Head:
		return "head"
	case population.Spouse:
		return "spouse"
	case population.Child:
		return "child"
	case population.Parent:
		return "parent"
	case population.Cohabitant:
		return "cohabitant"
	}
	return "other"
}

// change is the register's reason for an address entry: 출생 for the
// address a person was registered at on their birth day, 전입 otherwise.
func change(p *population.Person, a population.AddressEntry) string {
	if a.MovedIn.Equal(p.BirthDate) {
		return "출생"
	}
	return "전입"
}

func sex(s population.Sex) string {
	if s == population.Female {
		return "F"
	}
	return "M"
}

// member is person i as a household lists them, without identifiers.
func (d *data) member(i int) linkage.Member {
	p := &d.world.People[i]
	return linkage.Member{Subject: p.Subject, Name: p.Name, Relation: relation(d.relationOf(i)), BirthDate: p.BirthDate.Format(dateLayout)}
}

func (d *data) registryPerson(i int, field string) any {
	p := &d.world.People[i]
	h := d.householdAt(d.householdIndex(i))
	switch field {
	case "name":
		return p.Name
	case "birth_date":
		return p.BirthDate.Format(dateLayout)
	case "sex":
		return sex(p.Sex)
	case "rrn":
		return p.RRN
	case "address":
		return d.personAddress(i)
	case "address_history":
		return d.personHistory(i)
	case "household_formed_on":
		// The household was formed when its head moved in (전입세대구성).
		hist := d.personHistory(int(h.head))
		return hist[len(hist)-1].MovedIn
	case "household_id":
		return h.id
	case "relation":
		return relation(d.relationOf(i))
	case "head_name":
		return d.world.People[h.head].Name
	case "members":
		// The household without identifiers: enough to decide who may act
		// for whom, nothing more.
		out := make([]linkage.Member, len(h.members))
		for k, m := range h.members {
			out[k] = d.member(int(m))
		}
		return out
	case "household":
		out := make([]linkage.HouseholdMember, len(h.members))
		for k, m := range h.members {
			hist := d.personHistory(int(m))
			last := hist[len(hist)-1]
			out[k] = linkage.HouseholdMember{Member: d.member(int(m)), RRN: d.world.People[m].RRN, MovedIn: last.MovedIn, Change: last.Change}
		}
		return out
	}
	return nil
}

func schoolKind(k population.SchoolKind) string {
	switch k {
	case population.Elementary:
		return "elementary"
	case population.Middle:
		return "middle"
	case population.High:
		return "high"
	case population.University:
		return "university"
	}
	return "other"
}

func (d *data) educationStudent(i int, field string) any {
	p := &d.world.People[i]
	switch field {
	case "name":
		return p.Name
	case "birth_date":
		return p.BirthDate.Format(dateLayout)
	case "rrn":
		return p.RRN
	case "school_records":
		out := make([]linkage.SchoolRecord, 0, len(p.Schools))
		for _, r := range p.Schools {
			s := &d.world.Schools[r.School]
			sr := linkage.SchoolRecord{School: s.Name, SchoolCode: s.Code, Kind: schoolKind(s.Kind), StudentNumber: r.StudentNumber, Admitted: r.Admitted.Format(dateLayout)}
			if !r.Graduated.IsZero() {
				sr.Graduated = r.Graduated.Format(dateLayout)
			}
			out = append(out, sr)
		}
		return out
	case "grades":
		out := []linkage.Grade{}
		for k, r := range p.Schools {
			name := d.world.Schools[r.School].Name
			for _, g := range d.world.Grades(i, k) {
				out = append(out, linkage.Grade{School: name, Year: g.Year, Term: g.Term, Course: g.Course, Score: g.Score, Rank: g.Rank, Credits: g.Credits,
					Mean: g.Mean, SD: g.SD, Achievement: g.Achievement})
			}
		}
		return out
	}
	return nil
}

func taxYears(t population.TaxRecord) []linkage.TaxYear {
	out := make([]linkage.TaxYear, len(t.Years))
	for k, y := range t.Years {
		out[k] = linkage.TaxYear{Year: y.Year, Assessed: y.Assessed, Paid: y.Paid}
	}
	return out
}

func (d *data) taxpayer(i int, field string) any {
	p := &d.world.People[i]
	switch field {
	case "name":
		return p.Name
	case "birth_date":
		return p.BirthDate.Format(dateLayout)
	case "rrn":
		return p.RRN
	case "address":
		return p.Address
	case "tax_payments":
		return taxYears(p.Tax)
	case "arrears":
		return p.Tax.Arrears
	case "corporations":
		out := []linkage.CorporateRole{}
		for _, cr := range d.corpsOfPer[int32(i)] {
			c := &d.world.Corporations[cr.corp]
			out = append(out, linkage.CorporateRole{Subject: c.Subject, Name: c.Name, Role: cr.role})
		}
		return out
	}
	return nil
}

func (d *data) corporation(i int, field string) any {
	c := &d.world.Corporations[i]
	rep := &d.world.People[c.Representative]
	switch field {
	case "company_name":
		return c.Name
	case "business_number":
		return c.BusinessNumber
	case "corporate_number":
		return c.CorporateNumber
	case "representative_name":
		return rep.Name
	case "registered_on":
		// The law gives 20 days after opening to register; the day is
		// derived from the business number so the world stays as seeded.
		return c.Opened.AddDate(0, 0, int(c.BusinessNumber[7]-'0')*2).Format(dateLayout)
	case "taxation_type":
		return "부가가치세 일반과세자"
	case "business_status":
		// The synthetic world has no closures or suspensions.
		return "계속사업자"
	case "representative_rrn":
		return rep.RRN
	case "representative_subject":
		return rep.Subject
	case "employees":
		out := make([]linkage.CorporateRole, 0, 1+len(c.Employees))
		out = append(out, linkage.CorporateRole{Subject: rep.Subject, Name: rep.Name, Role: "representative"})
		for _, e := range c.Employees {
			ep := &d.world.People[e]
			out = append(out, linkage.CorporateRole{Subject: ep.Subject, Name: ep.Name, Role: "employee"})
		}
		return out
	case "address":
		return c.Address
	case "opened":
		return c.Opened.Format(dateLayout)
	case "business_type":
		return c.BusinessType
	case "business_item":
		return c.BusinessItem
	case "tax_payments":
		return taxYears(c.Tax)
	case "arrears":
		return c.Tax.Arrears
	}
	return nil
}

// Directory answers dataset queries from a world directly, as the agency
// would over the wire but unsigned and without faults: for golden renders
// of synthetic subjects, never for issuance.
type Directory struct{ d *data }

// NewDirectory indexes w.
func NewDirectory(w *population.World) *Directory { return &Directory{indexWorld(w)} }

// Record returns the fields of subject's record in agency.dataset; false if
// the agency has no such subject.
func (dir *Directory) Record(agency, dataset, subject string, fields []string) (*linkage.Record, bool) {
	out, ok := dir.d.answer(agency, dataset, subject, fields)
	if !ok {
		return nil, false
	}
	return &linkage.Record{Agency: agency, Dataset: dataset, Subject: subject, Fields: out}, true
}
