package verification

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/minwon/minwon/internal/docsig"
)

// FuzzCheckOffline feeds `minwon verify` outside input (the saved answer and
// the key set) to the decoders and the offline check: nothing may panic, and
// nothing but a genuine proof may pass.
func FuzzCheckOffline(f *testing.F) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	signer := docsig.Signer{KeyID: docsig.KeyID(pub), Key: priv}
	pdf := signer.SignPDF("1234567890123452", []byte("%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"))
	keys, _ := json.Marshal(KeySetJSON{
		Log:          LogKeyJSON{Origin: "minwon.test/log", VerifierKey: "minwon.test/log+0a1b2c3d+AQ=="},
		DocumentKeys: []DocumentKeyJSON{{ID: signer.KeyID, PublicKey: base64.StdEncoding.EncodeToString(pub), State: "active"}},
	})
	idx := int64(0)
	answer, _ := json.Marshal(ResultJSON{Status: Valid, Number: "1234567890123452", Service: "resident-registration-copy",
		IssuedAt: "2026-11-25T10:00:00Z", LogIndex: &idx, InclusionProof: []string{base64.StdEncoding.EncodeToString(make([]byte, 32))},
		TreeSize: 1, Checkpoint: "minwon.test/log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— minwon.test/log AAAA\n"})
	f.Add(answer, keys)
	f.Add([]byte(`{"status":"valid","inclusion_proof":["!!"]}`), []byte(`{"log":{},"document_keys":[{"id":"x","public_key":"AA=="}]}`))
	f.Fuzz(func(t *testing.T, answer, keys []byte) {
		var a ResultJSON
		var k KeySetJSON
		if json.Unmarshal(answer, &a) != nil || json.Unmarshal(keys, &k) != nil {
			return
		}
		b, err := a.Bundle()
		if err != nil {
			return
		}
		pk, err := k.PublicKeys()
		if err != nil {
			return
		}
		if err := CheckOffline(pdf, b, pk); err == nil {
			t.Fatalf("a fabricated proof passed: %s / %s", answer, keys)
		}
	})
}
