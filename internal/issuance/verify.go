package issuance

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/ident"
	"github.com/minwon/minwon/internal/linkage"
)

// Rule names a pre-issuance check. Each refusal names exactly one.
type Rule string

const (
	RuleSubject        Rule = "subject_mismatch"     // an agency record is about someone else
	RuleAuthorization  Rule = "not_authorized"       // the requester may not have this document
	RuleUndeclared     Rule = "undeclared_field"     // a field the approved template does not declare
	RuleForbiddenClass Rule = "forbidden_data_class" // a class the service does not allow
	RuleRRNExposed     Rule = "rrn_exposed"          // an unmasked RRN where none may appear
	RuleBRNExposed     Rule = "business_number_exposed"
	RuleRRNBack        Rule = "rrn_back_not_requested" // back digits shown without the subject asking
	RuleTemplate       Rule = "template_not_approved"  // not the approved, active template
	RuleSchema         Rule = "schema_violation"       // a slot bound to another class than its schema says
)

// Rules are every rule, in the order above (for metrics' label sets).
var Rules = []Rule{RuleSubject, RuleAuthorization, RuleUndeclared, RuleForbiddenClass, RuleRRNExposed, RuleBRNExposed, RuleRRNBack, RuleTemplate, RuleSchema}

// Privacy reports whether a refusal under r means the template itself put
// personal data where it does not belong. A canary version that draws one
// is rolled back at once. A swapped agency answer (RuleSubject) and a
// requester without the right (RuleAuthorization) are not the template's
// doing.
func (r Rule) Privacy() bool {
	switch r {
	case RuleUndeclared, RuleForbiddenClass, RuleRRNExposed, RuleBRNExposed, RuleRRNBack, RuleTemplate, RuleSchema:
		return true
	}
	return false
}

// RefusedError is a refusal by pre-issuance verification: nothing is
// issued, the requester is told why in general terms, and an alert is
// recorded. It never carries the personal data that triggered it.
type RefusedError struct {
	Rule    Rule
	Message string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("pre-issuance verification refused the document (%s): %s", e.Rule, e.Message)
}

func refuse(rule Rule, format string, args ...any) *RefusedError {
	return &RefusedError{Rule: rule, Message: fmt.Sprintf(format, args...)}
}

// check is everything pre-issuance verification looks at.
type check struct {
	service        *form.Service
	schema         *form.Schema // what each slot must carry
	approvedDigest string       // the digest of the approved, active template
	subject        string       // the requested subject
	requester      string       // the requester's own subject
	relation       form.Requester
	opts           Options // what the requester ticked
	records        []*linkage.Record
	doc            *Document
	rendered       []string // every string drawn in the PDF
}

// subjectAsks reports whether the request comes from the subject: on the
// portal the requester is the subject; at the counter the subject stands
// in front of the official, identified in person, and asks there.
func subjectAsks(subject, requester string, relation form.Requester) bool {
	return subject == requester || relation == form.CounterOfficial
}

