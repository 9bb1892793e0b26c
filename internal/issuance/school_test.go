package issuance_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/minwon/minwon/internal/agencytest"
	"github.com/minwon/minwon/internal/auth"
	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/population"
)

// schoolDoc is the part of data.json the per-school tests read.
type schoolDoc struct {
	Document struct {
		Issuer    string `json:"issuer"`
		Statement string `json:"statement"`
		Purpose   string `json:"purpose"`
		Fields    []struct {
			Key   string `json:"key"`
			Table *struct {
				Columns []string   `json:"columns"`
				Rows    [][]string `json:"rows"`
			} `json:"table"`
		} `json:"fields"`
	} `json:"document"`
}

func (d schoolDoc) table(key string) ([]string, [][]string) {
	for _, f := range d.Document.Fields {
		if f.Key == key && f.Table != nil {
			return f.Table.Columns, f.Table.Rows
		}
	}
	return nil, nil
}

// TestEducationCertificatesArePerSchool: a graduation or grade
// certificate is one school's, issued by its head, in that school level's
// structure; the requester picks the level, and a level that certifies
// nothing is refused with the reason.
func TestEducationCertificatesArePerSchool(t *testing.T) {
	env := agencytest.Start(t, 400, 20260101)
	p, _ := fixedPipeline(t, env)
	w := env.World
	kinds := func(pp *population.Person) (graduated, enrolled []population.SchoolKind) {
		for _, r := range pp.Schools {
			if r.Graduated.IsZero() {
				enrolled = append(enrolled, w.Schools[r.School].Kind)
			} else {
				graduated = append(graduated, w.Schools[r.School].Kind)
			}
		}
		return
	}
	find := func(what string, ok func(g, e []population.SchoolKind) bool) *population.Person {
		for i := range w.People {
			if g, e := kinds(&w.People[i]); ok(g, e) {
				return &w.People[i]
			}
		}
		t.Fatalf("no %s in the world", what)
		return nil
	}
	graduate := find("university graduate", func(g, e []population.SchoolKind) bool {
		return len(g) == 4 && len(e) == 0
	})
	pupil := find("high-school pupil", func(g, e []population.SchoolKind) bool {
		return slices.Contains(e, population.High) && slices.Contains(g, population.Middle)
	})
	noUni := find("person who never went to university", func(g, e []population.SchoolKind) bool {
		return slices.Contains(g, population.High) && !slices.Contains(g, population.University) && len(e) == 0
	})
	schoolName := func(pp *population.Person, kind population.SchoolKind) string {
		for _, r := range pp.Schools {
			if w.Schools[r.School].Kind == kind {
				return w.Schools[r.School].Name
			}
		}
		t.Fatalf("%s has no %v school", pp.Subject, kind)
		return ""
	}

	n := 0
	issue := func(pp *population.Person, r issuance.Request) (schoolDoc, error) {
		n++
		r.Principal, r.IdempotencyKey = auth.Principal{Login: "login-" + pp.Subject, Subject: pp.Subject, Kind: "person"}, fmt.Sprint("school-", n)
		var d schoolDoc
		return d, issueAndRead(t, p, r, &d)
	}

	// Graduation: the latest school by default, or the level asked for;
	// one row, issued by that school's head.
	for _, tc := range []struct {
		level  string
		kind   population.SchoolKind
		issuer string
	}{{"", population.University, "총장"}, {"high", population.High, "장"}, {"elementary", population.Elementary, "장"}} {
		d, err := issue(graduate, issuance.Request{Service: "graduation-certificate", SchoolLevel: tc.level})
		if err != nil {
			t.Fatalf("graduation %q: %v", tc.level, err)
		}
		name := schoolName(graduate, tc.kind)
		_, rows := d.table("school_records")
		if len(rows) != 1 || rows[0][0] != name {
			t.Errorf("graduation %q: rows %v, want only %s", tc.level, rows, name)
		}
		if d.Document.Issuer != name+tc.issuer || !strings.Contains(d.Document.Statement, "본교") {
			t.Errorf("graduation %q: issued by %q (%q), want %s's head", tc.level, d.Document.Issuer, d.Document.Statement, name)
		}
	}

	// Grades in each level's structure.
	d, err := issue(graduate, issuance.Request{Service: "grade-certificate"})
	if err != nil {
		t.Fatal(err)
	}
	cols, rows := d.table("grades")
	if !slices.Equal(cols, []string{"학년", "학기", "교과목", "학점", "성적", "평점"}) || len(rows) < 2 {
		t.Fatalf("university grades: %v, %d rows", cols, len(rows))
	}
	if last := rows[len(rows)-1]; last[4] != "평균평점 (GPA)" || !strings.HasSuffix(last[5], "/ 4.5") {
		t.Errorf("university grades end with %v, want the GPA", last)
	}
	for _, r := range rows[:len(rows)-1] {
		if !slices.Contains([]string{"A+", "A0", "B+", "B0", "C+", "C0", "D+", "D0", "F"}, r[4]) {
			t.Errorf("university grade %q is not a letter grade", r[4])
		}
	}
	d, err = issue(graduate, issuance.Request{Service: "grade-certificate", SchoolLevel: "high"})
	if err != nil {
		t.Fatal(err)
	}
	cols, rows = d.table("grades")
	if !slices.Equal(cols, []string{"학년", "학기", "과목", "단위수", "원점수", "과목평균(표준편차)", "성취도", "석차등급"}) || len(rows) == 0 {
		t.Fatalf("high-school grades: %v, %d rows", cols, len(rows))
	}
	for _, r := range rows {
		if !strings.Contains(r[5], "(") || !slices.Contains([]string{"A", "B", "C", "D", "E"}, r[6]) {
			t.Errorf("high-school row %v lacks mean (sd) or achievement", r)
		}
	}
	if d.Document.Issuer != schoolName(graduate, population.High)+"장" {
		t.Errorf("high-school grades issued by %q", d.Document.Issuer)
	}
	d, err = issue(graduate, issuance.Request{Service: "grade-certificate", SchoolLevel: "middle"})
	if err != nil {
		t.Fatal(err)
	}
	if cols, _ = d.table("grades"); slices.Contains(cols, "석차등급") || slices.Contains(cols, "단위수") {
		t.Errorf("middle-school grades carry high-school columns: %v", cols)
	}

	// What would certify nothing is refused, saying why.
	for _, tc := range []struct {
		who    *population.Person
		r      issuance.Request
		reason string
	}{
		{pupil, issuance.Request{Service: "graduation-certificate", SchoolLevel: "high"}, form.ReasonNotGraduated},
		{noUni, issuance.Request{Service: "graduation-certificate", SchoolLevel: "university"}, form.ReasonNoSchoolAtLevel},
		{noUni, issuance.Request{Service: "grade-certificate", SchoolLevel: "university"}, form.ReasonNoSchoolAtLevel},
	} {
		_, err := issue(tc.who, tc.r)
		var ni *issuance.NotIssuableError
		if !errors.As(err, &ni) || ni.Reason != tc.reason {
			t.Errorf("%+v: %v, want not issuable (%s)", tc.r, err, tc.reason)
		}
	}
	// A pupil's graduation certificate by default is the last school
	// graduated from.
	d, err = issue(pupil, issuance.Request{Service: "graduation-certificate"})
	if err != nil {
		t.Fatal(err)
	}
	if _, rows := d.table("school_records"); len(rows) != 1 || rows[0][0] != schoolName(pupil, population.Middle) {
		t.Errorf("pupil's default graduation certificate: %v", rows)
	}

	// Choices a service does not offer are bad requests.
	for _, r := range []issuance.Request{
		{Service: "grade-certificate", SchoolLevel: "elementary"},
		{Service: "graduation-certificate", SchoolLevel: "kindergarten"},
		{Service: "graduation-certificate", Purpose: "emigration"},
		{Service: "resident-registration-copy", SchoolLevel: "high"},
	} {
		if _, err := issue(graduate, r); !errors.Is(err, issuance.ErrBadRequest) {
			t.Errorf("%+v: %v, want a bad request", r, err)
		}
	}
}

