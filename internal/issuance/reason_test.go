package issuance

import (
	"errors"
	"strings"
	"testing"

	"github.com/minwon/minwon/internal/ident"
)

// fullWidthDigits spells s's ASCII digits and hyphens full-width.
func fullWidthDigits(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			b.WriteRune('０' + c - '0')
		case c == '-':
			b.WriteRune('－')
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// TestPublicReason: reasons are published forever, so every spelling of an
// RRN and every spelling of a subject's name is refused, standard codes
// publish their text, and plain reasons pass unchanged.
func TestPublicReason(t *testing.T) {
	front, back := aliceRRN[:6], aliceRRN[6:]
	post2020 := "2103153847261" // no check digit
	names := []string{"김민준", "(주)한빛상사", "Lee Seo-yeon"}
	cases := []struct {
		name, reason string
		want         error // nil: accepted
		published    string
	}{
		{"plain", "issued from a wrong template version", nil, "issued from a wrong template version"},
		{"korean plain", "서식 오류로 잘못 발급됨", nil, "서식 오류로 잘못 발급됨"},
		{"standard code", "wrong_template", nil, "승인되지 않은 서식 버전으로 발급됨 (issued from a wrong template version)"},
		{"issuance number is not an RRN", "duplicate of another document", nil, "duplicate of another document"},
		{"surname alone", "김 씨 관련 문의", nil, "김 씨 관련 문의"},

		{"rrn hyphen", "issued to " + front + "-" + back, ErrReasonHasPII, ""},
		{"rrn bare", "issued to " + aliceRRN, ErrReasonHasPII, ""},
		{"rrn space", "issued to " + front + " " + back, ErrReasonHasPII, ""},
		{"rrn spaced hyphen", "issued to " + front + " - " + back, ErrReasonHasPII, ""},
		{"rrn en dash", "issued to " + front + "–" + back, ErrReasonHasPII, ""},
		{"rrn em dash", "issued to " + front + "—" + back, ErrReasonHasPII, ""},
		{"rrn minus sign", "issued to " + front + "−" + back, ErrReasonHasPII, ""},
		{"rrn full-width", "issued to " + fullWidthDigits(front+"-"+back), ErrReasonHasPII, ""},
		{"rrn full-width bare", fullWidthDigits(aliceRRN) + " 건", ErrReasonHasPII, ""},
		{"rrn digits spaced", "no. 9 0 0 1 0 1 - 1 2 3 4 5 6 8", ErrReasonHasPII, ""},
		{"rrn dotted", "no. " + front + "." + back, ErrReasonHasPII, ""},
		{"post-2020 no check digit", "child " + post2020[:6] + "-" + post2020[6:] + " listed twice", ErrReasonHasPII, ""},
		{"post-2020 full-width", "자녀 " + fullWidthDigits(post2020[:6]+"-"+post2020[6:]), ErrReasonHasPII, ""},

		{"name", "김민준 님께 잘못 발급", ErrReasonHasName, ""},
		{"name spaced", "김 민 준 님께 잘못 발급", ErrReasonHasName, ""},
		{"name middle dot", "김·민준 님께 잘못 발급", ErrReasonHasName, ""},
		{"name zero-width", "김\u200b민준 님께", ErrReasonHasName, ""},
		{"name decomposed hangul", "\u1100\u1175\u11b7\u1106\u1175\u11ab\u110c\u116e\u11ab에게", ErrReasonHasName, ""},
		{"company", "한빛상사 대표 서류 오류", ErrReasonHasName, ""},
		{"latin name, case and hyphen", "issued to LEE SEOYEON by mistake", ErrReasonHasName, ""},
		{"latin name full-width", "issued to Ｌｅｅ Ｓｅｏ-ｙｅｏｎ", ErrReasonHasName, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PublicReason(tc.reason, names)
			if tc.want == nil {
				if err != nil || got != tc.published {
					t.Fatalf("PublicReason(%q) = %q, %v; want %q", tc.reason, got, err, tc.published)
				}
				return
			}
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrBadRequest) {
				t.Fatalf("PublicReason(%q) = %q, %v; want %v", tc.reason, got, err, tc.want)
			}
		})
	}
}

func TestStandardReasonsArePublicSafe(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range StandardReasons {
		if seen[r.Code] || r.Ko == "" || r.En == "" {
			t.Errorf("standard reason %+v: duplicate or missing text", r)
		}
		seen[r.Code] = true
		if _, err := PublicReason(r.Text(), nil); err != nil {
			t.Errorf("standard reason %s's text is refused: %v", r.Code, err)
		}
	}
}

func TestSubjectNames(t *testing.T) {
	data := []byte(`{"document":{"number":"1","fields":[
		{"key":"name","class":"name","text":"김민준"},
		{"key":"company","class":"company_name","text":"한빛상사"},
		{"key":"address","class":"address","text":"서울"},
		{"key":"members","class":"household","table":{"columns":["관계","성명","생년월일"],"rows":[["본인","김민준","1990-01-01"],["배우자","이서연","1991-02-02"]]}}
	]},"key_id":"k","signature":"s"}`)
	got, err := SubjectNames(data)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "김민준,한빛상사,김민준,이서연" {
		t.Errorf("SubjectNames = %q", got)
	}
}

// FuzzPublicReason: whatever a free text, an accepted reason holds no RRN
// in any spelling the finder knows, and never the subject's name.
func FuzzPublicReason(f *testing.F) {
	f.Add("issued from a wrong template version", "김민준")
	f.Add("900101-1234568", "x")
	f.Add("김 민 준", "김민준")
	f.Add("wrong_subject", "")
	f.Fuzz(func(t *testing.T, reason, name string) {
		got, err := PublicReason(reason, []string{name})
		if err != nil {
			return
		}
		if ident.ContainsRRN(got) || ident.ContainsRRN(foldReason(got)) {
			t.Fatalf("accepted %q, which holds an RRN", got)
		}
		if n := foldReason(name); len([]rune(n)) >= 2 && strings.Contains(foldReason(got), n) {
			if _, std := StandardReasonByCode(reason); !std {
				t.Fatalf("accepted %q, which names %q", got, name)
			}
		}
	})
}
