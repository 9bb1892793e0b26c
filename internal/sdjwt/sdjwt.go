// Package sdjwt owns the wallet credential format: SD-JWT (RFC 9901) with
// the SD-JWT VC profile (typ dc+sd-jwt) signed ES256, and the IETF Token
// Status List (statuslist+jwt, 1 bit per credential, zlib) that revokes
// them. It issues, presents (keeps only chosen disclosures) and verifies,
// with the standard library only and no I/O: a bank or a wallet can run the
// verifier offline with the issuer's certificate and a status list token.
//
// Package sdjwt never logs or stores a credential: it holds personal data
// in its disclosures.
package sdjwt

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"strings"
	"time"
)

// Typ is the JOSE header typ of an SD-JWT VC; StatusListTyp a status list
// token's.
const (
	Typ           = "dc+sd-jwt"
	StatusListTyp = "statuslist+jwt"
	alg           = "ES256"
	sdAlg         = "sha-256"
)

// Claim is one selectively disclosable claim.
type Claim struct {
	Name  string
	Value any
}

// Status points at a credential's bit in a status list.
type Status struct {
	Index int64  `json:"idx"`
	URI   string `json:"uri"`
}

// Issuer signs credentials and status lists: an ECDSA P-256 key and its
// certificate chain (the signer's first), sent as x5c.
type Issuer struct {
	Key   *ecdsa.PrivateKey
	Chain []*x509.Certificate
	Rand  io.Reader // salts; crypto/rand.Reader if nil
}

var b64 = base64.RawURLEncoding

// Issue returns an SD-JWT: the issuer-signed JWT with the plain claims,
// each disclosable claim as a salted disclosure whose SHA-256 digest is in
// _sd, then the disclosures, "~"-separated, ending in "~".
func (is *Issuer) Issue(plain map[string]any, disclosable []Claim) (string, error) {
	payload := make(map[string]any, len(plain)+2)
	for k, v := range plain {
		if k == "_sd" || k == "_sd_alg" || k == "..." {
			return "", fmt.Errorf("sdjwt: %q is reserved", k)
		}
		payload[k] = v
	}
	rnd := is.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	digests := make([]string, 0, len(disclosable))
	disclosures := make([]string, 0, len(disclosable))
	for _, c := range disclosable {
		if _, dup := payload[c.Name]; dup || c.Name == "_sd" || c.Name == "..." {
			return "", fmt.Errorf("sdjwt: claim %q is both plain and disclosable, or reserved", c.Name)
		}
		var salt [16]byte
		if _, err := io.ReadFull(rnd, salt[:]); err != nil {
			return "", fmt.Errorf("sdjwt: salt: %w", err)
		}
		raw, err := json.Marshal([]any{b64.EncodeToString(salt[:]), c.Name, c.Value})
		if err != nil {
			return "", fmt.Errorf("sdjwt: disclosure %q: %w", c.Name, err)
		}
		d := b64.EncodeToString(raw)
		disclosures = append(disclosures, d)
		digests = append(digests, digest(d))
	}
	// Sorted, so that the order does not tell which claim is which.
	slices.Sort(digests)
	payload["_sd"] = digests
	payload["_sd_alg"] = sdAlg
	jwt, err := is.sign(Typ, payload)
	if err != nil {
		return "", err
	}
	return jwt + "~" + strings.Join(disclosures, "~") + tilde(len(disclosures)), nil
}

func tilde(n int) string {
	if n == 0 {
		return ""
	}
	return "~"
}

// digest is the _sd digest of a disclosure as sent.
func digest(disclosure string) string {
	sum := sha256.Sum256([]byte(disclosure))
	return b64.EncodeToString(sum[:])
}

