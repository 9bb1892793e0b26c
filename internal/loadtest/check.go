package loadtest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/minwon/minwon/internal/ident"
)

// Subject is what the harness knows independently of minwon about one data
// subject: from demo-accounts.csv (name, birth date) and, for the numbers
// the accounts file does not carry, from the synthetic population
// regenerated from its seed (business and corporate registration numbers).
type Subject struct {
	ID              string
	Kind            string // "person" or "corporate"
	Name            string
	BirthDate       string // persons: 2006-01-02
	BusinessNumber  string // corporations: 123-45-67890 as printed; "" if unknown
	CorporateNumber string // corporations: 123456-1234567 as printed; "" if unknown
}

// Expect is what one issued document must show.
type Expect struct {
	Subject Subject
	Service string
	Number  string // 16 digits, as the API answered
}

var (
	hyphenRRNRE = regexp.MustCompile(`(?:^|[^0-9])([0-9]{6}-[0-9]{7})(?:$|[^0-9])`)
	bareRRNRE   = regexp.MustCompile(`(?:^|[^0-9])([0-9]{13})(?:$|[^0-9])`)
)

// lines splits extracted text into trimmed, non-empty lines, so text from
// PDFStrings (one string per draw) and from pdftotext (laid-out lines with
// blank lines between blocks) read the same way.
func lines(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// after returns the line that follows the first line equal to label (or
// ending with it), or false.
func after(ls []string, label string) (string, bool) {
	for i, l := range ls {
		if (l == label || strings.HasSuffix(l, " "+label)) && i+1 < len(ls) {
			return ls[i+1], true
		}
	}
	return "", false
}

// CheckText returns every way the text of a document differs from what it
// must show: the requested subject's name and birth date (persons) or name
// and business registration number (corporations) in the fields that name
// the subject, the issuance number, and no resident registration number
// with its back digits visible. Any problem is a mis-issuance.
func CheckText(text string, e Expect) []string {
	var problems []string
	ls := lines(text)
	all := strings.Join(ls, "\n")
	s := e.Subject
	if e.Number != "" && !strings.Contains(all, formatNumber(e.Number)) {
		problems = append(problems, "the issuance number "+formatNumber(e.Number)+" is not printed")
	}
	switch s.Kind {
	case "corporate":
		got, ok := after(ls, "Company name")
		if !ok {
			problems = append(problems, "no company name field")
		} else if got != s.Name {
			problems = append(problems, fmt.Sprintf("company name is %q, want %q", got, s.Name))
		}
		if s.BusinessNumber != "" && !strings.Contains(all, s.BusinessNumber) {
			problems = append(problems, "the business registration number "+s.BusinessNumber+" is not printed")
		}
	default:
		got, ok := after(ls, "성명 Name")
		if !ok {
			problems = append(problems, "no name field")
		} else if got != s.Name {
			problems = append(problems, fmt.Sprintf("name is %q, want %q", got, s.Name))
		}
		got, ok = after(ls, "생년월일 Date of birth")
		if !ok {
			problems = append(problems, "no birth date field")
		} else if got != s.BirthDate {
			problems = append(problems, fmt.Sprintf("birth date is %q, want %q", got, s.BirthDate))
		}
	}
	for _, m := range hyphenRRNRE.FindAllStringSubmatch(all, -1) {
		if s.Kind == "corporate" && m[1] == s.CorporateNumber {
			continue // a corporate registration number is printed in full by design
		}
		problems = append(problems, "an unmasked resident registration number is printed ("+maskForReport(m[1])+")")
	}
	for _, m := range bareRRNRE.FindAllStringSubmatch(all, -1) {
		if ident.ValidRRN(m[1]) {
			problems = append(problems, "an unmasked resident registration number is printed ("+maskForReport(m[1])+")")
		}
	}
	return problems
}

// maskForReport keeps a leaked number out of the harness's own output.
func maskForReport(s string) string {
	if len(s) < 7 {
		return "******"
	}
	return s[:6] + strings.Repeat("*", len(s)-6)
}

func formatNumber(n string) string {
	if len(n) != 16 {
		return n
	}
	return n[0:4] + "-" + n[4:8] + "-" + n[8:12] + "-" + n[12:16]
}

// dataDoc is the part of data.json the harness checks.
type dataDoc struct {
	Document struct {
		Number  string `json:"number"`
		Service string `json:"service"`
		Subject string `json:"subject"`
		Fields  []struct {
			Key  string `json:"key"`
			Text string `json:"text"`
		} `json:"fields"`
		PDFSHA256 string `json:"pdf_sha256"`
	} `json:"document"`
}

// CheckData returns every way a data.json differs from what was asked:
// number, service, subject, and the subject's name, birth date or business
// number fields, and the hash of the PDF it belongs to.
func CheckData(raw []byte, e Expect, pdfSHA256 string) []string {
	var d dataDoc
	if err := json.Unmarshal(raw, &d); err != nil {
		return []string{"data.json does not parse: " + err.Error()}
	}
	var problems []string
	doc := d.Document
	if doc.Number != e.Number {
		problems = append(problems, fmt.Sprintf("data.json number %q, want %q", doc.Number, e.Number))
	}
	if doc.Service != e.Service {
		problems = append(problems, fmt.Sprintf("data.json service %q, want %q", doc.Service, e.Service))
	}
	if doc.Subject != e.Subject.ID {
		problems = append(problems, "data.json is about another subject than requested")
	}
	if pdfSHA256 != "" && doc.PDFSHA256 != pdfSHA256 {
		problems = append(problems, "data.json names another PDF (sha256 differs)")
	}
	fields := map[string]string{}
	for _, f := range doc.Fields {
		fields[f.Key] = f.Text
	}
	want := map[string]string{}
	if e.Subject.Kind == "corporate" {
		want["company_name"] = e.Subject.Name
		if e.Subject.BusinessNumber != "" {
			want["business_number"] = e.Subject.BusinessNumber
		}
	} else {
		want["name"] = e.Subject.Name
		want["birth_date"] = e.Subject.BirthDate
	}
	for k, v := range want {
		if got, ok := fields[k]; ok && got != v {
			problems = append(problems, fmt.Sprintf("data.json %s is %q, want %q", k, got, v))
		}
	}
	return problems
}
