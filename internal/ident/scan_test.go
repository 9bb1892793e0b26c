package ident

import "testing"

func TestContainsRRN(t *testing.T) {
	cases := []struct {
		s    string
		want bool
	}{
		{"900101-1234568", true},
		{"9001011234568", true},
		{"900101 1234568", true},
		{"900101 - 1234568", true},
		{"900101–1234568", true}, // en dash
		{"900101—1234568", true}, // em dash
		{"９００１０１－１２３４５６８", true}, // full-width
		{"210315-3847261", true}, // post-2020: no check digit to rely on
		{"주민번호는 900101-1234567 입니다", true},
		{"900101|1234568", true},  // split across two table cells
		{"900101-9234568", false}, // sex digit 9
		{"901301-1234568", false}, // month 13
		{"900100-1234568", false}, // day 00
		{"900101-123456", false},  // twelve digits
		{"사업자등록번호 123-45-67890", false},
		{"left the office", false},
		{"", false},
		{"2026.11.30 09:00", false},
	}
	for _, tc := range cases {
		if got := ContainsRRN(tc.s); got != tc.want {
			t.Errorf("ContainsRRN(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

func FuzzContainsRRN(f *testing.F) {
	f.Add("900101-1234568")
	f.Add("９００１０１－１２３４５６８")
	f.Add("no digits")
	f.Fuzz(func(t *testing.T, s string) {
		// Whatever surrounds a hyphenated RRN, it is found.
		if !ContainsRRN(s + " 900101-1234568 ") {
			t.Fatalf("missed an RRN after %q", s)
		}
		ContainsRRN(s)
	})
}
