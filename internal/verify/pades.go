package verify

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// A standard PDF signature (PAdES baseline B-B, ETSI EN 319 142-1): the
// PDF's signature dictionary has /SubFilter /ETSI.CAdES.detached, a
// /ByteRange [0 b c d] covering the whole file except its /Contents hex
// string, and /Contents holds a detached CMS SignedData (RFC 5652): SHA-256,
// ECDSA P-256 by a document-signing certificate of the government PKI,
// signed attributes content-type, message-digest and signing-certificate-v2
// (RFC 5035). Standard readers (poppler's pdfsig, Acrobat) check that.
//
// minwon's own signature travels in the same SignerInfo as an unsigned
// attribute (so standard readers ignore it): Ed25519 by the document key of
// the key ring, over PAdESMessage(number, the DER of the signed attributes).
// The signed attributes carry the digest of every signed byte and the hash
// of the certificate, so the Ed25519 signature covers the file, the number
// and the certificate; a revoked document key therefore still invalidates
// everything it signed, as with the older trailer.
const padesContext = "minwon document v2\n"

// PAdESMessage returns the bytes minwon's Ed25519 signature of a PAdES
// document signs.
func PAdESMessage(number string, signedAttrs []byte) []byte {
	msg := make([]byte, 0, len(padesContext)+len(number)+1+len(signedAttrs))
	msg = append(msg, padesContext...)
	msg = append(msg, number...)
	msg = append(msg, '\n')
	return append(msg, signedAttrs...)
}

var (
	oidData            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidContentType     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningCertV2   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	oidSHA256          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
)

// oidMinwonSignature (2.25.147690554978995742898180322570239106368, a UUID
// OID) names the unsigned attribute holding minwon's Ed25519 signature:
// SEQUENCE { keyID UTF8String, number PrintableString, signature OCTET STRING }.
// Its encoding is kept whole since the arc does not fit an int.
var oidMinwonSignature = mustHex("6981de9c95a3c9b0f2bdb59d9f8b8fa1dcf9ba40")

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// PAdESSignedAttributes returns the DER SET OF signed attributes of a PAdES
// signature over content whose SHA-256 is digest, by the certificate whose
// DER is leaf. Its SHA-256 is what the certificate's key signs.
func PAdESSignedAttributes(digest, leaf []byte) []byte {
	certHash := sha256.Sum256(leaf)
	attrs := [][]byte{
		attribute(oidContentType, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidData) }),
		attribute(oidMessageDigest, func(b *cryptobyte.Builder) { b.AddASN1OctetString(digest) }),
		// SigningCertificateV2 { certs SEQUENCE OF ESSCertIDv2 { certHash } }:
		// SHA-256 is the default hash algorithm, so DER leaves it out.
		attribute(oidSigningCertV2, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1OctetString(certHash[:]) })
				})
			})
		}),
	}
	return derSet(cbasn1.SET, attrs)
}

func attribute(oid asn1.ObjectIdentifier, value func(*cryptobyte.Builder)) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		b.AddASN1(cbasn1.SET, value)
	})
	return b.BytesOrPanic()
}

// derSet encodes elements as a DER SET OF, sorted by their encodings.
func derSet(tag cbasn1.Tag, elems [][]byte) []byte {
	sorted := slices.Clone(elems)
	slices.SortFunc(sorted, bytes.Compare)
	var b cryptobyte.Builder
	b.AddASN1(tag, func(b *cryptobyte.Builder) {
		for _, e := range sorted {
			b.AddBytes(e)
		}
	})
	return b.BytesOrPanic()
}

