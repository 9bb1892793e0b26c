package incident

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/minwon/minwon/internal/render"
)

// Report is an incident as the admin API answers it and as it is filed:
// the JSON report. Times are RFC 3339 in UTC.
type Report struct {
	ID                  string           `json:"id"`
	Grade               int              `json:"grade"`
	Kind                string           `json:"kind"`
	Title               string           `json:"title"`
	OpenedAt            string           `json:"opened_at"`
	OpenedBy            string           `json:"opened_by"`
	RegulatorDue        string           `json:"regulator_due"`
	RegulatorReportedAt string           `json:"regulator_reported_at,omitempty"`
	Overdue             []string         `json:"overdue"`
	Timeline            []ReportEntry    `json:"timeline,omitempty"`
	DocumentCount       int              `json:"document_count"`
	Documents           []ReportDocument `json:"documents,omitempty"`
	SubjectCount        int              `json:"subject_count"`
	NotifiedCount       int              `json:"notified_count"`
	Subjects            []ReportSubject  `json:"subjects,omitempty"`
	Recalls             []ReportRecall   `json:"recalls,omitempty"`
	AsOf                string           `json:"as_of,omitempty"`
}

// ReportEntry is a timeline entry.
type ReportEntry struct {
	At    string `json:"at"`
	Actor string `json:"actor"`
	Text  string `json:"text"`
}

// ReportDocument is an affected document and who received it.
type ReportDocument struct {
	Number    string `json:"number"`
	Service   string `json:"service"`
	Subject   string `json:"subject"`
	Requester string `json:"requester"`
	IssuedAt  string `json:"issued_at"`
	State     string `json:"state,omitempty"`
}

// ReportSubject is an affected data subject: the opaque id, the subject
// index's keyed hash (hex), and who received their data.
type ReportSubject struct {
	Subject    string   `json:"subject"`
	Index      string   `json:"subject_index,omitempty"`
	Documents  int      `json:"documents"`
	Recipients []string `json:"recipients"`
	Notified   bool     `json:"notified"`
}

// ReportRecall is a recall and its progress.
type ReportRecall struct {
	ID         string         `json:"id"`
	IncidentID string         `json:"incident_id"`
	Filter     Filter         `json:"filter"`
	Reason     string         `json:"reason"`
	State      string         `json:"state"`
	CreatedBy  string         `json:"created_by"`
	CreatedAt  string         `json:"created_at"`
	ApprovedBy string         `json:"approved_by,omitempty"`
	ApprovedAt string         `json:"approved_at,omitempty"`
	FinishedAt string         `json:"finished_at,omitempty"`
	Total      int            `json:"total"`
	Items      map[string]int `json:"items"`
}

