package pki

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// One hierarchy per test binary: RSA key generation is the slow part.
var (
	sharedOnce sync.Once
	sharedCA   *Authority
	sharedErr  error
	sharedDir  string
)

func testCA(t *testing.T) *Authority {
	t.Helper()
	ca, err := sharedAuthority()
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

var idSeq struct {
	sync.Mutex
	n int
}

func newOfficial(t *testing.T, ca *Authority, role Role) (Official, Credential) {
	t.Helper()
	idSeq.Lock()
	idSeq.n++
	o := Official{ID: fmt.Sprintf("t%04d", idSeq.n), Name: "김공무", Office: "관악구 행운동 주민센터", Role: role}
	idSeq.Unlock()
	cred, err := ca.IssueOfficial(o)
	if err != nil {
		t.Fatal(err)
	}
	return o, cred
}

func TestOfficialCertificateCarriesIdentity(t *testing.T) {
	ca := testCA(t)
	o, cred := newOfficial(t, ca, Operator)
	chain, err := ReadCerts(cred.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(chain) != 2 {
		t.Fatalf("chain of %d certificates, want leaf and ministry CA", len(chain))
	}
	inter := x509.NewCertPool()
	inter.AddCert(chain[1])
	if _, err := chain[0].Verify(x509.VerifyOptions{Roots: ca.Pool(), Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatalf("official certificate does not verify: %v", err)
	}
	got, err := OfficialOf(chain[0])
	if err != nil || got != o {
		t.Fatalf("OfficialOf = %+v, %v; want %+v", got, err, o)
	}
	if _, err := ca.IssueOfficial(o); !errors.Is(err, ErrExists) {
		t.Errorf("second certificate for one official: %v, want ErrExists", err)
	}
	for _, bad := range []Official{{ID: "", Name: "a", Office: "b", Role: Operator}, {ID: "x", Name: "a", Office: "b", Role: "root"}, {ID: "../x", Name: "a", Office: "b", Role: Auditor}} {
		if _, err := ca.IssueOfficial(bad); !errors.Is(err, ErrBadOfficial) {
			t.Errorf("IssueOfficial(%+v) = %v, want ErrBadOfficial", bad, err)
		}
	}
	// A server certificate names no official.
	srv, err := ca.ServerCredential("counter-test", []string{"127.0.0.1", "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	sc, _ := ReadCerts(srv.CertFile)
	if _, err := OfficialOf(sc[0]); !errors.Is(err, ErrNotOfficial) {
		t.Errorf("server certificate accepted as an official: %v", err)
	}
}

// A system certificate (minwon calling the agencies) and an official's are
// told apart by the certificate alone: neither reads as the other.
func TestSystemCertificateIsNotAnOfficial(t *testing.T) {
	ca := testCA(t)
	cred, err := ca.SystemCredential("minwon-test")
	if err != nil {
		t.Fatal(err)
	}
	again, err := ca.SystemCredential("minwon-test")
	if err != nil || again != cred {
		t.Fatalf("second SystemCredential = %+v, %v; want the first one again", again, err)
	}
	chain, err := ReadCerts(cred.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	inter := x509.NewCertPool()
	inter.AddCert(chain[1])
	if _, err := chain[0].Verify(x509.VerifyOptions{Roots: ca.Pool(), Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatalf("system certificate does not verify: %v", err)
	}
	if name, err := SystemOf(chain[0]); err != nil || name != "minwon-test" {
		t.Errorf("SystemOf = %q, %v; want minwon-test", name, err)
	}
	if _, err := OfficialOf(chain[0]); !errors.Is(err, ErrNotOfficial) {
		t.Errorf("system certificate accepted as an official: %v", err)
	}
	_, ocred := newOfficial(t, ca, Operator)
	oc, _ := ReadCerts(ocred.CertFile)
	if _, err := SystemOf(oc[0]); !errors.Is(err, ErrNotSystem) {
		t.Errorf("official certificate accepted as a system: %v", err)
	}
	srv, err := ca.ServerCredential("counter-test", []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	sc, _ := ReadCerts(srv.CertFile)
	if _, err := SystemOf(sc[0]); !errors.Is(err, ErrNotSystem) {
		t.Errorf("server certificate accepted as a system: %v", err)
	}
}

// startValidation serves ca's validation service on loopback.
func startValidation(t *testing.T, ca *Authority) (*Validation, string) {
	t.Helper()
	v := NewValidation(ca, time.Hour)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: v}
	go srv.Serve(v.Listener(l))
	t.Cleanup(func() { srv.Close() })
	return v, "http://" + l.Addr().String()
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestCredentialStateMachine(t *testing.T) {
	ca := testCA(t)
	v, url := startValidation(t, ca)
	_, cred := newOfficial(t, ca, CounterClerk)
	_, other := newOfficial(t, ca, CounterClerk)
	leaf := mustLeaf(t, cred)
	otherLeaf := mustLeaf(t, other)
	clk := &clock{t: time.Now()}
	cache := filepath.Join(t.TempDir(), "crl-cache.json")
	cfg := CheckerConfig{ValidationURL: url, Issuer: ca.Ministry, Grace: 4 * time.Hour, Refresh: 30 * time.Second, Timeout: 500 * time.Millisecond, CachePath: cache, Now: clk.now}
	c, err := NewChecker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	step := func(name string, want State) Status {
		t.Helper()
		s := c.Status(leaf)
		if s.State != want {
			t.Fatalf("%s: state %s (%s), want %s", name, s.State, s.Reason, want)
		}
		return s
	}
	step("before any refresh", Locked)
	if err := c.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	step("after a good refresh", Fresh)

	// The service goes down: fresh for two refresh periods, then grace
	// until four hours after the last good list, then locked.
	v.SetFaults(Faults{Down: true})
	if err := c.Refresh(ctx); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("refresh while down: %v, want ErrUnreachable", err)
	}
	clk.add(time.Minute + 10*time.Second)
	s := step("validation down 70 s", Grace)
	if want := clk.now().Add(-70 * time.Second).Add(4 * time.Hour); !s.GraceUntil.Equal(want) {
		t.Errorf("grace until %s, want %s", s.GraceUntil, want)
	}
	// A restart during the outage keeps the grace it had, not a new one.
	restarted, err := NewChecker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rs := restarted.Status(leaf); rs.State != Grace || !rs.GraceUntil.Equal(s.GraceUntil) {
		t.Errorf("after restart: %+v, want grace until %s", rs, s.GraceUntil)
	}
	clk.add(3*time.Hour + 58*time.Minute)
	step("validation down 3h59m", Grace)
	clk.add(2 * time.Minute)
	if s := step("validation down 4h01m", Locked); s.Reason != "grace_expired" {
		t.Errorf("reason %q", s.Reason)
	}

	// Healed: fresh again. Then drop every answer over 1,500 bytes: the
	// CRL of a CA with history is larger than that, so it is as good as down.
	v.SetFaults(Faults{})
	if err := c.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	step("healed", Fresh)
	v.SetFaults(Faults{DropOverBytes: 1500})
	if err := c.Refresh(ctx); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("refresh with large packets dropped: %v", err)
	}
	probes := c.health(ctx, leaf)
	for _, p := range probes {
		if p.OK {
			t.Errorf("health probe %s passed while large answers are dropped", p.Check)
		}
	}
	if v.Stats().Dropped == 0 {
		t.Error("nothing was dropped; the test proves nothing")
	}
	clk.add(5 * time.Minute)
	step("large packets dropped for 5 minutes", Grace)

	// A revocation is refused as soon as it is known, grace or not.
	v.SetFaults(Faults{})
	if _, err := ca.RevokeOfficial(mustOfficial(t, leaf).ID, "left the office"); err != nil {
		t.Fatal(err)
	}
	step("revoked but not yet refreshed", Grace)
	if err := c.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if s := step("revocation known", Locked); s.Reason != "revoked" {
		t.Errorf("reason %q", s.Reason)
	}
	if s := c.Status(otherLeaf); s.State != Fresh {
		t.Errorf("another official after someone's revocation: %+v", s)
	}
	// The health probes pass again, and OCSP tells revoked from good.
	for _, p := range c.health(ctx, otherLeaf) {
		if !p.OK {
			t.Errorf("health probe %s: %s", p.Check, p.Error)
		}
		if p.Bytes <= 1500 {
			t.Errorf("probe %s moved only %d bytes: not a realistic size", p.Check, p.Bytes)
		}
	}
	if st, err := c.OCSPStatus(ctx, leaf); err != nil || st != "revoked" {
		t.Errorf("OCSP for revoked: %q, %v", st, err)
	}
	if st, err := c.OCSPStatus(ctx, otherLeaf); err != nil || st != "good" {
		t.Errorf("OCSP for good: %q, %v", st, err)
	}
}

func TestCheckerRefusesForeignAndOlderCRLs(t *testing.T) {
	ca := testCA(t)
	crl, err := ca.CRL(time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// Signed by the ministry CA, checked against another issuer: refused.
	c, _ := NewChecker(CheckerConfig{ValidationURL: "http://127.0.0.1:1", Issuer: ca.Root})
	if err := c.adopt(crl, time.Now(), false); err == nil {
		t.Error("a CRL checked against the wrong issuer was adopted")
	}
	c, _ = NewChecker(CheckerConfig{ValidationURL: "http://127.0.0.1:1", Issuer: ca.Ministry})
	if err := c.adopt(crl, time.Now(), false); err != nil {
		t.Fatal(err)
	}
	newOfficial(t, ca, Auditor) // the register moves on
	newer, err := ca.CRL(time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.adopt(newer, time.Now(), false); err != nil {
		t.Fatal(err)
	}
	if err := c.adopt(crl, time.Now(), false); err == nil {
		t.Error("an older CRL replaced a newer one")
	}
	if err := c.adopt([]byte("not a crl"), time.Now(), false); err == nil {
		t.Error("garbage adopted as a CRL")
	}
}

// The mutual-TLS refusals of a listener built with ServerTLS.
func TestMutualTLSRefusals(t *testing.T) {
	ca := testCA(t)
	srvCred, err := ca.ServerCredential("mtls-test", []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ServerTLS(srvCred, ca.Pool())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o, err := OfficialOf(r.TLS.VerifiedChains[0][0])
		if err != nil {
			http.Error(w, "not an official", http.StatusForbidden)
			return
		}
		io.WriteString(w, o.ID)
	}))
	srv.TLS = cfg
	srv.StartTLS()
	t.Cleanup(srv.Close)

	_, good := newOfficial(t, ca, CounterClerk)
	// Another CA, same names: its certificates must not pass.
	otherDir := t.TempDir()
	other, err := Init(otherDir)
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := other.IssueOfficial(Official{ID: "x1", Name: "김공무", Office: "관악구", Role: CounterClerk})
	if err != nil {
		t.Fatal(err)
	}
	// Expired: issued by the right CA three years ago.
	ca.SetClock(func() time.Time { return time.Now().Add(-3 * 365 * 24 * time.Hour) })
	_, expired := newOfficial(t, ca, CounterClerk)
	ca.SetClock(time.Now)
	// A server certificate is not a client certificate.
	cases := []struct {
		name string
		cred *Credential
		ok   bool
	}{
		{"official of this PKI", &good, true},
		{"no certificate", nil, false},
		{"another CA's certificate", &foreign, false},
		{"expired certificate", &expired, false},
		{"server certificate as a client", &srvCred, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tlsCfg := &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: ca.Pool()}
			if tc.cred != nil {
				cert, err := tls.LoadX509KeyPair(tc.cred.CertFile, tc.cred.KeyFile)
				if err != nil {
					t.Fatal(err)
				}
				tlsCfg.Certificates = []tls.Certificate{cert}
			}
			client := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg}, Timeout: 5 * time.Second}
			resp, err := client.Get(srv.URL + "/")
			if tc.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status %d", resp.StatusCode)
				}
				return
			}
			if err == nil {
				resp.Body.Close()
				t.Fatalf("accepted with status %d", resp.StatusCode)
			}
		})
	}
	// TLS 1.2 is refused.
	cert, _ := tls.LoadX509KeyPair(good.CertFile, good.KeyFile)
	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{MaxVersion: tls.VersionTLS12, RootCAs: ca.Pool(), Certificates: []tls.Certificate{cert}}}}
	if resp, err := old.Get(srv.URL + "/"); err == nil {
		resp.Body.Close()
		t.Error("TLS 1.2 accepted")
	}
}

