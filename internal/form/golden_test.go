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
 "fields": [{"key": "name", "label": "Name", "label_ko": "성명", "source": "registry.person.name", "class": "name"}]}
`
	// sha256sum of the bytes of tmpl
	const want = "348c13bdddb2181fabe898d002d1911786596bca4833c0e163d07da55bd00b91"
	s, err := Parse([]byte(tmpl), linkage.DefaultSchema())
	if err != nil {
		t.Fatal(err)
	}
	if s.Digest != want {
		t.Errorf("digest = %s, want %s", s.Digest, want)
	}
}
