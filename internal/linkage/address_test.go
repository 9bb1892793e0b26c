package linkage

import (
	"errors"
	"testing"
	"unicode/utf8"
)

func TestParseAddress(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"서울특별시 관악구 행운로 12", "서울특별시 관악구 행운로 12", true},
		{"  경기도  성남시 분당구 판교역로 235-1 ,  101동 1203호 ", "경기도 성남시 분당구 판교역로 235-1, 101동 1203호", true},
		{"세종특별자치시 한솔동 누리로 7", "세종특별자치시 한솔동 누리로 7", true},
		{"서울 관악구 행운로 12", "", false},                 // province abbreviated
		{"서울특별시 관악구 행운동 12", "", false},              // not a road
		{"서울특별시 관악구 행운로 0", "", false},               // building number
		{"서울특별시 관악구 행운로 12a", "", false},             // building number
		{"서울특별시 행운로 12", "", false},                  // no district
		{"서울특별시 관악구 행운로 12, ", "", false},            // empty detail
		{"서울특별시 관악구 행운로 12, <b>", "", false},         // markup in the detail
		{"Seoul Gwanak-gu Haengun-ro 12", "", false}, // not Korean
		{"", "", false},
	} {
		got, err := ParseAddress(tc.in)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("ParseAddress(%q) = %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrAddressFormat) {
			t.Errorf("ParseAddress(%q): %v is not ErrAddressFormat", tc.in, err)
		}
	}
}

func FuzzParseAddress(f *testing.F) {
	f.Add("서울특별시 관악구 행운로 12, 101동 1203호")
	f.Add("경기도 성남시 분당구 판교역로 235-1")
	f.Add("서울특별시 관악구 행운로 12,,")
	f.Fuzz(func(t *testing.T, s string) {
		out, err := ParseAddress(s)
		if err != nil {
			return
		}
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of %q", s)
		}
		again, err := ParseAddress(out)
		if err != nil || again != out {
			t.Fatalf("not idempotent: %q → %q → %q, %v", s, out, again, err)
		}
	})
}
