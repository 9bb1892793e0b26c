// Package form owns minwon's service catalog: every service is data — a
// schema (schemas/: for each slot the agency field and data class it must
// carry, the classes and requesters the service allows, the law behind a
// printed RRN) and a template (services/: title, labels, which slots it
// shows and in what order). Adding a certificate is adding both files.
//
// Both are checked against the agencies' schema when they load, and a
// template against its service's schema (Bind): a template that puts a
// representative's RRN in the business-number slot, or allows a class its
// schema does not, never serves. Versions, approvals and canaries are
// package governance's. Package form never holds personal data.
package form

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/minwon/minwon/internal/linkage"
)

// Kind is what a service does for the citizen.
type Kind string

const (
	Certificate Kind = "certificate" // issues a document
	Application Kind = "application" // asks for a benefit; completes later
	Report      Kind = "report"      // changes an agency's records
	Lookup      Kind = "lookup"      // shows data without issuing a document
)

// Requester is a relation that entitles someone to request a service for a
// subject.
type Requester string

const (
	Self                    Requester = "self"
	HouseholdMember         Requester = "household_member"
	ParentOfMinor           Requester = "parent_of_minor"
	CorporateRepresentative Requester = "corporate_representative"
	CorporateEmployee       Requester = "corporate_employee"
	CounterOfficial         Requester = "counter_official"
)

// SubjectKind says whether a service's subject is a person or a corporation.
type SubjectKind string

const (
	PersonSubject      SubjectKind = "person"
	CorporationSubject SubjectKind = "corporation"
)

// Field is one printed field: where its value comes from and its class.
type Field struct {
	Key     string        `json:"key"`
	Label   string        `json:"label"`
	LabelKo string        `json:"label_ko"`
	Source  string        `json:"source"` // agency.dataset.field
	Class   linkage.Class `json:"class"`
	// Option, if set, prints the field only when the requester ticks that
	// option (OptionAddressHistory): since 2020 a 초본's past addresses
	// are shown only on request.
	Option string `json:"option,omitempty"`
}

// The options a requester may tick on a resident registration document.
// Since 2020 only basic items are shown unless asked for.
const (
	OptionRRNBack        = "show_rrn_back"        // one's own RRN back digits
	OptionRelations      = "show_relations"       // each member's relation to the household head
	OptionMemberRRNBack  = "show_member_rrn_back" // the household members' RRN back digits
	OptionAddressHistory = "show_address_history" // past addresses with their dates and reasons
)

// Offers lists the options a request for this service may tick; forSelf
// is whether the requester is the subject (or stands at a counter for
// themselves), for whom alone the RRN options are offered.
func (s *Service) Offers(forSelf bool) []string {
	var out []string
	if s.OffersRRNBack(forSelf) {
		out = append(out, OptionRRNBack)
	}
	household, history := false, false
	for _, f := range s.Fields {
		household = household || f.Class == linkage.ClassHousehold
		history = history || f.Option == OptionAddressHistory
	}
	if household {
		out = append(out, OptionRelations)
		if forSelf {
			out = append(out, OptionMemberRRNBack)
		}
	}
	if history {
		out = append(out, OptionAddressHistory)
	}
	return out
}

// Input is one field the citizen fills in for an application or report.
type Input struct {
	Key      string `json:"key"`
	Label    string `json:"label"`
	LabelKo  string `json:"label_ko"`
	Type     string `json:"type"` // text, digits or date
	Required bool   `json:"required"`
	MaxLen   int    `json:"max_len,omitempty"`
}

