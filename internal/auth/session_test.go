package auth

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/store"
)

func newSessions(t *testing.T) (*Sessions, *store.DB) {
	t.Helper()
	ctx := context.Background()
	db, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h, _ := HashPassword("s3cret-password", Generated)
	if err := db.Seed(ctx, nil, []store.Account{{Login: "alice", PasswordHash: h, Subject: "PALICE00001", Kind: "person"}}); err != nil {
		t.Fatal(err)
	}
	s, err := NewSessions(db, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return s, db
}

func TestLoginAuthenticateLogout(t *testing.T) {
	ctx := context.Background()
	s, db := newSessions(t)
	tok, exp, p, err := s.Login(ctx, "alice", "s3cret-password")
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	if p.Subject != "PALICE00001" || time.Until(exp) < 59*time.Minute || !strings.HasPrefix(tok, tokenPrefix) {
		t.Fatalf("Login = %q %v %+v", tok, exp, p)
	}
	got, err := s.Authenticate(ctx, tok)
	if err != nil || got.Login != "alice" {
		t.Fatalf("Authenticate = %+v, %v", got, err)
	}
	// The hash was upgraded to interactive strength at first login.
	acct, _ := db.Account(ctx, "alice")
	if params, err := VerifyPassword(acct.PasswordHash, "s3cret-password"); err != nil || params != Interactive {
		t.Fatalf("after login hash params = %+v, %v; want Interactive", params, err)
	}
	if err := s.Logout(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, tok); !errors.Is(err, ErrNoSession) {
		t.Fatalf("token works after logout: %v", err)
	}
}

func TestBadTokensAndPasswords(t *testing.T) {
	ctx := context.Background()
	s, _ := newSessions(t)
	for _, tok := range []string{"", "garbage", tokenPrefix + strings.Repeat("A", 43), tokenPrefix, "Bearer x"} {
		if _, err := s.Authenticate(ctx, tok); !errors.Is(err, ErrNoSession) {
			t.Errorf("token %q: %v", tok, err)
		}
	}
	if _, _, _, err := s.Login(ctx, "alice", "wrong"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("wrong password: %v", err)
	}
	if _, _, _, err := s.Login(ctx, "mallory", "x"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("unknown login: %v", err)
	}
}

func TestSessionExpires(t *testing.T) {
	ctx := context.Background()
	s, _ := newSessions(t)
	now := time.Now()
	s.now = func() time.Time { return now }
	tok, _, _, err := s.Login(ctx, "alice", "s3cret-password")
	if err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return now.Add(time.Hour + time.Second) }
	if _, err := s.Authenticate(ctx, tok); !errors.Is(err, ErrNoSession) {
		t.Fatalf("expired session accepted: %v", err)
	}
}

func TestLoginRateLimit(t *testing.T) {
	ctx := context.Background()
	s, _ := newSessions(t)
	for i := 0; i < 10; i++ {
		s.Login(ctx, "alice", "wrong")
	}
	if _, _, _, err := s.Login(ctx, "alice", "s3cret-password"); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("after 10 failures: %v, want ErrRateLimited", err)
	}
}

func TestConcurrentSessionsAreDistinct(t *testing.T) {
	ctx := context.Background()
	s, _ := newSessions(t)
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, _, _, err := s.Login(ctx, "alice", "s3cret-password")
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if seen[tok] {
				t.Error("two logins got the same token")
			}
			seen[tok] = true
		}()
	}
	wg.Wait()
}

// TestLoginsWaitForAHashingSlot: argon2id work is bounded; a login beyond
// the bound waits (and gives up with its context) instead of adding another
// 19 MiB hash to a storm.
func TestLoginsWaitForAHashingSlot(t *testing.T) {
	s, _ := newSessions(t)
	for range cap(s.hashing) {
		s.hashing <- struct{}{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, _, err := s.Login(ctx, "alice", "s3cret-password"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("login with every slot taken: %v", err)
	}
	<-s.hashing
	if _, _, _, err := s.Login(context.Background(), "alice", "s3cret-password"); err != nil {
		t.Fatalf("login with a free slot: %v", err)
	}
}