// TestTaxCertificateStatesPurpose: a 납세증명서 prints the purpose the
// requester states, or says none was stated; an unknown purpose is refused.
func TestTaxCertificateStatesPurpose(t *testing.T) {
	ctx := agencytest.Ctx(t)
	env := agencytest.Start(t, 300, 20260101)
	p, _ := fixedPipeline(t, env)
	var pp *population.Person
	for i := range env.World.People {
		if q := &env.World.People[i]; q.Tax.Arrears == 0 && len(q.Tax.Years) > 0 {
			pp = q
			break
		}
	}
	if pp == nil {
		t.Fatal("no taxpayer without arrears")
	}
	pr := auth.Principal{Login: "login-" + pp.Subject, Subject: pp.Subject, Kind: "person"}
	for i, tc := range []struct{ purpose, want string }{
		{"emigration", "해외 이주 (Emigration)"},
		{"", "기재하지 않음 (Not stated)"},
	} {
		var d schoolDoc
		if err := issueAndRead(t, p, issuance.Request{Principal: pr, Service: "tax-payment-certificate", Purpose: tc.purpose, IdempotencyKey: fmt.Sprint("purpose-", i)}, &d); err != nil {
			t.Fatal(err)
		}
		if d.Document.Purpose != tc.want {
			t.Errorf("purpose %q printed as %q, want %q", tc.purpose, d.Document.Purpose, tc.want)
		}
	}
	if _, err := p.Issue(ctx, issuance.Request{Principal: pr, Service: "tax-payment-certificate", Purpose: "bribery", IdempotencyKey: "purpose-bad"}); !errors.Is(err, issuance.ErrBadRequest) {
		t.Errorf("unknown purpose: %v, want a bad request", err)
	}
	// The same key with another purpose is another request.
	if _, err := p.Issue(ctx, issuance.Request{Principal: pr, Service: "tax-payment-certificate", Purpose: "other", IdempotencyKey: "purpose-0"}); !errors.Is(err, issuance.ErrConflict) {
		t.Errorf("same key, other purpose: %v, want an idempotency conflict", err)
	}
}

// issueAndRead issues r and decodes the document's data.json into v; the
// error is the issuance's.
func issueAndRead(t *testing.T, p *issuance.Pipeline, r issuance.Request, v any) error {
	t.Helper()
	ctx := agencytest.Ctx(t)
	is, err := p.Issue(ctx, r)
	if err != nil {
		return err
	}
	_, data, err := p.Files(ctx, r.Principal, string(is.Number))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatal(err)
	}
	return nil
}
