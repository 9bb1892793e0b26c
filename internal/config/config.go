// Package config reads the configuration of `minwon serve`: a JSON file
// naming the database (PostgreSQL DSN or SQLite path), the listen address
// and public URL, the signing keys' directory and the log key file, the
// log's origin, and each agency's base URL and trusted public keys.
//
// Parsing is strict: unknown fields, missing values and malformed URLs,
// keys or durations are errors that name the field, never a silent default
// for something that matters. The config file is operator input; it may
// hold a database password (prefer PGPASSWORD or a .pgpass file), so
// package config never prints a DSN.
package config

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/minwon/minwon/internal/keyfile"
	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/store"
)

// Config is a parsed serve configuration.
type Config struct {
	Database   Database `json:"database"`
	Listen     string   `json:"listen"`      // host:port, e.g. "0.0.0.0:8080"
	PublicURL  string   `json:"public_url"`  // e.g. "https://minwon.example"; no trailing slash
	KeyDir     string   `json:"key_dir"`     // directory of the document-signing keys (package keyring)
	LogKey     string   `json:"log_key"`     // path of the log checkpoint key file
	LogOrigin  string   `json:"log_origin"`  // e.g. "minwon.example/log"
	SessionTTL Duration `json:"session_ttl"` // e.g. "30m"; default 30m
	Agencies   []Agency `json:"agencies"`
	// AdminListen, if set, serves the operators' API (key rotation and
	// revocation, document revocation, alerts) on its own listener; keep
	// it on loopback or an operators' network. AdminToken is the file
	// holding its Bearer token.
	AdminListen string `json:"admin_listen,omitempty"`
	AdminToken  string `json:"admin_token,omitempty"`
}

// Database names minwon's own database: exactly one of Postgres and SQLite.
type Database struct {
	Postgres string `json:"postgres,omitempty"`  // pgx DSN
	SQLite   string `json:"sqlite,omitempty"`    // file path
	MaxConns int    `json:"max_conns,omitempty"` // PostgreSQL pool size per process; default 16
}

// Agency is one source agency minwon fetches from.
type Agency struct {
	Name string `json:"name"` // "registry", "education", "tax"
	URL  string `json:"url"`  // base URL, e.g. "https://registry.example"
	// Keys maps each trusted key id to its Ed25519 public key in standard
	// base64. Several keys let an agency rotate.
	Keys map[string]string `json:"keys"`
}

// Duration is a time.Duration written as a Go duration string ("30m").
type Duration time.Duration

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New(`a duration is a string such as "30m"`)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration such as \"30m\"", s)
	}
	*d = Duration(v)
	return nil
}

// MaxSize bounds a config file.
const MaxSize = 1 << 20

// Load reads and parses the config file at path.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("config: read %s: %w", path, err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

