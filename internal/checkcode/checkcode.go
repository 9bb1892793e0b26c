// Package checkcode owns the document-check code (문서확인번호) printed on
// paper next to the issuance number: its alphabet and format, how it is
// generated, and the keyed hash it is stored under. Every issuance number
// is public in the transparency log, so the number alone never shows a
// document's content; whoever holds the paper has both, and number + code
// shows the document as issued (see Viewer).
//
// Package checkcode never stores, logs or prints a code: the database holds
// only HMAC-SHA256(server key, number, code), the log holds nothing of it,
// and Code's String masks it.
package checkcode

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Alphabet is the 32 symbols a code is written in: digits and capital
// letters without 0, 1, I and O, which readers confuse. Each symbol carries
// 5 bits.
const Alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// Length is the number of symbols in a code: 16 × 5 = 80 bits, printed in
// four groups of four.
const Length = 16

// Code is a document-check code, its 16 symbols without separators.
type Code string

// ErrMalformed is returned for text that is not a check code.
var ErrMalformed = errors.New("a document-check code is 16 letters and digits (e.g. ABCD-EFGH-JKLM-NPQR)")

// New draws a code from r (crypto/rand.Reader if nil), uniformly: each
// byte's low 5 bits pick a symbol, and 256 is a multiple of 32.
func New(r io.Reader) (Code, error) {
	if r == nil {
		r = rand.Reader
	}
	var b [Length]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("checkcode: %w", err)
	}
	out := make([]byte, Length)
	for i, v := range b {
		out[i] = Alphabet[v&31]
	}
	return Code(out), nil
}

// Parse reads a code as a person types it: any case, with or without the
// dashes or spaces between groups.
func Parse(s string) (Code, error) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '-' || r == ' ' || r == '\u2013' || r == '\u2010':
			continue
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		}
		if r > 127 || strings.IndexByte(Alphabet, byte(r)) < 0 || b.Len() >= Length {
			return "", ErrMalformed
		}
		b.WriteByte(byte(r))
	}
	if b.Len() != Length {
		return "", ErrMalformed
	}
	return Code(b.String()), nil
}

// Format is the code as printed: ABCD-EFGH-JKLM-NPQR.
func (c Code) Format() string {
	if len(c) != Length {
		return string(c)
	}
	s := string(c)
	return s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
}

// String masks the code, so that a code passed to a logger by mistake
// does not leak.
func (c Code) String() string { return "[check code]" }

// LogValue masks the code in structured logs too.
func (c Code) LogValue() slog.Value { return slog.StringValue(c.String()) }

// KeySize is the size of the key codes are hashed with.
const KeySize = 32

// Hasher hashes codes for storage and checks them.
//
// Why a keyed HMAC and not argon2id: a code has 80 random bits, so no
// hash of it can be brute-forced from a database leak (2^80 guesses),
// slow or fast; a slow hash would only add milliseconds of CPU to every
// issuance and every check. The key (a file beside the other keys, not in
// the database) adds that a leaked table alone does not even let one test
// a guessed code offline; the number in the hash binds a code to its
// document.
type Hasher struct{ key []byte }

// NewHasher returns a Hasher keyed with key (KeySize random bytes).
func NewHasher(key []byte) (*Hasher, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("checkcode: the key must be %d bytes, not %d", KeySize, len(key))
	}
	return &Hasher{key: append([]byte(nil), key...)}, nil
}

// Sum is the stored form of code for the document number: hex
// HMAC-SHA256 over a label, the number and the code.
func (h *Hasher) Sum(number string, code Code) string {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte("minwon check code v1\x00"))
	m.Write([]byte(number))
	m.Write([]byte{0})
	m.Write([]byte(code))
	return hex.EncodeToString(m.Sum(nil))
}

// Match reports, in constant time, whether code is the one stored as sum
// for number. An empty sum (a document issued before codes) matches
// nothing.
func (h *Hasher) Match(number string, code Code, sum string) bool {
	if sum == "" {
		return false
	}
	return hmac.Equal([]byte(h.Sum(number, code)), []byte(sum))
}