// MarshalPAdESCMS returns the detached CMS SignedData of a PAdES signature:
// chain is the DER of the signer's certificate first, then its issuers; signedAttrs
// is PAdESSignedAttributes' result and sig the certificate key's ECDSA
// signature of its SHA-256; keyID, number and minwonSig are minwon's
// Ed25519 signature of PAdESMessage(number, signedAttrs).
func MarshalPAdESCMS(chain [][]byte, signedAttrs, sig []byte, keyID, number string, minwonSig []byte) ([]byte, error) {
	if len(chain) == 0 {
		return nil, errors.New("verify: a PAdES signature needs the signer's certificate")
	}
	leaf, err := parseCertificate(chain[0])
	if err != nil {
		return nil, err
	}
	var minwonAttr cryptobyte.Builder
	minwonAttr.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.OBJECT_IDENTIFIER, func(b *cryptobyte.Builder) { b.AddBytes(oidMinwonSignature) })
		b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.UTF8String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(keyID)) })
				b.AddASN1(cbasn1.PrintableString, func(b *cryptobyte.Builder) { b.AddBytes([]byte(number)) })
				b.AddASN1OctetString(minwonSig)
			})
		})
	})
	unsigned, err := minwonAttr.Bytes()
	if err != nil {
		return nil, err
	}
	certs := chain
	sha256Alg := func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidSHA256) })
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ContentInfo
		b.AddASN1ObjectIdentifier(oidSignedData)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignedData
				b.AddASN1Int64(1)
				b.AddASN1(cbasn1.SET, sha256Alg)
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidData) })
				b.AddBytes(derSet(cbasn1.Tag(0).Constructed().ContextSpecific(), certs))
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignerInfo
						b.AddASN1Int64(1)
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // IssuerAndSerialNumber
							b.AddBytes(leaf.issuer)
							b.AddASN1BigInt(leaf.serial)
						})
						sha256Alg(b)
						// [0] IMPLICIT: the SET's tag replaced, content as signed.
						b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
							b.AddBytes(setContent(signedAttrs))
						})
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidECDSAWithSHA256) })
						b.AddASN1OctetString(sig)
						b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(unsigned) })
					})
				})
			})
		})
	})
	return b.Bytes()
}

// setContent returns the contents of a DER SET.
func setContent(set []byte) []byte {
	s := cryptobyte.String(set)
	var content cryptobyte.String
	if !s.ReadASN1(&content, cbasn1.SET) {
		panic("verify: not a DER SET")
	}
	return content
}

// PAdESSignature is what a verified standard PDF signature says beyond
// minwon's own: the certificate that signed it. Whether a PKI vouches for
// that certificate is for a PDF reader (or crypto/x509) to judge with the
// PKI's root; package verify, which must not pull in the network stack,
// reads only what the check needs.
type PAdESSignature struct {
	Certificate []byte   // DER of the signing certificate
	CommonName  string   // its subject's common name
	Chain       [][]byte // DER of every certificate the CMS carries
}

// certificate is the part of an X.509 certificate the check reads.
type certificate struct {
	raw        []byte
	issuer     []byte // DER Name
	serial     *big.Int
	commonName string
	key        *ecdsa.PublicKey // nil unless ECDSA P-256
}

var (
	oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidP256        = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
	oidCommonName  = asn1.ObjectIdentifier{2, 5, 4, 3}
)

// parseCertificate reads a DER X.509 certificate's issuer, serial number,
// subject common name and P-256 key.
func parseCertificate(der []byte) (*certificate, error) {
	bad := errors.New("verify: malformed certificate")
	s := cryptobyte.String(der)
	var cert, tbs, issuer, subject, spki, alg cryptobyte.String
	c := &certificate{raw: der, serial: new(big.Int)}
	if !s.ReadASN1(&cert, cbasn1.SEQUENCE) || !s.Empty() || !cert.ReadASN1(&tbs, cbasn1.SEQUENCE) ||
		!tbs.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) || !tbs.ReadASN1Integer(c.serial) ||
		!tbs.SkipASN1(cbasn1.SEQUENCE) || !tbs.ReadASN1Element(&issuer, cbasn1.SEQUENCE) || !tbs.SkipASN1(cbasn1.SEQUENCE) ||
		!tbs.ReadASN1Element(&subject, cbasn1.SEQUENCE) || !tbs.ReadASN1(&spki, cbasn1.SEQUENCE) || !spki.ReadASN1(&alg, cbasn1.SEQUENCE) {
		return nil, bad
	}
	c.issuer = issuer
	var algOID, curve asn1.ObjectIdentifier
	var bits asn1.BitString
	if alg.ReadASN1ObjectIdentifier(&algOID) && algOID.Equal(oidECPublicKey) && alg.ReadASN1ObjectIdentifier(&curve) && curve.Equal(oidP256) &&
		spki.ReadASN1BitString(&bits) && bits.BitLength%8 == 0 {
		if k, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), bits.Bytes); err == nil {
			c.key = k
		}
	}
	// Name: SEQUENCE OF SET OF { type, value }.
	if !subject.ReadASN1(&subject, cbasn1.SEQUENCE) {
		return nil, bad
	}
	for !subject.Empty() {
		var rdn cryptobyte.String
		if !subject.ReadASN1(&rdn, cbasn1.SET) {
			return nil, bad
		}
		for !rdn.Empty() {
			var atv, value cryptobyte.String
			var oid asn1.ObjectIdentifier
			var tag cbasn1.Tag
			if !rdn.ReadASN1(&atv, cbasn1.SEQUENCE) || !atv.ReadASN1ObjectIdentifier(&oid) || !atv.ReadAnyASN1(&value, &tag) {
				return nil, bad
			}
			if oid.Equal(oidCommonName) {
				c.commonName = string(value)
			}
		}
	}
	return c, nil
}

