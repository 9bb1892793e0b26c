package issuance

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/minwon/minwon/internal/ident"
	"github.com/minwon/minwon/internal/keyring"
	"github.com/minwon/minwon/internal/linkage"
)

// A revocation reason is published in the transparency log forever and
// shown by every verifier, so it must never hold personal data. Operators
// pick a standard reason by code; a free text is accepted only if it holds
// no resident registration number in any spelling and no name of a
// subject of the documents it revokes.

// ErrReasonHasName refuses a revocation reason that names a data subject.
var ErrReasonHasName = errors.New("the reason contains the name of a data subject; reasons are public")

// StandardReason is a reason operators can give by its code.
type StandardReason struct {
	Code string `json:"code"`
	Ko   string `json:"ko"`
	En   string `json:"en"`
}

// Text is what the log publishes for the reason: Korean, then English.
func (r StandardReason) Text() string { return r.Ko + " (" + r.En + ")" }

// StandardReasons are the reasons operators are offered.
var StandardReasons = []StandardReason{
	{"wrong_subject", "다른 사람의 정보로 발급됨", "issued with another person's data"},
	{"wrong_fields", "서식 오류로 잘못된 항목이 기재됨", "a form error printed the wrong fields"},
	{"wrong_template", "승인되지 않은 서식 버전으로 발급됨", "issued from a wrong template version"},
	{"source_data_error", "원천 기관 자료 오류", "the source agency's data was wrong"},
	{"key_compromise", "서명 키 유출 또는 폐기", "the signing key was compromised or revoked"},
	{"issued_in_error", "발급 오류", "issued in error"},
	{"superseded", "재발급으로 대체됨", "superseded by a reissued document"},
	{"requester_request", "신청인 요청에 의한 취소", "cancelled at the requester's request"},
}

// StandardReasonByCode returns the standard reason with code.
func StandardReasonByCode(code string) (StandardReason, bool) {
	i := slices.IndexFunc(StandardReasons, func(r StandardReason) bool { return r.Code == code })
	if i < 0 {
		return StandardReason{}, false
	}
	return StandardReasons[i], true
}

// PublicReason returns the text to publish for reason: a standard reason's
// text if reason is its code, else reason itself once it is shown to be
// public-safe. names are the names of the subjects of the documents being
// revoked, where known (a purged document's are not). The errors wrap
// ErrBadRequest and say which rule refused.
func PublicReason(reason string, names []string) (string, error) {
	if r, ok := StandardReasonByCode(reason); ok {
		return r.Text(), nil
	}
	if err := keyring.CheckReason(reason); err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if ident.ContainsRRN(reason) || ident.ContainsRRN(foldReason(reason)) {
		return "", fmt.Errorf("%w: %w", ErrBadRequest, ErrReasonHasPII)
	}
	folded := foldReason(reason)
	for _, n := range names {
		for _, fn := range []string{foldReason(n), foldReason(corporateForm.Replace(norm.NFKC.String(n)))} {
			// One character is a surname at most, and matches everything.
			if len([]rune(fn)) >= 2 && strings.Contains(folded, fn) {
				return "", fmt.Errorf("%w: %w", ErrBadRequest, ErrReasonHasName)
			}
		}
	}
	return reason, nil
}

// corporateForm removes the legal form from a company's name: a reason
// says "한빛상사", the register "(주)한빛상사".
var corporateForm = strings.NewReplacer("(주)", "", "㈜", "", "주식회사", "", "(유)", "", "유한회사", "", "(사)", "", "사단법인", "", "(재)", "", "재단법인", "")

// foldReason is s in a form where spellings of one name meet: NFKC
// (full-width letters and digits, decomposed Hangul), lower case, and
// without spaces, punctuation, dashes and invisible characters, so that
// "김 민준", "김·민준" and "김\u200b민준" all read "김민준".
func foldReason(s string) string {
	s = norm.NFKC.String(s)
	var b strings.Builder
	for _, c := range s {
		switch {
		case unicode.IsLetter(c) || unicode.IsDigit(c):
			b.WriteRune(unicode.ToLower(c))
		case unicode.IsSpace(c), unicode.IsPunct(c), unicode.Is(unicode.Cf, c), unicode.IsSymbol(c), unicode.IsMark(c):
			// dropped: separators inside a name
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// SubjectNames returns the names of persons and companies a document's
// data.json shows: fields of the name and company-name classes, and the
// name column of its tables (household members are data subjects too).
func SubjectNames(dataJSON []byte) ([]string, error) {
	var env struct {
		Document *Document `json:"document"`
	}
	var doc Document
	if err := json.Unmarshal(dataJSON, &env); err == nil && env.Document != nil {
		doc = *env.Document
	} else if err := json.Unmarshal(dataJSON, &doc); err != nil {
		return nil, fmt.Errorf("data.json: %w", err)
	}
	var names []string
	for _, f := range doc.Fields {
		switch {
		case f.Class == linkage.ClassName || f.Class == linkage.ClassCompanyName:
			if f.Text != "" {
				names = append(names, f.Text)
			}
		case f.Table != nil:
			for ci, col := range f.Table.Columns {
				if !nameColumn(col) {
					continue
				}
				for _, row := range f.Table.Rows {
					if ci < len(row) && row[ci] != "" {
						names = append(names, row[ci])
					}
				}
			}
		}
	}
	return names, nil
}

func nameColumn(header string) bool {
	h := strings.ToLower(header)
	return strings.Contains(h, "성명") || strings.Contains(h, "이름") || strings.Contains(h, "name")
}
