package linkage

import (
	"fmt"
	"sort"
)

// Class is the data class of an agency field: what kind of personal or
// business data it carries. Form templates declare the class of every field
// they print and services list the classes they allow, so a template that
// puts a representative's RRN where a business number belongs fails to load.
type Class string

// The data classes agencies deliver. A comment names the Go type of a
// class's value where it is not a string; the typed records in records.go
// hold every field by its schema name.
const (
	ClassSubject         Class = "subject"          // minwon's opaque subject id
	ClassName            Class = "name"             // a person's name
	ClassBirthDate       Class = "birth_date"       // YYYY-MM-DD
	ClassSex             Class = "sex"              // "M" or "F"
	ClassRRN             Class = "rrn"              // resident registration number, 13 digits
	ClassAddress         Class = "address"          // a road-name address
	ClassAddressHistory  Class = "address_history"  // []AddressEntry
	ClassHousehold       Class = "household"        // []HouseholdMember
	ClassRelation        Class = "relation"         // relation to the household head (string); members: []Member
	ClassSchoolRecord    Class = "school_record"    // []SchoolRecord
	ClassGrade           Class = "grade"            // []Grade
	ClassTaxPayments     Class = "tax_payments"     // []TaxYear
	ClassTaxStatus       Class = "tax_status"       // arrears in won (int64)
	ClassCompanyName     Class = "company_name"     // a corporation's name
	ClassBusinessNumber  Class = "business_number"  // 10 digits
	ClassCorporateNumber Class = "corporate_number" // 13 digits
	ClassBusinessType    Class = "business_type"    // 업태 / 종목
	ClassBusinessStatus  Class = "business_status"  // 과세유형 / 사업 상태
	ClassDate            Class = "date"             // a date that is not a birth date
	ClassCorporateRole   Class = "corporate_role"   // []CorporateRole
	ClassIdentifier      Class = "identifier"       // record ids (household number)
)

// Field describes one field an agency dataset can deliver.
type Field struct {
	Name  string
	Class Class
}

// Dataset is one kind of record an agency keeps, keyed by subject.
type Dataset struct {
	Agency string
	Name   string
	Fields []Field
}

// Field returns the named field and whether the dataset has it.
func (d *Dataset) Field(name string) (Field, bool) {
	for _, f := range d.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// Schema is the contract between minwon and the agencies: which datasets
// each agency serves and the class of every field. Linkage refuses to ask
// for a field the schema does not name, and form templates are checked
// against it when they load.
type Schema struct {
	datasets map[string]*Dataset // key "agency.dataset"
}

// Agencies known to the schema.
const (
	Registry  = "registry"  // 행정안전부 주민등록 (resident registry)
	Education = "education" // 교육행정정보시스템 (education information system)
	Tax       = "tax"       // 국세청 (national tax service)
)

// DefaultSchema returns the datasets of the three agencies minwon links to.
// Each has its typed record: Person, Student, Taxpayer and Corporation.
func DefaultSchema() *Schema {
	return NewSchema([]Dataset{
		{Agency: Registry, Name: "person", Fields: []Field{
			{"name", ClassName},
			{"birth_date", ClassBirthDate},
			{"sex", ClassSex},
			{"rrn", ClassRRN},
			{"address", ClassAddress},
			{"address_history", ClassAddressHistory},
			{"household_id", ClassIdentifier},
			{"household_formed_on", ClassDate},
			{"relation", ClassRelation},
			{"head_name", ClassName},
			{"household", ClassHousehold},
			{"members", ClassRelation},
		}},
		{Agency: Education, Name: "student", Fields: []Field{
			{"name", ClassName},
			{"birth_date", ClassBirthDate},
			{"rrn", ClassRRN},
			{"school_records", ClassSchoolRecord},
			{"grades", ClassGrade},
		}},
		{Agency: Tax, Name: "taxpayer", Fields: []Field{
			{"name", ClassName},
			{"birth_date", ClassBirthDate},
			{"rrn", ClassRRN},
			{"address", ClassAddress},
			{"tax_payments", ClassTaxPayments},
			{"arrears", ClassTaxStatus},
			{"corporations", ClassCorporateRole},
		}},
		{Agency: Tax, Name: "corporation", Fields: []Field{
			{"company_name", ClassCompanyName},
			{"business_number", ClassBusinessNumber},
			{"corporate_number", ClassCorporateNumber},
			{"representative_name", ClassName},
			{"representative_rrn", ClassRRN},
			{"representative_subject", ClassSubject},
			{"employees", ClassCorporateRole},
			{"address", ClassAddress},
			{"opened", ClassDate},
			{"registered_on", ClassDate},
			{"taxation_type", ClassBusinessStatus},
			{"business_status", ClassBusinessStatus},
			{"business_type", ClassBusinessType},
			{"business_item", ClassBusinessType},
			{"tax_payments", ClassTaxPayments},
			{"arrears", ClassTaxStatus},
		}},
	})
}

// NewSchema builds a schema from dataset descriptions.
func NewSchema(ds []Dataset) *Schema {
	s := &Schema{datasets: make(map[string]*Dataset, len(ds))}
	for i := range ds {
		d := ds[i]
		s.datasets[d.Agency+"."+d.Name] = &d
	}
	return s
}

// Dataset returns the dataset agency.name, or nil.
func (s *Schema) Dataset(agency, name string) *Dataset {
	return s.datasets[agency+"."+name]
}

// Agencies lists the agencies the schema names, sorted.
func (s *Schema) Agencies() []string {
	seen := map[string]bool{}
	var out []string
	for _, d := range s.datasets {
		if !seen[d.Agency] {
			seen[d.Agency] = true
			out = append(out, d.Agency)
		}
	}
	sort.Strings(out)
	return out
}

// check reports the first requested field the dataset does not have, or a
// field asked for twice.
func (d *Dataset) check(fields []string) error {
	if len(fields) == 0 {
		return fmt.Errorf("%w: no fields requested from %s.%s", ErrBadRequest, d.Agency, d.Name)
	}
	seen := make(map[string]bool, len(fields))
	for _, f := range fields {
		if _, ok := d.Field(f); !ok {
			return fmt.Errorf("%w: %s.%s has no field %q", ErrBadRequest, d.Agency, d.Name, f)
		}
		if seen[f] {
			return fmt.Errorf("%w: field %q requested twice", ErrBadRequest, f)
		}
		seen[f] = true
	}
	return nil
}
