// Package config reads the configuration of `minwon serve`: a JSON file
// naming the database (PostgreSQL DSN or SQLite path), the listen address
// and public URL, the signing keys' directory and the log key file, the
// log's origin, each agency's base URL and trusted public keys, and the
// officials' listeners (counter, admin API) with the PKI they trust.
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
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/minwon/minwon/internal/verify"
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
	"github.com/minwon/minwon/internal/pki"
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
	// TLS serves the portal listener over HTTPS; public_url must then be
	// https (cookies Secure, HSTS).
	TLS *TLS `json:"tls,omitempty"`
	// The officials' listeners, each mutual TLS with a server certificate
	// and key (PEM files) and client certificates of PKI: the counter, and
	// the operators' API (key rotation and revocation, document
	// revocation, alerts), which only operators' certificates may use.
	CounterListen string `json:"counter_listen,omitempty"`
	CounterCert   string `json:"counter_cert,omitempty"`
	CounterKey    string `json:"counter_key,omitempty"`
	AdminListen   string `json:"admin_listen,omitempty"`
	AdminCert     string `json:"admin_cert,omitempty"`
	AdminKey      string `json:"admin_key,omitempty"`
	PKI           *PKI   `json:"pki,omitempty"`
	// Linkage is minwon's client certificate for the agencies, which serve
	// only mutual TLS (X-Road style); required when an agency URL is https.
	Linkage *Linkage `json:"linkage,omitempty"`
	// SubjectIndexKey is the file of the HMAC key under which the counter
	// finds citizens by resident registration number; required with
	// counter_listen, and the same key the accounts were indexed with.
	SubjectIndexKey string `json:"subject_index_key,omitempty"`
	// DocumentCert and DocumentKey are the document-signing certificate of
	// the PKI (PEM, the signer's certificate then its issuers) and its key:
	// every issued PDF carries a standard signature by it. Required by
	// serve; `minwon pki document` issues one.
	DocumentCert string `json:"document_cert,omitempty"`
	DocumentKey  string `json:"document_key,omitempty"`
	// RetentionDays is how long issued documents' files (PDF, data.json)
	// are kept; default 90. The log and audit records are kept forever.
	RetentionDays int `json:"retention_days,omitempty"`
	// BulkLimits is the JSON file of per-principal limits on issuances,
	// downloads and counter look-ups (package guard), or "off"; empty keeps
	// the built-in limits. Operators see the limits in force with
	// `minwon admin limits`.
	BulkLimits string `json:"bulk_limits,omitempty"`
	// NotifyDir is where the outbox's file sender writes the notices it
	// delivers (outbox.jsonl), for a mail or SMS gateway to pick up; empty,
	// notices reach the citizens' portal inboxes only.
	NotifyDir string `json:"notify_dir,omitempty"`
	// CheckpointFile, if set, is where the log's newest checkpoint is kept
	// outside the database after each new one; at start the log must
	// extend it (package rollback). Give each node its own file.
	CheckpointFile string `json:"checkpoint_file,omitempty"`
	// Witness, if set, is a C2SP tlog-witness asked to cosign every new
	// checkpoint (package witness).
	Witness *Witness `json:"witness,omitempty"`
}

// Witness is a C2SP tlog-witness: its base URL and its cosignature/v1
// verifier key (name+hash+base64), which verifiers pin with
// minwon verify --witness-key.
type Witness struct {
	URL         string `json:"url"`
	VerifierKey string `json:"verifier_key"`
}

// PKI is the government PKI the officials' listeners trust, and where they
// learn revocations.
type PKI struct {
	CA            string   `json:"ca"`                    // the root certificate (ca.pem): the trust anchor
	CRLIssuer     string   `json:"crl_issuer"`            // the CA certificate that signs the CRL (ministry-ca.pem)
	ValidationURL string   `json:"validation_url"`        // base URL of the validation service (/crl, /ocsp)
	Grace         Duration `json:"grace,omitempty"`       // how long officials keep working while it is unreachable; default 4h
	CRLRefresh    Duration `json:"crl_refresh,omitempty"` // how often the CRL is fetched; default 30s
	CRLCache      string   `json:"crl_cache"`             // where the last good CRL is kept across restarts
}

// Linkage is what minwon presents to the agencies and trusts of them, PEM
// files: its system certificate and key (`minwon agencies` writes
// DIR/pki/systems/minwon.pem) and the root the agencies' server
// certificates chain to.
type Linkage struct {
	Cert string `json:"cert"`
	Key  string `json:"key"`
	CA   string `json:"ca"`
}