// sign makes a JWS compact serialization, ES256, with x5c.
func (is *Issuer) sign(typ string, payload any) (string, error) {
	if is.Key == nil || is.Key.Curve.Params().Name != "P-256" {
		return "", errors.New("sdjwt: the issuer key must be ECDSA P-256")
	}
	h := map[string]any{"alg": alg, "typ": typ}
	if len(is.Chain) > 0 {
		x5c := make([]string, len(is.Chain))
		for i, c := range is.Chain {
			x5c[i] = base64.StdEncoding.EncodeToString(c.Raw)
		}
		h["x5c"] = x5c
	}
	hb, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	pb, err := json.Marshal(payload)
	if err != nil {
		return "", fmt.Errorf("sdjwt: payload: %w", err)
	}
	input := b64.EncodeToString(hb) + "." + b64.EncodeToString(pb)
	sum := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, is.Key, sum[:])
	if err != nil {
		return "", fmt.Errorf("sdjwt: sign: %w", err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + b64.EncodeToString(sig), nil
}

// Present keeps only the disclosures of the named claims: what a holder
// sends a verifier. The issuer's signature still covers every digest.
func Present(sdjwt string, names ...string) (string, error) {
	parts := strings.Split(sdjwt, "~")
	if len(parts) < 2 || parts[len(parts)-1] != "" {
		return "", ErrFormat
	}
	out := []string{parts[0]}
	for _, d := range parts[1 : len(parts)-1] {
		name, _, err := decodeDisclosure(d)
		if err != nil {
			return "", err
		}
		if slices.Contains(names, name) {
			out = append(out, d)
		}
	}
	return strings.Join(out, "~") + "~", nil
}

// Errors of verification.
var (
	ErrFormat    = errors.New("sdjwt: not an SD-JWT (JWT~disclosures~)")
	ErrSignature = errors.New("sdjwt: the issuer's signature does not verify")
	ErrIssuer    = errors.New("sdjwt: the issuer's certificate is not trusted")
	ErrDigest    = errors.New("sdjwt: a disclosure is not among the signed digests")
	ErrExpired   = errors.New("sdjwt: the credential has expired")
	ErrRevoked   = errors.New("sdjwt: the credential is revoked (its status list bit is set)")
	ErrStatus    = errors.New("sdjwt: the status list does not answer for this credential")
)

// Trust says which issuers a verifier accepts: a key, or certificates
// that chain (x5c) to Roots; a chain's leaf must allow digital signatures.
type Trust struct {
	Key   *ecdsa.PublicKey
	Roots *x509.CertPool
}

// Credential is a verified SD-JWT: the plain claims and the disclosed ones.
type Credential struct {
	Header    map[string]any
	Claims    map[string]any // plain claims (iss, iat, exp, vct, status, ...) without _sd
	Disclosed map[string]any // the disclosed claims, by name
	Status    *Status
	Issuer    *ecdsa.PublicKey
}

// Verify checks an SD-JWT or a presentation of one: the JWS (ES256, typ
// dc+sd-jwt) by a trusted issuer, that every disclosure's digest is
// signed and none is repeated, and exp against now. A key-binding JWT is
// not supported (minwon's credentials have no cnf).
func Verify(sdjwt string, trust Trust, now time.Time) (*Credential, error) {
	parts := strings.Split(sdjwt, "~")
	if len(parts) < 2 || parts[len(parts)-1] != "" {
		return nil, ErrFormat
	}
	header, claims, key, err := verifyJWS(parts[0], Typ, trust, now)
	if err != nil {
		return nil, err
	}
	if a, _ := claims["_sd_alg"].(string); a != sdAlg {
		return nil, fmt.Errorf("%w: _sd_alg %q", ErrFormat, a)
	}
	signed := map[string]bool{}
	if list, ok := claims["_sd"].([]any); ok {
		for _, d := range list {
			s, ok := d.(string)
			if !ok {
				return nil, fmt.Errorf("%w: _sd holds a non-string", ErrFormat)
			}
			signed[s] = true
		}
	} else if claims["_sd"] != nil {
		return nil, fmt.Errorf("%w: _sd is not an array", ErrFormat)
	}
	c := &Credential{Header: header, Claims: map[string]any{}, Disclosed: map[string]any{}, Issuer: key}
	for k, v := range claims {
		if k != "_sd" && k != "_sd_alg" {
			c.Claims[k] = v
		}
	}
	seen := map[string]bool{}
	for _, d := range parts[1 : len(parts)-1] {
		dg := digest(d)
		if !signed[dg] || seen[dg] {
			return nil, ErrDigest
		}
		seen[dg] = true
		name, value, err := decodeDisclosure(d)
		if err != nil {
			return nil, err
		}
		if _, dup := c.Claims[name]; dup {
			return nil, fmt.Errorf("%w: disclosure %q overrides a plain claim", ErrFormat, name)
		}
		if _, dup := c.Disclosed[name]; dup {
			return nil, fmt.Errorf("%w: claim %q disclosed twice", ErrFormat, name)
		}
		c.Disclosed[name] = value
	}
	if exp, ok := c.Claims["exp"].(float64); ok && !now.Before(time.Unix(int64(exp), 0)) {
		return nil, ErrExpired
	}
	if st, ok := c.Claims["status"].(map[string]any); ok {
		raw, _ := json.Marshal(st["status_list"])
		var s Status
		if err := json.Unmarshal(raw, &s); err != nil || s.URI == "" || s.Index < 0 {
			return nil, fmt.Errorf("%w: status", ErrFormat)
		}
		c.Status = &s
	}
	return c, nil
}

// decodeDisclosure reads [salt, name, value].
func decodeDisclosure(d string) (string, any, error) {
	raw, err := b64.DecodeString(d)
	if err != nil {
		return "", nil, fmt.Errorf("%w: disclosure encoding", ErrFormat)
	}
	var arr []any
	if err := json.Unmarshal(raw, &arr); err != nil || len(arr) != 3 {
		return "", nil, fmt.Errorf("%w: a disclosure is [salt, name, value]", ErrFormat)
	}
	salt, ok1 := arr[0].(string)
	name, ok2 := arr[1].(string)
	if !ok1 || !ok2 || salt == "" || name == "" || name == "_sd" || name == "..." {
		return "", nil, fmt.Errorf("%w: a disclosure is [salt, name, value]", ErrFormat)
	}
	return name, arr[2], nil
}

// verifyJWS checks a compact JWS of type typ, ES256, by a trusted key, and
// returns its header and claims.
func verifyJWS(jws, typ string, trust Trust, now time.Time) (map[string]any, map[string]any, *ecdsa.PublicKey, error) {
	segs := strings.Split(jws, ".")
	if len(segs) != 3 {
		return nil, nil, nil, ErrFormat
	}
	var header, claims map[string]any
	if err := decodeSegment(segs[0], &header); err != nil {
		return nil, nil, nil, err
	}
	if header["alg"] != alg || header["typ"] != typ {
		return nil, nil, nil, fmt.Errorf("%w: header alg %v typ %v, want %s %s", ErrFormat, header["alg"], header["typ"], alg, typ)
	}
	key, err := issuerKey(header, trust, now)
	if err != nil {
		return nil, nil, nil, err
	}
	sig, err := b64.DecodeString(segs[2])
	if err != nil || len(sig) != 64 {
		return nil, nil, nil, ErrSignature
	}
	sum := sha256.Sum256([]byte(segs[0] + "." + segs[1]))
	if !ecdsa.Verify(key, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return nil, nil, nil, ErrSignature
	}
	if err := decodeSegment(segs[1], &claims); err != nil {
		return nil, nil, nil, err
	}
	return header, claims, key, nil
}

func decodeSegment(s string, v any) error {
	raw, err := b64.DecodeString(s)
	if err != nil {
		return fmt.Errorf("%w: base64url", ErrFormat)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%w: JSON", ErrFormat)
	}
	return nil
}

// issuerKey is the trusted key itself, or the leaf of an x5c chain that
// verifies to trust.Roots at now.
func issuerKey(header map[string]any, trust Trust, now time.Time) (*ecdsa.PublicKey, error) {
	if trust.Key != nil {
		return trust.Key, nil
	}
	if trust.Roots == nil {
		return nil, ErrIssuer
	}
	list, _ := header["x5c"].([]any)
	if len(list) == 0 {
		return nil, fmt.Errorf("%w: no x5c", ErrIssuer)
	}
	var chain []*x509.Certificate
	for _, e := range list {
		s, _ := e.(string)
		der, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("%w: x5c encoding", ErrIssuer)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("%w: x5c certificate", ErrIssuer)
		}
		chain = append(chain, c)
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	if _, err := chain[0].Verify(x509.VerifyOptions{CurrentTime: now, Roots: trust.Roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrIssuer, err)
	}
	if chain[0].KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return nil, fmt.Errorf("%w: the certificate may not sign", ErrIssuer)
	}
	key, ok := chain[0].PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: not an ECDSA key", ErrIssuer)
	}
	return key, nil
}
