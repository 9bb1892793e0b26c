package issuance

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/minwon/minwon/internal/checkcode"
	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/ident"
	"github.com/minwon/minwon/internal/linkage"
)

// Document is an assembled document before rendering: the service's
// template filled with the verified agency records, every value formatted
// for print. data.json carries exactly this.
type Document struct {
	Number         string    `json:"number"`
	Service        string    `json:"service"`
	ServiceVersion int       `json:"service_version"`
	TemplateDigest string    `json:"template_digest"`
	Title          string    `json:"title"`
	TitleKo        string    `json:"title_ko"`
	Subject        string    `json:"subject"`
	IssuedAt       time.Time `json:"issued_at"`
	Verify         string    `json:"verify"`
	Fields         []Field   `json:"fields"`
	// ValidUntil is the last day the document is valid (KST, YYYY-MM-DD),
	// for certificates whose schema sets a validity.
	ValidUntil string `json:"valid_until,omitempty"`
	// Issuer is the issuing authority and Statement its attestation, as
	// printed above the seal.
	Issuer    string `json:"issuer,omitempty"`
	Statement string `json:"statement,omitempty"`
	// CheckCode is printed on the paper only: not in data.json (a copy
	// handed to whoever the citizen chooses, and signed content that
	// verifiers already check) and never in the log.
	CheckCode checkcode.Code `json:"-"`
	// Purpose is the use the requester stated, on certificates that print
	// one (a 납세증명서's 사용 목적).
	Purpose string `json:"purpose,omitempty"`
}

// Field is one printed field.
type Field struct {
	Key     string        `json:"key"`
	Label   string        `json:"label"`
	LabelKo string        `json:"label_ko"`
	Class   linkage.Class `json:"class"`
	Text    string        `json:"text,omitempty"`
	Table   *Table        `json:"table,omitempty"`
}

// Table is a field printed as rows.
type Table struct {
	Columns []string   `json:"columns"`
	Rows    [][]string `json:"rows"`
}

// Options are what the requester ticked (see form.Offers).
type Options struct {
	RRNBack        bool // the subject's own RRN in full
	Relations      bool // each household member's relation to the head
	MemberRRNBack  bool // the household members' RRNs in full
	AddressHistory bool // past addresses
	SchoolLevel    string
	Purpose        string
}

// assemble fills the service template from the records. Every RRN is
// masked unless an option asks for it; fields behind an option not ticked
// are left out.
// An education certificate prints only school's rows (see chooseSchool).
func assemble(svc *form.Service, records map[string]*linkage.Record, subject string, opts Options, school *linkage.SchoolRecord) ([]Field, error) {
	out := make([]Field, 0, len(svc.Fields))
	for _, f := range svc.Fields {
		if f.Option == form.OptionAddressHistory && !opts.AddressHistory {
			continue
		}
		agency, dataset, name := splitSource(f.Source)
		rec, ok := records[agency+"."+dataset]
		if !ok {
			return nil, fmt.Errorf("no %s.%s record for field %q", agency, dataset, f.Key)
		}
		raw, ok := rec.Fields[name]
		if !ok {
			return nil, fmt.Errorf("record %s.%s lacks field %q", agency, dataset, name)
		}
		field := Field{Key: f.Key, Label: f.Label, LabelKo: f.LabelKo, Class: f.Class}
		if err := format(&field, raw, printing{subject: subject, showRRNBack: opts.RRNBack, opts: opts, school: school}); err != nil {
			return nil, fmt.Errorf("field %q: %w", f.Key, err)
		}
		out = append(out, field)
	}
	return out, nil
}

func splitSource(src string) (agency, dataset, field string) {
	a, rest, _ := strings.Cut(src, ".")
	d, f, _ := strings.Cut(rest, ".")
	return a, d, f
}

// format renders one agency value by its class. Unknown shapes are errors:
// a document never prints a value it does not understand.
func format(f *Field, raw json.RawMessage, p printing) error {
	pr, ok := printers[f.Class]
	if !ok {
		return fmt.Errorf("class %q cannot be printed", f.Class)
	}
	return pr(f, raw, p)
}

// printing is what formatting may depend on besides the value itself.
type printing struct {
	subject     string // the document's subject
	showRRNBack bool   // the subject asked to see their own RRN in full
	opts        Options
	school      *linkage.SchoolRecord // an education certificate's school; nil prints every school
}

// A printer formats one agency value into f.Text or f.Table.
type printer func(f *Field, raw json.RawMessage, p printing) error

