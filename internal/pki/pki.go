// Package pki is minwon's simulated government PKI (GPKI): a root CA, a
// ministry CA under it, certificates for officials (client authentication)
// and for minwon's TLS listeners, a delegated OCSP responder, and the
// register of what was issued and revoked, kept under one directory
// (DIR/pki in a demo). It also owns the other side: the validation service
// that publishes revocations (OCSP and a signed CRL), and the Checker that
// a counter uses to know an official's credential state without calling
// any central service on a request path.
//
// Package pki never prints a private key, and never treats a certificate as
// valid because a validation service could not be reached: an unreachable
// service puts credentials in a bounded grace period, then locks them.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"syscall"
	"time"
)

// Role is what an official may do; it is carried in the certificate's
// title attribute, so the counter and the admin API learn it from the
// verified certificate itself.
type Role string

// The roles of the simulated GPKI.
const (
	CounterClerk   Role = "counter_clerk"
	Operator       Role = "operator"
	PrivacyOfficer Role = "privacy_officer"
	Auditor        Role = "auditor"
)

// Roles lists every role, in a stable order.
var Roles = []Role{CounterClerk, Operator, PrivacyOfficer, Auditor}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Domain errors.
var (
	ErrUnknown     = errors.New("pki: no such certificate")
	ErrExists      = errors.New("pki: an official with this id already has a certificate")
	ErrBadOfficial = errors.New("pki: official id, name, office and a known role are required")
	ErrNotOfficial = errors.New("pki: the certificate does not name an official of this PKI")
	ErrNotSystem   = errors.New("pki: the certificate does not name a system of this PKI")
	ErrNoAuthority = errors.New("pki: no CA in this directory (run `minwon pki init`)")
	ErrRevoked     = errors.New("pki: already revoked")
	// ErrLocked: the credential may not act (revoked, grace over, or never
	// validated).
	ErrLocked = errors.New("pki: the official's credential is locked")
	// ErrRole: the official's role may not do this.
	ErrRole = errors.New("pki: the official's role does not allow this")
	// ErrUnreachable: the validation service did not answer usably.
	ErrUnreachable = errors.New("pki: validation service unreachable")
)

// oidTitle is X.520's title attribute, where the role is written.
var oidTitle = asn1.ObjectIdentifier{2, 5, 4, 12}

// oidBusinessCategory is X.520's businessCategory attribute; a system
// certificate carries systemCategory in it, and an official's never does,
// so neither can be read as the other.
var oidBusinessCategory = asn1.ObjectIdentifier{2, 5, 4, 15}

const systemCategory = "system"

// Official is the identity an official's certificate asserts.
type Official struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Office string `json:"office"`
	Role   Role   `json:"role"`
}

var officialIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func (o Official) check() error {
	if !officialIDRE.MatchString(o.ID) || o.Name == "" || o.Office == "" || !o.Role.Valid() || len(o.Name) > 128 || len(o.Office) > 128 {
		return ErrBadOfficial
	}
	return nil
}

// OfficialOf reads the official a verified client certificate names.
func OfficialOf(cert *x509.Certificate) (Official, error) {
	o := Official{ID: cert.Subject.SerialNumber, Name: cert.Subject.CommonName}
	if len(cert.Subject.OrganizationalUnit) == 1 {
		o.Office = cert.Subject.OrganizationalUnit[0]
	}
	for _, a := range cert.Subject.Names {
		if a.Type.Equal(oidTitle) {
			if s, ok := a.Value.(string); ok {
				o.Role = Role(s)
			}
		}
	}
	if o.check() != nil || isSystem(cert) || !slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageClientAuth) {
		return Official{}, ErrNotOfficial
	}
	return o, nil
}

// SystemOf reads the name of the system (not a person: minwon itself, as
// it calls the agencies) a verified client certificate names. A
// certificate of an official is not a system's, whatever its names say.
func SystemOf(cert *x509.Certificate) (string, error) {
	name := cert.Subject.CommonName
	if !isSystem(cert) || !officialIDRE.MatchString(name) || cert.Subject.SerialNumber != "" || !slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageClientAuth) {
		return "", ErrNotSystem
	}
	for _, a := range cert.Subject.Names {
		if a.Type.Equal(oidTitle) {
			return "", ErrNotSystem
		}
	}
	return name, nil
}

