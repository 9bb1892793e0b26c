package issuance_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/minwon/minwon/internal/agencytest"
	"github.com/minwon/minwon/internal/auth"
	"github.com/minwon/minwon/internal/ident"
	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/population"
)

type docData struct {
	Document struct {
		Fields []struct {
			Key   string `json:"key"`
			Table *struct {
				Columns []string   `json:"columns"`
				Rows    [][]string `json:"rows"`
			} `json:"table"`
		} `json:"fields"`
	} `json:"document"`
}

// TestRegistryOptions: since 2020 a 등본 shows only basic items unless the
// requester ticks relations or the members' RRN back digits, and a 초본
// shows past addresses only when asked; options a service does not offer
// are refused.
func TestRegistryOptions(t *testing.T) {
	env := agencytest.Start(t, 300, 20260101)
	p, _ := fixedPipeline(t, env)
	var head *population.Person
	for i := range env.World.People {
		pp := &env.World.People[i]
		if pp.Relation == population.Head && len(env.World.Households[pp.Household].Members) >= 3 && len(pp.AddressHistory) >= 2 {
			head = pp
			break
		}
	}
	if head == nil {
		t.Fatal("no household of three")
	}
	self := auth.Principal{Login: "login-" + head.Subject, Subject: head.Subject, Kind: "person"}
	n := 0
	issue := func(pr auth.Principal, r issuance.Request) (docData, error) {
		n++
		r.Principal, r.IdempotencyKey = pr, fmt.Sprint("o", n)
		var d docData
		return d, issueAndRead(t, p, r, &d)
	}
	table := func(d docData, key string) ([]string, [][]string) {
		for _, f := range d.Document.Fields {
			if f.Key == key && f.Table != nil {
				return f.Table.Columns, f.Table.Rows
			}
		}
		return nil, nil
	}
	masked := func(rows [][]string, col int) int {
		k := 0
		for _, r := range rows {
			if strings.Contains(r[col], "*") {
				k++
			}
		}
		return k
	}

	d, err := issue(self, issuance.Request{Service: "resident-registration-copy"})
	if err != nil {
		t.Fatal(err)
	}
	cols, rows := table(d, "household")
	if slices.Contains(cols, "세대주와의 관계") || masked(rows, 2) != len(rows) {
		t.Fatalf("default 등본: columns %v, %d of %d RRNs masked", cols, masked(rows, 2), len(rows))
	}
	d, err = issue(self, issuance.Request{Service: "resident-registration-copy", ShowRelations: true, ShowMemberRRNBack: true})
	if err != nil {
		t.Fatal(err)
	}
	cols, rows = table(d, "household")
	if cols[0] != "세대주와의 관계" || rows[0][0] != "세대주" || masked(rows, 3) != 0 {
		t.Fatalf("등본 with options: columns %v rows %v", cols, rows)
	}
	for _, r := range rows {
		if _, err := ident.ParseRRN(r[3]); err != nil {
			t.Errorf("member RRN %q not shown in full: %v", r[3], err)
		}
	}
	// A household member may ask for the members' back digits too.
	member := env.World.People[env.World.Households[head.Household].Members[1]]
	if _, err := issue(auth.Principal{Login: "login-" + member.Subject, Subject: member.Subject, Kind: "person"},
		issuance.Request{Service: "resident-registration-copy", Subject: head.Subject, ShowMemberRRNBack: true}); err != nil {
		t.Fatalf("household member with member back digits: %v", err)
	}

	d, err = issue(self, issuance.Request{Service: "resident-registration-abstract"})
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := table(d, "address_history"); c != nil {
		t.Fatal("default 초본 shows the address history")
	}
	d, err = issue(self, issuance.Request{Service: "resident-registration-abstract", ShowAddressHistory: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, rows := table(d, "address_history"); len(rows) != len(head.AddressHistory) {
		t.Fatalf("초본 with history: %d rows for %d addresses", len(rows), len(head.AddressHistory))
	}

	for _, r := range []issuance.Request{
		{Service: "resident-registration-copy", ShowAddressHistory: true},
		{Service: "resident-registration-abstract", ShowRelations: true},
		{Service: "tax-payment-certificate", ShowMemberRRNBack: true},
	} {
		if _, err := issue(self, r); !errors.Is(err, issuance.ErrBadRequest) {
			t.Errorf("%+v: %v, want a bad request", r, err)
		}
	}
}
