// Package population generates minwon's deterministic synthetic population:
// people with Korean names, resident registration numbers with valid check
// digits, households, address histories, schools with graduation and grade
// records, corporations with business registration numbers and
// representatives, and individual and corporate tax records.
//
// The same Config always yields the same World. The World is the source data
// of the simulated agencies; minwon's own database never holds it. Package
// population never prints or logs a resident registration number.
package population

import "time"

// Config selects the population to generate.
type Config struct {
	People int   // number of persons, ≥ 1
	Seed   int64 // same seed, same world
}

// World is one generated population. Slices are indexed by the int fields
// that refer to them (Person.Household, Household.Members, ...).
type World struct {
	Config       Config
	People       []Person
	Households   []Household
	Schools      []School
	Corporations []Corporation
}

// Sex as recorded in the registry.
type Sex uint8

const (
	Male Sex = iota + 1
	Female
)

// Relation of a household member to the head of the household.
type Relation uint8

const (
	Head Relation = iota + 1
	Spouse
	Child
	Parent // the head's parent living in the household
	// Cohabitant (동거인) lives in the household without being family.
	// The generator makes none; golden renders put one in.
	Cohabitant
)

// Person is one resident.
type Person struct {
	Subject        string    // opaque, stable id used across minwon ("P" + 10 base32 chars)
	Name           string    // Korean name, e.g. 김민준
	BirthDate      time.Time // UTC midnight
	Sex            Sex
	RRN            string // 13 digits, no hyphen, valid check digit, unique
	Household      int    // index into World.Households
	Relation       Relation
	Address        string         // current road-name address (the household's)
	AddressHistory []AddressEntry // oldest first; the last entry is the current address
	Schools        []SchoolRecord // oldest first
	Tax            TaxRecord
}

// AddressEntry is one registered address and the day the person moved in.
type AddressEntry struct {
	Address string
	MovedIn time.Time
}

// Household is one registry household (세대).
type Household struct {
	ID      string // household number, stable
	Head    int    // index into World.People
	Members []int  // indexes into World.People, head first
	Address string
}

// SchoolKind is the level of a school.
type SchoolKind uint8

const (
	Elementary SchoolKind = iota + 1
	Middle
	High
	University
)

// School is one school known to the education information system.
type School struct {
	Code   string // stable school code
	Name   string // e.g. 서울한빛고등학교
	Kind   SchoolKind
	Region string // 시/도
}

// SchoolRecord is one person's enrolment at one school.
type SchoolRecord struct {
	School        int // index into World.Schools
	StudentNumber string
	Admitted      time.Time
	Graduated     time.Time // zero while still enrolled
}

// Grade is one course result in one term, derived deterministically from the
// world's seed, the person and the school record (so grades cost no memory).
type Grade struct {
	Year    int    // school year, 1-based
	Term    int    // 1 or 2
	Course  string // e.g. 국어
	Score   int    // 0-100
	Rank    int    // 1-9 grade band (고교 석차등급); 0 where not ranked
	Credits int    // 단위수 at a secondary school, 학점 at university
	// Secondary schools only: the course's mean and standard deviation of
	// raw scores, and the pupil's achievement (성취도, A–E).
	Mean, SD    float64
	Achievement string
}

// TaxRecord is a taxpayer's payment history at the national tax service.
type TaxRecord struct {
	Years   []TaxYear // oldest first; empty for people with no taxable income
	Arrears int64     // unpaid tax in won; 0 for most taxpayers
}

// TaxYear is the tax assessed and paid for one year, in won.
type TaxYear struct {
	Year     int
	Assessed int64
	Paid     int64
}

// Corporation is one registered company.
type Corporation struct {
	Subject         string // opaque, stable id ("C" + 10 base32 chars)
	Name            string // e.g. 주식회사 한빛테크
	BusinessNumber  string // 10 digits, valid check digit, unique
	CorporateNumber string // 13 digits, valid check digit, unique
	Representative  int    // index into World.People (an adult)
	Employees       []int  // indexes into World.People authorised to act for it
	Address         string
	Opened          time.Time
	BusinessType    string // 업태, e.g. 제조업
	BusinessItem    string // 종목
	Tax             TaxRecord
}
