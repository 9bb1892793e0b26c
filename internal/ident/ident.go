// Package ident owns the formats of Korean identifiers that minwon handles:
// resident registration numbers (주민등록번호), business registration numbers
// (사업자등록번호) and corporate registration numbers (법인등록번호). It checks
// them (an RRN's check digit only as a hint: numbers assigned since October
// 2020 have none), masks them, and is minwon's one finder of them in text.
//
// Package ident never logs or stores an identifier; it only computes on the
// values it is given.
package ident

import (
	"errors"
	"fmt"
	"time"
)

// ErrFormat reports an identifier that is not in the expected shape.
var ErrFormat = errors.New("identifier has the wrong format")

// ErrChecksum reports an identifier whose check digit does not match.
var ErrChecksum = errors.New("identifier check digit does not match")

var rrnWeights = [12]int{2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5}

// RRNCheckDigit returns the check digit for the first 12 digits of a
// resident registration number. d must hold 12 ASCII digits.
func RRNCheckDigit(d string) byte {
	sum := 0
	for i := 0; i < 12; i++ {
		sum += int(d[i]-'0') * rrnWeights[i]
	}
	return byte('0' + (11-sum%11)%10)
}

// ValidRRN reports whether s is a 13-digit resident registration number
// (hyphen allowed after the sixth digit) with a calendar birth date and a
// sex/century digit 1–8. The check digit is not required: see ParseRRN.
func ValidRRN(s string) bool {
	_, err := ParseRRN(s)
	return err == nil
}

// ParseRRN checks s and returns its 13 digits without the hyphen.
//
// Since October 2020 numbers are assigned as YYMMDD-S and six random digits,
// with no region code and no check digit, both to newborns and to anyone
// whose number is changed (a leak victim may get a new number at any age).
// The assignment date is not in the number, so no birth date tells an old
// number from a new one: a calendar date and a sex digit 1–8 are all that
// is required. RRNHasCheckDigit tells whether a number also passes the
// pre-2020 checksum, as a hint, never as a condition.
func ParseRRN(s string) (string, error) {
	d, ok := digitsWithHyphen(s, 6, 13)
	if !ok {
		return "", ErrFormat
	}
	if d[6] < '1' || d[6] > '8' {
		return "", fmt.Errorf("%w: sex digit must be 1–8", ErrFormat)
	}
	if _, err := RRNBirthDate(d); err != nil {
		return "", err
	}
	return d, nil
}

// RRNHasCheckDigit reports whether the 13 digits d end in the check digit of
// the pre-October-2020 format. Numbers assigned since then usually do not;
// a false answer never makes a number invalid.
func RRNHasCheckDigit(d string) bool {
	return len(d) == 13 && allDigits(d) && RRNCheckDigit(d) == d[12]
}

// RRNBirthDate decodes the birth date from the front six digits and the
// century encoded in the seventh (1,2,5,6: 1900s; 3,4,7,8: 2000s; 9,0: 1800s).
func RRNBirthDate(d string) (time.Time, error) {
	if len(d) < 7 {
		return time.Time{}, ErrFormat
	}
	var century int
	switch d[6] {
	case '1', '2', '5', '6':
		century = 1900
	case '3', '4', '7', '8':
		century = 2000
	case '9', '0':
		century = 1800
	default:
		return time.Time{}, ErrFormat
	}
	y := century + int(d[0]-'0')*10 + int(d[1]-'0')
	m := time.Month(int(d[2]-'0')*10 + int(d[3]-'0'))
	day := int(d[4]-'0')*10 + int(d[5]-'0')
	t := time.Date(y, m, day, 0, 0, 0, 0, time.UTC)
	if t.Month() != m || t.Day() != day || m < 1 || m > 12 {
		return time.Time{}, fmt.Errorf("%w: no such birth date", ErrFormat)
	}
	return t, nil
}

// MaskRRN formats a resident registration number as "YYMMDD-S******": the
// back six digits hidden, as documents show it unless the subject asks.
func MaskRRN(d string) string {
	if len(d) != 13 {
		return "*************"
	}
	return d[:6] + "-" + d[6:7] + "******"
}

// FormatRRN formats 13 digits as "YYMMDD-SBBBBBC".
func FormatRRN(d string) string {
	if len(d) != 13 {
		return d
	}
	return d[:6] + "-" + d[6:]
}

var brnWeights = [9]int{1, 3, 7, 1, 3, 7, 1, 3, 5}

// BusinessNumberCheckDigit returns the check digit for the first nine digits
// of a business registration number.
func BusinessNumberCheckDigit(d string) byte {
	sum := 0
	for i := 0; i < 9; i++ {
		sum += int(d[i]-'0') * brnWeights[i]
	}
	sum += int(d[8]-'0') * 5 / 10
	return byte('0' + (10-sum%10)%10)
}

// ParseBusinessNumber checks a business registration number ("123-45-67890"
// or ten digits) and returns its ten digits.
func ParseBusinessNumber(s string) (string, error) {
	var d string
	switch len(s) {
	case 10:
		d = s
	case 12:
		if s[3] != '-' || s[6] != '-' {
			return "", ErrFormat
		}
		d = s[:3] + s[4:6] + s[7:]
	default:
		return "", ErrFormat
	}
	if !allDigits(d) {
		return "", ErrFormat
	}
	if BusinessNumberCheckDigit(d) != d[9] {
		return "", ErrChecksum
	}
	return d, nil
}

// ValidBusinessNumber reports whether s is a business registration number
// with a matching check digit.
func ValidBusinessNumber(s string) bool {
	_, err := ParseBusinessNumber(s)
	return err == nil
}

// FormatBusinessNumber formats ten digits as "123-45-67890".
func FormatBusinessNumber(d string) string {
	if len(d) != 10 {
		return d
	}
	return d[:3] + "-" + d[3:5] + "-" + d[5:]
}

// CorporateNumberCheckDigit returns the check digit for the first twelve
// digits of a corporate registration number (weights 1,2 alternating).
func CorporateNumberCheckDigit(d string) byte {
	sum := 0
	for i := 0; i < 12; i++ {
		w := 1
		if i%2 == 1 {
			w = 2
		}
		sum += int(d[i]-'0') * w
	}
	return byte('0' + (10-sum%10)%10)
}

// ParseCorporateNumber checks a corporate registration number
// ("110111-1234567" or 13 digits) and returns its 13 digits.
func ParseCorporateNumber(s string) (string, error) {
	d, ok := digitsWithHyphen(s, 6, 13)
	if !ok {
		return "", ErrFormat
	}
	if CorporateNumberCheckDigit(d) != d[12] {
		return "", ErrChecksum
	}
	return d, nil
}

// FormatCorporateNumber formats 13 digits as "110111-1234567".
func FormatCorporateNumber(d string) string { return FormatRRN(d) }

// digitsWithHyphen accepts n digits, optionally with one hyphen after the
// first at digits, and returns the digits.
func digitsWithHyphen(s string, at, n int) (string, bool) {
	switch len(s) {
	case n:
		return s, allDigits(s)
	case n + 1:
		if s[at] != '-' {
			return "", false
		}
		d := s[:at] + s[at+1:]
		return d, allDigits(d)
	}
	return "", false
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}