// TLS is the portal listener's server certificate and key, PEM files: a
// public CA's for citizens' browsers, or one from `minwon pki server`.
type TLS struct {
	Cert string `json:"cert"`
	Key  string `json:"key"`
}

// Defaults of the PKI settings.
const (
	DefaultGrace      = Duration(pki.DefaultGrace)
	DefaultCRLRefresh = Duration(30 * time.Second)
)

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
	// A config from before the operators' certificates would fail on an
	// unknown field; say instead what replaced the token.
	var old struct {
		AdminToken json.RawMessage `json:"admin_token"`
	}
	if json.Unmarshal(data, &old) == nil && old.AdminToken != nil {
		return nil, errors.New(`config: admin_token: the shared admin token is gone; operators now use their own certificates: remove admin_token and give admin_cert, admin_key and pki (docs/POSTGRES.md, "Officials' certificates")`)
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
	if err := c.checkTLS(); err != nil {
		return err
	}
	for _, k := range []struct{ name, path string }{{"key_dir", c.KeyDir}, {"log_key", c.LogKey}} {
		if !isPath(k.path) {
			return fmt.Errorf("%s: a path is required", k.name)
		}
	}
	if err := c.checkOfficials(); err != nil {
		return err
	}
	if !originRE.MatchString(c.LogOrigin) || len(c.LogOrigin) > 200 {
		return errors.New(`log_origin: a log name such as "minwon.example/log" is required`)
	}
	if c.SessionTTL < 0 || (c.SessionTTL != 0 && time.Duration(c.SessionTTL) < time.Minute) || time.Duration(c.SessionTTL) > 24*time.Hour {
		return errors.New("session_ttl: must be between 1m and 24h")
	}
	if c.RetentionDays < 0 || c.RetentionDays > 3650 {
		return errors.New("retention_days: must be between 1 and 3650 (0 or absent: 90)")
	}
	if len(c.Agencies) == 0 {
		return errors.New("agencies: at least one agency is required")
	}
	if c.CheckpointFile != "" && !isPath(c.CheckpointFile) {
		return errors.New("checkpoint_file: not a usable path")
	}
	if w := c.Witness; w != nil {
		if err := checkURL(w.URL, true); err != nil {
			return fmt.Errorf("witness.url: %w", err)
		}
		if _, err := verify.NewCosignatureVerifier(w.VerifierKey); err != nil {
			return fmt.Errorf("witness.verifier_key: %w", err)
		}
	}
	if c.Linkage != nil {
		for _, f := range []struct{ name, path string }{{"cert", c.Linkage.Cert}, {"key", c.Linkage.Key}, {"ca", c.Linkage.CA}} {
			if !isPath(f.path) {
				return fmt.Errorf("linkage.%s: a path is required", f.name)
			}
		}
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
		if strings.HasPrefix(a.URL, "https://") && c.Linkage == nil {
			return fmt.Errorf("agencies[%d]: an https agency asks for minwon's client certificate: linkage (cert, key, ca) is required", i)
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

// checkTLS checks the portal's TLS settings against the public URL: an
// https URL served over plain HTTP is fine behind a proxy that terminates
// TLS, but a certificate with an http URL would mark no cookie Secure.
func (c *Config) checkTLS() error {
	if c.TLS == nil {
		return nil
	}
	if !isPath(c.TLS.Cert) || !isPath(c.TLS.Key) {
		return errors.New("tls: cert and key (PEM file paths) are both required")
	}
	if !strings.HasPrefix(c.PublicURL, "https://") {
		return errors.New("tls: public_url must be https:// when the portal serves TLS")
	}
	return nil
}

// checkOfficials checks the officials' listeners and their PKI. Both are
// mutual TLS only: the admin API in particular is refused without its
// certificate, key and PKI wherever it listens, loopback included, since
// an operator is known only by a certificate.
func (c *Config) checkOfficials() error {
	listeners := []struct {
		name, listen, cert, key string
	}{
		{"counter", c.CounterListen, c.CounterCert, c.CounterKey},
		{"admin", c.AdminListen, c.AdminCert, c.AdminKey},
	}
	for _, l := range listeners {
		if l.listen == "" {
			if l.cert != "" || l.key != "" {
				return fmt.Errorf("%s_cert, %s_key: only with %s_listen", l.name, l.name, l.name)
			}
			continue
		}
		if err := checkListen(l.listen); err != nil {
			return fmt.Errorf("%s_listen: %w", l.name, err)
		}
		if !isPath(l.cert) || !isPath(l.key) || c.PKI == nil {
			return fmt.Errorf("%s_listen: served only over mutual TLS: %s_cert, %s_key (the server certificate and key, `minwon pki server`) and pki are required", l.name, l.name, l.name)
		}
	}
	if c.CounterListen != "" && !isPath(c.SubjectIndexKey) {
		return errors.New("subject_index_key: the path of the subject index key is required with counter_listen")
	} else if c.CounterListen == "" && c.SubjectIndexKey != "" {
		return errors.New("subject_index_key: only with counter_listen")
	}
	if c.PKI == nil {
		return nil
	}
	if c.CounterListen == "" && c.AdminListen == "" {
		return errors.New("pki: only with counter_listen or admin_listen")
	}
	return c.PKI.check()
}

func (p *PKI) check() error {
	for _, f := range []struct{ name, path string }{{"ca", p.CA}, {"crl_issuer", p.CRLIssuer}, {"crl_cache", p.CRLCache}} {
		if !isPath(f.path) {
			return fmt.Errorf("pki.%s: a path is required", f.name)
		}
	}
	if err := checkURL(p.ValidationURL, true); err != nil {
		return fmt.Errorf("pki.validation_url: %w", err)
	}
	if p.Grace == 0 {
		p.Grace = DefaultGrace
	}
	if p.CRLRefresh == 0 {
		p.CRLRefresh = DefaultCRLRefresh
	}
	if p.Grace < Duration(time.Minute) || p.Grace > Duration(7*24*time.Hour) {
		return errors.New("pki.grace: must be between 1m and 168h")
	}
	if p.CRLRefresh < Duration(time.Second) || p.CRLRefresh > p.Grace {
		return errors.New("pki.crl_refresh: must be between 1s and the grace")
	}
	return nil
}

func isPath(p string) bool { return p != "" && !strings.ContainsRune(p, 0) }

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

// SubjectIndex loads the subject index key. It must exist: a new key
// would find nobody the accounts were indexed under.
func (c *Config) SubjectIndex() ([]byte, error) {
	if err := mustExist("subject_index_key", c.SubjectIndexKey); err != nil {
		return nil, err
	}
	return keyfile.LoadOrCreateSecret(c.SubjectIndexKey)
}

// Checker builds the revocation checker of the officials' listeners from
// the PKI settings. The CRL issuer must chain to the CA, so a wrong file
// is an error at the start, not a lock-out of every official later.
func (p *PKI) Checker() (*pki.Checker, error) {
	roots, err := p.Roots()
	if err != nil {
		return nil, err
	}
	certs, err := pki.ReadCerts(p.CRLIssuer)
	if err != nil {
		return nil, fmt.Errorf("config: pki.crl_issuer: %w", err)
	}
	issuer := certs[0]
	if _, err := issuer.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil || !issuer.IsCA {
		return nil, errors.New("config: pki.crl_issuer: not a CA certificate under pki.ca (give the ministry CA's certificate, ministry-ca.pem)")
	}
	return pki.NewChecker(pki.CheckerConfig{
		ValidationURL: p.ValidationURL, Issuer: issuer, Grace: time.Duration(p.Grace),
		Refresh: time.Duration(p.CRLRefresh), CachePath: p.CRLCache,
	})
}

// LinkageTLS returns minwon's side of the agencies' mutual TLS, or nil
// without linkage settings.
func (c *Config) LinkageTLS() (*tls.Config, error) {
	if c.Linkage == nil {
		return nil, nil
	}
	roots, err := pki.RootPool(c.Linkage.CA)
	if err != nil {
		return nil, fmt.Errorf("config: linkage.ca: %w", err)
	}
	cfg, err := pki.ClientTLS(pki.Credential{CertFile: c.Linkage.Cert, KeyFile: c.Linkage.Key}, roots)
	if err != nil {
		return nil, fmt.Errorf("config: linkage: %w", err)
	}
	return cfg, nil
}

// Roots returns the pool of the root certificate, pki.ca.
func (p *PKI) Roots() (*x509.CertPool, error) {
	roots, err := pki.RootPool(p.CA)
	if err != nil {
		return nil, fmt.Errorf("config: pki.ca: %w", err)
	}
	return roots, nil
}

func mustExist(field, path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("config: %s: %w (create keys once with 'minwon keygen' and give every node the same files)", field, err)
	}
	return nil
}
