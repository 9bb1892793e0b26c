package docsig

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"testing"
)

// Fixed key and inputs for the golden formats: issued documents live for
// years and must verify with every later minwon, so these bytes may never
// change by accident.
func goldenSigner() (Signer, KeyMap) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize))
	pub := key.Public().(ed25519.PublicKey)
	s := Signer{KeyID: KeyID(pub), Key: key}
	return s, KeyMap{s.KeyID: pub}
}

const (
	goldenKeyID   = "doc-dbc298251c51"
	goldenNumber  = "1234567890123452"
	goldenPDFSig  = "7LSftA/YNOk6CJBmV+zGgcEH0tpxujSovoyN98I/+hM7sdN2lwXLxuwGxLP7zrrqlQ03A9ZiiSlT+fMYFJjgAw=="
	goldenTrailer = "%minwon-signature v1 key=" + goldenKeyID + " number=" + goldenNumber + " sig=" + goldenPDFSig + "\n%%EOF\n"
	goldenDataSig = "gXwaqKwFNUB6ur4mYqEJ+fXIOVFwkp7KwLVegSwh0rBRPPmq8MFIEMGaZdY51VZaerZYO9vSG7s347YYgy5iAg=="
	goldenData    = `{
  "document": {
    "number": "1234567890123452",
    "name": "김민준 \u003c\u0026\u003e",
    "rows": [
      "a",
      "b"
    ]
  },
  "key_id": "` + goldenKeyID + `",
  "signature": "` + goldenDataSig + `"
}`
)

func TestGoldenPDFSignature(t *testing.T) {
	s, keys := goldenSigner()
	if s.KeyID != goldenKeyID {
		t.Errorf("key id = %s, want %s", s.KeyID, goldenKeyID)
	}
	signed := s.SignPDFTrailer(goldenNumber, []byte(fakePDF))
	if want := fakePDF + goldenTrailer; string(signed) != want {
		t.Errorf("signed PDF =\n%q\nwant\n%q", signed, want)
	}
	// The signed message, spelled out: domain line, number line, the PDF.
	sig, err := base64.StdEncoding.DecodeString(goldenPDFSig)
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(s.Key.Public().(ed25519.PublicKey), []byte("minwon document v1\n"+goldenNumber+"\n"+fakePDF), sig) {
		t.Error(`golden signature is not over "minwon document v1\n" + number + "\n" + pdf`)
	}
	if got, err := VerifyPDF([]byte(fakePDF+goldenTrailer), keys); err != nil || got.Number != goldenNumber {
		t.Errorf("VerifyPDF(golden) = %+v, %v", got, err)
	}
	// A PDF without a final newline gets one before the trailer.
	if got := s.SignPDFTrailer(goldenNumber, []byte(fakePDF[:len(fakePDF)-1])); string(got) != fakePDF+goldenTrailer {
		t.Errorf("PDF without final newline signed as\n%q", got)
	}
}

func TestGoldenDataEnvelope(t *testing.T) {
	s, keys := goldenSigner()
	doc := struct {
		Number string   `json:"number"`
		Name   string   `json:"name"`
		Rows   []string `json:"rows"`
	}{goldenNumber, "김민준 <&>", []string{"a", "b"}}
	data, err := s.SignData(doc)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != goldenData {
		t.Errorf("data.json =\n%s\nwant\n%s", data, goldenData)
	}
	raw, keyID, err := VerifyData([]byte(goldenData), keys)
	if err != nil || keyID != goldenKeyID {
		t.Fatalf("VerifyData(golden) = %s, %v", keyID, err)
	}
	// The signed message, spelled out: domain line, then the compact JSON.
	const signed = `{"number":"1234567890123452","name":"김민준 \u003c\u0026\u003e","rows":["a","b"]}`
	if string(raw) != signed {
		t.Errorf("signed document bytes =\n%s\nwant\n%s", raw, signed)
	}
	sig, err := base64.StdEncoding.DecodeString(goldenDataSig)
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(s.Key.Public().(ed25519.PublicKey), []byte("minwon data v1\n"+signed), sig) {
		t.Error(`golden signature is not over "minwon data v1\n" + compact document`)
	}
}
