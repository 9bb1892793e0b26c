// Package auth owns who a caller is: password hashing, and (as minwon grows)
// opaque server-side sessions and the counter's client certificates.
//
// Package auth never logs or returns a password, a hash or a session token.
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

var (
	// Interactive is for passwords people choose: OWASP's argon2id
	// baseline (19 MiB, 2 passes), about 20 ms on one core here.
	Interactive = Params{Memory: 19 * 1024, Time: 2, Threads: 1}
	// Generated is for passwords minwon generates with 79 bits from
	// crypto/rand (the demo accounts). Guessing such a password is
	// infeasible at any hash cost, so seeding a million accounts need not
	// take hours; a hash with these params is upgraded to Interactive at
	// the account's first successful login.
	Generated = Params{Memory: 256, Time: 1, Threads: 1}
)

// ErrMismatch is returned by Verify for a wrong password.
var ErrMismatch = errors.New("password does not match")

// HashPassword returns a PHC-format argon2id hash of password.
func HashPassword(password string, p Params) (string, error) {
	var salt [16]byte
	if _, err := rand.Read(salt[:]); err != nil {
		return "", fmt.Errorf("auth: salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt[:], p.Time, p.Memory, p.Threads, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt[:]), b64.EncodeToString(key)), nil
}

// VerifyPassword checks password against a PHC argon2id hash in constant
// time. It returns the hash's params so callers can upgrade weak hashes.
func VerifyPassword(hash, password string) (Params, error) {
	p, salt, key, err := parseHash(hash)
	if err != nil {
		return Params{}, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return p, ErrMismatch
	}
	return p, nil
}

func parseHash(hash string) (Params, []byte, []byte, error) {
	bad := errors.New("auth: malformed password hash")
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Params{}, nil, nil, bad
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return Params{}, nil, nil, bad
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return Params{}, nil, nil, bad
	}
	// Bounds keep a corrupted or hostile hash from costing gigabytes.
	if p.Memory < 8 || p.Memory > 1<<20 || p.Time < 1 || p.Time > 16 || p.Threads < 1 || p.Threads > 16 {
		return Params{}, nil, nil, bad
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return Params{}, nil, nil, bad
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return Params{}, nil, nil, bad
	}
	return p, salt, key, nil
}

// GeneratePassword returns a random password of 16 characters from an
// alphabet without look-alikes (31 symbols: 79 bits).
func GeneratePassword() (string, error) {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789" // 31 symbols
	var b [16]byte
	out := make([]byte, 0, 16)
	for len(out) < 16 {
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("auth: password: %w", err)
		}
		for _, c := range b {
			// Reject the top of the byte range so every symbol is equally likely.
			if c < 248 && len(out) < 16 {
				out = append(out, alphabet[int(c)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}
