package credential_test

import (
	"testing"
	"time"

	"github.com/minwon/minwon/internal/credential"
	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/sdjwt"
)

func TestClaims(t *testing.T) {
	doc := &issuance.Document{
		Number: "1000000000000001", Service: "tax-payment-certificate", Title: "Tax Payment Certificate", TitleKo: "납세증명서",
		IssuedAt: time.Date(2026, 3, 1, 0, 30, 0, 0, time.UTC), ValidUntil: "2026-03-30", Issuer: "국세청장",
		Fields: []issuance.Field{
			{Key: "name", Class: linkage.ClassName, Text: "홍길동"},
			{Key: "payments", Class: linkage.ClassTaxPayments, Table: &issuance.Table{Columns: []string{"귀속연도"}, Rows: [][]string{{"2025"}}}},
		},
	}
	plain, disclosable := credential.Claims(doc, 42, "https://minwon.example")
	// Valid through 30 March in Korea: until 31 March 00:00 KST.
	if want := time.Date(2026, 3, 30, 15, 0, 0, 0, time.UTC).Unix(); plain["exp"] != want {
		t.Errorf("exp %v, want %d", plain["exp"], want)
	}
	if plain["iat"] != doc.IssuedAt.Unix() || plain["vct"] != "https://minwon.example/vct/tax-payment-certificate" || plain["document_number"] != doc.Number {
		t.Errorf("plain claims %v", plain)
	}
	if st, ok := plain["status"].(map[string]any)["status_list"].(sdjwt.Status); !ok || st.Index != 42 || st.URI != "https://minwon.example"+credential.StatusPath {
		t.Errorf("status %v", plain["status"])
	}
	if len(disclosable) != 2 || disclosable[0].Name != "name" || disclosable[0].Value != "홍길동" {
		t.Errorf("disclosable %v", disclosable)
	}
	if tbl, ok := disclosable[1].Value.(map[string]any); !ok || tbl["columns"] == nil || tbl["rows"] == nil {
		t.Errorf("table claim %v", disclosable[1].Value)
	}
	for _, c := range disclosable {
		if _, dup := plain[c.Name]; dup {
			t.Errorf("%s is both plain and disclosable", c.Name)
		}
	}
	// No validity, no exp.
	doc.ValidUntil = ""
	if plain, _ := credential.Claims(doc, 42, "https://minwon.example"); plain["exp"] != nil {
		t.Errorf("exp without a validity: %v", plain["exp"])
	}
}