func isSystem(cert *x509.Certificate) bool {
	for _, a := range cert.Subject.Names {
		if a.Type.Equal(oidBusinessCategory) {
			if s, ok := a.Value.(string); ok && s == systemCategory {
				return true
			}
		}
	}
	return false
}

// Entry is one certificate in the register.
type Entry struct {
	Serial    string    `json:"serial"` // hex
	Kind      string    `json:"kind"`   // "official", "server", "system" or "ocsp"
	Official  *Official `json:"official,omitempty"`
	Server    string    `json:"server,omitempty"` // a server's or a system's name
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	Reason    string    `json:"reason,omitempty"`
}

// Certificate states in the register, as `minwon pki list` shows them.
const (
	EntryValid   = "valid"
	EntryRevoked = "revoked"
	EntryExpired = "expired"
)

// State says whether the entry's certificate is valid, revoked or
// expired at now.
func (e Entry) State(now time.Time) string {
	switch {
	case !e.RevokedAt.IsZero():
		return EntryRevoked
	case !now.Before(e.NotAfter):
		return EntryExpired
	}
	return EntryValid
}

// register is the file that records everything the ministry CA issued.
type register struct {
	// Number grows with every change; it is the CRL number, so a client
	// can refuse an older list than one it has.
	Number  int64    `json:"number"`
	Entries []*Entry `json:"entries"`
}

// Authority is the CA hierarchy in a directory. Its methods are safe for
// concurrent use by one process; the register is rewritten atomically.
type Authority struct {
	dir string

	Root       *x509.Certificate
	Ministry   *x509.Certificate
	ministry   crypto.Signer
	OCSPCert   *x509.Certificate
	ocspSigner crypto.Signer

	mu  sync.Mutex
	reg register
	now func() time.Time
}

// Files of a PKI directory.
const (
	RootCertFile = "ca.pem" // the trust anchor clients and servers load
	// MinistryCertFile is the ministry CA's certificate: the issuer whose
	// signature a Checker requires on the CRL.
	MinistryCertFile = "ministry-ca.pem"
	rootKeyFile      = "root.key"
	ministryKey      = "ministry-ca.key"
	ocspCertFile     = "ocsp.pem"
	ocspKeyFile      = "ocsp.key"
	registerFile     = "register.json"
)

// Lifetimes of the simulated certificates.
const (
	caLifetime   = 20 * 365 * 24 * time.Hour
	leafLifetime = 2 * 365 * 24 * time.Hour
	keyBits      = 2048 // GPKI's RSA-2048: a realistic chain is larger than one packet
)

// Init creates the hierarchy in dir if it is not there, and opens it.
func Init(dir string) (*Authority, error) {
	if _, err := os.Stat(filepath.Join(dir, RootCertFile)); errors.Is(err, os.ErrNotExist) {
		if err := create(dir, time.Now()); err != nil {
			return nil, err
		}
	}
	return Open(dir)
}

// Open loads the hierarchy in dir.
func Open(dir string) (*Authority, error) {
	a := &Authority{dir: dir, now: time.Now}
	var err error
	if _, err := os.Stat(filepath.Join(dir, RootCertFile)); errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoAuthority
	}
	if a.Root, err = readCert(filepath.Join(dir, RootCertFile)); err != nil {
		return nil, err
	}
	if a.Ministry, err = readCert(filepath.Join(dir, MinistryCertFile)); err != nil {
		return nil, err
	}
	if a.ministry, err = readKey(filepath.Join(dir, ministryKey)); err != nil {
		return nil, err
	}
	if a.OCSPCert, err = readCert(filepath.Join(dir, ocspCertFile)); err != nil {
		return nil, err
	}
	if a.ocspSigner, err = readKey(filepath.Join(dir, ocspKeyFile)); err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(filepath.Join(dir, registerFile))
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	if err := json.Unmarshal(raw, &a.reg); err != nil {
		return nil, fmt.Errorf("pki: %s: %w", registerFile, err)
	}
	return a, nil
}

// Dir returns the directory the authority lives in.
func (a *Authority) Dir() string { return a.dir }

// SetClock replaces the authority's clock (tests).
func (a *Authority) SetClock(now func() time.Time) { a.now = now }

// Pool returns a pool holding the root: what every party trusts.
func (a *Authority) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(a.Root)
	return p
}