// Service is one entry of the catalog.
type Service struct {
	ID             string          `json:"id"`
	Version        int             `json:"version"`
	Kind           Kind            `json:"kind"`
	Title          string          `json:"title"`
	TitleKo        string          `json:"title_ko"`
	Agency         string          `json:"agency"`
	SubjectKind    SubjectKind     `json:"subject_kind"`
	Requesters     []Requester     `json:"requesters"`
	AllowedClasses []linkage.Class `json:"allowed_classes"`
	Fields         []Field         `json:"fields"`
	Payload        []Input         `json:"payload,omitempty"`

	// How a certificate closes, as the paper form does: the attestation
	// (위와 같이 증명합니다) and the issuing authority that seals it. At the
	// counter, IssuerAtCounter "office" names the head of the official's
	// office instead (서울특별시 관악구 행운동장), as the resident registry's
	// forms do; "" keeps IssuerKo everywhere (a 납세증명서 is the tax
	// office's wherever it is handed over).
	IssuerKo        string `json:"issuer_ko,omitempty"`
	Issuer          string `json:"issuer,omitempty"`
	StatementKo     string `json:"statement_ko,omitempty"`
	Statement       string `json:"statement,omitempty"`
	IssuerAtCounter string `json:"issuer_at_counter,omitempty"`

	// PerSchool makes an education certificate one school's, issued by
	// its head, as the real forms are: "graduated" certifies graduation
	// from one school the subject graduated from, "graded" one school's
	// grades in that school level's structure. The requester picks the
	// school level (ChoiceSchoolLevel); by default the latest school that
	// qualifies.
	PerSchool string `json:"per_school,omitempty"`
	// StatesPurpose prints the purpose the requester states (ChoicePurpose),
	// as a 납세증명서 does.
	StatesPurpose bool `json:"states_purpose,omitempty"`

	// Digest is the SHA-256 of the template file: the identity of the
	// approved version that pre-issuance verification compares against.
	Digest string `json:"-"`
}

// Need is what a service asks one agency dataset for.
type Need struct {
	Agency  string
	Dataset string
	Fields  []string
}

// Needs groups the service's fields by agency dataset, in template order:
// exactly the fields linkage will ask for and nothing more.
func (s *Service) Needs() []Need {
	var out []Need
	for _, f := range s.Fields {
		agency, dataset, field, _ := splitSource(f.Source)
		i := slices.IndexFunc(out, func(n Need) bool { return n.Agency == agency && n.Dataset == dataset })
		if i < 0 {
			out = append(out, Need{Agency: agency, Dataset: dataset})
			i = len(out) - 1
		}
		if !slices.Contains(out[i].Fields, field) {
			out[i].Fields = append(out[i].Fields, field)
		}
	}
	return out
}

// Allows reports whether the service may be requested by that relation.
func (s *Service) Allows(r Requester) bool { return slices.Contains(s.Requesters, r) }

// AllowsClass reports whether the service may print data of class c.
func (s *Service) AllowsClass(c linkage.Class) bool { return slices.Contains(s.AllowedClasses, c) }

// OffersRRNBack reports whether a request for this service may ask to show
// the back digits of the resident registration number: only for one's own
// document, and only on documents that carry an RRN.
func (s *Service) OffersRRNBack(forSelf bool) bool {
	return forSelf && s.AllowsClass(linkage.ClassRRN)
}

// Catalog is the set of loaded, checked services, each bound to its
// schema.
type Catalog struct {
	byID    map[string]*Service
	list    []*Service // sorted by kind then id
	schemas map[string]*Schema
}

//go:embed services/*.json
var builtin embed.FS

// Builtin loads the services shipped with minwon, each checked against its
// shipped schema.
func Builtin(agencies *linkage.Schema) (*Catalog, error) {
	return Load(builtin, "services", agencies)
}

// Load reads every *.json under dir of fsys and checks each service against
// the agencies' schema and its own shipped schema. One bad file fails the
// whole load: a catalog is approved as a whole.
func Load(fsys fs.FS, dir string, agencies *linkage.Schema) (*Catalog, error) {
	schemas, err := BuiltinSchemas(agencies)
	if err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("form: read %s: %w", dir, err)
	}
	var services []*Service
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		data, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("form: %w", err)
		}
		s, err := Parse(data, agencies)
		if err != nil {
			return nil, fmt.Errorf("form: %s: %w", e.Name(), err)
		}
		services = append(services, s)
	}
	if len(services) == 0 {
		return nil, fmt.Errorf("form: no services under %s", dir)
	}
	return NewCatalog(services, schemas)
}

