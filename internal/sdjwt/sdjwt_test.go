package sdjwt_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/sdjwt"
)

var now = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)

// issuer makes a root and a document-signing leaf under it.
func issuer(t testing.TB) (*sdjwt.Issuer, *x509.CertPool) {
	t.Helper()
	rootKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rootTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test root"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := x509.ParseCertificate(rootDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "minwon documents"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, root, &key.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(leafDER)
	pool := x509.NewCertPool()
	pool.AddCert(root)
	return &sdjwt.Issuer{Key: key, Chain: []*x509.Certificate{leaf, root}}, pool
}

const uri = "https://minwon.example/api/v1/credentials/status"

func issue(t testing.TB, is *sdjwt.Issuer, idx int64) string {
	t.Helper()
	cred, err := is.Issue(map[string]any{
		"iss": "https://minwon.example", "vct": "https://minwon.example/vct/resident-registration-abstract",
		"iat": now.Unix(), "exp": now.Add(30 * 24 * time.Hour).Unix(),
		"status": map[string]any{"status_list": sdjwt.Status{Index: idx, URI: uri}},
	}, []sdjwt.Claim{{Name: "name", Value: "홍길동"}, {Name: "birth_date", Value: "1990-01-01"}, {Name: "address", Value: "서울특별시 종로구"}})
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

func TestIssueVerifyPresent(t *testing.T) {
	is, roots := issuer(t)
	cred := issue(t, is, 5)
	if n := strings.Count(cred, "~"); n != 4 || !strings.HasSuffix(cred, "~") {
		t.Fatalf("%d separators", n)
	}
	c, err := sdjwt.Verify(cred, sdjwt.Trust{Roots: roots}, now)
	if err != nil {
		t.Fatal(err)
	}
	if c.Disclosed["name"] != "홍길동" || len(c.Disclosed) != 3 || c.Status == nil || c.Status.Index != 5 || c.Status.URI != uri || c.Header["typ"] != "dc+sd-jwt" {
		t.Errorf("credential %+v", c)
	}
	// The holder shows only the birth date.
	p, err := sdjwt.Present(cred, "birth_date")
	if err != nil {
		t.Fatal(err)
	}
	c, err = sdjwt.Verify(p, sdjwt.Trust{Roots: roots}, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Disclosed) != 1 || c.Disclosed["birth_date"] != "1990-01-01" || strings.Contains(p, base64.RawURLEncoding.EncodeToString([]byte("홍길동"))) {
		t.Errorf("presentation disclosed %v", c.Disclosed)
	}
	// Nothing disclosed: still a valid credential.
	if p, _ := sdjwt.Present(cred); p == "" {
		t.Error("empty presentation")
	} else if _, err := sdjwt.Verify(p, sdjwt.Trust{Roots: roots}, now); err != nil {
		t.Errorf("no disclosures: %v", err)
	}
}

func TestVerifyRefuses(t *testing.T) {
	is, roots := issuer(t)
	other, otherRoots := issuer(t)
	cred := issue(t, is, 1)
	parts := strings.Split(cred, "~")
	forged := base64.RawURLEncoding.EncodeToString([]byte(`["c2FsdA","name","김철수"]`))
	otherCred := issue(t, other, 1)
	for name, tc := range map[string]struct {
		cred  string
		trust sdjwt.Trust
		at    time.Time
		want  error
	}{
		"forged disclosure":      {parts[0] + "~" + forged + "~", sdjwt.Trust{Roots: roots}, now, sdjwt.ErrDigest},
		"disclosure twice":       {parts[0] + "~" + parts[1] + "~" + parts[1] + "~", sdjwt.Trust{Roots: roots}, now, sdjwt.ErrDigest},
		"another issuer's chain": {cred, sdjwt.Trust{Roots: otherRoots}, now, sdjwt.ErrIssuer},
		"another key":            {cred, sdjwt.Trust{Key: &other.Key.PublicKey}, now, sdjwt.ErrSignature},
		"disclosure of another":  {parts[0] + "~" + strings.Split(otherCred, "~")[1] + "~", sdjwt.Trust{Roots: roots}, now, sdjwt.ErrDigest},
		"expired":                {cred, sdjwt.Trust{Key: &is.Key.PublicKey}, now.Add(31 * 24 * time.Hour), sdjwt.ErrExpired},
		"no trailing tilde":      {strings.TrimSuffix(cred, "~"), sdjwt.Trust{Roots: roots}, now, sdjwt.ErrFormat},
		"payload edited":         {editPayload(parts[0]) + "~", sdjwt.Trust{Roots: roots}, now, sdjwt.ErrSignature},
		"no trust":               {cred, sdjwt.Trust{}, now, sdjwt.ErrIssuer},
	} {
		if _, err := sdjwt.Verify(tc.cred, tc.trust, tc.at); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}

// editPayload flips a character of the JWT's payload.
func editPayload(jwt string) string {
	s := strings.Split(jwt, ".")
	b := []byte(s[1])
	if b[10] == 'A' {
		b[10] = 'B'
	} else {
		b[10] = 'A'
	}
	return s[0] + "." + string(b) + "." + s[2]
}

func TestStatusList(t *testing.T) {
	is, roots := issuer(t)
	trust := sdjwt.Trust{Roots: roots}
	list, err := is.StatusList(uri, 100, []int64{3, 64}, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for idx, want := range map[int64]error{0: nil, 3: sdjwt.ErrRevoked, 4: nil, 64: sdjwt.ErrRevoked, 99: nil, 104: sdjwt.ErrStatus} {
		c, err := sdjwt.Verify(issue(t, is, idx), trust, now)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.CheckStatus(list, trust, now); !errors.Is(err, want) {
			t.Errorf("index %d: %v, want %v", idx, err, want)
		}
	}
	c, _ := sdjwt.Verify(issue(t, is, 0), trust, now)
	if err := c.CheckStatus(list, trust, now.Add(2*time.Hour)); !errors.Is(err, sdjwt.ErrStatus) {
		t.Errorf("expired list: %v", err)
	}
	other, otherRoots := issuer(t)
	otherList, _ := other.StatusList(uri, 100, nil, now, time.Hour)
	if err := c.CheckStatus(otherList, sdjwt.Trust{Roots: otherRoots}, now); !errors.Is(err, sdjwt.ErrStatus) {
		t.Errorf("another issuer's list: %v", err)
	}
	elsewhere, _ := is.StatusList("https://elsewhere.example/status", 100, nil, now, time.Hour)
	if err := c.CheckStatus(elsewhere, trust, now); !errors.Is(err, sdjwt.ErrStatus) {
		t.Errorf("another list: %v", err)
	}
}

// The status list draft's example: 16 statuses, 1 bit each.
func TestStatusListDraftExample(t *testing.T) {
	claims := map[string]any{"status_list": map[string]any{"bits": float64(1), "lst": "eNrbuRgAAhcBXQ"}}
	want := []int{1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1}
	for i, w := range want {
		if got, err := sdjwt.StatusBit(claims, int64(i)); err != nil || got != w {
			t.Errorf("index %d: %d %v, want %d", i, got, err, w)
		}
	}
}

// RFC 9901's example disclosure of family_name and its digest.
func TestDisclosureDigestRFCExample(t *testing.T) {
	const disclosure = "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0"
	sum := sha256.Sum256([]byte(disclosure))
	if got := base64.RawURLEncoding.EncodeToString(sum[:]); got != "X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0" {
		t.Errorf("digest %s", got)
	}
}

func FuzzVerify(f *testing.F) {
	is, roots := issuer(f)
	cred := issue(f, is, 2)
	f.Add(cred)
	p, _ := sdjwt.Present(cred, "name")
	f.Add(p)
	f.Add("a.b.c~")
	f.Add("~~~")
	trust := sdjwt.Trust{Roots: roots}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := sdjwt.Verify(s, trust, now)
		if err != nil {
			return
		}
		// Whatever verifies was signed by the issuer: its disclosures are
		// among the original's.
		for name := range c.Disclosed {
			if name != "name" && name != "birth_date" && name != "address" {
				t.Fatalf("verified an unsigned claim %q", name)
			}
		}
	})
}

func FuzzStatusBit(f *testing.F) {
	f.Add("eNrbuRgAAhcBXQ", int64(3))
	f.Add("", int64(0))
	f.Add("eJzLSM3JyQcABiwCFQ", int64(100))
	f.Fuzz(func(t *testing.T, lst string, idx int64) {
		bit, err := sdjwt.StatusBit(map[string]any{"status_list": map[string]any{"bits": float64(1), "lst": lst}}, idx)
		if err == nil && bit != 0 && bit != 1 {
			t.Fatalf("bit %d", bit)
		}
	})
}
