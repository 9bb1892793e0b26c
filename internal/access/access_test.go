package access

import (
	"testing"

	"github.com/minwon/minwon/internal/auth"
	"github.com/minwon/minwon/internal/form"
)

func svc(kind form.SubjectKind, reqs ...form.Requester) *form.Service {
	return &form.Service{ID: "s", SubjectKind: kind, Requesters: reqs}
}

func TestChoicesFollowTheRules(t *testing.T) {
	person := auth.Principal{Login: "p", Subject: "PME", Kind: "person"}
	corpAcct := auth.Principal{Login: "c", Subject: "CCORP", Kind: "corporate"}
	prof := &Profile{Subject: "PME", Name: "나", Relations: []Relation{
		{Subject: "PSPOUSE", Name: "배우자", Relation: "household_member"},
		{Subject: "PMINOR", Name: "어린 자녀", Relation: "child", Minor: true},
		{Subject: "PADULT", Name: "큰 자녀", Relation: "child"},
		{Subject: "CREP", Name: "대표 법인", Relation: "corporation", Role: "representative"},
		{Subject: "CEMP", Name: "다니는 법인", Relation: "corporation", Role: "employee"},
	}}
	copyCert := svc(form.PersonSubject, form.Self, form.HouseholdMember, form.CounterOfficial)
	grades := svc(form.PersonSubject, form.Self, form.ParentOfMinor, form.CounterOfficial)
	tax := svc(form.PersonSubject, form.Self, form.CounterOfficial)
	business := svc(form.CorporationSubject, form.CorporateRepresentative, form.CorporateEmployee)
	repOnly := svc(form.CorporationSubject, form.CorporateRepresentative)
	cases := []struct {
		name string
		p    auth.Principal
		svc  *form.Service
		want map[string]form.Requester
	}{
		{"copy: whole household", person, copyCert, map[string]form.Requester{"PME": form.Self, "PSPOUSE": form.HouseholdMember, "PMINOR": form.HouseholdMember, "PADULT": form.HouseholdMember}},
		{"grades: self and minor child", person, grades, map[string]form.Requester{"PME": form.Self, "PMINOR": form.ParentOfMinor}},
		{"tax: self only", person, tax, map[string]form.Requester{"PME": form.Self}},
		{"business: own corporations by role", person, business, map[string]form.Requester{"CREP": form.CorporateRepresentative, "CEMP": form.CorporateEmployee}},
		{"representative-only service", person, repOnly, map[string]form.Requester{"CREP": form.CorporateRepresentative}},
		{"corporate account: its corporation", corpAcct, business, map[string]form.Requester{"CCORP": form.CorporateRepresentative}},
		{"corporate account: no personal services", corpAcct, copyCert, map[string]form.Requester{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pr := prof
			if tc.p.Kind == "corporate" {
				pr = &Profile{Subject: "CCORP", Name: "법인", Relations: []Relation{}}
			}
			got := Choices(tc.p, pr, tc.svc)
			if len(got) != len(tc.want) {
				t.Fatalf("choices = %+v, want %v", got, tc.want)
			}
			for i, c := range got {
				if tc.want[c.Subject] != c.As {
					t.Errorf("%s as %q, want %q", c.Subject, c.As, tc.want[c.Subject])
				}
				if c.Self != (c.Subject == tc.p.Subject) || (i > 0 && c.Self) {
					t.Errorf("%s: Self = %v (index %d)", c.Subject, c.Self, i)
				}
			}
		})
	}
}
