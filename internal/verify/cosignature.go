package verify

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// algCosignatureV1 is the signed-note key type of a C2SP tlog-cosignature
// (cosignature/v1) witness key.
const algCosignatureV1 = 4

// NewCosignatureVerifier parses a witness's verifier key
// ("name+hash+base64(0x04 || Ed25519 public key)") into a note verifier of
// its cosignatures: Ed25519 over "cosignature/v1\ntime T\n" and the
// checkpoint, the signature being T (8 bytes, big-endian) then the 64-byte
// Ed25519 signature.
func NewCosignatureVerifier(vkey string) (note.Verifier, error) {
	name, rest, ok := strings.Cut(vkey, "+")
	hash16, key64, ok2 := strings.Cut(rest, "+")
	if !ok || !ok2 || name == "" {
		return nil, errors.New("verify: malformed witness key")
	}
	h, err := strconv.ParseUint(hash16, 16, 32)
	if err != nil || len(hash16) != 8 {
		return nil, errors.New("verify: malformed witness key hash")
	}
	key, err := base64.StdEncoding.DecodeString(key64)
	if err != nil || len(key) != 1+ed25519.PublicKeySize || key[0] != algCosignatureV1 {
		return nil, errors.New("verify: the witness key is not a cosignature/v1 Ed25519 key")
	}
	if cosignatureKeyHash(name, key) != uint32(h) {
		return nil, errors.New("verify: the witness key's hash does not match its name and key")
	}
	return &cosignatureVerifier{name: name, hash: uint32(h), key: ed25519.PublicKey(key[1:])}, nil
}

func cosignatureKeyHash(name string, key []byte) uint32 {
	s := sha256.New()
	s.Write([]byte(name + "\n"))
	s.Write(key)
	return binary.BigEndian.Uint32(s.Sum(nil))
}

type cosignatureVerifier struct {
	name string
	hash uint32
	key  ed25519.PublicKey
}

func (v *cosignatureVerifier) Name() string    { return v.name }
func (v *cosignatureVerifier) KeyHash() uint32 { return v.hash }
func (v *cosignatureVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig)
	m := fmt.Appendf(nil, "cosignature/v1\ntime %d\n%s", t, msg)
	return ed25519.Verify(v.key, m, sig[8:])
}

// OpenCosigned verifies a checkpoint signed by the log (one of logKeys)
// and cosigned by every witness in witnessKeys, and parses it. Signatures
// by keys it does not know are ignored.
func OpenCosigned(signed []byte, logKeys, witnessKeys []string) (Checkpoint, error) {
	cp, err := OpenCheckpoint(signed, logKeys...)
	if err != nil {
		return Checkpoint{}, err
	}
	for _, wk := range witnessKeys {
		v, err := NewCosignatureVerifier(wk)
		if err != nil {
			return Checkpoint{}, err
		}
		n, err := note.Open(signed, note.VerifierList(v))
		if err != nil {
			return Checkpoint{}, fmt.Errorf("verify: the checkpoint of size %d is not cosigned by witness %s: %w", cp.Size, v.Name(), err)
		}
		if len(n.Sigs) == 0 {
			return Checkpoint{}, fmt.Errorf("verify: the checkpoint of size %d is not cosigned by witness %s", cp.Size, v.Name())
		}
	}
	return cp, nil
}

// WithCosignatures appends signature lines (as a witness returns them,
// each "— name base64\n") to a signed note, skipping those it already
// carries.
func WithCosignatures(signed, sigs []byte) []byte {
	out := bytes.Clone(signed)
	for line := range bytes.Lines(sigs) {
		if !bytes.Contains(signed, line) {
			out = append(out, line...)
		}
	}
	return out
}
