package ident

import (
	"errors"
	"testing"
	"time"
)

func TestParseRRN(t *testing.T) {
	valid := "900101123456" + string(RRNCheckDigit("900101123456"))
	wrongCheck := valid[:12] + string('0'+(valid[12]-'0'+1)%10)
	tests := []struct {
		in   string
		want error
	}{
		{valid, nil},
		{valid[:6] + "-" + valid[6:], nil},
		{wrongCheck, nil},            // the check digit is a pre-2020 hint, never required
		{"2103153847261", nil},       // post-2020: born March 2021, random back digits
		{"201005-4000000", nil},      // post-2020, with a hyphen
		{"8505051999990", nil},       // re-assigned new-format number of someone born 1985
		{"9001019234567", ErrFormat}, // sex digit 9
		{"9001010234567", ErrFormat}, // sex digit 0
		{"", ErrFormat},
		{valid[:12], ErrFormat},
		{valid[:6] + " " + valid[6:], ErrFormat},
		{"901301123456" + string(RRNCheckDigit("901301123456")), ErrFormat}, // month 13
		{"900230123456" + string(RRNCheckDigit("900230123456")), ErrFormat}, // 30 Feb
		{"9001015234567", nil},            // foreigner digit is accepted
		{"210230" + "3123456", ErrFormat}, // 30 Feb 2021
		{"90010a1234567", ErrFormat},
	}
	for _, tt := range tests {
		d, err := ParseRRN(tt.in)
		if !errors.Is(err, tt.want) {
			t.Errorf("ParseRRN(%q) = %q, %v; want %v", tt.in, d, err, tt.want)
		}
	}
	if !RRNHasCheckDigit(valid) || RRNHasCheckDigit(wrongCheck) || RRNHasCheckDigit(valid[:12]) {
		t.Error("RRNHasCheckDigit does not tell the pre-2020 checksum")
	}
	post := "2103153847261"
	if b, err := RRNBirthDate(post); err != nil || !b.Equal(time.Date(2021, 3, 15, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("RRNBirthDate(%s) = %v, %v", post, b, err)
	}
	if MaskRRN(post) != "210315-3******" || FormatRRN(post) != "210315-3847261" {
		t.Errorf("post-2020 number formats as %q, masks as %q", FormatRRN(post), MaskRRN(post))
	}
	b, err := RRNBirthDate(valid)
	if err != nil || !b.Equal(time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("RRNBirthDate = %v, %v", b, err)
	}
	if b, _ := RRNBirthDate("0503013"); b.Year() != 2005 {
		t.Errorf("century digit 3 gave year %d", b.Year())
	}
	if got := MaskRRN(valid); got != "900101-1******" {
		t.Errorf("MaskRRN = %q", got)
	}
	if got := FormatRRN(valid); got != valid[:6]+"-"+valid[6:] {
		t.Errorf("FormatRRN = %q", got)
	}
}

func TestBusinessAndCorporateNumbers(t *testing.T) {
	brn := "123810000" + string(BusinessNumberCheckDigit("123810000"))
	if d, err := ParseBusinessNumber(FormatBusinessNumber(brn)); err != nil || d != brn {
		t.Errorf("ParseBusinessNumber(%s) = %q, %v", FormatBusinessNumber(brn), d, err)
	}
	// A published example: 220-81-62517 is a valid number.
	if !ValidBusinessNumber("220-81-62517") {
		t.Error("220-81-62517 refused")
	}
	for _, bad := range []string{"220-81-62518", "2208162517x", "220-8162517", ""} {
		if ValidBusinessNumber(bad) {
			t.Errorf("ValidBusinessNumber(%q) = true", bad)
		}
	}
	cn := "110111123456" + string(CorporateNumberCheckDigit("110111123456"))
	if d, err := ParseCorporateNumber(FormatCorporateNumber(cn)); err != nil || d != cn {
		t.Errorf("ParseCorporateNumber = %q, %v", d, err)
	}
	if _, err := ParseCorporateNumber(cn[:12] + string('0'+(cn[12]-'0'+1)%10)); !errors.Is(err, ErrChecksum) {
		t.Errorf("wrong corporate check digit: %v", err)
	}
}

// FuzzParseRRN: no input panics, and every accepted number round-trips and
// really has a birth date and a sex digit 1–8 (the check digit is optional
// since October 2020).
func FuzzParseRRN(f *testing.F) {
	f.Add("900101-1234568")
	f.Add("0000000000000")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseRRN(s)
		if err != nil {
			return
		}
		if len(d) != 13 || !allDigits(d) || d[6] < '1' || d[6] > '8' {
			t.Fatalf("accepted %q as %q", s, d)
		}
		if again, err := ParseRRN(FormatRRN(d)); err != nil || again != d {
			t.Fatalf("%q does not round-trip: %q, %v", d, again, err)
		}
		if _, err := RRNBirthDate(d); err != nil {
			t.Fatalf("accepted %q without a birth date", d)
		}
	})
}
