package loadtest

import (
	"bytes"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/render"
)

func renderSample(t testing.TB, name, birth string, rows int) *render.Output {
	t.Helper()
	r, err := render.New()
	if err != nil {
		t.Fatal(err)
	}
	d := &render.Document{
		Title: "주민등록표 등본", Subtitle: "Resident Registration Copy", Number: "1234-5678-9012-3452",
		IssuedAt: time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC), Issuer: "minwon 민원서류 발급 시스템",
		VerifyURL: "http://127.0.0.1:8080/verify/1234567890123452",
		Sections: []render.Section{{
			Heading: "기본 사항 (Particulars)",
			Rows:    []render.Row{{Label: "성명 Name", Value: name}, {Label: "생년월일 Date of birth", Value: birth}, {Label: "주민등록번호 Resident registration number", Value: "900101-1******"}},
		}},
	}
	tb := &render.Table{Columns: []string{"관계", "성명", "생년월일", "주민등록번호"}}
	for i := 0; i < rows; i++ {
		tb.Rows = append(tb.Rows, []string{"자녀", fmt.Sprintf("김하늘%d", i), "2010-01-01", "100101-3******"})
	}
	d.Sections = append(d.Sections, render.Section{Heading: "세대 구성원", Table: tb})
	out, err := r.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPDFStringsMatchesRenderer(t *testing.T) {
	for _, rows := range []int{1, 120} { // one page and several
		out := renderSample(t, "김민준", "1990-01-01", rows)
		got, err := PDFStrings(out.PDF)
		if err != nil {
			t.Fatal(err)
		}
		// Pages come out in page order; the renderer drew every page's
		// footer last, so compare as sorted lists.
		a, b := slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(out.Text))
		if strings.Join(a, "\n") != strings.Join(b, "\n") {
			t.Fatalf("rows %d: extracted %d strings, drew %d; first difference:\n%s", rows, len(got), len(out.Text), firstDiff(a, b))
		}
	}
}

func firstDiff(a, b []string) string {
	for i := 0; i < min(len(a), len(b)); i++ {
		if a[i] != b[i] {
			return fmt.Sprintf("%d: %q vs %q", i, a[i], b[i])
		}
	}
	return "length"
}

func TestPDFStringsAgreesWithPdftotext(t *testing.T) {
	path, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Skip("pdftotext not installed")
	}
	out := renderSample(t, "이서연", "1985-03-04", 3)
	cmd := exec.Command(path, "-enc", "UTF-8", "-", "-")
	cmd.Stdin = bytes.NewReader(out.PDF)
	ref, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	got, err := PDFStrings(out.PDF)
	if err != nil {
		t.Fatal(err)
	}
	// pdftotext lays text out by position: compare without spaces.
	squash := func(s string) string { return strings.Join(strings.Fields(s), "") }
	all := squash(string(ref))
	for _, s := range got {
		if !strings.Contains(all, squash(s)) {
			t.Errorf("in-process text %q is not in pdftotext's output", s)
		}
	}
}

func TestPDFStringsRejectsGarbage(t *testing.T) {
	for _, in := range [][]byte{nil, []byte("%PDF-1.7\n"), []byte("1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer << /Root 1 0 R >>")} {
		if _, err := PDFStrings(in); err == nil {
			t.Errorf("PDFStrings(%q) succeeded", in)
		}
	}
}

// PDFStrings reads what a server sent: it must fail cleanly, never panic.
func FuzzPDFStrings(f *testing.F) {
	f.Add(renderSample(f, "김민준", "1990-01-01", 1).PDF)
	f.Add([]byte("1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [2 0 R] >>\nendobj\ntrailer << /Root 1 0 R >>"))
	// A /Kids without its brackets once sliced out of range.
	f.Add([]byte("1 0 obj /Pages 2 0 Rendobj2 0 obj /Type /Pages /Kidsendobjtrailer/Root 1 0 R0"))
	f.Fuzz(func(t *testing.T, pdf []byte) {
		PDFStrings(pdf)
	})
}