// maxContents bounds the signature a PDF may carry: minwon's are a few
// kilobytes.
const maxContents = 64 << 10

// ByteRange is where a PDF's signature lies: the signed bytes are
// pdf[:Hole] and pdf[HoleEnd:], the hole is the /Contents hex string.
type byteRange struct{ hole, holeEnd int }

// findPAdES locates the last /ByteRange of pdf and returns it with the CMS
// bytes of /Contents. found is false for a PDF without one (a document of
// the older trailer format); err is set for one that is malformed.
func findPAdES(pdf []byte) (r byteRange, cms []byte, found bool, err error) {
	i := bytes.LastIndex(pdf, []byte("/ByteRange"))
	if i < 0 {
		return byteRange{}, nil, false, nil
	}
	bad := func(why string) (byteRange, []byte, bool, error) {
		return byteRange{}, nil, true, fmt.Errorf("%w: malformed PDF signature: %s", ErrBadSignature, why)
	}
	rest := pdf[i+len("/ByteRange"):]
	rest = bytes.TrimLeft(rest, " \r\n")
	if len(rest) == 0 || rest[0] != '[' {
		return bad("no byte range")
	}
	end := bytes.IndexByte(rest, ']')
	if end < 0 || end > 100 {
		return bad("no byte range")
	}
	fields := bytes.Fields(rest[1:end])
	if len(fields) != 4 {
		return bad("the byte range is not four numbers")
	}
	var n [4]int
	for k, f := range fields {
		v, err := strconv.Atoi(string(f))
		if err != nil || v < 0 || v > len(pdf) {
			return bad("the byte range is not four numbers")
		}
		n[k] = v
	}
	if n[0] != 0 || n[1] < 1 || n[2] <= n[1]+1 || n[2]+n[3] != len(pdf) {
		return bad("the signature does not cover the whole file")
	}
	hole, holeEnd := n[1], n[2]
	if pdf[hole] != '<' || pdf[holeEnd-1] != '>' || holeEnd-hole-2 > 2*maxContents {
		return bad("the unsigned hole is not the signature's hex string")
	}
	// The hole must be the /Contents of the dictionary whose /ByteRange
	// this is: nothing else may escape the signature.
	if !bytes.HasSuffix(bytes.TrimRight(pdf[:hole], " \r\n"), []byte("/Contents")) {
		return bad("the unsigned hole is not the signature's /Contents")
	}
	hexed := pdf[hole+1 : holeEnd-1]
	raw := make([]byte, hex.DecodedLen(len(hexed)))
	if _, err := hex.Decode(raw, hexed); err != nil || len(hexed)%2 != 0 {
		return bad("the signature's /Contents is not hex")
	}
	// The CMS is padded with zeros to the reserved size.
	s := cryptobyte.String(raw)
	var der cryptobyte.String
	if !s.ReadASN1Element(&der, cbasn1.SEQUENCE) {
		return bad("the signature's /Contents is not a CMS message")
	}
	for _, z := range s {
		if z != 0 {
			return bad("data after the CMS message")
		}
	}
	return byteRange{hole: hole, holeEnd: holeEnd}, der, true, nil
}

// signerInfo is the parsed CMS of a PAdES signature.
type signerInfo struct {
	certs       []*certificate
	issuer      []byte // raw Name
	serial      *big.Int
	signedAttrs []byte // DER SET, as signed
	signature   []byte
	keyID       string
	number      string
	minwonSig   []byte
}

