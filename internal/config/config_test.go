package config

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/keyfile"
	"github.com/minwon/minwon/internal/pki"
)

var pub = base64.StdEncoding.EncodeToString(make([]byte, ed25519.PublicKeySize))

// witnessKey is a cosignature/v1 verifier key (of the all-zero public key).
const witnessKey = "witness.example/w1+490ca8b1+BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

func example() string {
	return `{
  "database": {"postgres": "postgres://minwon@db.internal:5432/minwon?sslmode=verify-full", "max_conns": 20},
  "listen": "0.0.0.0:8080",
  "public_url": "https://minwon.example",
  "key_dir": "/etc/minwon/keys",
  "log_key": "/etc/minwon/log-checkpoint.key",
  "log_origin": "minwon.example/log",
  "session_ttl": "30m",
  "counter_listen": "0.0.0.0:8443",
  "counter_cert": "/etc/minwon/pki/servers/counter.pem",
  "counter_key": "/etc/minwon/pki/servers/counter.key",
  "subject_index_key": "/etc/minwon/keys/subject-index.key",
  "admin_listen": "127.0.0.1:8444",
  "admin_cert": "/etc/minwon/pki/servers/admin.pem",
  "admin_key": "/etc/minwon/pki/servers/admin.key",
  "pki": {
    "ca": "/etc/minwon/pki/ca.pem",
    "crl_issuer": "/etc/minwon/pki/ministry-ca.pem",
    "validation_url": "http://127.0.0.1:7103",
    "grace": "2h",
    "crl_cache": "/var/lib/minwon/crl-cache.json"
  },
  "linkage": {
    "cert": "/etc/minwon/pki/systems/minwon.pem",
    "key": "/etc/minwon/pki/systems/minwon.key",
    "ca": "/etc/minwon/pki/ca.pem"
  },
  "agencies": [
    {"name": "registry", "url": "https://registry.example", "keys": {"registry-0a1b2c3d": "` + pub + `"}},
    {"name": "tax", "url": "http://127.0.0.1:7102/api", "keys": {"tax-1": "` + pub + `", "tax-2": "` + pub + `"}}
  ]
}`
}

func TestParseExample(t *testing.T) {
	c, err := Parse([]byte(example()))
	if err != nil {
		t.Fatal(err)
	}
	if c.Database.MaxConns != 20 || time.Duration(c.SessionTTL) != 30*time.Minute || len(c.Agencies) != 2 {
		t.Fatalf("parsed %+v", c)
	}
	if c.PKI == nil || c.PKI.Grace != Duration(2*time.Hour) || c.PKI.CRLRefresh != DefaultCRLRefresh || c.CounterListen != "0.0.0.0:8443" || c.AdminKey != "/etc/minwon/pki/servers/admin.key" {
		t.Fatalf("officials' listeners parsed as %+v, pki %+v", c, c.PKI)
	}
	eps := c.Endpoints()
	if len(eps) != 2 || eps[1].Agency != "tax" || eps[1].BaseURL != "http://127.0.0.1:7102/api" || len(eps[1].Keys) != 2 || len(eps[1].Keys["tax-1"]) != ed25519.PublicKeySize {
		t.Fatalf("endpoints %+v", eps)
	}
	withWitness := strings.Replace(example(), `"listen"`, `"checkpoint_file": "/var/lib/minwon/checkpoint.last", "witness": {"url": "https://witness.example", "verifier_key": "`+witnessKey+`"}, "listen"`, 1)
	if c, err := Parse([]byte(withWitness)); err != nil || c.Witness == nil || c.Witness.VerifierKey != witnessKey || c.CheckpointFile == "" {
		t.Fatalf("a config with a witness: %+v %v", c, err)
	}
}