var (
	agencyNameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)
	keyIDRE      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
	originRE     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.-]*(:[0-9]{1,5})?(/[A-Za-z0-9._-]+)*$`)
)

// Parse parses and checks a config.
func Parse(data []byte) (*Config, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("config: larger than %d bytes", MaxSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if dec.More() {
		return nil, errors.New("config: trailing data after the JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("config: trailing data after the JSON object")
	}
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return &c, nil
}

func (c *Config) check() error {
	db := c.Database
	switch {
	case db.Postgres != "" && db.SQLite != "":
		return errors.New("database: give postgres or sqlite, not both")
	case db.Postgres == "" && db.SQLite == "":
		return errors.New("database: give postgres (a DSN) or sqlite (a file path)")
	case db.MaxConns < 0 || db.MaxConns > 1000:
		return errors.New("database.max_conns: must be between 0 (default) and 1000")
	case db.SQLite != "" && db.MaxConns != 0:
		return errors.New("database.max_conns: only for postgres")
	case strings.ContainsRune(db.Postgres+db.SQLite, 0):
		return errors.New("database: contains a NUL byte")
	}
	if err := checkListen(c.Listen); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if err := checkURL(c.PublicURL, false); err != nil {
		return fmt.Errorf("public_url: %w", err)
	}
	for _, k := range []struct{ name, path string }{{"key_dir", c.KeyDir}, {"log_key", c.LogKey}} {
		if k.path == "" || strings.ContainsRune(k.path, 0) {
			return fmt.Errorf("%s: a path is required", k.name)
		}
	}
	if c.AdminListen != "" {
		if err := checkListen(c.AdminListen); err != nil {
			return fmt.Errorf("admin_listen: %w", err)
		}
		if c.AdminToken == "" || strings.ContainsRune(c.AdminToken, 0) {
			return errors.New("admin_token: the path of the admin token file is required with admin_listen")
		}
	} else if c.AdminToken != "" {
		return errors.New("admin_token: only with admin_listen")
	}
	if !originRE.MatchString(c.LogOrigin) || len(c.LogOrigin) > 200 {
		return errors.New(`log_origin: a log name such as "minwon.example/log" is required`)
	}
	if c.SessionTTL < 0 || (c.SessionTTL != 0 && time.Duration(c.SessionTTL) < time.Minute) || time.Duration(c.SessionTTL) > 24*time.Hour {
		return errors.New("session_ttl: must be between 1m and 24h")
	}
	if len(c.Agencies) == 0 {
		return errors.New("agencies: at least one agency is required")
	}
	seen := map[string]bool{}
	for i, a := range c.Agencies {
		if !agencyNameRE.MatchString(a.Name) {
			return fmt.Errorf("agencies[%d].name: %q is not an agency name", i, a.Name)
		}
		if seen[a.Name] {
			return fmt.Errorf("agencies[%d]: %s is listed twice", i, a.Name)
		}
		seen[a.Name] = true
		if err := checkURL(a.URL, true); err != nil {
			return fmt.Errorf("agencies[%d].url: %w", i, err)
		}
		if len(a.Keys) == 0 {
			return fmt.Errorf("agencies[%d].keys: at least one trusted key is required", i)
		}
		for id, k := range a.Keys {
			if !keyIDRE.MatchString(id) {
				return fmt.Errorf("agencies[%d].keys: %q is not a key id", i, id)
			}
			if _, err := decodeKey(k); err != nil {
				return fmt.Errorf("agencies[%d].keys[%s]: %w", i, id, err)
			}
		}
	}
	return nil
}

func checkListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New(`an address such as "0.0.0.0:8080" is required`)
	}
	if strings.ContainsAny(host, " /") {
		return fmt.Errorf("%q is not a host", host)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 || strconv.Itoa(p) != port {
		return fmt.Errorf("%q is not a port", port)
	}
	return nil
}

// checkURL accepts an absolute http(s) URL without query, fragment, user
// or trailing slash; a path only if withPath.
func checkURL(s string, withPath bool) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return errors.New("an absolute http:// or https:// URL is required")
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(s, "#") {
		return errors.New("the URL may not have a user, query or fragment")
	}
	if strings.HasSuffix(s, "/") {
		return errors.New("the URL may not end with a slash")
	}
	if !withPath && u.Path != "" {
		return errors.New("the URL may not have a path")
	}
	if u.String() != s {
		return errors.New("the URL is not in canonical form")
	}
	return nil
}

func decodeKey(s string) (ed25519.PublicKey, error) {
	raw, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, errors.New("not a base64 Ed25519 public key (32 bytes)")
	}
	return ed25519.PublicKey(raw), nil
}

// Endpoints returns the agencies as linkage endpoints.
func (c *Config) Endpoints() []linkage.Endpoint {
	out := make([]linkage.Endpoint, 0, len(c.Agencies))
	for _, a := range c.Agencies {
		keys := make(map[string]ed25519.PublicKey, len(a.Keys))
		for id, k := range a.Keys {
			keys[id], _ = decodeKey(k) // checked by Parse
		}
		out = append(out, linkage.Endpoint{Agency: a.Name, BaseURL: a.URL, Keys: keys})
	}
	return out
}

// OpenStore opens the configured database and brings its schema up to
// date. node names this process to PostgreSQL (application_name).
func (c *Config) OpenStore(ctx context.Context, node string) (*store.DB, error) {
	if c.Database.Postgres != "" {
		return store.OpenPostgres(ctx, c.Database.Postgres, store.PostgresOptions{MaxConns: c.Database.MaxConns, ApplicationName: node})
	}
	return store.OpenSQLite(ctx, c.Database.SQLite)
}

// CheckKeyDir checks that the document-signing key directory exists. It
// must hold the same keys on every node: package keyring names the active
// key in the database and each node loads that key's file from here, and a
// rotation on one node writes the new key's file here.
func (c *Config) CheckKeyDir() error {
	st, err := os.Stat(c.KeyDir)
	if err == nil && !st.IsDir() {
		err = errors.New("not a directory")
	}
	if err != nil {
		return fmt.Errorf("config: key_dir: %w (create keys once with 'minwon keygen' and give every node the same directory)", err)
	}
	return nil
}

// LogSigningKey loads the log checkpoint key. It must exist.
func (c *Config) LogSigningKey() (ed25519.PrivateKey, error) {
	if err := mustExist("log_key", c.LogKey); err != nil {
		return nil, err
	}
	return keyfile.LoadOrCreate(c.LogKey)
}

// AdminBearerToken reads the admin token file. It must exist and hold a
// token of at least 32 characters.
func (c *Config) AdminBearerToken() (string, error) {
	raw, err := os.ReadFile(c.AdminToken)
	if err != nil {
		return "", fmt.Errorf("config: admin_token: %w (minwon keygen writes one)", err)
	}
	tok := strings.TrimSpace(string(raw))
	if len(tok) < 32 || strings.ContainsAny(tok, " \t\r\n") {
		return "", errors.New("config: admin_token: the file holds no usable token (32 or more characters, one line)")
	}
	return tok, nil
}

func mustExist(field, path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("config: %s: %w (create keys once with 'minwon keygen' and give every node the same files)", field, err)
	}
	return nil
}
