package issuance

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/ident"
	"github.com/minwon/minwon/internal/linkage"
)

// Document is an assembled document before rendering: the service's
// template filled with the verified agency records, every value formatted
// for print. data.json carries exactly this.
type Document struct {
	Number         string    `json:"number"`
	Service        string    `json:"service"`
	ServiceVersion int       `json:"service_version"`
	TemplateDigest string    `json:"template_digest"`
	Title          string    `json:"title"`
	TitleKo        string    `json:"title_ko"`
	Subject        string    `json:"subject"`
	IssuedAt       time.Time `json:"issued_at"`
	Verify         string    `json:"verify"`
	Fields         []Field   `json:"fields"`
}

// Field is one printed field.
type Field struct {
	Key     string        `json:"key"`
	Label   string        `json:"label"`
	LabelKo string        `json:"label_ko"`
	Class   linkage.Class `json:"class"`
	Text    string        `json:"text,omitempty"`
	Table   *Table        `json:"table,omitempty"`
}

// Table is a field printed as rows.
type Table struct {
	Columns []string   `json:"columns"`
	Rows    [][]string `json:"rows"`
}

// assemble fills the service template from the records. showRRNBack prints
// the subject's own RRN in full; every other RRN is always masked.
func assemble(svc *form.Service, records map[string]*linkage.Record, subject string, showRRNBack bool) ([]Field, error) {
	out := make([]Field, 0, len(svc.Fields))
	for _, f := range svc.Fields {
		agency, dataset, name := splitSource(f.Source)
		rec, ok := records[agency+"."+dataset]
		if !ok {
			return nil, fmt.Errorf("no %s.%s record for field %q", agency, dataset, f.Key)
		}
		raw, ok := rec.Fields[name]
		if !ok {
			return nil, fmt.Errorf("record %s.%s lacks field %q", agency, dataset, name)
		}
		field := Field{Key: f.Key, Label: f.Label, LabelKo: f.LabelKo, Class: f.Class}
		if err := format(&field, raw, subject, showRRNBack); err != nil {
			return nil, fmt.Errorf("field %q: %w", f.Key, err)
		}
		out = append(out, field)
	}
	return out, nil
}

func splitSource(src string) (agency, dataset, field string) {
	a, rest, _ := strings.Cut(src, ".")
	d, f, _ := strings.Cut(rest, ".")
	return a, d, f
}

