// Package pkitest is a test helper: one simulated GPKI per test binary
// (RSA key generation is the slow part), its validation service on
// loopback, and officials' TLS clients.
package pkitest

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/pki"
)

var shared struct {
	once sync.Once
	ca   *pki.Authority
	err  error
	seq  atomic.Int64
}

// CA returns this test binary's authority, with a CRL of realistic size.
// Its directory outlives the test; the OS temp cleaner removes it.
func CA(t testing.TB) *pki.Authority {
	t.Helper()
	shared.once.Do(func() {
		dir, err := os.MkdirTemp("", "minwon-pkitest-")
		if err != nil {
			shared.err = err
			return
		}
		if shared.ca, shared.err = pki.Init(dir); shared.err == nil {
			shared.err = shared.ca.SeedHistory(200)
		}
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.ca
}

// Official issues a certificate for a new official with role, unique in
// this test binary.
func Official(t testing.TB, role pki.Role) (pki.Official, pki.Credential) {
	t.Helper()
	ca := CA(t)
	o := pki.Official{ID: fmt.Sprintf("t%05d", shared.seq.Add(1)), Name: "김공무", Office: "서울특별시 관악구 행운동 주민센터", Role: role}
	cred, err := ca.IssueOfficial(o)
	if err != nil {
		t.Fatal(err)
	}
	return o, cred
}

// System returns minwon's system certificate (what it presents to the
// agencies), the same one for the whole test binary.
func System(t testing.TB) pki.Credential {
	t.Helper()
	cred, err := CA(t).SystemCredential("minwon")
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

// DocumentSigner returns minwon's document-signing certificate, the same
// one for the whole test binary.
func DocumentSigner(t testing.TB) pki.Credential {
	t.Helper()
	cred, err := CA(t).DocumentSignerCredential("minwon")
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

// Validation is a running validation service.
type Validation struct {
	*pki.Validation
	URL string
}

// StartValidation serves the authority's validation service on loopback
// until t ends.
func StartValidation(t testing.TB) *Validation {
	t.Helper()
	ca := CA(t)
	v := pki.NewValidation(ca, time.Hour)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: v, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(v.Listener(l))
	t.Cleanup(func() { srv.Close() })
	return &Validation{Validation: v, URL: "http://" + l.Addr().String()}
}

// Client returns an HTTP client presenting cred and trusting the CA.
func Client(t testing.TB, cred pki.Credential) *http.Client {
	t.Helper()
	cfg, err := pki.ClientTLS(cred, CA(t).Pool())
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, MaxIdleConnsPerHost: 64}, Timeout: 30 * time.Second}
}

// ServerTLS returns a mutual-TLS config for a loopback server.
func ServerTLS(t testing.TB, name string) *tls.Config {
	t.Helper()
	ca := CA(t)
	cred, err := ca.ServerCredential(name, []string{"127.0.0.1", "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := pki.ServerTLS(cred, ca.Pool())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Pdfsig runs poppler's pdfsig on the PDF at path with the test PKI's root
// trusted (in a fresh NSS database) and returns its report. It skips t
// where pdfsig or certutil is missing, except in CI, which installs them.
func Pdfsig(t testing.TB, path string) string {
	t.Helper()
	for _, tool := range []string{"pdfsig", "certutil"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s (poppler-utils, libnss3-tools) is required in CI", tool)
			}
			t.Skipf("%s not installed (Debian: poppler-utils, libnss3-tools): PDF signatures not checked by a standard reader", tool)
		}
	}
	nss := t.TempDir()
	run := func(name string, args ...string) string {
		t.Helper()
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("certutil", "-N", "-d", "sql:"+nss, "--empty-password")
	run("certutil", "-A", "-d", "sql:"+nss, "-n", "minwon test GPKI root", "-t", "CT,C,C", "-i", filepath.Join(CA(t).Dir(), pki.RootCertFile))
	return run("pdfsig", "-nssdir", "sql:"+nss, path)
}