func parseCMS(der []byte) (*signerInfo, error) {
	bad := func(why string) (*signerInfo, error) {
		return nil, fmt.Errorf("%w: malformed CMS signature: %s", ErrBadSignature, why)
	}
	var (
		s                             = cryptobyte.String(der)
		ci, sd, algs, encap, certs    cryptobyte.String
		infos, si, sid, alg, attrsRaw cryptobyte.String
		oid                           asn1.ObjectIdentifier
		version                       int64
		sig                           []byte
	)
	if !s.ReadASN1(&ci, cbasn1.SEQUENCE) || !ci.ReadASN1ObjectIdentifier(&oid) || !oid.Equal(oidSignedData) ||
		!ci.ReadASN1(&sd, cbasn1.Tag(0).Constructed().ContextSpecific()) || !sd.ReadASN1(&sd, cbasn1.SEQUENCE) {
		return bad("not a SignedData")
	}
	if !sd.ReadASN1Integer(&version) || !sd.ReadASN1(&algs, cbasn1.SET) || !sd.ReadASN1(&encap, cbasn1.SEQUENCE) ||
		!encap.ReadASN1ObjectIdentifier(&oid) || !oid.Equal(oidData) || !encap.Empty() {
		return bad("not a detached signature of data")
	}
	out := &signerInfo{}
	var hasCerts bool
	if !sd.ReadOptionalASN1(&certs, &hasCerts, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return bad("bad certificates")
	}
	for !certs.Empty() {
		var c cryptobyte.String
		if !certs.ReadASN1Element(&c, cbasn1.SEQUENCE) {
			return bad("bad certificates")
		}
		cert, err := parseCertificate(c)
		if err != nil {
			return bad("bad certificate")
		}
		out.certs = append(out.certs, cert)
	}
	if sd.PeekASN1Tag(cbasn1.Tag(1).Constructed().ContextSpecific()) {
		sd.SkipASN1(cbasn1.Tag(1).Constructed().ContextSpecific()) // CRLs: not used
	}
	if !sd.ReadASN1(&infos, cbasn1.SET) || !sd.Empty() || !infos.ReadASN1(&si, cbasn1.SEQUENCE) || !infos.Empty() {
		return bad("not exactly one signer")
	}
	out.serial = new(big.Int)
	if !si.ReadASN1Integer(&version) || version != 1 || !si.ReadASN1(&sid, cbasn1.SEQUENCE) ||
		!sid.ReadASN1Element((*cryptobyte.String)(&out.issuer), cbasn1.SEQUENCE) || !sid.ReadASN1Integer(out.serial) || !sid.Empty() {
		return bad("the signer is not named by issuer and serial number")
	}
	if !si.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) || !oid.Equal(oidSHA256) {
		return bad("the digest is not SHA-256")
	}
	if !si.ReadASN1(&attrsRaw, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return bad("no signed attributes")
	}
	var set cryptobyte.Builder
	set.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddBytes(attrsRaw) })
	out.signedAttrs = set.BytesOrPanic()
	if !si.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) || !oid.Equal(oidECDSAWithSHA256) {
		return bad("the signature is not ECDSA with SHA-256")
	}
	if !si.ReadASN1Bytes(&sig, cbasn1.OCTET_STRING) {
		return bad("no signature value")
	}
	out.signature = sig
	var unsigned cryptobyte.String
	if !si.ReadASN1(&unsigned, cbasn1.Tag(1).Constructed().ContextSpecific()) || !si.Empty() {
		return bad("no minwon signature")
	}
	for !unsigned.Empty() {
		var attr, values, value, rawOID, keyID, number cryptobyte.String
		if !unsigned.ReadASN1(&attr, cbasn1.SEQUENCE) || !attr.ReadASN1(&rawOID, cbasn1.OBJECT_IDENTIFIER) || !attr.ReadASN1(&values, cbasn1.SET) {
			return bad("bad unsigned attribute")
		}
		if !bytes.Equal(rawOID, oidMinwonSignature) {
			continue
		}
		if out.minwonSig != nil || !values.ReadASN1(&value, cbasn1.SEQUENCE) || !values.Empty() ||
			!value.ReadASN1(&keyID, cbasn1.UTF8String) || !value.ReadASN1(&number, cbasn1.PrintableString) ||
			!value.ReadASN1Bytes(&out.minwonSig, cbasn1.OCTET_STRING) || !value.Empty() {
			return bad("bad minwon signature attribute")
		}
		out.keyID, out.number = string(keyID), string(number)
	}
	if out.minwonSig == nil {
		return bad("no minwon signature")
	}
	return out, nil
}