// format renders one agency value by its class. Unknown shapes are errors:
// a document never prints a value it does not understand.
func format(f *Field, raw json.RawMessage, subject string, showRRNBack bool) error {
	str := func() (string, error) {
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	}
	var err error
	switch f.Class {
	case linkage.ClassName, linkage.ClassAddress, linkage.ClassCompanyName, linkage.ClassBusinessType, linkage.ClassIdentifier:
		f.Text, err = str()
	case linkage.ClassBirthDate, linkage.ClassDate:
		f.Text, err = str()
		if err == nil {
			_, err = time.Parse("2006-01-02", f.Text)
		}
	case linkage.ClassSex:
		var s string
		if s, err = str(); err == nil {
			f.Text = map[string]string{"M": "남 (M)", "F": "여 (F)"}[s]
		}
	case linkage.ClassRelation:
		var s string
		if s, err = str(); err == nil {
			f.Text = relationKo(s)
		}
	case linkage.ClassRRN:
		var s string
		if s, err = str(); err == nil {
			f.Text, err = printRRN(s, showRRNBack)
		}
	case linkage.ClassBusinessNumber:
		var s string
		if s, err = str(); err == nil {
			var d string
			if d, err = ident.ParseBusinessNumber(s); err == nil {
				f.Text = ident.FormatBusinessNumber(d)
			}
		}
	case linkage.ClassCorporateNumber:
		var s string
		if s, err = str(); err == nil {
			var d string
			if d, err = ident.ParseCorporateNumber(s); err == nil {
				f.Text = ident.FormatCorporateNumber(d)
			}
		}
	case linkage.ClassTaxStatus:
		var arrears int64
		if err = json.Unmarshal(raw, &arrears); err == nil {
			if arrears == 0 {
				f.Text = "체납액 없음 (no arrears)"
			} else {
				f.Text = won(arrears) + " 체납 (in arrears)"
			}
		}
	case linkage.ClassHousehold:
		var rows []struct {
			Subject, Name, Relation string
			BirthDate               string `json:"birth_date"`
			RRN                     string
		}
		if err = json.Unmarshal(raw, &rows); err == nil {
			t := &Table{Columns: []string{"관계", "성명", "생년월일", "주민등록번호"}}
			for _, r := range rows {
				// Only the subject may ask for their own back digits.
				rrn, e := printRRN(r.RRN, showRRNBack && r.Subject == subject)
				if e != nil {
					return e
				}
				t.Rows = append(t.Rows, []string{relationKo(r.Relation), r.Name, r.BirthDate, rrn})
			}
			f.Table = t
		}
	case linkage.ClassAddressHistory:
		var rows []struct {
			Address string
			MovedIn string `json:"moved_in"`
		}
		if err = json.Unmarshal(raw, &rows); err == nil {
			t := &Table{Columns: []string{"주소", "전입일"}}
			for _, r := range rows {
				t.Rows = append(t.Rows, []string{r.Address, r.MovedIn})
			}
			f.Table = t
		}
	case linkage.ClassSchoolRecord:
		var rows []struct {
			School        string
			Kind          string
			StudentNumber string `json:"student_number"`
			Admitted      string
			Graduated     string
		}
		if err = json.Unmarshal(raw, &rows); err == nil {
			t := &Table{Columns: []string{"학교", "과정", "학번", "입학일", "졸업일"}}
			for _, r := range rows {
				grad := r.Graduated
				if grad == "" {
					grad = "재학 중"
				}
				t.Rows = append(t.Rows, []string{r.School, schoolKindKo(r.Kind), r.StudentNumber, r.Admitted, grad})
			}
			f.Table = t
		}
	case linkage.ClassGrade:
		var rows []struct {
			School                           string
			Year, Term, Score, Rank, Credits int
			Course                           string
		}
		if err = json.Unmarshal(raw, &rows); err == nil {
			t := &Table{Columns: []string{"학교", "학년", "학기", "과목", "점수", "석차등급", "학점"}}
			for _, r := range rows {
				rank := "-"
				if r.Rank > 0 {
					rank = strconv.Itoa(r.Rank)
				}
				t.Rows = append(t.Rows, []string{r.School, strconv.Itoa(r.Year), strconv.Itoa(r.Term), r.Course, strconv.Itoa(r.Score), rank, strconv.Itoa(r.Credits)})
			}
			f.Table = t
		}
	case linkage.ClassTaxPayments:
		var rows []struct {
			Year           int
			Assessed, Paid int64
		}
		if err = json.Unmarshal(raw, &rows); err == nil {
			t := &Table{Columns: []string{"귀속연도", "결정세액", "납부세액"}}
			for _, r := range rows {
				t.Rows = append(t.Rows, []string{strconv.Itoa(r.Year), won(r.Assessed), won(r.Paid)})
			}
			f.Table = t
		}
	default:
		return fmt.Errorf("class %q cannot be printed", f.Class)
	}
	return err
}

// printRRN masks the back six digits unless show is set.
func printRRN(s string, show bool) (string, error) {
	d, err := ident.ParseRRN(s)
	if err != nil {
		return "", fmt.Errorf("agency sent a malformed RRN: %w", err)
	}
	if show {
		return ident.FormatRRN(d), nil
	}
	return ident.MaskRRN(d), nil
}

func relationKo(r string) string {
	switch r {
	case "head":
		return "세대주"
	case "spouse":
		return "배우자"
	case "child":
		return "자녀"
	case "parent":
		return "부모"
	}
	return "기타"
}

func schoolKindKo(k string) string {
	switch k {
	case "elementary":
		return "초등학교"
	case "middle":
		return "중학교"
	case "high":
		return "고등학교"
	case "university":
		return "대학교"
	}
	return k
}

// won formats an amount as 1,234,000원.
func won(n int64) string {
	neg := n < 0
	if neg {
		n = -n
	}
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String() + "원"
	}
	return b.String() + "원"
}
