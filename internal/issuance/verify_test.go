package issuance

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/ident"
	"github.com/minwon/minwon/internal/linkage"
)

// rrnFor builds a checksum-valid RRN from its first 12 digits.
func rrnFor(front12 string) string {
	return front12 + string(ident.RRNCheckDigit(front12))
}

func brnFor(front9 string) string {
	return front9 + string(ident.BusinessNumberCheckDigit(front9))
}

var (
	aliceRRN = rrnFor("900101123456")
	bobRRN   = rrnFor("850505234567")
	corpBRN  = brnFor("123810000")
)

func personService() *form.Service {
	return &form.Service{
		ID: "resident-registration-abstract", Version: 1, Kind: form.Certificate, SubjectKind: form.PersonSubject,
		Requesters:     []form.Requester{form.Self, form.ParentOfMinor},
		AllowedClasses: []linkage.Class{linkage.ClassName, linkage.ClassRRN},
		Fields: []form.Field{
			{Key: "name", Source: "registry.person.name", Class: linkage.ClassName},
			{Key: "rrn", Source: "registry.person.rrn", Class: linkage.ClassRRN},
		},
		Digest: "approved-digest",
	}
}

func corporateService() *form.Service {
	return &form.Service{
		ID: "corporate-tax-payment-certificate", Version: 1, Kind: form.Certificate, SubjectKind: form.CorporationSubject,
		Requesters:     []form.Requester{form.CorporateRepresentative},
		AllowedClasses: []linkage.Class{linkage.ClassCompanyName, linkage.ClassBusinessNumber, linkage.ClassCorporateNumber},
		Fields: []form.Field{
			{Key: "company_name", Source: "tax.corporation.company_name", Class: linkage.ClassCompanyName},
			{Key: "business_number", Source: "tax.corporation.business_number", Class: linkage.ClassBusinessNumber},
			{Key: "corporate_number", Source: "tax.corporation.corporate_number", Class: linkage.ClassCorporateNumber},
		},
		Digest: "approved-digest",
	}
}

// schemaOf is the schema svc keeps to: its own fields as slots, plus an
// address slot the person service does not allow.
func schemaOf(svc *form.Service) *form.Schema {
	sch := &form.Schema{ID: svc.ID, Version: 1, Kind: svc.Kind, SubjectKind: svc.SubjectKind, Requesters: svc.Requesters, AllowedClasses: svc.AllowedClasses}
	for _, f := range svc.Fields {
		sch.Slots = append(sch.Slots, form.Slot{Key: f.Key, Source: f.Source, Class: f.Class})
	}
	sch.Slots = append(sch.Slots, form.Slot{Key: "address", Source: "registry.person.address", Class: linkage.ClassAddress})
	return sch
}

// validPerson is a check that passes: Alice's own abstract, RRN masked.
func validPerson() *check {
	svc := personService()
	return &check{
		service: svc, schema: schemaOf(svc), approvedDigest: "approved-digest", subject: "PALICE", requester: "PALICE", relation: form.Self,
		records: []*linkage.Record{{Agency: "registry", Dataset: "person", Subject: "PALICE"}},
		doc: &Document{
			Number: "1234567890123452", Service: svc.ID, ServiceVersion: 1, TemplateDigest: "approved-digest", Subject: "PALICE", IssuedAt: time.Now(),
			Fields: []Field{
				{Key: "name", Class: linkage.ClassName, Text: "김민준"},
				{Key: "rrn", Class: linkage.ClassRRN, Text: ident.MaskRRN(aliceRRN)},
			},
		},
		rendered: []string{"주민등록표 초본", "김민준", ident.MaskRRN(aliceRRN), "1234-5678-9012-3452"},
	}
}

func validCorporate() *check {
	svc := corporateService()
	corpNo := "110111" + "123456"
	corpNo += string(ident.CorporateNumberCheckDigit(corpNo))
	return &check{
		service: svc, schema: schemaOf(svc), approvedDigest: "approved-digest", subject: "CACME", requester: "CACME", relation: form.CorporateRepresentative,
		records: []*linkage.Record{{Agency: "tax", Dataset: "corporation", Subject: "CACME"}},
		doc: &Document{
			Service: svc.ID, ServiceVersion: 1, TemplateDigest: "approved-digest", Subject: "CACME",
			Fields: []Field{
				{Key: "company_name", Class: linkage.ClassCompanyName, Text: "주식회사 한빛"},
				{Key: "business_number", Class: linkage.ClassBusinessNumber, Text: ident.FormatBusinessNumber(corpBRN)},
				{Key: "corporate_number", Class: linkage.ClassCorporateNumber, Text: ident.FormatCorporateNumber(corpNo)},
			},
		},
		rendered: []string{"주식회사 한빛", ident.FormatBusinessNumber(corpBRN), ident.FormatCorporateNumber(corpNo)},
	}
}

