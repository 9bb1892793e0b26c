package linkage

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestRecordsMatchSchema keeps the typed records and DefaultSchema in step:
// every dataset has a record whose JSON fields are exactly the schema's.
func TestRecordsMatchSchema(t *testing.T) {
	records := map[string]any{
		Registry + ".person":   Person{},
		Education + ".student": Student{},
		Tax + ".taxpayer":      Taxpayer{},
		Tax + ".corporation":   Corporation{},
	}
	schema := DefaultSchema()
	n := 0
	for _, d := range schema.datasets {
		n++
		rec, ok := records[d.Agency+"."+d.Name]
		if !ok {
			t.Errorf("%s.%s has no typed record", d.Agency, d.Name)
			continue
		}
		var want []string
		for _, f := range d.Fields {
			want = append(want, f.Name)
		}
		var got []string
		rt := reflect.TypeOf(rec)
		for i := range rt.NumField() {
			name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
			got = append(got, name)
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s.%s: record fields %v, schema fields %v", d.Agency, d.Name, got, want)
		}
	}
	if n != len(records) {
		t.Errorf("%d typed records for %d datasets", len(records), n)
	}
}

func TestRecordDecoding(t *testing.T) {
	rec := &Record{Agency: Registry, Dataset: "person", Fields: map[string]json.RawMessage{
		"name":      json.RawMessage(`"김민준"`),
		"household": json.RawMessage(`[{"subject":"P1","name":"김민준","relation":"head","birth_date":"1990-01-01","rrn":"9001011234568"}]`),
	}}
	p, err := rec.Person()
	if err != nil {
		t.Fatal(err)
	}
	want := &Person{Name: "김민준", Household: []HouseholdMember{{Member: Member{Subject: "P1", Name: "김민준", Relation: "head", BirthDate: "1990-01-01"}, RRN: "9001011234568"}}}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("Person() = %+v, want %+v", p, want)
	}
	// A household member encodes as the flat object agencies send.
	b, err := json.Marshal(want.Household[0])
	if err != nil || string(b) != string(rec.Fields["household"][1:len(rec.Fields["household"])-1]) {
		t.Errorf("HouseholdMember encodes as %s", b)
	}
	if _, err := rec.Taxpayer(); err == nil {
		t.Error("a registry.person record decoded as a taxpayer")
	}
	rec.Fields["unknown"] = json.RawMessage(`1`)
	if _, err := rec.Person(); err == nil {
		t.Error("a field outside the record decoded silently")
	}
	rec.Fields = map[string]json.RawMessage{"name": json.RawMessage(`1`)}
	if _, err := rec.Person(); err == nil {
		t.Error("a number decoded as a name")
	}
}