// signedAttr returns the single value of the signed attribute oid.
func signedAttr(set []byte, want asn1.ObjectIdentifier) (cryptobyte.String, bool) {
	s := cryptobyte.String(set)
	var attrs cryptobyte.String
	if !s.ReadASN1(&attrs, cbasn1.SET) {
		return nil, false
	}
	var found cryptobyte.String
	n := 0
	for !attrs.Empty() {
		var attr, values cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !attrs.ReadASN1(&attr, cbasn1.SEQUENCE) || !attr.ReadASN1ObjectIdentifier(&oid) || !attr.ReadASN1(&values, cbasn1.SET) {
			return nil, false
		}
		if oid.Equal(want) {
			n++
			if !values.ReadAnyASN1Element(&found, new(cbasn1.Tag)) || !values.Empty() {
				return nil, false
			}
		}
	}
	return found, n == 1
}

// verifyPAdES checks the standard signature of pdf whose byte range and CMS
// findPAdES returned, and minwon's Ed25519 signature inside it.
func verifyPAdES(pdf []byte, r byteRange, der []byte, keys Keys) (PDFSignature, error) {
	info, err := parseCMS(der)
	if err != nil {
		return PDFSignature{}, err
	}
	bad := func(why string) (PDFSignature, error) {
		return PDFSignature{}, fmt.Errorf("%w: %s", ErrBadSignature, why)
	}
	// The signed attributes: the content type, the digest of the signed
	// bytes, and the hash of the signer's certificate.
	v, ok := signedAttr(info.signedAttrs, oidContentType)
	var oid asn1.ObjectIdentifier
	if !ok || !v.ReadASN1ObjectIdentifier(&oid) || !oid.Equal(oidData) {
		return bad("the signature's content type is missing or not data")
	}
	v, ok = signedAttr(info.signedAttrs, oidMessageDigest)
	var digest []byte
	if !ok || !v.ReadASN1Bytes(&digest, cbasn1.OCTET_STRING) {
		return bad("the signature has no message digest")
	}
	h := sha256.New()
	h.Write(pdf[:r.hole])
	h.Write(pdf[r.holeEnd:])
	if !bytes.Equal(h.Sum(nil), digest) {
		return bad("signature does not match the file's contents")
	}
	v, ok = signedAttr(info.signedAttrs, oidSigningCertV2)
	var certs, certID, certHash cryptobyte.String
	if !ok || !v.ReadASN1(&v, cbasn1.SEQUENCE) || !v.ReadASN1(&certs, cbasn1.SEQUENCE) || !certs.ReadASN1(&certID, cbasn1.SEQUENCE) ||
		!certID.ReadASN1(&certHash, cbasn1.OCTET_STRING) {
		return bad("the signature has no signing-certificate-v2 attribute with a SHA-256 hash")
	}
	var leaf *certificate
	for _, c := range info.certs {
		if sum := sha256.Sum256(c.raw); bytes.Equal(sum[:], certHash) {
			leaf = c
		}
	}
	if leaf == nil {
		return bad("the signing certificate is not in the signature")
	}
	if !bytes.Equal(info.issuer, leaf.issuer) || leaf.serial.Cmp(info.serial) != 0 {
		return bad("the signer is not the signing certificate")
	}
	pub := leaf.key
	if pub == nil {
		return bad("the signing certificate's key is not ECDSA P-256")
	}
	attrsHash := sha256.Sum256(info.signedAttrs)
	if !ecdsa.VerifyASN1(pub, attrsHash[:], info.signature) {
		return bad("the certificate's signature does not verify")
	}
	// minwon's signature, by a key of the ring.
	if !ValidNumber(info.number) || len(info.minwonSig) != ed25519.SignatureSize {
		return bad("malformed minwon signature")
	}
	key, ok := keys.PublicKey(info.keyID)
	if !ok {
		return bad(fmt.Sprintf("signed by key %s, which is unknown or revoked", info.keyID))
	}
	if !ed25519.Verify(key, PAdESMessage(info.number, info.signedAttrs), info.minwonSig) {
		return bad("minwon's signature does not match the file's contents")
	}
	chain := make([][]byte, len(info.certs))
	for i, c := range info.certs {
		chain[i] = c.raw
	}
	return PDFSignature{KeyID: info.keyID, Number: info.number, PAdES: &PAdESSignature{Certificate: leaf.raw, CommonName: leaf.commonName, Chain: chain}}, nil
}

// padesNumber returns the number minwon's signature in a PAdES document
// names, without checking anything.
func padesNumber(pdf []byte) (string, bool) {
	_, der, found, err := findPAdES(pdf)
	if !found || err != nil {
		return "", false
	}
	info, err := parseCMS(der)
	if err != nil || len(info.number) != 16 || strings.Trim(info.number, "0123456789") != "" {
		return "", false
	}
	return info.number, true
}
