package auth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// memStore is the session store in memory: package store, which
// implements it on the database, imports auth, and runs its own tests.
type memStore struct {
	mu       sync.Mutex
	accounts map[string]Account
	sessions map[string]Session
	ended    map[string]bool
}

func (m *memStore) Account(ctx context.Context, login string) (Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.accounts[login]
	if !ok {
		return Account{}, ErrUnknownAccount
	}
	return a, nil
}

func (m *memStore) SetPasswordHash(ctx context.Context, login, hash string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	a := m.accounts[login]
	a.PasswordHash = hash
	m.accounts[login] = a
	return nil
}

func (m *memStore) CreateSession(ctx context.Context, s Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.sessions[s.TokenHash]; ok {
		return errors.New("duplicate session")
	}
	m.sessions[s.TokenHash] = s
	return nil
}

func (m *memStore) ActiveSession(ctx context.Context, tokenHash string, now time.Time) (Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[tokenHash]
	if !ok || m.ended[tokenHash] || !s.ExpiresAt.After(now) {
		return Session{}, ErrNoSession
	}
	a := m.accounts[s.Login]
	s.Subject, s.Kind = a.Subject, a.Kind
	return s, nil
}

func (m *memStore) EndSession(ctx context.Context, tokenHash string, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ended[tokenHash] = true
	return nil
}

func (m *memStore) live(login, except string, now time.Time) []string {
	var out []string
	for h, s := range m.sessions {
		if s.Login == login && h != except && !m.ended[h] && s.ExpiresAt.After(now) {
			out = append(out, h)
		}
	}
	return out
}

func (m *memStore) CountSessions(ctx context.Context, login, except string, now time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.live(login, except, now)), nil
}

func (m *memStore) EndOtherSessions(ctx context.Context, login, except string, now time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	hs := m.live(login, except, now)
	for _, h := range hs {
		m.ended[h] = true
	}
	return len(hs), nil
}

func (m *memStore) PurgeSessions(ctx context.Context, now time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for h, s := range m.sessions {
		if m.ended[h] || !s.ExpiresAt.After(now) {
			delete(m.sessions, h)
			delete(m.ended, h)
			n++
		}
	}
	return n, nil
}

func newSessions(t *testing.T) (*Sessions, *memStore) {
	t.Helper()
	h, _ := HashPassword("s3cret-password", Generated)
	db := &memStore{
		accounts: map[string]Account{"alice": {Login: "alice", PasswordHash: h, Subject: "PALICE00001", Kind: "person"}},
		sessions: map[string]Session{}, ended: map[string]bool{},
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
	tok, exp, p, err := s.Login(ctx, "alice", "s3cret-password", "192.0.2.1:4711")
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
	if _, _, _, err := s.Login(ctx, "alice", "wrong", "192.0.2.1:4711"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("wrong password: %v", err)
	}
	if _, _, _, err := s.Login(ctx, "mallory", "x", "192.0.2.1:4711"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("unknown login: %v", err)
	}
}

func TestSessionExpires(t *testing.T) {
	ctx := context.Background()
	s, _ := newSessions(t)
	now := time.Now()
	s.now = func() time.Time { return now }
	tok, _, _, err := s.Login(ctx, "alice", "s3cret-password", "192.0.2.1:4711")
	if err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return now.Add(time.Hour + time.Second) }
	if _, err := s.Authenticate(ctx, tok); !errors.Is(err, ErrNoSession) {
		t.Fatalf("expired session accepted: %v", err)
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
			tok, _, _, err := s.Login(ctx, "alice", "s3cret-password", "192.0.2.1:4711")
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
	if _, _, _, err := s.Login(ctx, "alice", "s3cret-password", "192.0.2.1:4711"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("login with every slot taken: %v", err)
	}
	<-s.hashing
	if _, _, _, err := s.Login(context.Background(), "alice", "s3cret-password", "192.0.2.1:4711"); err != nil {
		t.Fatalf("login with a free slot: %v", err)
	}
}