func create(dir string, now time.Time) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	rootKey, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return err
	}
	root := &x509.Certificate{
		Subject:               pkix.Name{Country: []string{"KR"}, Organization: []string{"minwon demo government"}, CommonName: "minwon demo GPKI Root CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            1,
	}
	rootDER, err := sign(root, root, &rootKey.PublicKey, rootKey)
	if err != nil {
		return err
	}
	rootCert, _ := x509.ParseCertificate(rootDER)
	minKey, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return err
	}
	min := &x509.Certificate{
		Subject:               pkix.Name{Country: []string{"KR"}, Organization: []string{"minwon demo government"}, OrganizationalUnit: []string{"Ministry of the Interior and Safety"}, CommonName: "minwon demo Ministry CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caLifetime - time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	minDER, err := sign(min, rootCert, &minKey.PublicKey, rootKey)
	if err != nil {
		return err
	}
	minCert, _ := x509.ParseCertificate(minDER)
	ocspKey, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return err
	}
	ocspT := &x509.Certificate{
		Subject:     pkix.Name{Country: []string{"KR"}, Organization: []string{"minwon demo government"}, CommonName: "minwon demo OCSP responder"},
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.Add(leafLifetime),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning},
	}
	ocspDER, err := sign(ocspT, minCert, &ocspKey.PublicKey, minKey)
	if err != nil {
		return err
	}
	ocspCert, _ := x509.ParseCertificate(ocspDER)
	reg := register{Number: 1, Entries: []*Entry{{
		Serial: serialHex(ocspCert.SerialNumber), Kind: "ocsp", NotBefore: ocspCert.NotBefore, NotAfter: ocspCert.NotAfter,
	}}}
	// Keys first, certificates after, the register last: a directory with
	// a register is complete.
	for _, f := range []struct {
		name string
		key  crypto.Signer
	}{{rootKeyFile, rootKey}, {ministryKey, minKey}, {ocspKeyFile, ocspKey}} {
		if err := writeKey(filepath.Join(dir, f.name), f.key); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		name string
		der  [][]byte
	}{{RootCertFile, [][]byte{rootDER}}, {MinistryCertFile, [][]byte{minDER}}, {ocspCertFile, [][]byte{ocspDER, minDER}}} {
		if err := writeCerts(filepath.Join(dir, f.name), f.der...); err != nil {
			return err
		}
	}
	return writeJSONAtomic(filepath.Join(dir, registerFile), reg)
}

// Credential is a certificate with its key and chain, as PEM files.
type Credential struct {
	CertFile string // leaf first, then the ministry CA
	KeyFile  string
}

// IssueOfficial issues a client certificate for o, written under
// officials/ID.pem and .key. An official who already has an unrevoked
// certificate gets ErrExists.
func (a *Authority) IssueOfficial(o Official) (Credential, error) {
	if err := o.check(); err != nil {
		return Credential{}, err
	}
	subject := pkix.Name{
		Country: []string{"KR"}, Organization: []string{"minwon demo government"},
		OrganizationalUnit: []string{o.Office}, CommonName: o.Name, SerialNumber: o.ID,
		ExtraNames: []pkix.AttributeTypeAndValue{{Type: oidTitle, Value: string(o.Role)}},
	}
	t := &x509.Certificate{
		Subject:     subject,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	base := filepath.Join(a.dir, "officials", o.ID)
	err := a.update(func(reg *register) error {
		for _, e := range reg.Entries {
			if e.Official != nil && e.Official.ID == o.ID && e.RevokedAt.IsZero() {
				return ErrExists
			}
		}
		key, err := rsa.GenerateKey(rand.Reader, keyBits)
		if err != nil {
			return err
		}
		e, err := a.issue(t, base, key)
		if err != nil {
			return err
		}
		oc := o
		e.Kind, e.Official = "official", &oc
		reg.Entries = append(reg.Entries, e)
		return nil
	})
	if err != nil {
		return Credential{}, err
	}
	return Credential{CertFile: base + ".pem", KeyFile: base + ".key"}, nil
}

// IssueServer issues a TLS server certificate for the given host names and
// IP addresses, written under servers/NAME.pem and .key.
func (a *Authority) IssueServer(name string, hosts []string) (Credential, error) {
	if !officialIDRE.MatchString(name) || len(hosts) == 0 {
		return Credential{}, errors.New("pki: a server needs a name and at least one host")
	}
	t := &x509.Certificate{
		Subject:     pkix.Name{Country: []string{"KR"}, Organization: []string{"minwon demo government"}, CommonName: hosts[0]},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			t.IPAddresses = append(t.IPAddresses, ip)
		} else {
			t.DNSNames = append(t.DNSNames, h)
		}
	}
	return a.issueNamed("server", "servers", name, t)
}

