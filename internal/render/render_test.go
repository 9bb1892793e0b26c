package render

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/docsig"
)

var (
	rendererOnce sync.Once
	renderer     *Renderer
	rendererErr  error
)

func testRenderer(t testing.TB) *Renderer {
	t.Helper()
	rendererOnce.Do(func() { renderer, rendererErr = New() })
	if rendererErr != nil {
		t.Fatal(rendererErr)
	}
	return renderer
}

func sampleDoc(gradeRows int) *Document {
	d := &Document{
		Title: "성적증명서", Subtitle: "Grade Certificate", Number: "1234-5678-9012-3452",
		IssuedAt: time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC), Issuer: "minwon 민원서류 발급 시스템",
		VerifyURL: "http://127.0.0.1:8080/verify/1234567890123452",
		Sections: []Section{{
			Heading: "기본 사항 (Particulars)",
			Rows: []Row{
				{"성명 Name", "김민준"}, {"생년월일 Date of birth", "1990-01-01"},
				{"주소 Address", "서울특별시 마포구 월드컵북로 123, 101동 1502호"},
			},
		}},
		Notes: []string{"이 문서는 전자적으로 발급되었으며 발급번호 또는 QR 코드로 진위를 확인할 수 있습니다."},
	}
	t := &Table{Columns: []string{"학교", "학년", "학기", "과목", "점수", "석차등급", "학점"}}
	for i := 0; i < gradeRows; i++ {
		t.Rows = append(t.Rows, []string{"서울한빛고등학교", fmt.Sprint(1 + i/12), fmt.Sprint(1 + i/6%2), "국어", fmt.Sprint(60 + i%40), fmt.Sprint(1 + i%9), "3"})
	}
	d.Sections = append(d.Sections, Section{Heading: "성적 (Grades)", Table: t})
	return d
}

// needPoppler skips t when the poppler tool is missing, except in CI.
func needPoppler(t *testing.T, tool string) {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(tool + " (poppler-utils) is required in CI")
		}
		t.Skip(tool + " not installed")
	}
}

func pdftotext(t *testing.T, pdf []byte, page int) string {
	t.Helper()
	needPoppler(t, "pdftotext")
	args := []string{"-enc", "UTF-8"}
	if page > 0 {
		args = append(args, "-f", fmt.Sprint(page), "-l", fmt.Sprint(page))
	}
	cmd := exec.Command("pdftotext", append(args, "-", "-")...)
	cmd.Stdin = bytes.NewReader(pdf)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("pdftotext: %v %s", err, stderr.String())
	}
	return string(out)
}

func pdfinfo(t *testing.T, pdf []byte) string {
	t.Helper()
	needPoppler(t, "pdfinfo")
	path := filepath.Join(t.TempDir(), "d.pdf")
	os.WriteFile(path, pdf, 0o600)
	out, err := exec.Command("pdfinfo", path).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo: %v %s", err, out)
	}
	return string(out)
}

func TestRenderExtractableKorean(t *testing.T) {
	out, err := testRenderer(t).Render(sampleDoc(12))
	if err != nil {
		t.Fatal(err)
	}
	text := pdftotext(t, out.PDF, 0)
	for _, want := range []string{"성적증명서", "김민준", "1990-01-01", "서울특별시 마포구 월드컵북로 123, 101동 1502호", "1234-5678-9012-3452", "http://127.0.0.1:8080/verify/1234567890123452", "서울한빛고등학교", "석차등급"} {
		if !strings.Contains(text, want) {
			t.Errorf("extracted text lacks %q", want)
		}
	}
	info := pdfinfo(t, out.PDF)
	if !strings.Contains(info, "595.28 x 841.89 pts (A4)") || !strings.Contains(info, "Pages:           1") {
		t.Errorf("pdfinfo:\n%s", info)
	}
	if len(out.PDF) > 200_000 {
		t.Errorf("PDF is %d bytes; the font subset should keep it small", len(out.PDF))
	}
	joined := strings.Join(out.Text, "\n")
	for _, want := range []string{"김민준", "서울특별시 마포구 월드컵북로 123, 101동 1502호", "서울한빛고등학교"} {
		if !strings.Contains(joined, want) {
			t.Errorf("Output.Text lacks %q", want)
		}
	}
}