// NewCatalog makes a catalog of services, each of which must keep to its
// schema in schemas.
func NewCatalog(services []*Service, schemas map[string]*Schema) (*Catalog, error) {
	c := &Catalog{byID: map[string]*Service{}, schemas: schemas}
	for _, s := range services {
		if _, dup := c.byID[s.ID]; dup {
			return nil, fmt.Errorf("form: service %q defined twice", s.ID)
		}
		c.byID[s.ID] = s
		c.list = append(c.list, s)
	}
	for _, s := range services {
		if err := Bind(s, schemas[s.ID]); err != nil {
			return nil, fmt.Errorf("form: %w", err)
		}
	}
	order := map[Kind]int{Certificate: 0, Application: 1, Report: 2, Lookup: 3}
	sort.Slice(c.list, func(i, j int) bool {
		a, b := c.list[i], c.list[j]
		if order[a.Kind] != order[b.Kind] {
			return order[a.Kind] < order[b.Kind]
		}
		return a.ID < b.ID
	})
	return c, nil
}

// Schema returns the schema of service id, or nil.
func (c *Catalog) Schema(id string) *Schema { return c.schemas[id] }

// Service returns the service with that id, or nil.
func (c *Catalog) Service(id string) *Service { return c.byID[id] }

// Services lists the catalog, certificates first.
func (c *Catalog) Services() []*Service { return c.list }

// Degraded lists, in catalog order, the services that need an agency for
// which down reports true.
func (c *Catalog) Degraded(down func(agency string) bool) []*Service {
	var out []*Service
	for _, svc := range c.list {
		for _, n := range svc.Needs() {
			if down(n.Agency) {
				out = append(out, svc)
				break
			}
		}
	}
	return out
}

var idPattern = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

// ErrInvalid marks a template that fails the load-time checks.
var ErrInvalid = errors.New("invalid service template")

// Parse decodes one service template and checks it against schema.
func Parse(data []byte, schema *linkage.Schema) (*Service, error) {
	var s Service
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data", ErrInvalid)
	}
	if err := s.check(schema); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, s.ID, err)
	}
	sum := sha256.Sum256(data)
	s.Digest = hex.EncodeToString(sum[:])
	return &s, nil
}

func (s *Service) check(schema *linkage.Schema) error {
	if !idPattern.MatchString(s.ID) {
		return fmt.Errorf("id %q must be lower-case words joined by hyphens", s.ID)
	}
	if s.Version < 1 {
		return errors.New("version must be 1 or more")
	}
	switch s.Kind {
	case Certificate, Application, Report, Lookup:
	default:
		return fmt.Errorf("unknown kind %q", s.Kind)
	}
	if s.Title == "" || s.TitleKo == "" {
		return errors.New("title and title_ko are required")
	}
	if !slices.Contains(schema.Agencies(), s.Agency) {
		return fmt.Errorf("unknown agency %q", s.Agency)
	}
	if len(s.Requesters) == 0 {
		return errors.New("no requesters: nobody could request it")
	}
	for _, r := range s.Requesters {
		if err := checkRequester(r, s.SubjectKind); err != nil {
			return err
		}
	}
	if len(s.Fields) == 0 {
		return errors.New("no fields")
	}
	keys := map[string]bool{}
	for _, f := range s.Fields {
		if f.Key == "" || f.Label == "" || f.LabelKo == "" {
			return fmt.Errorf("field %q needs key, label and label_ko", f.Key)
		}
		if keys[f.Key] {
			return fmt.Errorf("field key %q used twice", f.Key)
		}
		keys[f.Key] = true
		if f.Option != "" && f.Option != OptionAddressHistory {
			return fmt.Errorf("field %q: option %q: only %s hides a field", f.Key, f.Option, OptionAddressHistory)
		}
		agency, dataset, name, ok := splitSource(f.Source)
		if !ok {
			return fmt.Errorf("field %q: source %q must be agency.dataset.field", f.Key, f.Source)
		}
		ds := schema.Dataset(agency, dataset)
		if ds == nil {
			return fmt.Errorf("field %q: no dataset %s.%s", f.Key, agency, dataset)
		}
		sf, ok := ds.Field(name)
		if !ok {
			return fmt.Errorf("field %q: dataset %s.%s has no field %q", f.Key, agency, dataset, name)
		}
		if sf.Class != f.Class {
			return fmt.Errorf("field %q: declared class %q but %s is of class %q", f.Key, f.Class, f.Source, sf.Class)
		}
		if !s.AllowsClass(f.Class) {
			return fmt.Errorf("field %q: class %q is not allowed for this service", f.Key, f.Class)
		}
		if wantCorp := s.SubjectKind == CorporationSubject; wantCorp != (dataset == "corporation") {
			return fmt.Errorf("field %q: %s records do not belong to a %s subject", f.Key, f.Source, s.SubjectKind)
		}
	}
	for _, in := range s.Payload {
		if in.Key == "" || in.Label == "" || in.LabelKo == "" {
			return fmt.Errorf("payload field %q needs key, label and label_ko", in.Key)
		}
		switch in.Type {
		case "text", "digits", "date":
		default:
			return fmt.Errorf("payload field %q: unknown type %q", in.Key, in.Type)
		}
	}
	if s.Kind == Certificate && (s.IssuerKo == "" || s.Issuer == "" || s.StatementKo == "" || s.Statement == "") {
		return errors.New("a certificate names its issuer and attestation: issuer_ko, issuer, statement_ko and statement")
	}
	if s.IssuerAtCounter != "" && s.IssuerAtCounter != "office" {
		return fmt.Errorf("issuer_at_counter is \"office\" or empty, not %q", s.IssuerAtCounter)
	}
	switch s.PerSchool {
	case "", PerSchoolGraduated, PerSchoolGraded:
	default:
		return fmt.Errorf("per_school is %q, %q or empty, not %q", PerSchoolGraduated, PerSchoolGraded, s.PerSchool)
	}
	if s.PerSchool != "" && s.Agency != "education" {
		return fmt.Errorf("per_school applies to education certificates, not to a %s one", s.Agency)
	}
	if (s.PerSchool != "" || s.StatesPurpose) && s.Kind != Certificate {
		return fmt.Errorf("per_school and states_purpose apply to certificates, not to a %s", s.Kind)
	}
	if len(s.Payload) > 0 && s.Kind != Application && s.Kind != Report {
		return fmt.Errorf("a %s takes no payload", s.Kind)
	}
	return nil
}

