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
	"reflect"
	"slices"
	"strings"

	"github.com/minwon/minwon/internal/linkage"
)

// A Schema is what a service may print, owned apart from its template: for
// every slot the agency field it takes and the data class it must carry,
// the classes the service may show at all, who may request it, and the
// legal basis for printing an RRN where one is printed. A template decides
// layout and labels and which slots it shows; it cannot rebind a slot. A
// schema changes rarely, and only with a privacy officer's approval (see
// package governance).
type Schema struct {
	ID             string          `json:"id"`
	Version        int             `json:"version"`
	Kind           Kind            `json:"kind"`
	Agency         string          `json:"agency"`
	SubjectKind    SubjectKind     `json:"subject_kind"`
	Requesters     []Requester     `json:"requesters"`
	AllowedClasses []linkage.Class `json:"allowed_classes"`
	// RRNLegalBasis names the law that requires a resident registration
	// number on this document. Without one no slot may carry an RRN.
	RRNLegalBasis string  `json:"rrn_legal_basis,omitempty"`
	Slots         []Slot  `json:"slots"`
	Payload       []Input `json:"payload,omitempty"`
	// NotIssuedWhen lists when the certificate is not issued at all: the
	// law forbids it (a 납세증명서 while arrears exist) or it would certify
	// nothing (a graduation certificate for someone with no school record).
	NotIssuedWhen []Condition `json:"not_issued_when,omitempty"`
	// ValidDays, if set, is how many days the document is valid after
	// issue (30 for a 납세증명서); it is printed on the document.
	ValidDays int `json:"valid_days,omitempty"`

	Digest string `json:"-"` // SHA-256 of the schema file
}

// Slot is one place a template may print: the agency field it takes and
// the class that field must be.
type Slot struct {
	Key    string        `json:"key"`
	Source string        `json:"source"` // agency.dataset.field
	Class  linkage.Class `json:"class"`
}

// Condition is one case in which a certificate is not issued: the slot's
// agency value Is "empty" (absent, null, an empty list or text) or
// "nonzero" (a number other than 0).
type Condition struct {
	Slot    string `json:"slot"`
	Is      string `json:"is"`
	Reason  string `json:"reason"`  // one of the Reason constants
	Message string `json:"message"` // why, and what the citizen can do, in English
}

// Reasons a certificate is not issued. The pages say each in Korean and
// English.
const (
	ReasonTaxArrears       = "tax_arrears"
	ReasonNothingToCertify = "nothing_to_certify"
	// For certificates issued per school (Service.PerSchool).
	ReasonNotGraduated    = "not_graduated"      // enrolled, not graduated, at the school asked for
	ReasonNoSchoolAtLevel = "no_school_at_level" // no school of the level asked for
)

// Slot returns the slot with that key.
func (s *Schema) Slot(key string) (Slot, bool) {
	i := slices.IndexFunc(s.Slots, func(sl Slot) bool { return sl.Key == key })
	if i < 0 {
		return Slot{}, false
	}
	return s.Slots[i], true
}

// personIdentifiers are the classes that identify a person; a document
// about a corporation never carries them.
var personIdentifiers = []linkage.Class{linkage.ClassRRN, linkage.ClassBirthDate, linkage.ClassSex, linkage.ClassSubject}

//go:embed schemas/*.json
var builtinSchemas embed.FS

// ParseSchema decodes one schema and checks it against the agencies'
// linkage schema.
func ParseSchema(data []byte, agencies *linkage.Schema) (*Schema, error) {
	var s Schema
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data", ErrInvalid)
	}
	if err := s.check(agencies); err != nil {
		return nil, fmt.Errorf("%w: schema %s: %v", ErrInvalid, s.ID, err)
	}
	sum := sha256.Sum256(data)
	s.Digest = hex.EncodeToString(sum[:])
	return &s, nil
}

func (s *Schema) check(agencies *linkage.Schema) error {
	// A schema is checked as a template made of all its slots would be:
	// the same rules for sources, classes and requesters.
	if len(s.Slots) == 0 {
		return errors.New("no slots")
	}
	for _, c := range s.AllowedClasses {
		if s.SubjectKind == CorporationSubject && slices.Contains(personIdentifiers, c) {
			return fmt.Errorf("class %q identifies a person; a document about a corporation never carries it", c)
		}
		if c == linkage.ClassRRN && strings.TrimSpace(s.RRNLegalBasis) == "" {
			return errors.New("class rrn needs rrn_legal_basis: the law that requires the number on this document")
		}
	}
	if err := s.asService().check(agencies); err != nil {
		return err
	}
	for _, c := range s.NotIssuedWhen {
		if _, ok := s.Slot(c.Slot); !ok {
			return fmt.Errorf("not_issued_when: no slot %q", c.Slot)
		}
		if c.Is != "empty" && c.Is != "nonzero" {
			return fmt.Errorf("not_issued_when %s: is must be empty or nonzero, not %q", c.Slot, c.Is)
		}
		if c.Reason != ReasonTaxArrears && c.Reason != ReasonNothingToCertify {
			return fmt.Errorf("not_issued_when %s: unknown reason %q", c.Slot, c.Reason)
		}
		if strings.TrimSpace(c.Message) == "" {
			return fmt.Errorf("not_issued_when %s: a message telling the citizen why and what to do is required", c.Slot)
		}
	}
	if s.ValidDays < 0 {
		return errors.New("valid_days must not be negative")
	}
	return nil
}

