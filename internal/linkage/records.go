package linkage

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// The typed records of the datasets in DefaultSchema: one declaration of
// every shape an agency delivers, which the agencies encode and minwon
// decodes. A fetched record holds only the fields that were asked for; the
// others stay zero. Field names are the schema's, as JSON tags (a test
// keeps the two in step).

// Person is the resident registry's record of a person (registry.person).
type Person struct {
	Name              string            `json:"name"`
	BirthDate         string            `json:"birth_date"` // YYYY-MM-DD
	Sex               string            `json:"sex"`        // "M" or "F"
	RRN               string            `json:"rrn"`        // 13 digits
	Address           string            `json:"address"`
	AddressHistory    []AddressEntry    `json:"address_history"` // oldest first
	HouseholdID       string            `json:"household_id"`
	HouseholdFormedOn string            `json:"household_formed_on"` // the day the household was formed (전입세대구성)
	Relation          string            `json:"relation"`            // to the household head: head, spouse, child, parent, other
	HeadName          string            `json:"head_name"`
	Household         []HouseholdMember `json:"household"`
	Members           []Member          `json:"members"`
}

// AddressEntry is one registered address and the day its resident moved in.
type AddressEntry struct {
	Address string `json:"address"`
	MovedIn string `json:"moved_in"` // YYYY-MM-DD
	// Change is the register's reason for the entry (변동사유): 전입 (moved
	// in) or 출생 (registered at birth).
	Change string `json:"change,omitempty"`
}

// Member is one member of a household without identifiers: enough to decide
// who may act for whom, nothing more.
type Member struct {
	Subject   string `json:"subject"`
	Name      string `json:"name"`
	Relation  string `json:"relation"` // as Person.Relation
	BirthDate string `json:"birth_date"`
}

// HouseholdMember is one row of the household (세대) as a resident
// registration copy prints it: a member and their RRN.
type HouseholdMember struct {
	Member
	RRN string `json:"rrn"`
	// MovedIn (전입일) and Change (변동사유) are the member's latest entry
	// at the household's address.
	MovedIn string `json:"moved_in,omitempty"`
	Change  string `json:"change,omitempty"`
}

// Student is the education information system's record of a person
// (education.student).
type Student struct {
	Name          string         `json:"name"`
	BirthDate     string         `json:"birth_date"`
	RRN           string         `json:"rrn"`
	SchoolRecords []SchoolRecord `json:"school_records"` // oldest first
	Grades        []Grade        `json:"grades"`
}

// SchoolRecord is one enrolment at one school.
type SchoolRecord struct {
	School        string `json:"school"`
	SchoolCode    string `json:"school_code"`
	Kind          string `json:"kind"` // elementary, middle, high, university
	StudentNumber string `json:"student_number"`
	Admitted      string `json:"admitted"`  // YYYY-MM-DD
	Graduated     string `json:"graduated"` // YYYY-MM-DD; "" while enrolled
}

// Grade is one course result in one term.
type Grade struct {
	School  string `json:"school"`
	Year    int    `json:"year"`
	Term    int    `json:"term"`
	Course  string `json:"course"`
	Score   int    `json:"score"`
	Rank    int    `json:"rank"` // 1-9 grade band; 0 where not ranked
	Credits int    `json:"credits"`
	// The course's mean score and standard deviation and the pupil's
	// achievement (A–E), as a secondary school records them; absent at
	// university.
	Mean        float64 `json:"mean,omitempty"`
	SD          float64 `json:"sd,omitempty"`
	Achievement string  `json:"achievement,omitempty"`
}

// Taxpayer is the national tax service's record of a person (tax.taxpayer).
type Taxpayer struct {
	Name         string          `json:"name"`
	BirthDate    string          `json:"birth_date"`
	RRN          string          `json:"rrn"`
	Address      string          `json:"address"`
	TaxPayments  []TaxYear       `json:"tax_payments"` // oldest first
	Arrears      int64           `json:"arrears"`      // unpaid tax in won
	Corporations []CorporateRole `json:"corporations"` // the corporations the person acts for
}

// TaxYear is the tax assessed and paid for one year, in won.
type TaxYear struct {
	Year     int   `json:"year"`
	Assessed int64 `json:"assessed"`
	Paid     int64 `json:"paid"`
}

// CorporateRole links a person and a corporation: on a taxpayer it names the
// corporation, on a corporation the person.
type CorporateRole struct {
	Subject string `json:"subject"`
	Name    string `json:"name"`
	Role    string `json:"role"` // representative or employee
}

// Corporation is the national tax service's record of a corporation
// (tax.corporation).
type Corporation struct {
	CompanyName           string          `json:"company_name"`
	BusinessNumber        string          `json:"business_number"`  // 10 digits
	CorporateNumber       string          `json:"corporate_number"` // 13 digits
	RepresentativeName    string          `json:"representative_name"`
	RepresentativeRRN     string          `json:"representative_rrn"`
	RepresentativeSubject string          `json:"representative_subject"`
	Employees             []CorporateRole `json:"employees"` // the representative first
	Address               string          `json:"address"`
	Opened                string          `json:"opened"`          // YYYY-MM-DD
	RegisteredOn          string          `json:"registered_on"`   // YYYY-MM-DD, 사업자등록일
	TaxationType          string          `json:"taxation_type"`   // 과세유형, e.g. 부가가치세 일반과세자
	BusinessStatus        string          `json:"business_status"` // 사업 상태: 계속사업자, 휴업자 or 폐업자
	BusinessType          string          `json:"business_type"`
	BusinessItem          string          `json:"business_item"`
	TaxPayments           []TaxYear       `json:"tax_payments"`
	Arrears               int64           `json:"arrears"`
}

// Person decodes a registry.person record.
func (r *Record) Person() (*Person, error) { return decodeAs[Person](r, Registry, "person") }

// Student decodes an education.student record.
func (r *Record) Student() (*Student, error) { return decodeAs[Student](r, Education, "student") }

// Taxpayer decodes a tax.taxpayer record.
func (r *Record) Taxpayer() (*Taxpayer, error) { return decodeAs[Taxpayer](r, Tax, "taxpayer") }

// Corporation decodes a tax.corporation record.
func (r *Record) Corporation() (*Corporation, error) {
	return decodeAs[Corporation](r, Tax, "corporation")
}

// decodeAs decodes r's fields into T, the typed record of agency.dataset.
func decodeAs[T any](r *Record, agency, dataset string) (*T, error) {
	if r.Agency != agency || r.Dataset != dataset {
		return nil, fmt.Errorf("%s.%s record is not a %s.%s record", r.Agency, r.Dataset, agency, dataset)
	}
	obj, err := json.Marshal(r.Fields)
	if err != nil {
		return nil, fmt.Errorf("%s.%s: %w", agency, dataset, err)
	}
	v := new(T)
	dec := json.NewDecoder(bytes.NewReader(obj))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return nil, fmt.Errorf("%s.%s: decode: %w", agency, dataset, err)
	}
	return v, nil
}
