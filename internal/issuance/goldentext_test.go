package issuance_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/minwon/minwon/internal/agencytest"
	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/verify"
)

// TestGoldenText is every certificate as a reader sees it: the text
// poppler's pdftotext extracts from the PDFs of the golden run, one file
// per service under testdata/golden-text. A change to a form's content or
// layout shows here as text a reviewer can read; run with -update only for
// a change meant to alter documents.
func TestGoldenText(t *testing.T) {
	pdftotext, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext (poppler-utils) is required in CI")
		}
		t.Skip("pdftotext not installed")
	}
	env := agencytest.Start(t, 300, 20260101)
	p, catalog := fixedPipeline(t, env)
	var serial int
	issuance.SetNumbers(p, func() issuance.Number {
		serial++
		s := fmt.Sprintf("%015d", 200000000000000+serial)
		return issuance.Number(s + string(verify.NumberCheckDigit(s)))
	})
	ctx := agencytest.Ctx(t)
	for _, svc := range catalog.Services() {
		var out bytes.Buffer
		for i, c := range goldenCases(env.World) {
			r := issuance.Request{Principal: c.principal, Service: svc.ID, Subject: c.subject, ShowRRNBack: c.showRRNBack,
				IdempotencyKey: "text-" + svc.ID + "-" + strconv.Itoa(i)}
			is, err := p.Issue(ctx, r)
			if err != nil {
				var re *issuance.RefusedError
				if errors.As(err, &re) {
					t.Errorf("%s #%d refused: %v", svc.ID, i, err)
				}
				continue // not this requester's, or not issuable: in golden-documents.txt
			}
			pdf, _, err := p.Files(ctx, r.Principal, string(is.Number))
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(pdftotext, "-enc", "UTF-8", "-layout", "-", "-")
			cmd.Stdin = bytes.NewReader(pdf)
			text, err := cmd.Output()
			if err != nil {
				t.Fatalf("pdftotext: %v", err)
			}
			fmt.Fprintf(&out, "==== %s #%d\n%s\n", svc.ID, i, text)
		}
		if out.Len() == 0 {
			continue
		}
		path := filepath.Join("testdata", "golden-text", svc.ID+".txt")
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if !bytes.Equal(out.Bytes(), want) {
			t.Errorf("%s differs from %s:\n%s", svc.ID, path, firstDiff(want, out.Bytes()))
		}
	}
}
