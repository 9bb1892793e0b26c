package verify_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/minwon/minwon/internal/verify"
)

// cosign returns a witness's verifier key and its cosignature line of the
// checkpoint text at time t, made here per C2SP tlog-cosignature.
func cosign(name string, priv ed25519.PrivateKey, text string, t uint64) (string, string) {
	key := append([]byte{4}, priv.Public().(ed25519.PublicKey)...)
	h := sha256.Sum256(append([]byte(name+"\n"), key...))
	vkey := fmt.Sprintf("%s+%08x+%s", name, binary.BigEndian.Uint32(h[:]), base64.StdEncoding.EncodeToString(key))
	sig := ed25519.Sign(priv, fmt.Appendf(nil, "cosignature/v1\ntime %d\n%s", t, text))
	raw := binary.BigEndian.AppendUint64(append([]byte(nil), h[:4]...), t)
	return vkey, "— " + name + " " + base64.StdEncoding.EncodeToString(append(raw, sig...)) + "\n"
}

func TestOpenCosigned(t *testing.T) {
	logPriv := ed25519.NewKeyFromSeed(make([]byte, 32))
	seed := make([]byte, 32)
	seed[0] = 1
	witPriv := ed25519.NewKeyFromSeed(seed)
	signer, logVKey := noteSigner(t, "minwon.test/log", logPriv)
	text := verify.FormatCheckpoint("minwon.test/log", 3, verify.Hash{1})
	signed, err := note.Sign(&note.Note{Text: text}, signer)
	if err != nil {
		t.Fatal(err)
	}
	wkey, line := cosign("witness.test/w", witPriv, text, 1_764_000_000)
	cosigned := verify.WithCosignatures(signed, []byte(line))
	if _, err := verify.OpenCosigned(cosigned, []string{logVKey}, []string{wkey}); err != nil {
		t.Fatalf("a cosigned checkpoint: %v", err)
	}
	if _, err := verify.OpenCheckpoint(cosigned, logVKey); err != nil {
		t.Errorf("the cosignature line stops a verifier that ignores witnesses: %v", err)
	}
	if _, err := verify.OpenCosigned(signed, []string{logVKey}, []string{wkey}); err == nil {
		t.Error("a checkpoint without the cosignature passes")
	}
	// The cosignature of another checkpoint does not count.
	_, otherLine := cosign("witness.test/w", witPriv, verify.FormatCheckpoint("minwon.test/log", 4, verify.Hash{2}), 1_764_000_000)
	if _, err := verify.OpenCosigned(verify.WithCosignatures(signed, []byte(otherLine)), []string{logVKey}, []string{wkey}); err == nil {
		t.Error("a cosignature of another checkpoint passes")
	}
	// A witness key of another type is refused.
	if _, err := verify.NewCosignatureVerifier(logVKey); err == nil {
		t.Error("an Ed25519 note key was taken for a cosignature key")
	}
}

// FuzzOpenCosigned feeds arbitrary witness keys and notes: no panic, and
// nothing unsigned passes.
func FuzzOpenCosigned(f *testing.F) {
	logPriv := ed25519.NewKeyFromSeed(make([]byte, 32))
	logVKey, _ := note.NewEd25519VerifierKey("minwon.test/log", logPriv.Public().(ed25519.PublicKey))
	wkey, line := cosign("witness.test/w", logPriv, "minwon.test/log\n1\nAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", 1)
	f.Add(wkey, []byte("minwon.test/log\n1\nAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n"+line))
	f.Add("w+00000000+BA==", []byte("x\n\n— w AAAA\n"))
	f.Fuzz(func(t *testing.T, key string, signed []byte) {
		if v, err := verify.NewCosignatureVerifier(key); err == nil {
			v.Verify(signed, signed)
		}
		if _, err := verify.OpenCosigned(signed, []string{logVKey}, []string{key}); err == nil {
			t.Fatal("a note not signed by the log key passed")
		}
	})
}
