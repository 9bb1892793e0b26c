package ident

import (
	"strings"
	"unicode/utf8"
)

// This file is minwon's one finder of identifiers in text: pre-issuance
// verification, revocation reasons, audit details and the counter's purpose
// all ask it, so a spelling it learns is learnt everywhere.

// ContainsRRN reports whether s may hold a resident registration number in
// any spelling FindRRNs finds. Use it where text is published or kept
// (reasons, audit details, purposes).
func ContainsRRN(s string) bool { return len(FindRRNs(s)) > 0 }

// FindRRNs returns the 13 digits of everything in s that may be a resident
// registration number: with or without a hyphen, with spaces, en or em
// dashes, minus signs, full-width digits and hyphens, and post-2020 numbers
// that have no check digit. It fails closed: any thirteen consecutive digits
// of a run of digits and separators that begin with a plausible date and a
// sex digit 1–8 are found, even if they were meant as something else; the
// caller excludes values it declared (an issuance number, a corporate
// number), never the finder. Findings may overlap.
func FindRRNs(s string) []string {
	var found []string
	for _, r := range digitRuns(s) {
		found = append(found, r.rrns()...)
	}
	return found
}

// RRNRedacted stands in place of what RedactRRNs removed.
const RRNRedacted = "[RRN redacted]"

// RedactRRNs returns s with every run of digits and separators in which
// FindRRNs finds an RRN replaced, whole, by RRNRedacted: for log lines and
// other text that must keep its shape but not the number.
func RedactRRNs(s string) string {
	var b strings.Builder
	last := 0
	for _, r := range digitRuns(s) {
		if len(r.rrns()) == 0 {
			continue
		}
		b.WriteString(s[last:r.start])
		b.WriteString(RRNRedacted)
		last = r.end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// FindRRNsInCells finds resident registration numbers in the cells of one
// table row, or in strings drawn one after the other: in each cell as
// FindRRNs does, and split across two adjacent cells, as "900101" | "1234568"
// or "900101-" | "1234568". Across a boundary the number must be the whole
// of the digits that meet there (the end of one cell, the start of the
// next), or a six-digit front and a seven-digit back each made of whole
// groups of digits (a group ends at a separator or the cell's edge). Joining
// any digits that meet would make legitimate neighbours into RRNs: a birth
// date cell "2018-05-11" and a masked "180511-3******", a student number
// "2012-28843" and the admission date "2012-03-02".
func FindRRNsInCells(cells []string) []string {
	var found []string
	for i, c := range cells {
		found = append(found, FindRRNs(c)...)
		if i+1 < len(cells) {
			found = append(found, acrossCells(c, cells[i+1])...)
		}
	}
	return found
}

// acrossCells finds an RRN that begins in a's last run of digits and ends
// in b's first.
func acrossCells(a, b string) []string {
	ra, rb := digitRuns(a), digitRuns(b)
	if len(ra) == 0 || len(rb) == 0 || !ra[len(ra)-1].atEnd || !rb[0].atStart {
		return nil
	}
	tail, head := ra[len(ra)-1], rb[0]
	var found []string
	if d := tail.digits() + head.digits(); len(d) == 13 && plausibleRRN(d) {
		found = append(found, d)
	}
	front, back := "", ""
	for i := len(tail.groups) - 1; i >= 0 && len(front) < 6; i-- {
		front = tail.groups[i] + front
	}
	for i := 0; i < len(head.groups) && len(back) < 7; i++ {
		back += head.groups[i]
	}
	if d := front + back; len(front) == 6 && len(back) == 7 && plausibleRRN(d) {
		found = append(found, d)
	}
	return found
}

// A digitRun is a maximal run of digits and separators, as its groups of
// consecutive digits (full-width digits made ASCII).
type digitRun struct {
	groups         []string
	atStart, atEnd bool // nothing but separators before it, after it
	start, end     int  // byte offsets of its first digit and after its last
}

func (r digitRun) digits() string { return strings.Join(r.groups, "") }

// rrns returns every plausible RRN among the run's 13 consecutive digits.
func (r digitRun) rrns() []string {
	var found []string
	d := r.digits()
	for i := 0; i+13 <= len(d); i++ {
		if plausibleRRN(d[i : i+13]) {
			found = append(found, d[i:i+13])
		}
	}
	return found
}

func digitRuns(s string) []digitRun {
	var (
		runs  []digitRun
		cur   *digitRun
		group []byte
		lead  = true // only separators so far
	)
	endGroup := func() {
		if len(group) > 0 {
			cur.groups = append(cur.groups, string(group))
			group = group[:0]
		}
	}
	for i, r := range s {
		var digit byte
		switch {
		case r >= '0' && r <= '9':
			digit = byte(r)
		case r >= '０' && r <= '９':
			digit = byte(r - '０' + '0')
		case strings.ContainsRune(rrnSeparators, r):
			if cur != nil {
				endGroup()
			}
			continue
		default:
			if cur != nil {
				endGroup()
				runs = append(runs, *cur)
				cur = nil
			}
			lead = false
			continue
		}
		if cur == nil {
			cur = &digitRun{atStart: lead, start: i}
		}
		cur.end = i + utf8.RuneLen(r)
		group = append(group, digit)
	}
	if cur != nil {
		endGroup()
		cur.atEnd = true
		runs = append(runs, *cur)
	}
	return runs
}

// rrnSeparators may stand between the digits of a written RRN: spaces
// (including no-break, thin and ideographic), invisible joiners, every
// dash and hyphen, and the marks people use for a cell boundary.
const rrnSeparators = " \t\r\n\u00a0\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u3000" +
	"\u00ad\u200b\u200c\u200d\u2060\ufeff" +
	"-‐‑‒–—―−－﹘﹣_/|"

// plausibleRRN: YYMMDD a calendar date (any century), then a sex digit
// 1–8, then six digits.
func plausibleRRN(d string) bool {
	mm := int(d[2]-'0')*10 + int(d[3]-'0')
	dd := int(d[4]-'0')*10 + int(d[5]-'0')
	return mm >= 1 && mm <= 12 && dd >= 1 && dd <= 31 && d[6] >= '1' && d[6] <= '8'
}

// FindBusinessNumbers returns the ten digits of every business registration
// number in s, written "123-45-67890" or as ten digits, with a matching
// check digit. Unlike an RRN, a business number is public: this finds it
// only so a template that does not declare one refuses to show it.
func FindBusinessNumbers(s string) []string {
	var found []string
	start := -1
	for i := 0; i <= len(s); i++ {
		isNum := i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '-')
		switch {
		case isNum && start < 0:
			start = i
		case !isNum && start >= 0:
			tok := strings.Trim(s[start:i], "-")
			start = -1
			if d, err := ParseBusinessNumber(tok); err == nil {
				found = append(found, d)
			}
		}
	}
	return found
}