// ServerCredential returns the server certificate called name, issuing it
// for hosts if there is none (or only a revoked or expiring one).
func (a *Authority) ServerCredential(name string, hosts []string) (Credential, error) {
	if cred, ok := a.usable("server", name, filepath.Join(a.dir, "servers", name)); ok {
		return cred, nil
	}
	return a.IssueServer(name, hosts)
}

// IssueSystem issues a client certificate for a system called name (minwon
// itself, as it calls the agencies), written under systems/NAME.pem and
// .key. It names no person and no role: SystemOf accepts it, OfficialOf
// does not.
func (a *Authority) IssueSystem(name string) (Credential, error) {
	if !officialIDRE.MatchString(name) {
		return Credential{}, errors.New("pki: a system needs a name of letters, digits, '.', '_' or '-'")
	}
	t := &x509.Certificate{
		Subject: pkix.Name{
			Country: []string{"KR"}, Organization: []string{"minwon demo government"},
			OrganizationalUnit: []string{"information systems"}, CommonName: name,
			ExtraNames: []pkix.AttributeTypeAndValue{{Type: oidBusinessCategory, Value: systemCategory}},
		},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	return a.issueNamed("system", "systems", name, t)
}

// IssueDocumentSigner issues a document-signing certificate for the
// system called name (minwon itself), written under documents/NAME.pem and
// .key: the certificate of the standard signature on every issued PDF. Its
// key is ECDSA P-256, so that signing stays cheap next to rendering, and it
// is valid for S/MIME-style signing (emailProtection), which is what PDF
// readers built on NSS (poppler's pdfsig) require of a signer, as well as
// for document signing (RFC 9336).
func (a *Authority) IssueDocumentSigner(name string) (Credential, error) {
	if !officialIDRE.MatchString(name) {
		return Credential{}, errors.New("pki: a document signer needs a name of letters, digits, '.', '_' or '-'")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Credential{}, err
	}
	t := &x509.Certificate{
		Subject: pkix.Name{
			Country: []string{"KR"}, Organization: []string{"minwon demo government"},
			OrganizationalUnit: []string{"document issuance"}, CommonName: name + " document signing",
		},
		KeyUsage:           x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage:        []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		UnknownExtKeyUsage: []asn1.ObjectIdentifier{oidDocumentSigning},
	}
	return a.issueNamedKey("document", "documents", name, t, key)
}

// oidDocumentSigning is id-kp-documentSigning (RFC 9336).
var oidDocumentSigning = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 36}

// DocumentSignerCredential returns the document-signing certificate called
// name, issuing it if there is none (or only a revoked or expiring one).
func (a *Authority) DocumentSignerCredential(name string) (Credential, error) {
	if cred, ok := a.usable("document", name, filepath.Join(a.dir, "documents", name)); ok {
		return cred, nil
	}
	return a.IssueDocumentSigner(name)
}

// issueNamed issues t as the server's or system's certificate called name,
// written under DIR/NAME.pem and .key, and records it as kind.
func (a *Authority) issueNamed(kind, dir, name string, t *x509.Certificate) (Credential, error) {
	key, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return Credential{}, err
	}
	return a.issueNamedKey(kind, dir, name, t, key)
}

func (a *Authority) issueNamedKey(kind, dir, name string, t *x509.Certificate, key crypto.Signer) (Credential, error) {
	base := filepath.Join(a.dir, dir, name)
	err := a.update(func(reg *register) error {
		e, err := a.issue(t, base, key)
		if err != nil {
			return err
		}
		e.Kind, e.Server = kind, name
		reg.Entries = append(reg.Entries, e)
		return nil
	})
	if err != nil {
		return Credential{}, err
	}
	return Credential{CertFile: base + ".pem", KeyFile: base + ".key"}, nil
}