// verify runs every pre-issuance rule. It is deliberately independent of the
// code that assembled the document: it re-derives what may appear from the
// approved template and checks what actually was rendered.
func verify(c *check) error {
	svc := c.service
	if c.doc.TemplateDigest != c.approvedDigest || c.doc.Service != svc.ID || c.doc.ServiceVersion != svc.Version || svc.Digest != c.approvedDigest {
		return refuse(RuleTemplate, "the %s template is not the approved, active version", svc.ID)
	}
	if c.doc.Subject != c.subject {
		return refuse(RuleSubject, "the document is about another subject than requested")
	}
	for _, r := range c.records {
		if r.Subject != c.subject {
			return refuse(RuleSubject, "the %s answered about another subject than requested", r.Agency)
		}
	}
	if c.relation == "" || !svc.Allows(c.relation) || (c.relation == form.Self && c.requester != c.subject) {
		return refuse(RuleAuthorization, "the requester is not entitled to this document for this subject")
	}

	if c.schema == nil || c.schema.ID != svc.ID {
		return refuse(RuleSchema, "the %s template has no schema to keep to", svc.ID)
	}
	declared := make(map[string]form.Field, len(svc.Fields))
	for _, f := range svc.Fields {
		declared[f.Key] = f
	}
	seen := map[string]bool{}
	for _, f := range c.doc.Fields {
		d, ok := declared[f.Key]
		if !ok || d.Class != f.Class || seen[f.Key] {
			return refuse(RuleUndeclared, "the document holds a field the approved template does not declare")
		}
		seen[f.Key] = true
		if slot, ok := c.schema.Slot(f.Key); !ok || slot.Class != f.Class {
			return refuse(RuleSchema, "the document prints %s data in slot %s, which its schema does not bind to that class", f.Class, f.Key)
		}
		if !svc.AllowsClass(f.Class) || !slices.Contains(c.schema.AllowedClasses, f.Class) {
			return refuse(RuleForbiddenClass, "the document holds %s data, which %s may not show", f.Class, svc.ID)
		}
	}

	if c.opts.RRNBack && !subjectAsks(c.subject, c.requester, c.relation) {
		return refuse(RuleRRNBack, "only the subject can ask to show the back digits of their RRN")
	}
	// Values the document declares that have an RRN's shape are not RRNs:
	// its own issuance number (on every page and in the verification URL)
	// and fields of the corporate number class. They are blanked where
	// they stand before the scan, so the scanner itself stays fail-closed.
	number := c.doc.Number
	notRRN := []string{Number(number).Format(), number}
	if c.doc.CheckCode != "" {
		// The check code is random letters and digits: a run of digits
		// in it is not an identifier either.
		notRRN = append(notRRN, c.doc.CheckCode.Format())
	}
	var ownRRN string
	for _, f := range c.doc.Fields {
		if f.Class == linkage.ClassCorporateNumber && f.Text != "" {
			notRRN = append(notRRN, f.Text)
		}
		if f.Class == linkage.ClassRRN {
			ownRRN = digitsOnly(f.Text)
		}
	}
	blank := func(ss []string) []string {
		out := make([]string, len(ss))
		for i, s := range ss {
			for _, v := range notRRN {
				if v != "" {
					s = strings.ReplaceAll(s, v, "#")
				}
			}
			out[i] = s
		}
		return out
	}
	// The strings drawn in the PDF, in drawing order, are scanned as cells:
	// a number split between two of them is found. So are each field's
	// text and each row of its table.
	groups := [][]string{blank(c.rendered)}
	for _, f := range c.doc.Fields {
		groups = append(groups, blank([]string{f.Text}))
		if f.Table != nil {
			for _, row := range f.Table.Rows {
				groups = append(groups, blank(row))
			}
		}
	}
	// The members' back digits may show when someone in the household
	// asked for them; which numbers those are is read from the registry's
	// own record, not from the document.
	memberRRNs := map[string]bool{}
	if c.opts.MemberRRNBack && (subjectAsks(c.subject, c.requester, c.relation) || c.relation == form.HouseholdMember) {
		for _, r := range c.records {
			raw, ok := r.Fields["household"]
			if r.Agency != linkage.Registry || r.Dataset != "person" || !ok {
				continue
			}
			var members []linkage.HouseholdMember
			if json.Unmarshal(raw, &members) == nil {
				for _, m := range members {
					memberRRNs[m.RRN] = true
				}
			}
		}
	}
	for _, g := range groups {
		for _, digits := range ident.FindRRNsInCells(g) {
			if !svc.AllowsClass(linkage.ClassRRN) {
				return refuse(RuleRRNExposed, "the rendered document contains a resident registration number, which %s may not show", svc.ID)
			}
			own := c.opts.RRNBack && digits == ownRRN && subjectAsks(c.subject, c.requester, c.relation)
			if !own && !(c.opts.MemberRRNBack && memberRRNs[digits]) {
				return refuse(RuleRRNBack, "the rendered document shows RRN back digits the subject did not ask to show")
			}
		}
		for _, s := range g {
			if len(ident.FindBusinessNumbers(s)) > 0 && !svc.AllowsClass(linkage.ClassBusinessNumber) {
				return refuse(RuleBRNExposed, "the rendered document contains a business registration number, which %s may not show", svc.ID)
			}
		}
	}
	return nil
}

func digitsOnly(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
