package issuance

import (
	"fmt"
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
)

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
	approvedDigest string // the digest of the approved, active template
	subject        string // the requested subject
	requester      string // the requester's own subject
	relation       form.Requester
	showRRNBack    bool
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
		if !svc.AllowsClass(f.Class) {
			return refuse(RuleForbiddenClass, "the document holds %s data, which %s may not show", f.Class, svc.ID)
		}
	}

	if c.showRRNBack && !subjectAsks(c.subject, c.requester, c.relation) {
		return refuse(RuleRRNBack, "only the subject can ask to show the back digits of their RRN")
	}
	// Exact values the template declares as corporate registration numbers
	// have the RRN's shape; they are allowed where the class is.
	allowed := map[string]bool{}
	var ownRRN string
	for _, f := range c.doc.Fields {
		if f.Class == linkage.ClassCorporateNumber {
			allowed[digitsOnly(f.Text)] = true
		}
		if f.Class == linkage.ClassRRN {
			ownRRN = digitsOnly(f.Text)
		}
	}
	texts := append([]string(nil), c.rendered...)
	for _, f := range c.doc.Fields {
		texts = append(texts, f.Text)
		if f.Table != nil {
			for _, row := range f.Table.Rows {
				texts = append(texts, row...)
			}
		}
	}
	for _, s := range texts {
		for _, tok := range numberTokens(s) {
			switch kind, digits := classifyToken(tok); kind {
			case tokenRRN:
				if allowed[digits] {
					continue
				}
				if !svc.AllowsClass(linkage.ClassRRN) {
					return refuse(RuleRRNExposed, "the rendered document contains a resident registration number, which %s may not show", svc.ID)
				}
				if !c.showRRNBack || digits != ownRRN || !subjectAsks(c.subject, c.requester, c.relation) {
					return refuse(RuleRRNBack, "the rendered document shows RRN back digits the subject did not ask to show")
				}
			case tokenBRN:
				if !svc.AllowsClass(linkage.ClassBusinessNumber) {
					return refuse(RuleBRNExposed, "the rendered document contains a business registration number, which %s may not show", svc.ID)
				}
			}
		}
	}
	return nil
}

// numberTokens splits s into maximal runs of digits and hyphens.
func numberTokens(s string) []string {
	var out []string
	start := -1
	for i := 0; i <= len(s); i++ {
		isNum := i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '-')
		switch {
		case isNum && start < 0:
			start = i
		case !isNum && start >= 0:
			out = append(out, strings.Trim(s[start:i], "-"))
			start = -1
		}
	}
	return out
}

type tokenKind int

const (
	tokenOther tokenKind = iota
	tokenRRN
	tokenBRN
)

// classifyToken recognises checksum-valid RRNs (YYMMDD-SBBBBBC or 13 digits)
// and business numbers (NNN-NN-NNNNN or 10 digits).
func classifyToken(tok string) (tokenKind, string) {
	d := digitsOnly(tok)
	switch {
	case len(d) == 13 && (tok == d || (len(tok) == 14 && tok[6] == '-')):
		if ident.ValidRRN(d) {
			return tokenRRN, d
		}
	case len(d) == 10 && (tok == d || (len(tok) == 12 && tok[3] == '-' && tok[6] == '-')):
		if ident.ValidBusinessNumber(d) {
			return tokenBRN, d
		}
	}
	return tokenOther, d
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
