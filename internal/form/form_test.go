package form

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/minwon/minwon/internal/linkage"
)

func TestBuiltinCatalog(t *testing.T) {
	c, err := Builtin(linkage.DefaultSchema())
	if err != nil {
		t.Fatalf("Builtin: %v", err)
	}
	for _, id := range []string{
		"resident-registration-copy", "resident-registration-abstract", "graduation-certificate",
		"grade-certificate", "tax-payment-certificate", "corporate-tax-payment-certificate",
		"business-registration-certificate",
	} {
		s := c.Service(id)
		if s == nil || s.Kind != Certificate {
			t.Errorf("certificate %s missing", id)
		}
	}
	kinds := map[Kind]int{}
	for _, s := range c.Services() {
		kinds[s.Kind]++
		if len(s.Digest) != 64 {
			t.Errorf("%s: digest %q", s.ID, s.Digest)
		}
	}
	for _, k := range []Kind{Application, Report, Lookup} {
		if kinds[k] == 0 {
			t.Errorf("no %s service", k)
		}
	}
	// Incident 2: the corporate tax certificate must never carry a person's RRN.
	corp := c.Service("corporate-tax-payment-certificate")
	if corp.AllowsClass(linkage.ClassRRN) {
		t.Fatal("corporate tax certificate allows RRNs")
	}
	for _, f := range corp.Fields {
		if f.Class == linkage.ClassRRN {
			t.Fatalf("corporate tax certificate prints an RRN field %q", f.Key)
		}
	}
}

func TestNeedsAsksOnlyTemplateFields(t *testing.T) {
	c, err := Builtin(linkage.DefaultSchema())
	if err != nil {
		t.Fatal(err)
	}
	needs := c.Service("grade-certificate").Needs()
	want := Need{Agency: "education", Dataset: "student", Fields: []string{"name", "birth_date", "school_records", "grades"}}
	if len(needs) != 1 || needs[0].Agency != want.Agency || needs[0].Dataset != want.Dataset || !slices.Equal(needs[0].Fields, want.Fields) {
		t.Fatalf("Needs = %+v, want [%+v]", needs, want)
	}
}

const validTemplate = `{
  "id": "corporate-tax-payment-certificate",
  "version": 2,
  "kind": "certificate",
  "title": "Corporate Tax Payment Certificate",
  "title_ko": "납세증명서 (법인)",
  "agency": "tax",
  "subject_kind": "corporation",
  "requesters": ["corporate_representative"],
  "allowed_classes": ["company_name", "business_number"],
  "fields": [
    {"key": "company_name", "label": "Company", "label_ko": "법인명", "source": "tax.corporation.company_name", "class": "company_name"},
    {"key": "business_number", "label": "BRN", "label_ko": "사업자등록번호", "source": "tax.corporation.business_number", "class": "business_number"}
  ],
  "issuer_ko": "국세청장", "issuer": "Commissioner of the National Tax Service",
  "statement_ko": "위와 같이 증명합니다.", "statement": "Certified as above."
}`

func TestParseRefusesBadTemplates(t *testing.T) {
	schema := linkage.DefaultSchema()
	if _, err := Parse([]byte(validTemplate), schema); err != nil {
		t.Fatalf("valid template refused: %v", err)
	}
	tests := []struct {
		name, old, new, wantMsg string
	}{
		// The 2024 template change: representative data under company labels.
		{"rrn labelled as business number", `"source": "tax.corporation.business_number"`, `"source": "tax.corporation.representative_rrn"`, `of class "rrn"`},
		{"representative name labelled as company name", `"source": "tax.corporation.company_name"`, `"source": "tax.corporation.representative_name"`, `of class "name"`},
		{"rrn honestly declared but not allowed", `{"key": "business_number", "label": "BRN", "label_ko": "사업자등록번호", "source": "tax.corporation.business_number", "class": "business_number"}`, `{"key": "rrn", "label": "RRN", "label_ko": "주민번호", "source": "tax.corporation.representative_rrn", "class": "rrn"}`, `class "rrn" is not allowed`},
		{"unknown source field", `tax.corporation.company_name"`, `tax.corporation.ceo_phone"`, "has no field"},
		{"unknown dataset", `tax.corporation.company_name"`, `tax.vehicles.company_name"`, "no dataset"},
		{"malformed source", `tax.corporation.company_name"`, `company_name"`, "agency.dataset.field"},
		{"person record on corporate subject", `"source": "tax.corporation.company_name", "class": "company_name"`, `"source": "tax.taxpayer.name", "class": "name"`, "not allowed"},
		{"duplicate key", `"key": "business_number"`, `"key": "company_name"`, "used twice"},
		{"unknown kind", `"kind": "certificate"`, `"kind": "permit"`, "unknown kind"},
		{"person requester on corporation", `["corporate_representative"]`, `["self"]`, "does not apply"},
		{"no requesters", `["corporate_representative"]`, `[]`, "no requesters"},
		{"bad id", `"id": "corporate-tax-payment-certificate"`, `"id": "Corporate Tax"`, "lower-case"},
		{"unknown member", `"version": 2,`, `"version": 2, "approved_by": "me",`, "unknown field"},
		{"unknown agency", `"agency": "tax"`, `"agency": "police"`, "unknown agency"},
		{"payload on certificate", `"fields": [`, `"payload": [{"key":"x","label":"x","label_ko":"x","type":"text"}], "fields": [`, "takes no payload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(validTemplate, tt.old, tt.new, 1)
			if src == validTemplate {
				t.Fatalf("mutation %q did not apply", tt.old)
			}
			_, err := Parse([]byte(src), schema)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("err = %v, want ErrInvalid mentioning %q", err, tt.wantMsg)
			}
		})
	}
}

func TestLoadRefusesDuplicatesAndEmpty(t *testing.T) {
	schema := linkage.DefaultSchema()
	dup := fstest.MapFS{
		"s/a.json": {Data: []byte(validTemplate)},
		"s/b.json": {Data: []byte(validTemplate)},
	}
	if _, err := Load(dup, "s", schema); err == nil || !strings.Contains(err.Error(), "defined twice") {
		t.Fatalf("duplicate ids: err = %v", err)
	}
	if _, err := Load(fstest.MapFS{"s/readme.txt": {Data: []byte("x")}}, "s", schema); err == nil {
		t.Fatal("empty catalog loaded")
	}
}

func FuzzParse(f *testing.F) {
	schema := linkage.DefaultSchema()
	f.Add([]byte(validTemplate))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"fields":[{"source":"a.b"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data, schema)
		if err != nil {
			return
		}
		// Whatever loads must satisfy the invariants pre-issuance relies on.
		for _, f := range s.Fields {
			if !s.AllowsClass(f.Class) {
				t.Fatalf("accepted field %q of disallowed class %q", f.Key, f.Class)
			}
			a, d, n, ok := splitSource(f.Source)
			if !ok {
				t.Fatalf("accepted source %q", f.Source)
			}
			sf, ok := schema.Dataset(a, d).Field(n)
			if !ok || sf.Class != f.Class {
				t.Fatalf("accepted field %q whose class differs from the schema", f.Key)
			}
		}
	})
}