func TestValidationFaultSwitch(t *testing.T) {
	ca := testCA(t)
	v, url := startValidation(t, ca)
	put := func(body string) (int, string) {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPut, url+"/_faults", strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("PUT /_faults %s: %v", body, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := put(`{"down":1}`); code != http.StatusOK || !v.Faults().Down {
		t.Fatalf("down: %d %+v", code, v.Faults())
	}
	// Another client (the control connection itself stays usable).
	other := &http.Client{Transport: &http.Transport{}}
	if _, err := other.Get(url + "/health"); err == nil {
		t.Error("health answered while down")
	}
	// The switch itself stays reachable, or nobody could heal it.
	if code, body := put(`{}`); code != http.StatusOK || v.Faults().Down {
		t.Fatalf("heal: %d %s", code, body)
	}
	resp, err := http.Get(url + "/health")
	if err != nil {
		t.Fatalf("health after heal: %v", err)
	}
	resp.Body.Close()
	for _, bad := range []string{`{"down":2}`, `{"delay_ms":-1}`, `{"drop":1}`, `nope`} {
		if code, _ := put(bad); code != http.StatusBadRequest {
			t.Errorf("PUT %s: %d, want 400", bad, code)
		}
	}
	if code, body := put(`{"delay_ms":5,"drop_over_bytes":1500}`); code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	} else {
		var f faultsJSON
		json.Unmarshal([]byte(body), &f)
		if f.DelayMS != 5 || f.DropOverBytes != 1500 {
			t.Errorf("faults echoed %+v", f)
		}
	}
	put(`{}`)
}

func mustLeaf(t *testing.T, cred Credential) *x509.Certificate {
	t.Helper()
	cs, err := ReadCerts(cred.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	return cs[0]
}

func mustOfficial(t *testing.T, c *x509.Certificate) Official {
	t.Helper()
	o, err := OfficialOf(c)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func makeTempDir() (string, error) { return os.MkdirTemp("", "minwon-pki-test-") }

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedDir != "" {
		os.RemoveAll(sharedDir)
	}
	os.Exit(code)
}

// FuzzOCSPRequest feeds the responder whatever a client may send: it must
// answer (an OCSP error status at worst) and never panic.
func FuzzOCSPRequest(f *testing.F) {
	ca, err := sharedAuthority()
	if err != nil {
		f.Fatal(err)
	}
	v := NewValidation(ca, time.Hour)
	leaf, err := ReadCerts(filepath.Join(ca.Dir(), ocspCertFile))
	if err != nil {
		f.Fatal(err)
	}
	good, err := ocsp.CreateRequest(leaf[0], ca.Ministry, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x01})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		v.answerOCSP(rec, body)
		if rec.Code != http.StatusOK || rec.Body.Len() == 0 {
			t.Fatalf("status %d, %d bytes", rec.Code, rec.Body.Len())
		}
		if _, err := ocsp.ParseResponse(rec.Body.Bytes(), nil); err != nil {
			var re ocsp.ResponseError
			if !errors.As(err, &re) {
				// A good request may be answered with a signed response
				// only checkable with the issuer; anything else must be an
				// OCSP error status, not garbage.
				if _, err2 := ocsp.ParseResponse(rec.Body.Bytes(), ca.Ministry); err2 != nil {
					t.Fatalf("answer is neither a response nor an OCSP error: %v", err)
				}
			}
		}
	})
}

