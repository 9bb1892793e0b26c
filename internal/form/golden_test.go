package form

import (
	"testing"

	"github.com/minwon/minwon/internal/linkage"
)

// TestGoldenDigest pins a template's digest, hex(SHA-256(file bytes)):
// issuances store it and pre-issuance verification compares it with the
// approved one, so it must not depend on how the template is parsed.
func TestGoldenDigest(t *testing.T) {
	const tmpl = `{"id": "golden", "version": 1, "kind": "certificate", "title": "Golden", "title_ko": "골든",
 "agency": "registry", "subject_kind": "person", "requesters": ["self"], "allowed_classes": ["name"],
 "fields": [{"key": "name", "label": "Name", "label_ko": "성명", "source": "registry.person.name", "class": "name"}],
 "issuer_ko": "골든장", "issuer": "Golden", "statement_ko": "증명합니다.", "statement": "Certified."}
`
	// sha256sum of the bytes of tmpl
	const want = "e656955e97862c0f837b6d1fbf6c96403e3c106f62a59c69dab583c988dcdaf1"
	s, err := Parse([]byte(tmpl), linkage.DefaultSchema())
	if err != nil {
		t.Fatal(err)
	}
	if s.Digest != want {
		t.Errorf("digest = %s, want %s", s.Digest, want)
	}
}