func TestParseRefuses(t *testing.T) {
	cases := map[string]func(string) string{
		"unknown field":  func(s string) string { return strings.Replace(s, `"listen"`, `"listne": "x", "listen"`, 1) },
		"both databases": func(s string) string { return strings.Replace(s, `"max_conns": 20`, `"sqlite": "/x.db"`, 1) },
		"no database": func(s string) string {
			return strings.Replace(s, `"postgres": "postgres://minwon@db.internal:5432/minwon?sslmode=verify-full", `, ``, 1)
		},
		"bad listen": func(s string) string { return strings.Replace(s, `0.0.0.0:8080`, `8080`, 1) },
		"public url path": func(s string) string {
			return strings.Replace(s, `https://minwon.example"`, `https://minwon.example/x"`, 1)
		},
		"public url slash": func(s string) string {
			return strings.Replace(s, `https://minwon.example"`, `https://minwon.example/"`, 1)
		},
		"public url scheme": func(s string) string {
			return strings.Replace(s, `https://minwon.example"`, `ftp://minwon.example"`, 1)
		},
		"no log key": func(s string) string { return strings.Replace(s, `/etc/minwon/log-checkpoint.key`, ``, 1) },
		"bad origin": func(s string) string { return strings.Replace(s, `minwon.example/log`, `minwon example`, 1) },
		"bad ttl":    func(s string) string { return strings.Replace(s, `"30m"`, `"30 minutes"`, 1) },
		"short ttl":  func(s string) string { return strings.Replace(s, `"30m"`, `"5s"`, 1) },
		"negative retention": func(s string) string {
			return strings.Replace(s, `"listen"`, `"retention_days": -1, "listen"`, 1)
		},
		"short key": func(s string) string { return strings.Replace(s, `"tax-2": "`+pub+`"`, `"tax-2": "AAAA"`, 1) },
		"agency url query": func(s string) string {
			return strings.Replace(s, `https://registry.example"`, `https://registry.example?x=1"`, 1)
		},
		"agency url user": func(s string) string {
			return strings.Replace(s, `https://registry.example"`, `https://u:p@registry.example"`, 1)
		},
		"duplicate agency":    func(s string) string { return strings.Replace(s, `"name": "tax"`, `"name": "registry"`, 1) },
		"agency without keys": func(s string) string { return strings.Replace(s, `{"registry-0a1b2c3d": "`+pub+`"}`, `{}`, 1) },
		"trailing data":       func(s string) string { return s + `{}` },
		"not an object":       func(string) string { return `[]` },
		"bad admin listen":    func(s string) string { return strings.Replace(s, `127.0.0.1:8444`, `localhost`, 1) },
		"bad counter listen":  func(s string) string { return strings.Replace(s, `0.0.0.0:8443`, `0.0.0.0`, 1) },
		"counter without key": func(s string) string { return strings.Replace(s, `"/etc/minwon/pki/servers/counter.key"`, `""`, 1) },
		"counter without index key": func(s string) string {
			return strings.Replace(s, `"/etc/minwon/keys/subject-index.key"`, `""`, 1)
		},
		"no pki ca":          func(s string) string { return strings.Replace(s, `"/etc/minwon/pki/ca.pem"`, `""`, 1) },
		"no crl issuer":      func(s string) string { return strings.Replace(s, `"/etc/minwon/pki/ministry-ca.pem"`, `""`, 1) },
		"no crl cache":       func(s string) string { return strings.Replace(s, `"/var/lib/minwon/crl-cache.json"`, `""`, 1) },
		"bad validation url": func(s string) string { return strings.Replace(s, `http://127.0.0.1:7103`, `127.0.0.1:7103`, 1) },
		"short grace":        func(s string) string { return strings.Replace(s, `"grace": "2h"`, `"grace": "30s"`, 1) },
		"refresh over grace": func(s string) string {
			return strings.Replace(s, `"grace": "2h"`, `"grace": "2h", "crl_refresh": "3h"`, 1)
		},
		"refresh too often": func(s string) string {
			return strings.Replace(s, `"grace": "2h"`, `"grace": "2h", "crl_refresh": "100ms"`, 1)
		},
		"unknown pki field": func(s string) string { return strings.Replace(s, `"grace": "2h"`, `"grace": "2h", "ocsp": true`, 1) },
		"witness without key": func(s string) string {
			return strings.Replace(s, `"listen"`, `"witness": {"url": "https://witness.example"}, "listen"`, 1)
		},
		"witness with a log key": func(s string) string {
			return strings.Replace(s, `"listen"`, `"witness": {"url": "https://witness.example", "verifier_key": "w.example+7e4b2a5f+AQ=="}, "listen"`, 1)
		},
		"witness url": func(s string) string {
			return strings.Replace(s, `"listen"`, `"witness": {"url": "witness.example", "verifier_key": "`+witnessKey+`"}, "listen"`, 1)
		},
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			in := edit(example())
			if in == example() {
				t.Fatal("edit did not apply")
			}
			if _, err := Parse([]byte(in)); err == nil {
				t.Fatalf("accepted:\n%s", in)
			}
		})
	}
}

