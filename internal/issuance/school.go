package issuance

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/linkage"
)

// An education certificate is one school's, issued by its head, as the
// real forms are: a 졸업증명서 certifies graduation from one school, a
// 성적증명서 prints one school's grades in that school level's structure.

// chooseSchool picks the school an education certificate is from: the
// latest school of the level asked for ("" = any level) that qualifies —
// graduated from, for a graduation certificate; one that keeps grades
// (not an elementary school), for a grade certificate. Other services
// have none (nil). A request that qualifies nowhere is not issuable, with
// the reason the citizen is told.
func chooseSchool(svc *form.Service, byDataset map[string]*linkage.Record, level string) (*linkage.SchoolRecord, error) {
	if svc.PerSchool == "" {
		return nil, nil
	}
	rec := byDataset[linkage.Education+".student"]
	if rec == nil {
		return nil, fmt.Errorf("%s: no education.student record to choose a school from", svc.ID)
	}
	var schools []linkage.SchoolRecord
	if raw, ok := rec.Fields["school_records"]; ok {
		if err := json.Unmarshal(raw, &schools); err != nil {
			return nil, fmt.Errorf("%s: school records: %w", svc.ID, err)
		}
	}
	notIssuable := func(reason, msg string, args ...any) error {
		return &NotIssuableError{Service: svc.ID, Reason: reason, Message: fmt.Sprintf(msg, args...)}
	}
	var atLevel *linkage.SchoolRecord
	for i := len(schools) - 1; i >= 0; i-- {
		s := &schools[i]
		if level != "" && s.Kind != level {
			continue
		}
		if atLevel == nil {
			atLevel = s
		}
		switch svc.PerSchool {
		case form.PerSchoolGraduated:
			if s.Graduated != "" {
				return s, nil
			}
		case form.PerSchoolGraded:
			if s.Kind != "elementary" {
				return s, nil
			}
		}
	}
	switch {
	case level != "" && atLevel == nil:
		return nil, notIssuable(form.ReasonNoSchoolAtLevel, "the education agency has no %s school record for this person; choose the level of a school attended", level)
	case svc.PerSchool == form.PerSchoolGraduated && atLevel != nil:
		return nil, notIssuable(form.ReasonNotGraduated, "this person is still enrolled at the %s school and has not graduated from it; a graduation certificate is issued by a school graduated from", atLevel.Kind)
	}
	return nil, notIssuable(form.ReasonNothingToCertify, "the education agency has no record this certificate could certify for this person")
}

// schoolHead names the head of school who issues its certificates:
// 전남늘봄고등학교장, 전남늘봄대학교총장.
func schoolHead(s *linkage.SchoolRecord) string {
	if s.Kind == "university" {
		return s.School + "총장"
	}
	return s.School + "장"
}

// schoolRecords prints the school records: only the certificate's school
// when it has one, every school (재학 중 while enrolled) otherwise.
func schoolRecords(f *Field, raw json.RawMessage, p printing) error {
	var rows []linkage.SchoolRecord
	if err := json.Unmarshal(raw, &rows); err != nil {
		return err
	}
	t := &Table{Columns: []string{"학교", "과정", "학번", "입학일", "졸업일"}}
	for _, r := range rows {
		if p.school != nil && r.SchoolCode != p.school.SchoolCode {
			continue
		}
		grad := r.Graduated
		if grad == "" {
			grad = "재학 중"
		}
		t.Rows = append(t.Rows, []string{r.School, schoolKindKo(r.Kind), r.StudentNumber, r.Admitted, grad})
	}
	f.Table = t
	return nil
}

