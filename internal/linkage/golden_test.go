package linkage

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"
)

// The wire and signature formats agencies and minwon agree on. These
// expected bytes are the contract: a reordered field, a changed separator or
// a new prefix must fail here, not in production against a real agency.
const (
	goldenRequest = `{"correlation_id":"00112233445566778899aabbccddeeff","purpose":"resident-registration-copy","subject":"PABCDE12345","dataset":"person","fields":["name","rrn"]}`
	goldenBody    = `{"agency":"registry","correlation_id":"00112233445566778899aabbccddeeff","subject":"PABCDE12345","dataset":"person","fields":{"name":"김민준","rrn":"9001011234568"},"answered_at":"2026-01-02T03:04:05.006Z"}`
	goldenKeyID   = "registry-fe812c12f3ab"
	goldenSig     = "QUjw4DVafYOoRSgxfDeuo8HEDQB7BHQAZwd30sEfhltTSsUOeDAx0+CCrAT6iEHaIK2ebglW4kxCdauPI0M/Dw=="
)

func goldenSigner() Signer {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	return Signer{KeyID: KeyID(Registry, key.Public().(ed25519.PublicKey)), Key: key}
}

func goldenReq() *Request {
	return &Request{CorrelationID: "00112233445566778899aabbccddeeff", Purpose: "resident-registration-copy", Subject: "PABCDE12345", Dataset: "person", Fields: []string{"name", "rrn"}}
}

func TestGoldenWire(t *testing.T) {
	req, err := json.Marshal(goldenReq())
	if err != nil || string(req) != goldenRequest {
		t.Errorf("request encodes as\n%s\nwant\n%s", req, goldenRequest)
	}
	body, err := json.Marshal(Response{
		Agency: Registry, CorrelationID: "00112233445566778899aabbccddeeff", Subject: "PABCDE12345", Dataset: "person",
		Fields:     map[string]json.RawMessage{"rrn": json.RawMessage(`"9001011234568"`), "name": json.RawMessage(`"김민준"`)},
		AnsweredAt: time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC),
	})
	if err != nil || string(body) != goldenBody {
		t.Errorf("answer encodes as\n%s\nwant\n%s", body, goldenBody)
	}
}

func TestGoldenAgencySignature(t *testing.T) {
	s := goldenSigner()
	header := s.Sign([]byte(goldenBody))
	if s.KeyID != goldenKeyID {
		t.Errorf("key id = %s, want %s", s.KeyID, goldenKeyID)
	}
	if want := goldenKeyID + " " + goldenSig; header != want {
		t.Errorf("signature header =\n%s\nwant\n%s", header, want)
	}
	// The signed message, spelled out independently of the code: the
	// domain prefix, then the body bytes exactly as sent.
	sig, err := base64.StdEncoding.DecodeString(goldenSig)
	if err != nil {
		t.Fatal(err)
	}
	pub := s.Key.Public().(ed25519.PublicKey)
	if !ed25519.Verify(pub, []byte("minwon agency response v1\n"+goldenBody), sig) {
		t.Error(`golden signature is not over "minwon agency response v1\n" + body`)
	}
	v := NewVerifier(DefaultSchema(), map[string]map[string]ed25519.PublicKey{Registry: {goldenKeyID: pub}})
	rec, err := v.Decode(Registry, goldenReq(), goldenKeyID+" "+goldenSig, []byte(goldenBody))
	if err != nil {
		t.Fatalf("the golden answer does not decode: %v", err)
	}
	if name, _ := rec.String("name"); name != "김민준" || !rec.AnsweredAt.Equal(time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC)) {
		t.Errorf("decoded %+v", rec)
	}
}