func TestLoadAndKeys(t *testing.T) {
	dir := t.TempDir()
	c, err := Parse([]byte(example()))
	if err != nil {
		t.Fatal(err)
	}
	c.Database = Database{SQLite: filepath.Join(dir, "minwon.db")}
	c.KeyDir = filepath.Join(dir, "keys")
	c.LogKey = filepath.Join(dir, "log.key")
	data, _ := json.Marshal(c)
	path := filepath.Join(dir, "serve.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	c2, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := c2.CheckKeyDir(); err == nil {
		t.Fatal("a missing key directory accepted")
	}
	if _, err := c2.LogSigningKey(); err == nil {
		t.Fatal("a missing log key was made up")
	}
	if _, err := os.Stat(c2.LogKey); err == nil {
		t.Fatal("key file created")
	}
	if _, err := keyfile.LoadOrCreate(c2.LogKey); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(c2.KeyDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := c2.CheckKeyDir(); err != nil {
		t.Fatal(err)
	}
	c2.SubjectIndexKey = filepath.Join(dir, "subject-index.key")
	if _, err := c2.SubjectIndex(); err == nil {
		t.Fatal("a missing subject index key was made up")
	}
	want, err := keyfile.LoadOrCreateSecret(c2.SubjectIndexKey)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c2.SubjectIndex(); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("SubjectIndex: %v", err)
	}
	if k, err := c2.LogSigningKey(); err != nil || len(k) != ed25519.PrivateKeySize {
		t.Fatalf("LogSigningKey: %v", err)
	}
	db, err := c2.OpenStore(context.Background(), "node-a")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Backend() != "sqlite" {
		t.Fatalf("backend %s", db.Backend())
	}
}

