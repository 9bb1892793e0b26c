package config

import (
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
)

var pub = base64.StdEncoding.EncodeToString(make([]byte, ed25519.PublicKeySize))

func example() string {
	return `{
  "database": {"postgres": "postgres://minwon@db.internal:5432/minwon?sslmode=verify-full", "max_conns": 20},
  "listen": "0.0.0.0:8080",
  "public_url": "https://minwon.example",
  "key_dir": "/etc/minwon/keys",
  "log_key": "/etc/minwon/log-checkpoint.key",
  "log_origin": "minwon.example/log",
  "session_ttl": "30m",
  "admin_listen": "127.0.0.1:8081",
  "admin_token": "/etc/minwon/keys/admin-token",
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
	eps := c.Endpoints()
	if len(eps) != 2 || eps[1].Agency != "tax" || eps[1].BaseURL != "http://127.0.0.1:7102/api" || len(eps[1].Keys) != 2 || len(eps[1].Keys["tax-1"]) != ed25519.PublicKeySize {
		t.Fatalf("endpoints %+v", eps)
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
		"short key":  func(s string) string { return strings.Replace(s, `"tax-2": "`+pub+`"`, `"tax-2": "AAAA"`, 1) },
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
		"admin without token": func(s string) string { return strings.Replace(s, `"/etc/minwon/keys/admin-token"`, `""`, 1) },
		"bad admin listen":    func(s string) string { return strings.Replace(s, `127.0.0.1:8081`, `localhost`, 1) },
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
	c2.AdminToken = filepath.Join(dir, "admin-token")
	if _, err := c2.AdminBearerToken(); err == nil {
		t.Fatal("missing admin token accepted")
	}
	os.WriteFile(c2.AdminToken, []byte("short\n"), 0o600)
	if _, err := c2.AdminBearerToken(); err == nil {
		t.Fatal("short admin token accepted")
	}
	os.WriteFile(c2.AdminToken, []byte(strings.Repeat("ab", 32)+"\n"), 0o600)
	if tok, err := c2.AdminBearerToken(); err != nil || tok != strings.Repeat("ab", 32) {
		t.Fatalf("AdminBearerToken = %q, %v", tok, err)
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
