package sdjwt

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"time"
)

// maxStatusBytes bounds a status list as decompressed (8 M credentials
// per MiB): a verifier must not inflate a zip bomb.
const maxStatusBytes = 16 << 20

// StatusList builds a status list token (draft-ietf-oauth-status-list):
// a JWT of type statuslist+jwt whose subject is uri, with 1 bit per
// credential index below size, set (1, invalid) for each index in revoked,
// least significant bit first, zlib-compressed.
func (is *Issuer) StatusList(uri string, size int64, revoked []int64, now time.Time, ttl time.Duration) (string, error) {
	if size < 0 || size > 8*maxStatusBytes {
		return "", fmt.Errorf("sdjwt: status list size %d", size)
	}
	bits := make([]byte, (size+7)/8)
	for _, i := range revoked {
		if i < 0 || i >= size {
			return "", fmt.Errorf("sdjwt: revoked index %d outside the list of %d", i, size)
		}
		bits[i/8] |= 1 << (i % 8)
	}
	var z bytes.Buffer
	w, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	w.Write(bits)
	if err := w.Close(); err != nil {
		return "", err
	}
	claims := map[string]any{
		"sub":         uri,
		"iat":         now.Unix(),
		"status_list": map[string]any{"bits": 1, "lst": b64.EncodeToString(z.Bytes())},
	}
	if ttl > 0 {
		claims["ttl"] = int64(ttl / time.Second)
		claims["exp"] = now.Add(ttl).Unix()
	}
	return is.sign(StatusListTyp, claims)
}

// CheckStatus checks c's status against a status list token by the same
// issuer: the token's signature and subject (c's status uri), its expiry,
// and the bit at c's index. A credential without a status passes.
func (c *Credential) CheckStatus(token string, trust Trust, now time.Time) error {
	if c.Status == nil {
		return nil
	}
	_, claims, key, err := verifyJWS(token, StatusListTyp, trust, now)
	if err != nil {
		return fmt.Errorf("status list: %w", err)
	}
	if !key.Equal(c.Issuer) {
		return fmt.Errorf("%w: signed by another issuer", ErrStatus)
	}
	if sub, _ := claims["sub"].(string); sub != c.Status.URI {
		return fmt.Errorf("%w: the list is %q, the credential's %q", ErrStatus, sub, c.Status.URI)
	}
	if exp, ok := claims["exp"].(float64); ok && !now.Before(time.Unix(int64(exp), 0)) {
		return fmt.Errorf("%w: the status list has expired; fetch it again", ErrStatus)
	}
	bit, err := StatusBit(claims, c.Status.Index)
	if err != nil {
		return err
	}
	if bit != 0 {
		return ErrRevoked
	}
	return nil
}

// StatusBit reads the status of index from a status list token's claims.
func StatusBit(claims map[string]any, index int64) (int, error) {
	sl, _ := claims["status_list"].(map[string]any)
	if bits, _ := sl["bits"].(float64); bits != 1 {
		return 0, fmt.Errorf("%w: only 1-bit lists are read", ErrStatus)
	}
	lst, _ := sl["lst"].(string)
	raw, err := b64.DecodeString(lst)
	if err != nil {
		return 0, fmt.Errorf("%w: lst encoding", ErrStatus)
	}
	r, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		return 0, fmt.Errorf("%w: lst is not zlib", ErrStatus)
	}
	list, err := io.ReadAll(io.LimitReader(r, maxStatusBytes+1))
	if err != nil || len(list) > maxStatusBytes {
		return 0, fmt.Errorf("%w: lst does not inflate within bounds", ErrStatus)
	}
	if index < 0 || index/8 >= int64(len(list)) {
		return 0, fmt.Errorf("%w: index %d is past the list", ErrStatus, index)
	}
	return int(list[index/8]>>(index%8)) & 1, nil
}
