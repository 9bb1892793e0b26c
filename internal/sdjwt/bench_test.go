package sdjwt_test

import (
	"testing"
	"time"

	"github.com/minwon/minwon/internal/sdjwt"
)

// BenchmarkIssue is one credential of a resident registration abstract's
// size: six disclosable fields, ES256 with a two-certificate x5c.
func BenchmarkIssue(b *testing.B) {
	is, _ := issuer(b)
	claims := []sdjwt.Claim{{Name: "name", Value: "홍길동"}, {Name: "birth_date", Value: "1990-01-01"}, {Name: "rrn", Value: "900101-1******"},
		{Name: "address", Value: "서울특별시 종로구 세종대로 1"}, {Name: "sex", Value: "남 (M)"}, {Name: "head", Value: "홍길동"}}
	var size int
	for b.Loop() {
		c, err := is.Issue(map[string]any{"iss": "https://minwon.example", "iat": now.Unix(), "vct": "x",
			"status": map[string]any{"status_list": sdjwt.Status{Index: 7, URI: uri}}}, claims)
		if err != nil {
			b.Fatal(err)
		}
		size = len(c)
	}
	b.ReportMetric(float64(size), "bytes")
}

// BenchmarkVerify checks a credential's chain, signature and disclosures.
func BenchmarkVerify(b *testing.B) {
	is, roots := issuer(b)
	cred := issue(b, is, 3)
	for b.Loop() {
		if _, err := sdjwt.Verify(cred, sdjwt.Trust{Roots: roots}, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStatusList1M builds the list for a log of a million entries
// with one in a thousand revoked.
func BenchmarkStatusList1M(b *testing.B) {
	is, _ := issuer(b)
	var revoked []int64
	for i := int64(0); i < 1_000_000; i += 1000 {
		revoked = append(revoked, i)
	}
	var size int
	for b.Loop() {
		tok, err := is.StatusList(uri, 1_000_000, revoked, now, time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		size = len(tok)
	}
	b.ReportMetric(float64(size), "bytes")
}