// asService is the schema seen as a template showing every slot.
func (s *Schema) asService() *Service {
	svc := &Service{
		ID: s.ID, Version: s.Version, Kind: s.Kind, Title: s.ID, TitleKo: s.ID, Agency: s.Agency,
		SubjectKind: s.SubjectKind, Requesters: s.Requesters, AllowedClasses: s.AllowedClasses, Payload: s.Payload,
		// Layout a schema does not have, so that the template checks pass.
		IssuerKo: s.ID, Issuer: s.ID, StatementKo: s.ID, Statement: s.ID,
	}
	for _, sl := range s.Slots {
		svc.Fields = append(svc.Fields, Field{Key: sl.Key, Label: sl.Key, LabelKo: sl.Key, Source: sl.Source, Class: sl.Class})
	}
	return svc
}

// ErrBinding marks a template that does not keep to its schema.
var ErrBinding = errors.New("the template does not keep to its schema")

// BindingError lists every way a template departs from its schema, each
// naming the slot and the class.
type BindingError struct {
	Service  string
	Problems []string
}

func (e *BindingError) Error() string {
	return fmt.Sprintf("%s template: %s", e.Service, strings.Join(e.Problems, "; "))
}

func (e *BindingError) Unwrap() error { return ErrBinding }

// Bind checks a template against its service's schema: it may relabel,
// reorder and leave out slots, and nothing else. The error, a
// *BindingError, names each slot and class at fault.
func Bind(svc *Service, sch *Schema) error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if sch == nil {
		return &BindingError{Service: svc.ID, Problems: []string{"no schema for service " + svc.ID}}
	}
	if svc.ID != sch.ID {
		add("template for %q checked against the schema of %q", svc.ID, sch.ID)
	}
	if svc.Kind != sch.Kind || svc.Agency != sch.Agency || svc.SubjectKind != sch.SubjectKind {
		add("kind, agency and subject_kind are owned by the schema (%s, %s, %s)", sch.Kind, sch.Agency, sch.SubjectKind)
	}
	if !sameSet(svc.Requesters, sch.Requesters) {
		add("requesters are owned by the schema: %v", sch.Requesters)
	}
	if !reflect.DeepEqual(svc.Payload, sch.Payload) {
		add("the payload fields are owned by the schema")
	}
	for _, c := range svc.AllowedClasses {
		if !slices.Contains(sch.AllowedClasses, c) {
			add("class %s: the template allows it but the %s schema does not; what a slot may hold is decided by the schema, changed only with a privacy officer's approval", c, sch.ID)
		}
	}
	for _, f := range svc.Fields {
		sl, ok := sch.Slot(f.Key)
		if !ok {
			add("field %s (%s) is not a slot of the %s schema", f.Key, f.LabelKo, sch.ID)
			continue
		}
		if f.Source != sl.Source || f.Class != sl.Class {
			add("slot %s (%s) must carry class %s from %s; the template binds it to %s of class %s", f.Key, f.LabelKo, sl.Class, sl.Source, f.Source, f.Class)
		}
	}
	if len(problems) > 0 {
		return &BindingError{Service: svc.ID, Problems: problems}
	}
	return nil
}

func sameSet[T comparable](a, b []T) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			return false
		}
	}
	return true
}

// loadSchemas reads every schema under dir.
func loadSchemas(fsys fs.FS, dir string, agencies *linkage.Schema) (map[string]*Schema, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("form: read %s: %w", dir, err)
	}
	out := map[string]*Schema{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		data, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("form: %w", err)
		}
		s, err := ParseSchema(data, agencies)
		if err != nil {
			return nil, fmt.Errorf("form: %s: %w", e.Name(), err)
		}
		if _, dup := out[s.ID]; dup {
			return nil, fmt.Errorf("form: %s: schema %q defined twice", e.Name(), s.ID)
		}
		out[s.ID] = s
	}
	return out, nil
}

// BuiltinSchemas loads the schemas shipped with minwon.
func BuiltinSchemas(agencies *linkage.Schema) (map[string]*Schema, error) {
	return loadSchemas(builtinSchemas, "schemas", agencies)
}

// BuiltinFiles returns the shipped template and schema files by service id:
// what governance seeds as version 1.
func BuiltinFiles() (templates, schemas map[string][]byte, err error) {
	read := func(fsys fs.FS, dir string) (map[string][]byte, error) {
		out := map[string][]byte{}
		entries, err := fs.ReadDir(fsys, dir)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".json") {
				continue
			}
			b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
			if err != nil {
				return nil, err
			}
			out[strings.TrimSuffix(e.Name(), ".json")] = b
		}
		return out, nil
	}
	if templates, err = read(builtin, "services"); err != nil {
		return nil, nil, err
	}
	if schemas, err = read(builtinSchemas, "schemas"); err != nil {
		return nil, nil, err
	}
	return templates, schemas, nil
}
