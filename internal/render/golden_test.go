package render

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// TestGoldenPDF pins the renderer's output for fixed documents. Render
// promises the same bytes for the same Document, and issued PDFs are hashed
// into the transparency log, so a change here must be deliberate: update
// the hashes only for a change meant to alter issued documents. The
// documents are sampleDoc's, which other tests share: keep it as it is.
func TestGoldenPDF(t *testing.T) {
	r := testRenderer(t)
	tests := []struct {
		name      string
		gradeRows int
		pdf, text string // SHA-256 of the PDF and of the drawn strings, one a line
	}{
		{"one page", 5, "bc6123a3f9339d6d2776701b9530b55e1571649a5280e74d1461969725051d55", "ed39fc92e8c147a6ed712ea5d1a241ebcb1aa8e3edf58b2d12e4e05161c6bbd6"},
		{"several pages", 120, "22d196536957c10dbd5927461e61e518606e45e1083b090420c49cf186db2d37", "9a678782aade3f79f6f73081f8604e8ff6ec34ad80ef3d022f8683d7a9b30548"},
	}
	for _, tt := range tests {
		out, err := r.Render(sampleDoc(tt.gradeRows))
		if err != nil {
			t.Fatal(err)
		}
		pdf := sha256.Sum256(out.PDF)
		text := sha256.Sum256([]byte(strings.Join(out.Text, "\n")))
		if got := hex.EncodeToString(pdf[:]); got != tt.pdf {
			t.Errorf("%s: PDF SHA-256 = %s, want %s", tt.name, got, tt.pdf)
		}
		if got := hex.EncodeToString(text[:]); got != tt.text {
			t.Errorf("%s: drawn text SHA-256 = %s, want %s", tt.name, got, tt.text)
		}
	}
}
