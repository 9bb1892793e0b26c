package issuance_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/agencytest"
	"github.com/minwon/minwon/internal/auth"
	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/population"
)

// TestNotIssuable: a 납세증명서 is not issued while arrears exist, a
// graduation certificate that would certify nothing is not issued, each
// with the schema's reason; a 납세증명서 without arrears states its 30-day
// validity.
func TestNotIssuable(t *testing.T) {
	ctx := agencytest.Ctx(t)
	env := agencytest.Start(t, 300, 20260101)
	p, _ := fixedPipeline(t, env)
	self := func(person *population.Person) auth.Principal {
		return auth.Principal{Login: "login-" + person.Subject, Subject: person.Subject, Kind: "person"}
	}
	find := func(ok func(p *population.Person) bool) *population.Person {
		for i := range env.World.People {
			if ok(&env.World.People[i]) {
				return &env.World.People[i]
			}
		}
		t.Fatal("no such person in the world")
		return nil
	}
	n := 0
	issue := func(pr auth.Principal, service string) (*issuance.Issued, error) {
		n++
		return p.Issue(ctx, issuance.Request{Principal: pr, Service: service, IdempotencyKey: fmt.Sprint("k", n)})
	}
	tests := []struct {
		name, service, reason string
		who                   *population.Person
	}{
		{"arrears", "tax-payment-certificate", form.ReasonTaxArrears, find(func(p *population.Person) bool { return p.Tax.Arrears > 0 })},
		{"no school", "graduation-certificate", form.ReasonNothingToCertify, find(func(p *population.Person) bool { return len(p.Schools) == 0 })},
		{"no grades", "grade-certificate", form.ReasonNothingToCertify, find(func(p *population.Person) bool { return len(p.Schools) == 0 })},
	}
	for _, tt := range tests {
		_, err := issue(self(tt.who), tt.service)
		var ni *issuance.NotIssuableError
		if !errors.As(err, &ni) || !errors.Is(err, issuance.ErrNotIssuable) || ni.Reason != tt.reason || ni.Message == "" {
			t.Errorf("%s: %v, want not issuable for %s", tt.name, err, tt.reason)
		}
	}
	for _, c := range env.World.Corporations {
		_, err := issue(auth.Principal{Login: "login-" + c.Subject, Subject: c.Subject, Kind: "corporate"}, "corporate-tax-payment-certificate")
		if (c.Tax.Arrears > 0) != errors.Is(err, issuance.ErrNotIssuable) {
			t.Errorf("corporation with arrears %d: %v", c.Tax.Arrears, err)
		}
	}

	payer := find(func(p *population.Person) bool { return p.Tax.Arrears == 0 && len(p.Tax.Years) > 0 })
	is, err := issue(self(payer), "tax-payment-certificate")
	if err != nil {
		t.Fatal(err)
	}
	_, data, err := p.Files(ctx, self(payer), string(is.Number))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Document struct {
			ValidUntil string `json:"valid_until"`
		} `json:"document"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	want := is.IssuedAt.In(time.FixedZone("KST", 9*3600)).AddDate(0, 0, 29).Format("2006-01-02")
	if doc.Document.ValidUntil != want {
		t.Errorf("valid_until in %s, want %s", data, want)
	}
}