func rfc(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// SummaryJSON is a listed incident as JSON.
func SummaryJSON(s Summary) Report {
	return Report{ID: s.ID, Grade: s.Grade, Kind: s.Kind, Title: s.Title, OpenedAt: rfc(s.OpenedAt), OpenedBy: s.OpenedBy,
		RegulatorDue: rfc(s.RegulatorDue), RegulatorReportedAt: rfc(s.ReportedAt), Overdue: nonNil(s.Overdue)}
}

// RecallJSON is a recall as JSON.
func RecallJSON(r Recall) ReportRecall {
	items := r.Items
	if items == nil {
		items = map[string]int{}
	}
	return ReportRecall{ID: r.ID, IncidentID: r.IncidentID, Filter: r.Filter, Reason: r.Reason, State: r.State, CreatedBy: r.CreatedBy,
		CreatedAt: rfc(r.CreatedAt), ApprovedBy: r.ApprovedBy, ApprovedAt: rfc(r.ApprovedAt), FinishedAt: rfc(r.FinishedAt), Total: r.Total, Items: items}
}

// DocumentJSON is an affected document as JSON.
func DocumentJSON(d Document) ReportDocument {
	return ReportDocument{Number: d.Number, Service: d.Service, Subject: d.Subject, Requester: d.Requester, IssuedAt: rfc(d.IssuedAt), State: d.State}
}

// ReportOf is d as the JSON report.
func ReportOf(d *Detail) Report {
	out := SummaryJSON(Summary{Incident: d.Incident, Overdue: d.Overdue})
	out.AsOf = rfc(d.AsOf)
	for _, e := range d.Timeline {
		out.Timeline = append(out.Timeline, ReportEntry{At: e.At.UTC().Format(time.RFC3339Nano), Actor: e.Actor, Text: e.Text})
	}
	out.DocumentCount = d.Documents
	for _, doc := range d.Sample {
		out.Documents = append(out.Documents, DocumentJSON(doc))
	}
	out.SubjectCount, out.NotifiedCount = len(d.Subjects), d.Notified
	for _, s := range d.Subjects {
		out.Subjects = append(out.Subjects, ReportSubject{Subject: s.Subject, Index: hex.EncodeToString(s.Index), Documents: s.Documents, Recipients: nonNil(s.Recipients), Notified: s.Notified})
	}
	for _, r := range d.Recalls {
		out.Recalls = append(out.Recalls, RecallJSON(r))
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// pdfRows bounds the rows of each table in the PDF; the JSON report has
// them all.
const pdfRows = 500

// ReportPDF renders d as a PDF an official can file with the regulator.
func (s *Service) ReportPDF(d *Detail) ([]byte, error) {
	if s.Renderer == nil {
		return nil, fmt.Errorf("incident: no renderer for the PDF report")
	}
	rep := ReportOf(d)
	reported := rep.RegulatorReportedAt
	if reported == "" {
		reported = "미제출 (not filed)"
	}
	overdue := "없음 (none)"
	if len(rep.Overdue) > 0 {
		overdue = strings.Join(rep.Overdue, "; ")
	}
	doc := &render.Document{
		Title:    "개인정보 사고 보고서",
		Subtitle: "Incident report " + rep.ID,
		Number:   rep.ID,
		IssuedAt: d.AsOf,
		Issuer:   "minwon 운영 (minwon operations)",
		Sections: []render.Section{{
			Heading: "개요 (Summary)",
			Rows: []render.Row{
				{Label: "사고 번호 (Incident)", Value: rep.ID},
				{Label: "등급 (Grade, 1 = most severe)", Value: strconv.Itoa(rep.Grade)},
				{Label: "유형 (Kind)", Value: rep.Kind},
				{Label: "제목 (Title)", Value: rep.Title},
				{Label: "인지 일시 (Opened)", Value: rep.OpenedAt + " by " + rep.OpenedBy},
				{Label: "신고 기한 (Regulator due, 72 h)", Value: rep.RegulatorDue},
				{Label: "신고 일시 (Reported)", Value: reported},
				{Label: "기한 경과 (Overdue)", Value: overdue},
				{Label: "영향 문서 (Documents)", Value: strconv.Itoa(rep.DocumentCount)},
				{Label: "영향 정보주체 (Subjects)", Value: strconv.Itoa(rep.SubjectCount) + ", notified " + strconv.Itoa(rep.NotifiedCount)},
			},
		}},
		Notes: []string{"정보주체는 식별번호(불투명 ID)와 색인 해시로만 표시합니다. Subjects are shown by opaque id and keyed-hash index only; no name or resident registration number.",
			"표가 길면 처음 " + strconv.Itoa(pdfRows) + "행만 싣고, 전체는 JSON 보고서에 있습니다. Long tables show their first " + strconv.Itoa(pdfRows) + " rows; the JSON report has all."},
	}
	tl := &render.Table{Columns: []string{"일시 (At)", "주체 (Actor)", "내용 (Entry)"}}
	for _, e := range rep.Timeline {
		tl.Rows = append(tl.Rows, []string{e.At, e.Actor, e.Text})
	}
	doc.Sections = append(doc.Sections, render.Section{Heading: "경과 (Timeline)", Table: tl})
	for _, r := range rep.Recalls {
		doc.Sections = append(doc.Sections, render.Section{Heading: "회수 " + r.ID + " (Recall)", Rows: []render.Row{
			{Label: "조건 (Filter)", Value: r.Filter.String()},
			{Label: "사유 (Reason)", Value: r.Reason},
			{Label: "상태 (State)", Value: fmt.Sprintf("%s: %d revoked, %d already revoked, %d pending of %d", r.State, r.Items[ItemRevoked], r.Items[ItemAlreadyRevoked], r.Items[ItemPending], r.Total)},
			{Label: "요청 / 승인 (Created / approved)", Value: r.CreatedBy + " " + r.CreatedAt + " / " + r.ApprovedBy + " " + r.ApprovedAt},
		}})
	}
	st := &render.Table{Columns: []string{"정보주체 (Subject)", "문서 (Docs)", "수령자 (Received by)", "통지 (Notified)"}}
	for i, sub := range rep.Subjects {
		if i == pdfRows {
			break
		}
		notified := "아니오 (no)"
		if sub.Notified {
			notified = "예 (yes)"
		}
		st.Rows = append(st.Rows, []string{sub.Subject, strconv.Itoa(sub.Documents), strings.Join(sub.Recipients, ", "), notified})
	}
	doc.Sections = append(doc.Sections, render.Section{Heading: "영향 정보주체와 수령자 (Affected subjects and recipients)", Table: st})
	dt := &render.Table{Columns: []string{"발급번호 (Number)", "서비스 (Service)", "정보주체 (Subject)", "수령자 (Requester)", "발급 (Issued)"}}
	for i, doc := range rep.Documents {
		if i == pdfRows {
			break
		}
		dt.Rows = append(dt.Rows, []string{doc.Number, doc.Service, doc.Subject, doc.Requester, doc.IssuedAt})
	}
	doc.Sections = append(doc.Sections, render.Section{Heading: "영향 문서 (Affected documents)", Table: dt})
	out, err := s.Renderer.Render(doc)
	if err != nil {
		return nil, fmt.Errorf("incident report: %w", err)
	}
	return out.PDF, nil
}
