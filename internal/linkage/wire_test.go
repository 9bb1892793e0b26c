package linkage

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

type testKeys struct {
	signer Signer
	other  Signer // a key trusted for another agency
	v      *Verifier
}

func newTestKeys(t testing.TB) testKeys {
	t.Helper()
	gen := func(agency string) Signer {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return Signer{KeyID: KeyID(agency, k.Public().(ed25519.PublicKey)), Key: k}
	}
	s, o := gen(Registry), gen(Tax)
	v := NewVerifier(DefaultSchema(), map[string]map[string]ed25519.PublicKey{
		Registry: {s.KeyID: s.Key.Public().(ed25519.PublicKey)},
		Tax:      {o.KeyID: o.Key.Public().(ed25519.PublicKey)},
	})
	return testKeys{signer: s, other: o, v: v}
}

func testRequest() *Request {
	return &Request{CorrelationID: NewCorrelationID(), Subject: "PABCDE12345", Dataset: "person", Fields: []string{"name", "rrn"}}
}

func answerFor(req *Request, mutate func(*Response)) []byte {
	r := Response{
		Agency:        Registry,
		CorrelationID: req.CorrelationID,
		Subject:       req.Subject,
		Dataset:       req.Dataset,
		Fields:        map[string]json.RawMessage{"name": json.RawMessage(`"김민준"`), "rrn": json.RawMessage(`"9001011234568"`)},
		AnsweredAt:    time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	if mutate != nil {
		mutate(&r)
	}
	b, _ := json.Marshal(r)
	return b
}

func TestDecode(t *testing.T) {
	k := newTestKeys(t)
	req := testRequest()
	good := answerFor(req, nil)
	tests := []struct {
		name string
		sig  func(body []byte) string
		body []byte
		want error
	}{
		{"valid", k.signer.Sign, good, nil},
		{"no signature", func([]byte) string { return "" }, good, ErrIntegrity},
		{"garbage signature", func([]byte) string { return k.signer.KeyID + " !!!" }, good, ErrIntegrity},
		{"signature over other bytes", func([]byte) string { return k.signer.Sign([]byte("{}")) }, good, ErrIntegrity},
		{"key of another agency", k.other.Sign, good, ErrIntegrity},
		{"unknown key id", func(b []byte) string {
			_, sig, _ := strings.Cut(k.signer.Sign(b), " ")
			return "registry-000000000000 " + sig
		}, good, ErrIntegrity},
		{"another request's answer", k.signer.Sign, answerFor(testRequest(), nil), ErrMismatch},
		{"other subject", k.signer.Sign, answerFor(req, func(r *Response) { r.Subject = "PZZZZZ99999" }), ErrMismatch},
		{"other dataset", k.signer.Sign, answerFor(req, func(r *Response) { r.Dataset = "household" }), ErrMismatch},
		{"other agency", k.signer.Sign, answerFor(req, func(r *Response) { r.Agency = Tax }), ErrMismatch},
		{"extra field", k.signer.Sign, answerFor(req, func(r *Response) { r.Fields["address"] = json.RawMessage(`"x"`) }), ErrIntegrity},
		{"missing field", k.signer.Sign, answerFor(req, func(r *Response) { delete(r.Fields, "rrn") }), ErrIntegrity},
		{"swapped field name", k.signer.Sign, answerFor(req, func(r *Response) {
			delete(r.Fields, "rrn")
			r.Fields["address"] = json.RawMessage(`"x"`)
		}), ErrIntegrity},
		{"unknown top-level member", k.signer.Sign, []byte(strings.Replace(string(good), "{", `{"extra":1,`, 1)), ErrIntegrity},
		{"trailing data", k.signer.Sign, append(append([]byte{}, good...), []byte(" {}")...), ErrIntegrity},
		{"not json", k.signer.Sign, []byte("<html>"), ErrIntegrity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := k.v.Decode(Registry, req, tt.sig(tt.body), tt.body)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if rec.Subject != req.Subject || rec.CorrelationID != req.CorrelationID {
					t.Fatalf("record for %s/%s, want %s/%s", rec.Subject, rec.CorrelationID, req.Subject, req.CorrelationID)
				}
				name, err := rec.String("name")
				if err != nil || name != "김민준" {
					t.Fatalf("name = %q, %v", name, err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode error = %v, want %v", err, tt.want)
			}
			if rec != nil {
				t.Fatal("a refused answer returned a record")
			}
		})
	}
}

func TestMismatchErrorHidesValues(t *testing.T) {
	k := newTestKeys(t)
	req := testRequest()
	body := answerFor(req, func(r *Response) { r.Subject = "PSECRET0001" })
	_, err := k.v.Decode(Registry, req, k.signer.Sign(body), body)
	if err == nil || strings.Contains(err.Error(), "PSECRET0001") || strings.Contains(err.Error(), "9001011234568") {
		t.Fatalf("mismatch error must not carry the other subject's values: %v", err)
	}
}

// FuzzDecode feeds the agency answer decoder arbitrary bodies and signature
// headers. It must never panic, and whatever it accepts must be exactly the
// answer to the request: same correlation id, subject and dataset, the
// requested fields and no others.
func FuzzDecode(f *testing.F) {
	k := newTestKeys(f)
	req := &Request{CorrelationID: "0123456789abcdef0123456789abcdef", Subject: "PABCDE12345", Dataset: "person", Fields: []string{"name", "rrn"}}
	good := answerFor(req, nil)
	f.Add(good, k.signer.Sign(good), false)
	f.Add(good, "", false)
	f.Add([]byte(`{"agency":"registry"}`), "", true)
	f.Add([]byte(`{"fields":{"name":1}}`), "", true)
	f.Add(answerFor(req, func(r *Response) { r.Subject = "x" }), "", true)
	f.Fuzz(func(t *testing.T, body []byte, sig string, signIt bool) {
		if signIt {
			// Also explore bodies with a valid signature: the checks after
			// the signature are what stop a swapped answer.
			sig = k.signer.Sign(body)
		}
		rec, err := k.v.Decode(Registry, req, sig, body)
		if err != nil {
			if rec != nil {
				t.Fatal("error with a record")
			}
			return
		}
		if rec.Subject != req.Subject || rec.CorrelationID != req.CorrelationID || rec.Dataset != req.Dataset || rec.Agency != Registry {
			t.Fatalf("accepted an answer to another request: %+v", rec)
		}
		if len(rec.Fields) != len(req.Fields) {
			t.Fatalf("accepted %d fields, asked for %d", len(rec.Fields), len(req.Fields))
		}
		for _, name := range req.Fields {
			if _, ok := rec.Fields[name]; !ok {
				t.Fatalf("accepted answer without %q", name)
			}
		}
	})
}
