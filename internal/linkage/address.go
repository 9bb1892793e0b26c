package linkage

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrAddressFormat: a text is not a road-name address (도로명주소) the
// registry can record.
var ErrAddressFormat = errors.New("not a road-name address")

// provinces are the seventeen first-level divisions an address starts with,
// by their full names as the registry records them.
var provinces = []string{
	"서울특별시", "부산광역시", "대구광역시", "인천광역시", "광주광역시", "대전광역시", "울산광역시",
	"세종특별자치시", "경기도", "강원특별자치도", "충청북도", "충청남도", "전북특별자치도", "전라남도",
	"경상북도", "경상남도", "제주특별자치도",
}

// ParseAddress checks that s is a road-name address as the resident
// registry records it — province, one or two divisions (시, 군, 구, 읍, 동),
// a road name ending in 로 or 길, the building number (12 or 12-3), and an
// optional ", detail" (동, 호) — and returns it with spaces normalised. The
// error says what is wrong, never echoing more than the part at fault.
func ParseAddress(s string) (string, error) {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > 200 {
		return "", fmt.Errorf("%w: at most 200 characters of text", ErrAddressFormat)
	}
	main, detail, hasDetail := strings.Cut(s, ",")
	fields := strings.Fields(main)
	if len(fields) < 4 || len(fields) > 5 {
		return "", fmt.Errorf("%w: expected province, city or district, road and building number, e.g. 서울특별시 관악구 행운로 12", ErrAddressFormat)
	}
	known := false
	for _, p := range provinces {
		known = known || fields[0] == p
	}
	if !known {
		return "", fmt.Errorf("%w: it must start with the full name of a province or metropolitan city (e.g. 서울특별시, 경기도)", ErrAddressFormat)
	}
	for _, d := range fields[1 : len(fields)-2] {
		if !hangulEndingIn(d, "시군구읍면동") {
			return "", fmt.Errorf("%w: %q is not a city, county or district name", ErrAddressFormat, d)
		}
	}
	if road := fields[len(fields)-2]; !hangulEndingIn(road, "로길") {
		return "", fmt.Errorf("%w: the road name must end in 로 or 길", ErrAddressFormat)
	}
	if !buildingNumber(fields[len(fields)-1]) {
		return "", fmt.Errorf("%w: the building number must be digits, e.g. 12 or 12-3", ErrAddressFormat)
	}
	out := strings.Join(fields, " ")
	if hasDetail {
		d := strings.Join(strings.Fields(detail), " ")
		if d == "" || utf8.RuneCountInString(d) > 60 {
			return "", fmt.Errorf("%w: the detail after the comma (e.g. 101동 1203호) must be 1 to 60 characters", ErrAddressFormat)
		}
		for _, r := range d {
			if !unicode.Is(unicode.Hangul, r) && !unicode.IsDigit(r) && r != ' ' && r != '-' && !(r >= 'A' && r <= 'Z') {
				return "", fmt.Errorf("%w: the detail may hold Hangul, digits, capital letters, spaces and hyphens", ErrAddressFormat)
			}
		}
		out += ", " + d
	}
	return out, nil
}

// hangulEndingIn: s is two or more Hangul syllables or digits, the last one
// of suffixes.
func hangulEndingIn(s, suffixes string) bool {
	if utf8.RuneCountInString(s) < 2 {
		return false
	}
	for _, r := range s {
		if !unicode.Is(unicode.Hangul, r) && !unicode.IsDigit(r) {
			return false
		}
	}
	last, _ := utf8.DecodeLastRuneInString(s)
	return strings.ContainsRune(suffixes, last)
}

func buildingNumber(s string) bool {
	main, sub, hasSub := strings.Cut(s, "-")
	digits := func(p string) bool {
		if p == "" || len(p) > 5 || p[0] == '0' {
			return false
		}
		return strings.Trim(p, "0123456789") == ""
	}
	return digits(main) && (!hasSub || digits(sub))
}
