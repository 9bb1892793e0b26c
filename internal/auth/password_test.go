package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestHashAndVerify(t *testing.T) {
	for _, p := range []Params{Generated, Interactive} {
		h, err := HashPassword("correct horse", p)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(h, "correct horse") {
			t.Fatal("hash contains the password")
		}
		got, err := VerifyPassword(h, "correct horse")
		if err != nil || got != p {
			t.Fatalf("Verify = %+v, %v; want %+v", got, err, p)
		}
		if _, err := VerifyPassword(h, "correct horsf"); !errors.Is(err, ErrMismatch) {
			t.Fatalf("wrong password: %v", err)
		}
		h2, _ := HashPassword("correct horse", p)
		if h == h2 {
			t.Fatal("two hashes of one password are equal: salt not random")
		}
	}
}

func TestVerifyRefusesMalformed(t *testing.T) {
	good, _ := HashPassword("pw", Generated)
	parts := strings.Split(good, "$")
	for _, h := range []string{
		"",
		"plaintext",
		"$argon2i$v=19$m=256,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=18$m=256,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=4194304,t=1,p=1$" + parts[4] + "$" + parts[5], // 4 GiB
		"$argon2id$v=19$m=256,t=99,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=256,t=1,p=1$!!$" + parts[5],
		"$argon2id$v=19$m=256,t=1,p=1$" + parts[4] + "$",
	} {
		if _, err := VerifyPassword(h, "pw"); err == nil || errors.Is(err, ErrMismatch) {
			t.Errorf("VerifyPassword(%q) = %v, want a malformed-hash error", h, err)
		}
	}
}

func TestGeneratePassword(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		p, err := GeneratePassword()
		if err != nil {
			t.Fatal(err)
		}
		if len(p) != 16 || strings.ContainsAny(p, "il1o0") {
			t.Fatalf("password %q: want 16 chars without look-alikes", p)
		}
		if seen[p] {
			t.Fatal("repeated password")
		}
		seen[p] = true
	}
}

func FuzzVerifyPassword(f *testing.F) {
	good, _ := HashPassword("pw", Generated)
	f.Add(good, "pw")
	f.Add("$argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", "")
	f.Fuzz(func(t *testing.T, hash, pw string) {
		VerifyPassword(hash, pw) // must not panic or allocate unbounded memory
	})
}