// withMember ticks the members' back digits and puts rrn in the registry's
// household record and in full on the page, then applies f.
func withMember(rrn string, f func(c *check)) func(c *check) {
	return func(c *check) {
		c.opts.MemberRRNBack = true
		raw, _ := json.Marshal([]linkage.HouseholdMember{{Member: linkage.Member{Subject: "PBOB", Name: "김서준"}, RRN: rrn}})
		c.records[0].Fields = map[string]json.RawMessage{"household": raw}
		c.rendered = append(c.rendered, ident.FormatRRN(rrn))
		f(c)
	}
}

func TestVerifyRules(t *testing.T) {
	tests := []struct {
		name   string
		base   func() *check
		mutate func(c *check)
		want   Rule // "" = passes
	}{
		{"valid person document", validPerson, func(*check) {}, ""},
		{"valid corporate document", validCorporate, func(*check) {}, ""},
		{"own RRN shown on request", validPerson, func(c *check) {
			c.opts.RRNBack = true
			c.doc.Fields[1].Text = ident.FormatRRN(aliceRRN)
			c.rendered = append(c.rendered, ident.FormatRRN(aliceRRN))
		}, ""},

		{"RRN shown at the counter, where the subject asks in person", validPerson, func(c *check) {
			c.service.Requesters = append(c.service.Requesters, form.CounterOfficial)
			c.relation, c.requester = form.CounterOfficial, ""
			c.opts.RRNBack = true
			c.doc.Fields[1].Text = ident.FormatRRN(aliceRRN)
			c.rendered = append(c.rendered, ident.FormatRRN(aliceRRN))
		}, ""},
		{"another person's RRN at the counter", validPerson, func(c *check) {
			c.service.Requesters = append(c.service.Requesters, form.CounterOfficial)
			c.relation, c.requester = form.CounterOfficial, ""
			c.opts.RRNBack = true
			c.doc.Fields[1].Text = ident.FormatRRN(aliceRRN)
			c.rendered = append(c.rendered, ident.FormatRRN(bobRRN))
		}, RuleRRNBack},

		{"template digest differs", validPerson, func(c *check) { c.doc.TemplateDigest = "edited" }, RuleTemplate},
		{"service template not approved", validPerson, func(c *check) { c.approvedDigest = "other" }, RuleTemplate},
		{"template version differs", validPerson, func(c *check) { c.doc.ServiceVersion = 2 }, RuleTemplate},

		{"agency answered about another subject", validPerson, func(c *check) { c.records[0].Subject = "PBOB" }, RuleSubject},
		{"document about another subject", validPerson, func(c *check) { c.doc.Subject = "PBOB" }, RuleSubject},

		{"no authorisation", validPerson, func(c *check) { c.relation = "" }, RuleAuthorization},
		{"relation the service does not allow", validPerson, func(c *check) { c.relation = form.HouseholdMember }, RuleAuthorization},
		{"self claimed for someone else", validPerson, func(c *check) { c.requester = "PBOB" }, RuleAuthorization},

		{"field the template does not declare", validPerson, func(c *check) {
			c.doc.Fields = append(c.doc.Fields, Field{Key: "address", Class: linkage.ClassAddress, Text: "서울"})
		}, RuleUndeclared},
		{"declared field with another class", validPerson, func(c *check) { c.doc.Fields[0].Class = linkage.ClassCompanyName }, RuleUndeclared},
		{"field twice", validPerson, func(c *check) { c.doc.Fields = append(c.doc.Fields, c.doc.Fields[0]) }, RuleUndeclared},
		{"declared class the service forbids", validPerson, func(c *check) {
			c.service.Fields = append(c.service.Fields, form.Field{Key: "address", Source: "registry.person.address", Class: linkage.ClassAddress})
			c.doc.Fields = append(c.doc.Fields, Field{Key: "address", Class: linkage.ClassAddress, Text: "서울"})
		}, RuleForbiddenClass},

		// The 2024 change forced past review: the company-name slot bound
		// to the representative's name, the template allowing it.
		{"slot rebound to another class", validCorporate, func(c *check) {
			c.service.AllowedClasses = append(c.service.AllowedClasses, linkage.ClassName)
			c.service.Fields[0] = form.Field{Key: "company_name", Source: "tax.corporation.representative_name", Class: linkage.ClassName}
			c.doc.Fields[0] = Field{Key: "company_name", Class: linkage.ClassName, Text: "김민준"}
		}, RuleSchema},
		{"no schema", validPerson, func(c *check) { c.schema = nil }, RuleSchema},
		{"another service's schema", validPerson, func(c *check) { c.schema = schemaOf(corporateService()) }, RuleSchema},

		// Incident 2: the representative's RRN rendered on a corporate certificate.
		{"RRN rendered on corporate certificate", validCorporate, func(c *check) {
			c.rendered[0] = "대표자 " + ident.FormatRRN(aliceRRN)
		}, RuleRRNExposed},
		{"RRN without hyphen on corporate certificate", validCorporate, func(c *check) {
			c.rendered = append(c.rendered, "ref "+aliceRRN+" end")
		}, RuleRRNExposed},
		{"RRN inside a field value", validCorporate, func(c *check) {
			c.doc.Fields[0].Text = "주식회사 " + ident.FormatRRN(aliceRRN)
		}, RuleRRNExposed},
		{"RRN inside a table cell", validCorporate, func(c *check) {
			c.doc.Fields[0].Table = &Table{Columns: []string{"x"}, Rows: [][]string{{ident.FormatRRN(bobRRN)}}}
		}, RuleRRNExposed},
		{"unmasked RRN not requested", validPerson, func(c *check) {
			c.rendered = append(c.rendered, ident.FormatRRN(aliceRRN))
		}, RuleRRNBack},
		{"back digits requested for someone else", validPerson, func(c *check) {
			c.opts.RRNBack = true
			c.relation = form.ParentOfMinor
			c.requester = "PPARENT"
		}, RuleRRNBack},
		{"another person's RRN shown while own requested", validPerson, func(c *check) {
			c.opts.RRNBack = true
			c.doc.Fields[1].Text = ident.FormatRRN(aliceRRN)
			c.rendered = append(c.rendered, ident.FormatRRN(bobRRN))
		}, RuleRRNBack},
		{"members' back digits asked for by the subject", validPerson, withMember(bobRRN, func(c *check) {}), ""},
		{"members' back digits asked for from outside the household", validPerson, withMember(bobRRN, func(c *check) {
			c.relation, c.requester = form.ParentOfMinor, "PPARENT"
		}), RuleRRNBack},
		{"back digits of someone not in the household", validPerson, withMember(aliceRRN, func(c *check) {
			c.rendered = append(c.rendered, ident.FormatRRN(bobRRN))
		}), RuleRRNBack},
		{"business number on a person certificate", validPerson, func(c *check) {
			c.rendered = append(c.rendered, ident.FormatBusinessNumber(corpBRN))
		}, RuleBRNExposed},
		{"bare business number on a person certificate", validPerson, func(c *check) {
			c.rendered = append(c.rendered, "번호 "+corpBRN)
		}, RuleBRNExposed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.base()
			tt.mutate(c)
			err := verify(c)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("verify refused a valid document: %v", err)
				}
				return
			}
			var re *RefusedError
			if !errors.As(err, &re) || re.Rule != tt.want {
				t.Fatalf("verify = %v, want rule %s", err, tt.want)
			}
			for _, secret := range []string{aliceRRN, bobRRN, ident.FormatRRN(aliceRRN)} {
				if contains(re.Message, secret) {
					t.Fatal("refusal message carries an RRN")
				}
			}
		})
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// TestVerifyRefusesRRNOnCorporateCertificate: the 2024 incident, in every
// spelling of the representative's RRN, old and post-2020, in one drawn
// string, split across two drawn strings, in a field and in a table row.
func TestVerifyRefusesRRNOnCorporateCertificate(t *testing.T) {
	full := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r - '0' + '０'
			}
			return r
		}, s)
	}
	for _, rrn := range []string{aliceRRN, "2103153847261"} {
		front, back := rrn[:6], rrn[6:]
		spellings := []string{
			front + "-" + back, front + back, front + " " + back, front + " - " + back,
			front + "–" + back, front + "—" + back, front + "−" + back, full(front) + "－" + full(back),
		}
		for _, sp := range spellings {
			for where, put := range map[string]func(c *check){
				"drawn":        func(c *check) { c.rendered = append(c.rendered, "대표자 "+sp) },
				"field":        func(c *check) { c.doc.Fields[0].Text = "주식회사 한빛 (" + sp + ")" },
				"table row":    func(c *check) { c.doc.Fields[0].Table = &Table{Rows: [][]string{{"대표자", sp}}} },
				"drawn cells":  func(c *check) { c.rendered = append(c.rendered, "대표자", front, back) },
				"row cells":    func(c *check) { c.doc.Fields[0].Table = &Table{Rows: [][]string{{"대표자", front + "-", back}}} },
				"revoke-style": func(c *check) { c.rendered = append(c.rendered, "ref "+sp+" end") },
			} {
				c := validCorporate()
				put(c)
				var re *RefusedError
				if err := verify(c); !errors.As(err, &re) || re.Rule != RuleRRNExposed {
					t.Errorf("%q (%s): verify = %v, want %s", sp, where, err, RuleRRNExposed)
				}
			}
		}
	}
}

