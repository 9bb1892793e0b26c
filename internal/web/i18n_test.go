package web

import (
	"io/fs"
	"regexp"
	"testing"

	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/httperr"
	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/linkage"
)

// TestMessagesComplete: both languages have the same keys, and every key a
// template or handler can ask for exists.
func TestMessagesComplete(t *testing.T) {
	for k := range messages[langKo] {
		if _, ok := messages[langEn][k]; !ok {
			t.Errorf("%q has no English", k)
		}
	}
	for k := range messages[langEn] {
		if _, ok := messages[langKo][k]; !ok {
			t.Errorf("%q has no Korean", k)
		}
	}
	want := map[string]bool{}
	literal := regexp.MustCompile(`\.Tf? "([a-z_.]+)"`)
	err := fs.WalkDir(templates, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(templates, p)
		for _, m := range literal.FindAllStringSubmatch(string(b), -1) {
			want[m[1]] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(want) < 50 {
		t.Fatalf("found only %d keys in the templates", len(want))
	}
	// Keys built at run time.
	for _, k := range []form.Kind{form.Certificate, form.Application, form.Report, form.Lookup} {
		want["kind."+string(k)] = true
	}
	for _, r := range []string{"household_member", "child", "corporation"} {
		want["rel."+r] = true
	}
	for _, s := range []linkage.BreakerState{linkage.Closed, linkage.Open, linkage.HalfOpen} {
		want["status."+string(s)] = true
	}
	for _, s := range []string{"valid", "revoked", "unknown", "mismatch"} {
		want["verify."+s] = true
		want["verify."+s+".lead"] = true
		want["verify.st."+s] = true
	}
	for _, r := range []issuance.Rule{issuance.RuleSubject, issuance.RuleAuthorization, issuance.RuleUndeclared, issuance.RuleForbiddenClass,
		issuance.RuleRRNExposed, issuance.RuleBRNExposed, issuance.RuleRRNBack, issuance.RuleTemplate, issuance.RuleSchema} {
		want["refused."+string(r)] = true
	}
	for _, r := range []string{form.ReasonTaxArrears, form.ReasonNothingToCertify} {
		want["notissuable."+r] = true
	}
	for _, row := range httperr.Rows() {
		want[row.Key], want[row.Heading] = true, true
	}
	want[httperr.Unknown().Key] = true
	for _, a := range linkage.DefaultSchema().Agencies() {
		want["agency."+a] = true
	}
	for k := range want {
		if _, ok := messages[langKo][k]; !ok {
			t.Errorf("key %q is used but not defined", k)
		}
	}
}