func checkRequester(r Requester, kind SubjectKind) error {
	switch kind {
	case PersonSubject:
		switch r {
		case Self, HouseholdMember, ParentOfMinor, CounterOfficial:
			return nil
		}
	case CorporationSubject:
		switch r {
		case CorporateRepresentative, CorporateEmployee, CounterOfficial:
			return nil
		}
	default:
		return fmt.Errorf("subject_kind must be person or corporation, not %q", kind)
	}
	return fmt.Errorf("requester %q does not apply to a %s subject", r, kind)
}

func splitSource(src string) (agency, dataset, field string, ok bool) {
	parts := strings.Split(src, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

// Purposes that are not services: the access checks read relations from the
// agencies to decide who may act for whom, and declare the fields they read
// here like a template does, so an agency can hold them to that list.
const (
	PurposeRelations    = "access:relations"    // household and parent-child relations
	PurposeCorporations = "access:corporations" // corporate roles and the company's name
)

var accessNeeds = map[string][]Need{
	PurposeRelations:    {{Agency: linkage.Registry, Dataset: "person", Fields: []string{"name", "relation", "members"}}},
	PurposeCorporations: {{Agency: linkage.Tax, Dataset: "taxpayer", Fields: []string{"corporations"}}, {Agency: linkage.Tax, Dataset: "corporation", Fields: []string{"company_name"}}},
}

// PurposeNeeds returns what a linkage purpose may ask the agencies for: a
// service id's template fields, or an access purpose's fixed list. ok is
// false for a purpose the catalog does not know.
func (c *Catalog) PurposeNeeds(purpose string) (needs []Need, ok bool) {
	if n, ok := accessNeeds[purpose]; ok {
		return n, true
	}
	// A service's purpose covers every slot of its schema, so that any
	// template version that keeps to the schema asks for nothing more.
	if sch := c.schemas[purpose]; sch != nil {
		return sch.asService().Needs(), true
	}
	if s := c.byID[purpose]; s != nil {
		return s.Needs(), true
	}
	return nil, false
}