// TestVerifyPassesLegitimateNumbers: what every document prints (its own
// issuance number, dates, amounts, phone numbers, a masked RRN, a birth date
// cell next to a masked RRN cell) never trips the fail-closed RRN scanner.
func TestVerifyPassesLegitimateNumbers(t *testing.T) {
	for i := 0; i < 500; i++ {
		c := validPerson()
		n := NewNumber()
		c.doc.Number = string(n)
		c.rendered = append(c.rendered, "발급번호 (Issuance No.)  "+n.Format(), "https://minwon.example/verify/"+string(n),
			"1990-01-01", ident.MaskRRN(aliceRRN), "1,234,000원", "2024년 01월 02일 (2024-01-02)", "02-1234-5678", "H000000001",
			"2018-05-11", "180511-3******", "2015-03-02", "2015-03-02")
		if err := verify(c); err != nil {
			t.Fatalf("number %s: %v", n, err)
		}
	}
}

func TestNumbers(t *testing.T) {
	seen := map[Number]bool{}
	for i := 0; i < 2000; i++ {
		n := NewNumber()
		if len(n) != 16 || seen[n] {
			t.Fatalf("number %q: wrong length or repeated", n)
		}
		seen[n] = true
		got, err := ParseNumber(n.Format())
		if err != nil || got != n {
			t.Fatalf("ParseNumber(%s) = %s, %v", n.Format(), got, err)
		}
		// Any single-digit change is caught by the check digit.
		b := []byte(n)
		b[i%16] = '0' + (b[i%16]-'0'+1)%10
		if _, err := ParseNumber(string(b)); err == nil {
			t.Fatalf("mistyped %s accepted", b)
		}
	}
	for _, bad := range []string{"", "123", "12345678901234567", "1234-5678-9012-345x", "１２３４"} {
		if _, err := ParseNumber(bad); err == nil {
			t.Errorf("ParseNumber(%q) accepted", bad)
		}
	}
}

