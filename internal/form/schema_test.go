package form_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/formtest"
	"github.com/minwon/minwon/internal/linkage"
)

func TestBindRefuses2024Replay(t *testing.T) {
	agencies := linkage.DefaultSchema()
	templates, _, err := form.BuiltinFiles()
	if err != nil {
		t.Fatal(err)
	}
	schemas, err := form.BuiltinSchemas(agencies)
	if err != nil {
		t.Fatal(err)
	}
	const id = "corporate-tax-payment-certificate"
	edited := formtest.Replay2024(templates[id])
	if string(edited) == string(templates[id]) {
		t.Fatal("the replay edit did not apply")
	}
	svc, err := form.Parse(edited, agencies)
	if err != nil {
		t.Fatalf("the 2024 edit must pass the agencies' schema (it did in 2024): %v", err)
	}
	err = form.Bind(svc, schemas[id])
	var be *form.BindingError
	if !errors.As(err, &be) || !errors.Is(err, form.ErrBinding) {
		t.Fatalf("Bind = %v, want a form.BindingError", err)
	}
	for _, want := range []string{
		"slot company_name (법인명(상호)) must carry class company_name",
		"of class name",
		"slot business_number (사업자등록번호) must carry class business_number",
		"of class rrn",
		"class rrn: the template allows it but the " + id + " schema does not",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not say %q", err, want)
		}
	}
}

func TestBindAllowsLayoutChanges(t *testing.T) {
	agencies := linkage.DefaultSchema()
	templates, _, _ := form.BuiltinFiles()
	schemas, _ := form.BuiltinSchemas(agencies)
	const id = "corporate-tax-payment-certificate"
	s := string(templates[id])
	s = strings.Replace(s, `"label_ko": "법인명(상호)"`, `"label_ko": "법인명"`, 1)
	// Leave out a slot: a template may show fewer.
	s = strings.Replace(s, `    {"key": "address", "label": "Head office", "label_ko": "본점 소재지", "source": "tax.corporation.address", "class": "address"},
`, "", 1)
	svc, err := form.Parse([]byte(s), agencies)
	if err != nil {
		t.Fatal(err)
	}
	if len(svc.Fields) != 6 {
		t.Fatalf("the layout edit did not apply: %d fields", len(svc.Fields))
	}
	if err := form.Bind(svc, schemas[id]); err != nil {
		t.Fatalf("a relabelled, shorter template was refused: %v", err)
	}
}

func TestSchemaRules(t *testing.T) {
	agencies := linkage.DefaultSchema()
	_, files, err := form.BuiltinFiles()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, file, old, new, want string
	}{
		{"rrn on a corporation", "corporate-tax-payment-certificate", `"allowed_classes": [`, `"allowed_classes": ["rrn", `, "identifies a person"},
		{"blank law", "resident-registration-copy", `"rrn_legal_basis": "주민등록법 제29조 (주민등록표의 열람 또는 등·초본의 교부)"`, `"rrn_legal_basis": "  "`, "rrn_legal_basis"},
		{"slot of another class", "corporate-tax-payment-certificate", `{"key": "company_name", "source": "tax.corporation.company_name", "class": "company_name"}`, `{"key": "company_name", "source": "tax.corporation.representative_name", "class": "company_name"}`, "is of class"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(string(files[tt.file]), tt.old, tt.new, 1)
			if src == string(files[tt.file]) {
				t.Fatalf("mutation %q did not apply", tt.old)
			}
			if _, err := form.ParseSchema([]byte(src), agencies); !errors.Is(err, form.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want form.ErrInvalid saying %q", err, tt.want)
			}
		})
	}
	// Without any legal basis an RRN slot is refused.
	src := strings.Replace(string(files["resident-registration-copy"]), `"rrn_legal_basis": "주민등록법 제29조 (주민등록표의 열람 또는 등·초본의 교부)",`, ``, 1)
	if _, err := form.ParseSchema([]byte(src), agencies); err == nil || !strings.Contains(err.Error(), "rrn_legal_basis") {
		t.Fatalf("an RRN slot without a legal basis: err = %v", err)
	}
}
