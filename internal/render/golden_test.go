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
		{"one page", 5, "8f4c915ea76d6c24466949983a81bfafc36b5cc45813eca7c9b1e27b285f5a64", "ed39fc92e8c147a6ed712ea5d1a241ebcb1aa8e3edf58b2d12e4e05161c6bbd6"},
		{"several pages", 120, "90f8cb503147241e7ea80215d707bcd0d663cfdc688fca231e8fbcc66b159e65", "9a678782aade3f79f6f73081f8604e8ff6ec34ad80ef3d022f8683d7a9b30548"},
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