func TestIssuerOf(t *testing.T) {
	registry := &form.Service{IssuerKo: "행정안전부장관", IssuerAtCounter: "office"}
	tax := &form.Service{IssuerKo: "국세청장"}
	edu := &form.Service{IssuerKo: "교육부장관", PerSchool: form.PerSchoolGraduated}
	high := &linkage.SchoolRecord{School: "전남늘봄고등학교", Kind: "high"}
	uni := &linkage.SchoolRecord{School: "전남늘봄대학교", Kind: "university"}
	tests := []struct {
		svc    *form.Service
		office string
		school *linkage.SchoolRecord
		want   string
	}{
		{edu, "", high, "전남늘봄고등학교장"},
		{edu, "서울특별시 관악구 행운동 주민센터", uni, "전남늘봄대학교총장"},
		{registry, "", nil, "행정안전부장관"},
		{registry, "서울특별시 관악구 행운동 주민센터", nil, "서울특별시 관악구 행운동장"},
		{registry, "부산광역시 해운대구 우1동 행정복지센터", nil, "부산광역시 해운대구 우1동장"},
		{registry, "민원실", nil, "민원실장"},
		{tax, "서울특별시 관악구 행운동 주민센터", nil, "국세청장"},
	}
	for _, tt := range tests {
		if got := issuerOf(tt.svc, tt.office, tt.school); got != tt.want {
			t.Errorf("issuerOf(%q) = %q, want %q", tt.office, got, tt.want)
		}
	}
}
