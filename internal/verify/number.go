package verify

import (
	"errors"
	"strings"
)

// A Number is a 16-digit issuance number: 15 digits and a Luhn check digit,
// so a mistyped number is caught before any lookup. This is the one
// definition of the format; package issuance mints numbers with it.
type Number string

// ErrBadNumber reports a string that is not a valid issuance number.
var ErrBadNumber = errors.New("not a valid issuance number (16 digits with a check digit)")

// NumberCheckDigit returns the Luhn check digit to append to 15 digits.
func NumberCheckDigit(digits string) byte {
	sum := 0
	double := true // the rightmost payload digit is doubled
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return byte('0' + (10-sum%10)%10)
}

// ValidNumber says whether s is an issuance number in canonical form:
// exactly 16 digits, the last the check digit.
func ValidNumber(s string) bool {
	if len(s) != 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return NumberCheckDigit(s[:15]) == s[15]
}

// ParseNumber accepts 16 digits, optionally grouped by hyphens or spaces,
// and checks the check digit.
func ParseNumber(s string) (Number, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			b.WriteByte(c)
		case c == '-' || c == ' ':
		default:
			return "", ErrBadNumber
		}
		if b.Len() > 16 {
			return "", ErrBadNumber
		}
	}
	if d := b.String(); ValidNumber(d) {
		return Number(d), nil
	}
	return "", ErrBadNumber
}

// Format groups the number in fours: 1234-5678-9012-3456.
func (n Number) Format() string {
	s := string(n)
	if len(s) != 16 {
		return s
	}
	return s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
}
