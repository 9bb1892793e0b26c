package ident

import (
	"slices"
	"strings"
	"testing"
)

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
		{"900101−1234568", true}, // minus sign
		{"900101‐1234568", true}, // hyphen
		{"900101\u00a01234568", true},
		{"900101\u3000－\u30001234568", true},
		{"９００１０１－１２３４５６８", true}, // full-width
		{"９００１０１-1234568", true},
		{"900101-\u200b1234568", true}, // zero-width space
		{"9 0 0 1 0 1 - 1 2 3 4 5 6 8", true},
		{"210315-3847261", true}, // post-2020: no check digit to rely on
		{"2103153847262", true},
		{"주민번호는 900101-1234567 입니다", true},
		{"대표자(900101-1234568)", true},
		{"900101|1234568", true},   // split across two table cells, flattened
		{"12900101-1234568", true}, // inside a longer run: fail closed
		{"900101-9234568", false},  // sex digit 9
		{"901301-1234568", false},  // month 13
		{"900100-1234568", false},  // day 00
		{"900101-123456", false},   // twelve digits
		{"900101-1******", false},  // masked
		{"사업자등록번호 123-45-67890", false},
		{"left the office", false},
		{"", false},
		{"2026.11.30 09:00", false},
		{"2026년 03월 01일 (2026-03-01)", false},
		{"1,234,000원", false},
		{"02-1234-5678", false},
		{"010-1234-5678", false},
		{"H000000001", false},
	}
	for _, tc := range cases {
		if got := ContainsRRN(tc.s); got != tc.want {
			t.Errorf("ContainsRRN(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

func TestFindRRNsDigits(t *testing.T) {
	got := FindRRNs("a ９００１０１ – １２３４５６８ b 210315-3847261 c")
	want := []string{"9001011234568", "2103153847261"}
	if !slices.Equal(got, want) {
		t.Errorf("FindRRNs = %q, want %q", got, want)
	}
}

func TestFindRRNsInCells(t *testing.T) {
	cases := []struct {
		name  string
		cells []string
		want  string // the digits found, "" for none
	}{
		{"front and back in two cells", []string{"900101", "1234568"}, "9001011234568"},
		{"hyphen left in the first cell", []string{"900101-", "1234568"}, "9001011234568"},
		{"hyphen in the second cell", []string{"대표자", "900101", "- 1234568"}, "9001011234568"},
		{"labels around the halves", []string{"주민번호 900101", "1234568 (대표)"}, "9001011234568"},
		{"full-width halves", []string{"９００１０１", "－１２３４５６８"}, "9001011234568"},
		{"en dash, post-2020", []string{"210315 –", "3847261"}, "2103153847261"},
		{"split elsewhere", []string{"9001011", "234568"}, "9001011234568"},
		{"whole number in one cell", []string{"김민준", "900101 1234568", "서울"}, "9001011234568"},
		{"birth date next to a masked RRN", []string{"2018-05-11", "180511-3******"}, ""},
		{"two dates", []string{"2015-03-02", "2015-03-02"}, ""},
		{"student number and admission date", []string{"2012-28843", "2012-03-02"}, ""},
		{"year and amount", []string{"2021", "136,833,570원"}, ""},
		{"date and phone", []string{"2015-03-02", "010-1234-5678"}, ""},
		{"name then masked RRN", []string{"우하석", "2018-05-11", "180511-3******", "161022-4******"}, ""},
		{"halves not adjacent", []string{"900101", "x", "1234568"}, ""},
		{"text between the halves", []string{"900101 번", "1234568"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := FindRRNsInCells(tc.cells)
			if tc.want == "" {
				if len(got) > 0 {
					t.Fatalf("found %q in %q", got, tc.cells)
				}
				return
			}
			if !slices.Contains(got, tc.want) {
				t.Fatalf("FindRRNsInCells(%q) = %q, want %s among them", tc.cells, got, tc.want)
			}
		})
	}
}

func TestFindBusinessNumbers(t *testing.T) {
	for s, want := range map[string]int{
		"사업자등록번호 220-81-62517": 1,
		"2208162517":           1,
		"220-81-62518":         0,
		"1234-5678-9012-3452":  0,
		"220-8162517":          0,
	} {
		if got := len(FindBusinessNumbers(s)); got != want {
			t.Errorf("FindBusinessNumbers(%q) found %d, want %d", s, got, want)
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

// spellings writes the 13 digits d the ways people do.
var spellings = []func(d string) string{
	func(d string) string { return d },
	func(d string) string { return d[:6] + "-" + d[6:] },
	func(d string) string { return d[:6] + " " + d[6:] },
	func(d string) string { return d[:6] + " - " + d[6:] },
	func(d string) string { return d[:6] + "–" + d[6:] },
	func(d string) string { return d[:6] + "—" + d[6:] },
	func(d string) string { return d[:6] + "−" + d[6:] },
	func(d string) string { return fullWidth(d[:6]) + "－" + fullWidth(d[6:]) },
}

func fullWidth(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r - '0' + '０'
		}
		return r
	}, s)
}

// FuzzFindRRN: any number with a plausible date and sex digit, in any
// spelling, between any texts, is found with its digits, in one string and
// split across two cells; and no input panics or yields a finding that is
// not thirteen plausible digits.
func FuzzFindRRN(f *testing.F) {
	f.Add("대표자 ", " 입니다", uint64(9001011234568), uint8(1))
	f.Add("2018-05-11", "", uint64(2103153847261), uint8(7))
	f.Add("", "9", uint64(0), uint8(3))
	f.Fuzz(func(t *testing.T, before, after string, n uint64, how uint8) {
		for _, got := range FindRRNsInCells([]string{before, after, before + after}) {
			if len(got) != 13 || !allDigits(got) || !plausibleRRN(got) {
				t.Fatalf("finding %q is not RRN-shaped", got)
			}
		}
		d := []byte{byte('0' + n/1e12%10), byte('0' + n/1e11%10), '0', byte('1' + n%9), '1', byte('0' + n/1e9%3),
			byte('1' + n/1e8%8)}
		for i := 0; i < 6; i++ {
			d = append(d, byte('0'+n>>(i*4)%10))
		}
		digits := string(d)
		if !plausibleRRN(digits) {
			return
		}
		spelled := spellings[int(how)%len(spellings)](digits)
		if got := FindRRNs(before + " " + spelled + " " + after); !slices.Contains(got, digits) {
			t.Fatalf("missed %q between %q and %q: %q", spelled, before, after, got)
		}
		cut, seen := 0, 0 // just after the sixth digit
		for i, r := range spelled {
			if seen == 6 {
				cut = i
				break
			}
			if r != ' ' && !strings.ContainsRune("-–—−－", r) {
				seen++
			}
		}
		cells := []string{before, spelled[:cut], spelled[cut:], after}
		if got := FindRRNsInCells(cells); !slices.Contains(got, digits) {
			t.Fatalf("missed %q split as %q: %q", spelled, cells, got)
		}
	})
}

func TestRedactRRNs(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"no number here", "no number here"},
		{"rrn 900101-1234568 end", "rrn [RRN redacted] end"},
		{"9001011234568", "[RRN redacted]"},
		{"x 900101 – 1234568, y", "x [RRN redacted], y"},
		{"full ９００１０１－１２３４５６８!", "full [RRN redacted]!"},
		{"post-2020: 0501014123456 and 2024-01-01", "post-2020: [RRN redacted] and 2024-01-01"},
		{"fail closed: 2020 0501014123456", "fail closed: [RRN redacted]"},
		{"two 900101-1234568 and 850505-2345678.", "two [RRN redacted] and [RRN redacted]."},
		{"issued 2024-05-11, count 42", "issued 2024-05-11, count 42"},
	} {
		got := RedactRRNs(tc.in)
		if got != tc.want {
			t.Errorf("RedactRRNs(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if ContainsRRN(got) {
			t.Errorf("RedactRRNs(%q) = %q still holds an RRN", tc.in, got)
		}
	}
}

func FuzzRedactRRNs(f *testing.F) {
	for _, s := range []string{"900101-1234568", "a ９００１０１－１２３４５６８ b", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got := RedactRRNs(s); ContainsRRN(got) {
			t.Fatalf("RedactRRNs(%q) = %q still holds an RRN", s, got)
		}
	})
}