// printers says, per data class, how a value is decoded, formatted and
// masked. A class without a row cannot be printed: letting documents show
// a new class is adding its row.
var printers = map[linkage.Class]printer{
	linkage.ClassName:           text(verbatim),
	linkage.ClassAddress:        text(verbatim),
	linkage.ClassCompanyName:    text(verbatim),
	linkage.ClassBusinessType:   text(verbatim),
	linkage.ClassBusinessStatus: text(verbatim),
	linkage.ClassIdentifier:     text(verbatim),
	linkage.ClassBirthDate:      text(isoDate),
	linkage.ClassDate:           text(isoDate),
	linkage.ClassSex: text(func(s string, _ printing) (string, error) {
		return map[string]string{"M": "남 (M)", "F": "여 (F)"}[s], nil
	}),
	linkage.ClassRelation:        text(func(s string, _ printing) (string, error) { return relationKo(s), nil }),
	linkage.ClassRRN:             text(func(s string, p printing) (string, error) { return printRRN(s, p.showRRNBack) }),
	linkage.ClassBusinessNumber:  text(identifier(ident.ParseBusinessNumber, ident.FormatBusinessNumber)),
	linkage.ClassCorporateNumber: text(identifier(ident.ParseCorporateNumber, ident.FormatCorporateNumber)),
	linkage.ClassTaxStatus:       scalar(arrears),
	linkage.ClassHousehold:       household,
	linkage.ClassAddressHistory: table([]string{"주소", "전입일", "변동사유"}, func(r linkage.AddressEntry, _ printing) ([]string, error) {
		return []string{r.Address, r.MovedIn, r.Change}, nil
	}),
	linkage.ClassSchoolRecord: schoolRecords,
	linkage.ClassGrade:        grades,
	linkage.ClassTaxPayments: table([]string{"귀속연도", "결정세액", "납부세액"}, func(r linkage.TaxYear, _ printing) ([]string, error) {
		return []string{strconv.Itoa(r.Year), won(r.Assessed), won(r.Paid)}, nil
	}),
}

// scalar prints a single value of type T as text.
func scalar[T any](show func(v T, p printing) (string, error)) printer {
	return func(f *Field, raw json.RawMessage, p printing) error {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		var err error
		f.Text, err = show(v, p)
		return err
	}
}

// text prints a string value.
func text(show func(s string, p printing) (string, error)) printer { return scalar(show) }

// table prints a list of T as a table, one row per element.
func table[T any](columns []string, row func(r T, p printing) ([]string, error)) printer {
	return func(f *Field, raw json.RawMessage, p printing) error {
		var rows []T
		if err := json.Unmarshal(raw, &rows); err != nil {
			return err
		}
		t := &Table{Columns: columns}
		for _, r := range rows {
			cells, err := row(r, p)
			if err != nil {
				return err
			}
			t.Rows = append(t.Rows, cells)
		}
		f.Table = t
		return nil
	}
}

func verbatim(s string, _ printing) (string, error) { return s, nil }

func isoDate(s string, _ printing) (string, error) {
	_, err := time.Parse("2006-01-02", s)
	return s, err
}

// identifier checks an identifier's check digit and prints it grouped.
func identifier(parse func(string) (string, error), format func(string) string) func(string, printing) (string, error) {
	return func(s string, _ printing) (string, error) {
		d, err := parse(s)
		if err != nil {
			return "", err
		}
		return format(d), nil
	}
}

func arrears(n int64, _ printing) (string, error) {
	if n == 0 {
		return "체납액 없음 (no arrears)", nil
	}
	return won(n) + " 체납 (in arrears)", nil
}

// household prints the members' table: the relation column only when
// asked for, and each RRN masked unless its back digits were asked for
// (one's own, or the members').
func household(f *Field, raw json.RawMessage, p printing) error {
	var members []linkage.HouseholdMember
	if err := json.Unmarshal(raw, &members); err != nil {
		return err
	}
	t := &Table{Columns: []string{"성명", "생년월일", "주민등록번호", "전입일", "변동사유"}}
	if p.opts.Relations {
		t.Columns = append([]string{"세대주와의 관계"}, t.Columns...)
	}
	for _, r := range members {
		rrn, err := printRRN(r.RRN, p.opts.MemberRRNBack || p.opts.RRNBack && r.Subject == p.subject)
		if err != nil {
			return err
		}
		row := []string{r.Name, r.BirthDate, rrn, r.MovedIn, r.Change}
		if p.opts.Relations {
			row = append([]string{relationKo(r.Relation)}, row...)
		}
		t.Rows = append(t.Rows, row)
	}
	f.Table = t
	return nil
}

// printRRN masks the back six digits unless show is set.
func printRRN(s string, show bool) (string, error) {
	d, err := ident.ParseRRN(s)
	if err != nil {
		return "", fmt.Errorf("agency sent a malformed RRN: %w", err)
	}
	if show {
		return ident.FormatRRN(d), nil
	}
	return ident.MaskRRN(d), nil
}

func relationKo(r string) string {
	switch r {
	case "head":
		return "세대주"
	case "spouse":
		return "배우자"
	case "child":
		return "자녀"
	case "parent":
		return "부모"
	case "cohabitant":
		return "동거인"
	}
	return "기타"
}

func schoolKindKo(k string) string {
	switch k {
	case "elementary":
		return "초등학교"
	case "middle":
		return "중학교"
	case "high":
		return "고등학교"
	case "university":
		return "대학교"
	}
	return k
}

// won formats an amount as 1,234,000원.
func won(n int64) string {
	return GroupDigits(strconv.FormatInt(n, 10)) + "원"
}

// GroupDigits writes an integer with thousands separators (1,234,000);
// anything else is returned as it is.
func GroupDigits(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