// SystemCredential returns the system certificate called name, issuing it
// if there is none (or only a revoked or expiring one).
func (a *Authority) SystemCredential(name string) (Credential, error) {
	if cred, ok := a.usable("system", name, filepath.Join(a.dir, "systems", name)); ok {
		return cred, nil
	}
	return a.IssueSystem(name)
}

// usable returns the credential under base if the register holds an
// unrevoked certificate of that kind and name with a month left.
func (a *Authority) usable(kind, name, base string) (Credential, bool) {
	a.mu.Lock()
	ok := false
	for _, e := range a.reg.Entries {
		if e.Kind == kind && e.Server == name && e.RevokedAt.IsZero() && a.now().Before(e.NotAfter.Add(-30*24*time.Hour)) {
			ok = true
		}
	}
	a.mu.Unlock()
	if ok {
		if _, err := os.Stat(base + ".key"); err == nil {
			return Credential{CertFile: base + ".pem", KeyFile: base + ".key"}, true
		}
	}
	return Credential{}, false
}

// issue signs t with a new key and writes both under base; the caller
// records the entry.
func (a *Authority) issue(t *x509.Certificate, base string, key crypto.Signer) (*Entry, error) {
	now := a.now()
	t.NotBefore, t.NotAfter = now.Add(-5*time.Minute), now.Add(leafLifetime)
	der, err := sign(t, a.Ministry, key.Public(), a.ministry)
	if err != nil {
		return nil, err
	}
	cert, _ := x509.ParseCertificate(der)
	if err := os.MkdirAll(filepath.Dir(base), 0o700); err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	if err := writeKey(base+".key", key); err != nil {
		return nil, err
	}
	if err := writeCerts(base+".pem", der, a.Ministry.Raw); err != nil {
		return nil, err
	}
	return &Entry{Serial: serialHex(cert.SerialNumber), NotBefore: cert.NotBefore, NotAfter: cert.NotAfter}, nil
}

// RevokeOfficial revokes the official's current certificate. The
// validation service publishes it at once; counters lock the credential at
// their next refresh.
func (a *Authority) RevokeOfficial(id, reason string) (Entry, error) {
	var out Entry
	err := a.update(func(reg *register) error {
		for i := len(reg.Entries) - 1; i >= 0; i-- {
			e := reg.Entries[i]
			if e.Official == nil || e.Official.ID != id {
				continue
			}
			out = *e
			if !e.RevokedAt.IsZero() {
				return ErrRevoked
			}
			e.RevokedAt, e.Reason = a.now().UTC().Truncate(time.Second), reason
			out = *e
			return nil
		}
		return ErrUnknown
	})
	return out, err
}

// Entries returns a copy of the register.
func (a *Authority) Entries() []Entry {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]Entry, len(a.reg.Entries))
	for i, e := range a.reg.Entries {
		out[i] = *e
	}
	return out
}

// Reload rereads the register, to see revocations another process (the
// `minwon pki revoke` command) wrote.
func (a *Authority) Reload() error {
	reg, err := readRegister(a.dir)
	if err != nil {
		return err
	}
	a.mu.Lock()
	if reg.Number > a.reg.Number {
		a.reg = reg
	}
	a.mu.Unlock()
	return nil
}

// update changes the register under an exclusive lock on its directory:
// it rereads the file, applies change and writes it with the next number.
// Several processes (a demo, `minwon pki revoke`, `minwon agencies`) may
// change one register; none of them overwrites another's change. A change
// that fails writes nothing.
func (a *Authority) update(change func(reg *register) error) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	lock, err := os.OpenFile(filepath.Join(a.dir, ".register.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("pki: lock the register: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	reg, err := readRegister(a.dir)
	if err != nil {
		return err
	}
	if err := change(&reg); err != nil {
		return err
	}
	reg.Number++
	if err := writeJSONAtomic(filepath.Join(a.dir, registerFile), reg); err != nil {
		return err
	}
	a.reg = reg
	return nil
}

func readRegister(dir string) (register, error) {
	var reg register
	raw, err := os.ReadFile(filepath.Join(dir, registerFile))
	if err != nil {
		return reg, fmt.Errorf("pki: %w", err)
	}
	if err := json.Unmarshal(raw, &reg); err != nil {
		return reg, fmt.Errorf("pki: %s: %w", registerFile, err)
	}
	return reg, nil
}

// CRL returns a CRL signed by the ministry CA listing every revoked
// certificate, valid for validity.
func (a *Authority) CRL(validity time.Duration) ([]byte, error) {
	a.mu.Lock()
	number := a.reg.Number
	var revoked []x509.RevocationListEntry
	for _, e := range a.reg.Entries {
		if e.RevokedAt.IsZero() {
			continue
		}
		n, ok := new(big.Int).SetString(e.Serial, 16)
		if !ok {
			continue
		}
		revoked = append(revoked, x509.RevocationListEntry{SerialNumber: n, RevocationTime: e.RevokedAt})
	}
	a.mu.Unlock()
	now := a.now()
	return x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:                    big.NewInt(number),
		ThisUpdate:                now.Add(-time.Minute),
		NextUpdate:                now.Add(validity),
		RevokedCertificateEntries: revoked,
	}, a.Ministry, a.ministry)
}