// sharedAuthority builds the one hierarchy of this test binary; fuzz
// targets call it too, where there is no *testing.T.
func sharedAuthority() (*Authority, error) {
	sharedOnce.Do(func() {
		sharedDir, sharedErr = makeTempDir()
		if sharedErr == nil {
			sharedCA, sharedErr = Init(sharedDir)
		}
		if sharedErr == nil {
			sharedErr = sharedCA.SeedHistory(120)
		}
	})
	return sharedCA, sharedErr
}

func TestEntryState(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name  string
		entry Entry
		want  string
	}{
		{"valid", Entry{NotAfter: now.Add(time.Hour)}, EntryValid},
		{"expired", Entry{NotAfter: now}, EntryExpired},
		{"revoked", Entry{NotAfter: now.Add(time.Hour), RevokedAt: now.Add(-time.Hour)}, EntryRevoked},
		{"revoked and expired", Entry{NotAfter: now.Add(-time.Hour), RevokedAt: now.Add(-2 * time.Hour)}, EntryRevoked},
	}
	for _, tc := range cases {
		if got := tc.entry.State(now); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

// Two processes on one register (a running demo and `minwon pki revoke`):
// a revocation written by one survives the other's next change.
func TestRegisterChangesDoNotOverwriteEachOther(t *testing.T) {
	ca := testCA(t)
	other, err := Open(ca.Dir())
	if err != nil {
		t.Fatal(err)
	}
	o, _ := newOfficial(t, ca, CounterClerk)
	if _, err := other.RevokeOfficial(o.ID, "left the office"); err != nil {
		t.Fatal(err)
	}
	// The first authority has not reloaded: its next change must not
	// write its stale copy over the revocation.
	newOfficial(t, ca, CounterClerk)
	if _, err := ca.RevokeOfficial(o.ID, "again"); !errors.Is(err, ErrRevoked) {
		t.Errorf("revoking again: %v, want ErrRevoked (the first revocation was lost)", err)
	}
	crl, err := ca.CRL(time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := NewChecker(CheckerConfig{ValidationURL: "http://127.0.0.1:1", Issuer: ca.Ministry})
	if err := c.adopt(crl, time.Now(), false); err != nil {
		t.Fatal(err)
	}
	e := findEntry(t, ca, o.ID)
	if !e.RevokedAt.IsZero() && c.revoked[e.Serial] {
		return
	}
	t.Errorf("the revocation is not in the CRL: %+v", e)
}

func findEntry(t *testing.T, ca *Authority, id string) Entry {
	t.Helper()
	for _, e := range ca.Entries() {
		if e.Official != nil && e.Official.ID == id {
			return e
		}
	}
	t.Fatalf("no entry for %s", id)
	return Entry{}
}

// The fault switch answers on a kept-alive connection whatever faults it
// has set, even when the server reads the next request a byte at a time.
func TestFaultSwitchOnOneConnection(t *testing.T) {
	ca := testCA(t)
	v, url := startValidation(t, ca)
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1}}
	for i := range 20 {
		for _, body := range []string{`{"down":1}`, `{"drop_over_bytes":10}`, `{"down":1,"drop_over_bytes":10}`, `{}`} {
			req, _ := http.NewRequest(http.MethodPut, url+"/_faults", strings.NewReader(body))
			resp, err := c.Do(req)
			if err != nil {
				t.Fatalf("round %d, PUT %s: %v", i, body, err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("round %d, PUT %s: %d", i, body, resp.StatusCode)
			}
		}
	}
	if v.Faults() != (Faults{}) {
		t.Errorf("faults left %+v", v.Faults())
	}
}

func TestDocumentSigner(t *testing.T) {
	ca := testCA(t)
	cred, err := ca.DocumentSignerCredential("minwon")
	if err != nil {
		t.Fatal(err)
	}
	certs, err := ReadCerts(cred.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	leaf := certs[0]
	if k, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		t.Fatalf("document signer key %T, want ECDSA P-256", leaf.PublicKey)
	}
	key, err := readKey(cred.KeyFile)
	if err != nil || !key.Public().(*ecdsa.PublicKey).Equal(leaf.PublicKey) {
		t.Fatalf("the key file is not the certificate's key: %v", err)
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	// What a PDF reader on NSS requires of a signer: a chain to the root,
	// valid for S/MIME-style signing.
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}); err != nil {
		t.Fatalf("document signer does not chain to the root for signing: %v", err)
	}
	if leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0 || leaf.KeyUsage&x509.KeyUsageContentCommitment == 0 {
		t.Errorf("key usage %b", leaf.KeyUsage)
	}
	again, err := ca.DocumentSignerCredential("minwon")
	if err != nil || again != cred {
		t.Fatalf("a second call issued again: %+v, %v", again, err)
	}
	if certs2, _ := ReadCerts(cred.CertFile); !certs2[0].Equal(leaf) {
		t.Fatal("the certificate changed")
	}
}
