package issuance

import (
	"crypto/rand"
	"errors"
	"math/big"
	"strings"
)

// A Number is a 16-digit issuance number: 15 random digits and a Luhn check
// digit, so a mistyped number is caught before any lookup. Numbers are
// random, not sequential: knowing one says nothing about another.
type Number string

var bound15 = new(big.Int).Exp(big.NewInt(10), big.NewInt(15), nil)

// NewNumber returns a fresh random issuance number.
func NewNumber() Number {
	n, err := rand.Int(rand.Reader, bound15)
	if err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	s := n.String()
	s = strings.Repeat("0", 15-len(s)) + s
	return Number(s + string(luhnDigit(s)))
}

// luhnDigit returns the check digit to append to digits.
func luhnDigit(digits string) byte {
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

// ErrBadNumber reports a string that is not a valid issuance number.
var ErrBadNumber = errors.New("not a valid issuance number (16 digits with a check digit)")

// ParseNumber accepts 16 digits, optionally grouped by hyphens or spaces in
// fours, and checks the check digit.
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
	d := b.String()
	if len(d) != 16 || luhnDigit(d[:15]) != d[15] {
		return "", ErrBadNumber
	}
	return Number(d), nil
}

// Format groups the number in fours: 1234-5678-9012-3456.
func (n Number) Format() string {
	s := string(n)
	if len(s) != 16 {
		return s
	}
	return s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
}
