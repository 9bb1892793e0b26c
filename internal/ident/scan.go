package ident

import "strings"

// ContainsRRN reports whether s may hold a resident registration number in
// any spelling: with or without a hyphen, with spaces, en or em dashes,
// minus signs or full-width digits and hyphens, and post-2020 numbers that
// have no check digit. It fails closed: thirteen digits (separators
// ignored) that begin with a calendar date and a sex digit 1–8 count, even
// if they were meant as something else. Use it where text is published or
// kept (reasons, audit details), not to find numbers in a document, where
// the template says which fields may hold one.
func ContainsRRN(s string) bool {
	var run []byte // the digits of the current run of digits and separators
	flush := func() bool {
		found := false
		for i := 0; i+13 <= len(run) && !found; i++ {
			found = plausibleRRN(run[i : i+13])
		}
		run = run[:0]
		return found
	}
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			run = append(run, byte(r))
		case r >= '０' && r <= '９':
			run = append(run, byte(r-'０'+'0'))
		case strings.ContainsRune(rrnSeparators, r):
			// a separator continues the run
		default:
			if flush() {
				return true
			}
		}
	}
	return flush()
}

// rrnSeparators may stand between the digits of a written RRN.
const rrnSeparators = " \t\u00a0-‐‑‒–—―−－_/|"

// plausibleRRN: YYMMDD a calendar date (any century), then a sex digit
// 1–8, then six digits.
func plausibleRRN(d []byte) bool {
	mm := int(d[2]-'0')*10 + int(d[3]-'0')
	dd := int(d[4]-'0')*10 + int(d[5]-'0')
	return mm >= 1 && mm <= 12 && dd >= 1 && dd <= 31 && d[6] >= '1' && d[6] <= '8'
}
