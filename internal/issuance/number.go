package issuance

import (
	"crypto/rand"
	"math/big"
	"strings"

	verifycore "github.com/minwon/minwon/internal/verify"
)

// A Number is a 16-digit issuance number: 15 random digits and a Luhn check
// digit, so a mistyped number is caught before any lookup. Numbers are
// random, not sequential: knowing one says nothing about another. The
// format is package verify's, which outside verifiers import.
type Number = verifycore.Number

var bound15 = new(big.Int).Exp(big.NewInt(10), big.NewInt(15), nil)

// NewNumber returns a fresh random issuance number.
func NewNumber() Number {
	n, err := rand.Int(rand.Reader, bound15)
	if err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	s := n.String()
	s = strings.Repeat("0", 15-len(s)) + s
	return Number(s + string(verifycore.NumberCheckDigit(s)))
}

// ErrBadNumber reports a string that is not a valid issuance number.
var ErrBadNumber = verifycore.ErrBadNumber

// ParseNumber accepts 16 digits, optionally grouped by hyphens or spaces,
// and checks the check digit.
func ParseNumber(s string) (Number, error) { return verifycore.ParseNumber(s) }