// FuzzParse: Parse never panics, and what it accepts survives a round trip
// through JSON unchanged.
func FuzzParse(f *testing.F) {
	f.Add([]byte(example()))
	f.Add([]byte(`{"database":{"sqlite":"/x.db"},"listen":":8080","public_url":"http://h","key_dir":"d","log_key":"l","log_origin":"h/log","agencies":[{"name":"a","url":"http://a","keys":{"k":"` + pub + `"}}]}`))
	f.Add([]byte(`{"database":{}}`))
	f.Add([]byte(`{"session_ttl":"1h"} {}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			return
		}
		out, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("marshal accepted config: %v", err)
		}
		c2, err := Parse(out)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", out, err)
		}
		if !reflect.DeepEqual(c, c2) {
			t.Fatalf("round trip changed %+v to %+v", c, c2)
		}
		_ = c.Endpoints()
	})
}

// The officials' listeners are mutual TLS or nothing: each needs its
// certificate, its key and the PKI, the admin API on loopback too, and a
// config from the days of the shared admin token says what replaced it.
func TestParseOfficialsListeners(t *testing.T) {
	base := func(extra string) string {
		return `{"database":{"sqlite":"/x.db"},"listen":"127.0.0.1:8080","public_url":"http://h","key_dir":"d","log_key":"l","log_origin":"h/log",
"agencies":[{"name":"a","url":"http://a","keys":{"k":"` + pub + `"}}]` + extra + `}`
	}
	const pkiJSON = `,"pki":{"ca":"ca.pem","crl_issuer":"ministry-ca.pem","validation_url":"http://127.0.0.1:7103","crl_cache":"crl.json"}`
	cases := []struct {
		name, extra string
		want        string // "" accepted; else a part of the message
	}{
		{"no officials' listeners", ``, ""},
		{"admin with TLS", `,"admin_listen":"127.0.0.1:8444","admin_cert":"a.pem","admin_key":"a.key"` + pkiJSON, ""},
		{"counter with TLS", `,"counter_listen":"0.0.0.0:8443","counter_cert":"c.pem","counter_key":"c.key","subject_index_key":"s.key"` + pkiJSON, ""},
		{"admin on loopback without TLS", `,"admin_listen":"127.0.0.1:8444"`, "admin_listen: served only over mutual TLS"},
		{"admin without TLS", `,"admin_listen":"0.0.0.0:8444"`, "admin_listen: served only over mutual TLS"},
		{"admin without pki", `,"admin_listen":"127.0.0.1:8444","admin_cert":"a.pem","admin_key":"a.key"`, "admin_listen: served only over mutual TLS"},
		{"admin without key", `,"admin_listen":"127.0.0.1:8444","admin_cert":"a.pem"` + pkiJSON, "admin_listen: served only over mutual TLS"},
		{"counter without pki", `,"counter_listen":"0.0.0.0:8443","counter_cert":"c.pem","counter_key":"c.key","subject_index_key":"s.key"`, "counter_listen: served only over mutual TLS"},
		{"admin cert without listener", `,"admin_cert":"a.pem","admin_key":"a.key"`, "only with admin_listen"},
		{"index key without counter", `,"subject_index_key":"s.key"`, "only with counter_listen"},
		{"pki without listener", pkiJSON, "pki: only with"},
		{"admin token", `,"admin_listen":"127.0.0.1:8444","admin_token":"/etc/minwon/keys/admin-token"`, "operators now use their own certificates"},
		{"admin token alone", `,"admin_token":"t"`, "docs/POSTGRES.md"},
		{"linkage certificate", `,"linkage":{"cert":"m.pem","key":"m.key","ca":"ca.pem"}`, ""},
		{"linkage without ca", `,"linkage":{"cert":"m.pem","key":"m.key"}`, "linkage.ca: a path is required"},
		{"linkage with an unknown field", `,"linkage":{"cert":"m.pem","key":"m.key","ca":"ca.pem","insecure":true}`, "insecure"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(base(tc.extra)))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("accepted %+v", c)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q does not say %q", err, tc.want)
			}
			if tc.want == "" && c.PKI != nil && (c.PKI.Grace != DefaultGrace || c.PKI.CRLRefresh != DefaultCRLRefresh) {
				t.Fatalf("pki defaults: %+v", c.PKI)
			}
		})
	}
}

// The checker trusts the CRL of the configured issuer only if it is a CA
// under the configured root.
func TestPKIChecker(t *testing.T) {
	dir := t.TempDir()
	ca, err := pki.Init(filepath.Join(dir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	p := &PKI{
		CA: filepath.Join(ca.Dir(), pki.RootCertFile), CRLIssuer: filepath.Join(ca.Dir(), pki.MinistryCertFile),
		ValidationURL: "http://127.0.0.1:1", CRLCache: filepath.Join(dir, "crl.json"), Grace: DefaultGrace, CRLRefresh: DefaultCRLRefresh,
	}
	if _, err := p.Checker(); err != nil {
		t.Fatal(err)
	}
	server, err := ca.IssueServer("admin", []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	for name, issuer := range map[string]string{"a server certificate": server.CertFile, "missing": filepath.Join(dir, "none.pem")} {
		bad := *p
		bad.CRLIssuer = issuer
		if _, err := bad.Checker(); err == nil {
			t.Errorf("crl_issuer %s accepted", name)
		}
	}
	other, err := pki.Init(filepath.Join(dir, "other"))
	if err != nil {
		t.Fatal(err)
	}
	bad := *p
	bad.CRLIssuer = filepath.Join(other.Dir(), pki.MinistryCertFile)
	if _, err := bad.Checker(); err == nil {
		t.Error("a ministry CA of another root accepted")
	}
}

func TestParseTLS(t *testing.T) {
	withTLS := func(tls, publicURL string) string {
		s := strings.Replace(example(), `"listen": "0.0.0.0:8080",`, `"listen": "0.0.0.0:8080", "tls": `+tls+`,`, 1)
		return strings.Replace(s, `"https://minwon.example"`, `"`+publicURL+`"`, 1)
	}
	c, err := Parse([]byte(withTLS(`{"cert": "/etc/minwon/tls/portal.pem", "key": "/etc/minwon/tls/portal.key"}`, "https://minwon.example")))
	if err != nil {
		t.Fatal(err)
	}
	if c.TLS == nil || c.TLS.Cert != "/etc/minwon/tls/portal.pem" || c.TLS.Key != "/etc/minwon/tls/portal.key" {
		t.Fatalf("tls parsed as %+v", c.TLS)
	}
	if c, err := Parse([]byte(example())); err != nil || c.TLS != nil {
		t.Fatalf("without tls: %+v, %v", c, err)
	}
	for _, tc := range []struct{ name, cfg, want string }{
		{"no key", withTLS(`{"cert": "/c.pem"}`, "https://minwon.example"), "tls"},
		{"no cert", withTLS(`{"key": "/k.pem"}`, "https://minwon.example"), "tls"},
		{"unknown field", withTLS(`{"cert": "/c.pem", "key": "/k.pem", "ca": "/ca.pem"}`, "https://minwon.example"), `"ca"`},
		{"http URL", withTLS(`{"cert": "/c.pem", "key": "/k.pem"}`, "http://minwon.example"), "tls"},
		{"not an object", withTLS(`"/c.pem"`, "https://minwon.example"), "tls"},
		{"empty settings", withTLS(`{}`, "https://minwon.example"), "tls"},
	} {
		if _, err := Parse([]byte(tc.cfg)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error naming %s", tc.name, err, tc.want)
		}
	}
}