// status returns the register's entry for a serial.
func (a *Authority) status(serial *big.Int) (Entry, bool) {
	s := serialHex(serial)
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range a.reg.Entries {
		if e.Serial == s {
			return *e, true
		}
	}
	return Entry{}, false
}

func sign(t, parent *x509.Certificate, pub crypto.PublicKey, priv crypto.Signer) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	t.SerialNumber = serial.Add(serial, big.NewInt(1))
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	ski := sha256.Sum256(spki)
	t.SubjectKeyId = ski[:20]
	return x509.CreateCertificate(rand.Reader, t, parent, pub, priv)
}

func serialHex(n *big.Int) string { return hex.EncodeToString(n.Bytes()) }

func writeKey(path string, key crypto.Signer) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func writeCerts(path string, ders ...[]byte) error {
	var out []byte
	for _, d := range ders {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d})...)
	}
	return writeFileAtomic(path, out)
}

func writeJSONAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'))
}

// writeFileAtomic writes a file readable by the owner only, fsynced, in
// place of any older one.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("pki: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("pki: write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("pki: write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("pki: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("pki: write %s: %w", path, err)
	}
	return nil
}

// ReadCerts reads every certificate in a PEM file.
func ReadCerts(path string) ([]*x509.Certificate, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, raw = pem.Decode(raw)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("pki: %s: %w", path, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("pki: %s holds no certificate", path)
	}
	return out, nil
}

func readCert(path string) (*x509.Certificate, error) {
	cs, err := ReadCerts(path)
	if err != nil {
		return nil, err
	}
	return cs[0], nil
}

func readKey(path string) (crypto.Signer, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	b, _ := pem.Decode(raw)
	if b == nil || b.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("pki: %s is not a PKCS#8 private key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("pki: %s: %w", path, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("pki: %s holds no signing key", path)
	}
	return s, nil
}

// RootPool reads a CA bundle (ca.pem) into a pool.
func RootPool(path string) (*x509.CertPool, error) {
	cs, err := ReadCerts(path)
	if err != nil {
		return nil, err
	}
	p := x509.NewCertPool()
	for _, c := range cs {
		p.AddCert(c)
	}
	return p, nil
}

// SeedHistory records n certificates of officials who left before minwon
// kept their files, revoked as superseded, so that the demo's CRL has the
// size of a CA that has run for years (several kilobytes, more than one
// packet) rather than a few hundred bytes. It does nothing if the register
// already holds history.
func (a *Authority) SeedHistory(n int) error {
	now := a.now().UTC().Truncate(time.Second)
	err := a.update(func(reg *register) error {
		for _, e := range reg.Entries {
			if e.Kind == "retired" {
				return errNothingToDo
			}
		}
		for i := range n {
			serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
			if err != nil {
				return err
			}
			at := now.Add(-time.Duration(n-i) * 24 * time.Hour)
			reg.Entries = append(reg.Entries, &Entry{
				Serial: serialHex(serial.Add(serial, big.NewInt(1))), Kind: "retired",
				NotBefore: at.Add(-leafLifetime / 2), NotAfter: at.Add(leafLifetime / 2),
				RevokedAt: at, Reason: "superseded",
			})
		}
		return nil
	})
	if errors.Is(err, errNothingToDo) {
		return nil
	}
	return err
}

// errNothingToDo ends an update that would change nothing.
var errNothingToDo = errors.New("pki: nothing to do")