func TestRenderMultiPage(t *testing.T) {
	out, err := testRenderer(t).Render(sampleDoc(200))
	if err != nil {
		t.Fatal(err)
	}
	info := pdfinfo(t, out.PDF)
	var pages int
	for _, l := range strings.Split(info, "\n") {
		if strings.HasPrefix(l, "Pages:") {
			fmt.Sscanf(strings.TrimPrefix(l, "Pages:"), "%d", &pages)
		}
	}
	if pages < 2 {
		t.Fatalf("200 grade rows on %d page(s)", pages)
	}
	for p := 1; p <= pages; p++ {
		text := pdftotext(t, out.PDF, p)
		compact := strings.ReplaceAll(text, " ", "")
		if !strings.Contains(text, "1234-5678-9012-3452") || !strings.Contains(compact, fmt.Sprintf("%d/%d", p, pages)) {
			t.Errorf("page %d lacks the number or its page label", p)
		}
	}
}

func TestRenderDeterministic(t *testing.T) {
	r := testRenderer(t)
	a, err := r.Render(sampleDoc(30))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := r.Render(sampleDoc(30))
	if !bytes.Equal(a.PDF, b.PDF) {
		t.Fatal("two renders of one document differ")
	}
}

func TestRenderRefusesInvalidUTF8(t *testing.T) {
	d := sampleDoc(1)
	d.Sections[0].Rows[0].Value = "\xff\xfe"
	if _, err := testRenderer(t).Render(d); err == nil {
		t.Fatal("invalid UTF-8 rendered")
	}
}

func TestQRCodeDecodes(t *testing.T) {
	for _, tool := range []string{"pdftoppm", "zbarimg"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	out, err := testRenderer(t).Render(sampleDoc(3))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "d.pdf"), out.PDF, 0o600)
	if b, err := exec.Command("pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", filepath.Join(dir, "d.pdf"), filepath.Join(dir, "p")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v %s", err, b)
	}
	pngs, _ := filepath.Glob(filepath.Join(dir, "p*.png"))
	got, err := exec.Command("zbarimg", "-q", "--raw", pngs[0]).Output()
	if err != nil || strings.TrimSpace(string(got)) != "http://127.0.0.1:8080/verify/1234567890123452" {
		t.Fatalf("QR decodes to %q, %v", got, err)
	}
}

func FuzzRender(f *testing.F) {
	f.Add("성적증명서", "성명", "김민준")
	f.Add("", "", "")
	f.Add("\U0001F600", "a\nb", strings.Repeat("가", 500))
	r := testRenderer(f)
	f.Fuzz(func(t *testing.T, title, label, value string) {
		d := sampleDoc(2)
		d.Title, d.Sections[0].Rows[0].Label, d.Sections[0].Rows[0].Value = title, label, value
		d.Sections[1].Table.Rows[0][3] = value
		out, err := r.Render(d)
		if err != nil {
			return
		}
		if !bytes.HasPrefix(out.PDF, []byte("%PDF-")) || !bytes.HasSuffix(out.PDF, []byte("%%EOF\n")) {
			t.Fatal("not a PDF")
		}
	})
}

func BenchmarkRender(b *testing.B) {
	b.Run("plain", func(b *testing.B) { benchRender(b, "") })
	// The document-check code line and its two notes' worth of glyphs.
	b.Run("check-code", func(b *testing.B) { benchRender(b, "ABCD-EFGH-JKLM-NPQR") })
}

func benchRender(b *testing.B, code string) {
	r := testRenderer(b)
	d := sampleDoc(12)
	d.CheckCode = code
	b.ReportAllocs()
	var size int
	for b.Loop() {
		out, err := r.Render(d)
		if err != nil {
			b.Fatal(err)
		}
		size = len(out.PDF)
	}
	b.ReportMetric(float64(size), "pdf-bytes")
}

func BenchmarkRenderParallel(b *testing.B) {
	r := testRenderer(b)
	d := sampleDoc(12)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := r.Render(d); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRenderSign is render plus the document signature, what each
// issuance spends on its PDF.
func BenchmarkRenderSign(b *testing.B) {
	r := testRenderer(b)
	d := sampleDoc(12)
	pub, priv, _ := ed25519.GenerateKey(nil)
	cert, err := docsig.SelfSignedCertificate("bench")
	if err != nil {
		b.Fatal(err)
	}
	signer := docsig.Signer{KeyID: docsig.KeyID(pub), Key: priv, Cert: cert}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			out, err := r.Render(d)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := signer.SignPDF("1234567890123452", out.PDF); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
}

func TestAppendFixedMatchesFmt(t *testing.T) {
	for _, v := range []float64{0, 1, -1, 0.005, 12.345, 595.28, 841.89, -0.4, 123456.789, 0.0001, 49.999, 3.14159, 1e-9} {
		for _, d := range []int{2, 3} {
			want := fmt.Sprintf("%.*f", d, v)
			if want == "-0.00" || want == "-0.000" {
				want = want[1:]
			}
			if got := string(appendFixed(nil, v, d)); got != want {
				t.Errorf("appendFixed(%v, %d) = %q, want %q", v, d, got, want)
			}
		}
	}
}
