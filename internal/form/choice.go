package form

import (
	"fmt"
	"slices"
)

// How an education certificate picks its school (Service.PerSchool).
const (
	PerSchoolGraduated = "graduated" // 졸업증명서: one school graduated from
	PerSchoolGraded    = "graded"    // 성적증명서: one school's grades
)

// The choices a requester makes on a certificate besides the ticked
// options (Offers): which school an education certificate is from, and
// what a tax certificate will be used for.
const (
	ChoiceSchoolLevel = "school_level"
	ChoicePurpose     = "purpose"
)

// Choice is one question a request for a service may answer, with the
// values it may take, each labelled in both languages.
type Choice struct {
	Key    string
	Values []ChoiceValue
}

// ChoiceValue is one answer to a Choice.
type ChoiceValue struct {
	Code    string
	LabelKo string
	Label   string
}

// SchoolLevels are the school levels an education certificate may be
// asked for, youngest first, as the education agency names them.
var SchoolLevels = []ChoiceValue{
	{"elementary", "초등학교", "Elementary school"},
	{"middle", "중학교", "Middle school"},
	{"high", "고등학교", "High school"},
	{"university", "대학교", "University"},
}

// Purposes are the uses a 납세증명서 states (증명서 사용목적), as the
// tax office's form lists them. A request that states none is printed as
// PurposeUnstated.
var Purposes = []ChoiceValue{
	{"payment_receipt", "대금 수령", "Receipt of payment"},
	{"emigration", "해외 이주", "Emigration"},
	{"submission", "관공서·금융기관 제출", "Submission to a public office or bank"},
	{"other", "기타", "Other"},
}

// PurposeUnstated is printed when the requester stated no purpose.
var PurposeUnstated = ChoiceValue{"", "기재하지 않음", "Not stated"}

// Choices lists the questions a request for this service may answer.
func (s *Service) Choices() []Choice {
	var out []Choice
	if s.PerSchool != "" {
		levels := SchoolLevels
		if s.PerSchool == PerSchoolGraded {
			// Elementary schools keep no scores: no grade certificate.
			levels = levels[1:]
		}
		out = append(out, Choice{Key: ChoiceSchoolLevel, Values: levels})
	}
	if s.StatesPurpose {
		out = append(out, Choice{Key: ChoicePurpose, Values: Purposes})
	}
	return out
}

// CheckChoice refuses a value the service does not offer for key; "" (no
// answer) is always allowed and means the default.
func (s *Service) CheckChoice(key, value string) error {
	if value == "" {
		return nil
	}
	for _, c := range s.Choices() {
		if c.Key != key {
			continue
		}
		if slices.ContainsFunc(c.Values, func(v ChoiceValue) bool { return v.Code == value }) {
			return nil
		}
		codes := make([]string, len(c.Values))
		for i, v := range c.Values {
			codes[i] = v.Code
		}
		return fmt.Errorf("%s %q is not one of %v", key, value, codes)
	}
	return fmt.Errorf("%s does not apply to %s", key, s.ID)
}

// ChoiceLabel is the value's labels, or false for an unknown code.
func ChoiceLabel(values []ChoiceValue, code string) (ChoiceValue, bool) {
	i := slices.IndexFunc(values, func(v ChoiceValue) bool { return v.Code == code })
	if i < 0 {
		return ChoiceValue{}, false
	}
	return values[i], true
}