// grades prints the course results of the certificate's school in its
// level's structure (see gradeLayouts), or, for a template that predates
// per-school certificates, every school's results in one table.
func grades(f *Field, raw json.RawMessage, p printing) error {
	var rows []linkage.Grade
	if err := json.Unmarshal(raw, &rows); err != nil {
		return err
	}
	if p.school == nil {
		t := &Table{Columns: []string{"학교", "학년", "학기", "과목", "점수", "석차등급", "학점"}}
		for _, r := range rows {
			rank := "-"
			if r.Rank > 0 {
				rank = strconv.Itoa(r.Rank)
			}
			t.Rows = append(t.Rows, []string{r.School, strconv.Itoa(r.Year), strconv.Itoa(r.Term), r.Course, strconv.Itoa(r.Score), rank, strconv.Itoa(r.Credits)})
		}
		f.Table = t
		return nil
	}
	layout, ok := gradeLayouts[p.school.Kind]
	if !ok {
		return fmt.Errorf("a %s school keeps no grades", p.school.Kind)
	}
	t := &Table{Columns: layout.columns}
	var credits, points int // points in hundredths of a grade point times credits
	for _, r := range rows {
		if r.School != p.school.School {
			continue
		}
		t.Rows = append(t.Rows, layout.row(r))
		if p.school.Kind == "university" {
			_, pt := letterGrade(r.Score)
			credits += r.Credits
			points += pt * r.Credits
		}
	}
	if p.school.Kind == "university" && credits > 0 {
		gpa := float64(points) / float64(credits) / 100
		t.Rows = append(t.Rows, []string{"", "", "취득학점 계 (Total)", strconv.Itoa(credits), "평균평점 (GPA)", strconv.FormatFloat(gpa, 'f', 2, 64) + " / 4.5"})
	}
	f.Table = t
	return nil
}

// gradeLayout is how one school level prints a course result.
type gradeLayout struct {
	columns []string
	row     func(linkage.Grade) []string
}

// gradeLayouts follow the school levels' own records: a high school's
// 학교생활기록부 (단위수, 원점수, 과목평균(표준편차), 성취도, 석차등급), a
// middle school's (no 단위수, no rank), and a university's transcript
// (학점, letter grade and grade points on a 4.5 scale, not raw scores).
var gradeLayouts = map[string]gradeLayout{
	"high": {
		columns: []string{"학년", "학기", "과목", "단위수", "원점수", "과목평균(표준편차)", "성취도", "석차등급"},
		row: func(r linkage.Grade) []string {
			rank := "-"
			if r.Rank > 0 {
				rank = strconv.Itoa(r.Rank)
			}
			return []string{strconv.Itoa(r.Year), strconv.Itoa(r.Term), r.Course, strconv.Itoa(r.Credits), strconv.Itoa(r.Score), meanSD(r), achievement(r), rank}
		},
	},
	"middle": {
		columns: []string{"학년", "학기", "과목", "원점수", "과목평균(표준편차)", "성취도"},
		row: func(r linkage.Grade) []string {
			return []string{strconv.Itoa(r.Year), strconv.Itoa(r.Term), r.Course, strconv.Itoa(r.Score), meanSD(r), achievement(r)}
		},
	},
	"university": {
		columns: []string{"학년", "학기", "교과목", "학점", "성적", "평점"},
		row: func(r linkage.Grade) []string {
			letter, pt := letterGrade(r.Score)
			return []string{strconv.Itoa(r.Year), strconv.Itoa(r.Term), r.Course, strconv.Itoa(r.Credits), letter, strconv.FormatFloat(float64(pt)/100, 'f', 1, 64)}
		},
	},
}

// meanSD prints the course's mean and standard deviation as 72.4(15.3).
func meanSD(r linkage.Grade) string {
	if r.Mean == 0 && r.SD == 0 {
		return "-"
	}
	return strconv.FormatFloat(r.Mean, 'f', 1, 64) + "(" + strconv.FormatFloat(r.SD, 'f', 1, 64) + ")"
}

// achievement is the school's 성취도 (A–E), or one derived from the raw
// score by the 성취평가제 bands when the school sent none.
func achievement(r linkage.Grade) string {
	if r.Achievement != "" {
		return r.Achievement
	}
	switch {
	case r.Score >= 90:
		return "A"
	case r.Score >= 80:
		return "B"
	case r.Score >= 70:
		return "C"
	case r.Score >= 60:
		return "D"
	}
	return "E"
}

// letterGrade converts a raw score to a university letter grade and its
// points on the 4.5 scale, in hundredths.
func letterGrade(score int) (string, int) {
	for _, b := range []struct {
		min    int
		letter string
		points int
	}{{95, "A+", 450}, {90, "A0", 400}, {85, "B+", 350}, {80, "B0", 300}, {75, "C+", 250}, {70, "C0", 200}, {65, "D+", 150}, {60, "D0", 100}} {
		if score >= b.min {
			return b.letter, b.points
		}
	}
	return "F", 0
}
