package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"
)

// Errors the API maps to one code each.
var (
	ErrBadCredentials = errors.New("wrong login or password")
	ErrNoSession      = errors.New("not logged in or session expired")
	ErrRateLimited    = errors.New("too many failed logins; try again later")
)

// Principal is an authenticated caller.
type Principal struct {
	Login   string
	Subject string // the account's opaque subject id
	Kind    string // "person", "corporate" or KindOfficial
}

// KindOfficial is the principal kind of a counter official, authenticated
// by a client certificate rather than a session.
const KindOfficial = "official"

// Account is a login. It holds no personal data: name, birth date and RRN
// stay with the agencies and are fetched through linkage when needed.
type Account struct {
	Login        string
	PasswordHash string
	Subject      string
	Kind         string // "person" or "corporate"
}

// Session is a stored login session, found by the hash of its token.
type Session struct {
	TokenHash string
	Login     string
	Subject   string
	Kind      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// ErrUnknownAccount is what the session store returns for a login it does
// not hold. (Login answers ErrBadCredentials either way.)
var ErrUnknownAccount = errors.New("no such account")

// sessionStore is what sessions need from the database; package store
// implements it.
type sessionStore interface {
	// Account returns the account of login, or an error matching
	// ErrUnknownAccount.
	Account(ctx context.Context, login string) (Account, error)
	SetPasswordHash(ctx context.Context, login, hash string) error
	CreateSession(ctx context.Context, s Session) error
	// ActiveSession returns the live session of a token hash, or an error
	// matching ErrNoSession.
	ActiveSession(ctx context.Context, tokenHash string, now time.Time) (Session, error)
	EndSession(ctx context.Context, tokenHash string, now time.Time) error
}

// Sessions issues and checks opaque session tokens. A token is 256 random
// bits; the server keeps only its SHA-256. There is no signing key: nothing
// can be stolen that would let anyone mint a session, and logout ends a
// session everywhere at once.
type Sessions struct {
	db       sessionStore
	ttl      time.Duration
	now      func() time.Time
	limiter  *failureLimiter
	dummy    string // hash verified for unknown logins so timing does not reveal them
	upgrader Params
	// hashing bounds concurrent argon2id work: each takes up to 19 MiB, and
	// a login storm (every session expiring at once) once took a server
	// to 4.7 GB. Logins beyond the bound wait their turn.
	hashing chan struct{}
}

// hashSlot waits for a free argon2id slot; release it when done.
func (s *Sessions) hashSlot(ctx context.Context) (release func(), err error) {
	select {
	case s.hashing <- struct{}{}:
		return func() { <-s.hashing }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// NewSessions returns a session service with sessions lasting ttl.
func NewSessions(db sessionStore, ttl time.Duration) (*Sessions, error) {
	dummy, err := HashPassword("no such account", Generated)
	if err != nil {
		return nil, err
	}
	return &Sessions{
		db:       db,
		ttl:      ttl,
		now:      time.Now,
		limiter:  newFailureLimiter(10, 15*time.Minute),
		dummy:    dummy,
		upgrader: Interactive,
		hashing:  make(chan struct{}, 2*runtime.NumCPU()),
	}, nil
}

// SessionCookie is the name of the cookie that carries a session token in
// browsers; the API and the pages share it.
const SessionCookie = "minwon_session"

// tokenPrefix marks minwon session tokens so they are recognisable in a
// leaked file or a secret scanner.
const tokenPrefix = "mws_"

// HashToken is the stored form of a token.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// Login checks the password and opens a session. It returns the token to
// hand to the client once; the server never sees it again in clear.
func (s *Sessions) Login(ctx context.Context, login, password string) (token string, expires time.Time, p Principal, err error) {
	now := s.now()
	if !s.limiter.allow(login, now) {
		return "", time.Time{}, Principal{}, ErrRateLimited
	}
	release, err := s.hashSlot(ctx)
	if err != nil {
		return "", time.Time{}, Principal{}, err
	}
	defer release()
	acct, err := s.db.Account(ctx, login)
	if errors.Is(err, ErrUnknownAccount) {
		VerifyPassword(s.dummy, password)
		s.limiter.fail(login, now)
		return "", time.Time{}, Principal{}, ErrBadCredentials
	}
	if err != nil {
		return "", time.Time{}, Principal{}, err
	}
	params, err := VerifyPassword(acct.PasswordHash, password)
	if errors.Is(err, ErrMismatch) {
		s.limiter.fail(login, now)
		return "", time.Time{}, Principal{}, ErrBadCredentials
	}
	if err != nil {
		return "", time.Time{}, Principal{}, fmt.Errorf("auth: account %s: %w", login, err)
	}
	s.limiter.reset(login)
	if params.Memory < s.upgrader.Memory || params.Time < s.upgrader.Time {
		if h, err := HashPassword(password, s.upgrader); err == nil {
			// Best effort: a failed upgrade leaves the old, valid hash.
			_ = s.db.SetPasswordHash(ctx, login, h)
		}
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", time.Time{}, Principal{}, fmt.Errorf("auth: token: %w", err)
	}
	token = tokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	expires = now.Add(s.ttl)
	if err := s.db.CreateSession(ctx, Session{TokenHash: HashToken(token), Login: login, CreatedAt: now, ExpiresAt: expires}); err != nil {
		return "", time.Time{}, Principal{}, err
	}
	return token, expires, Principal{Login: login, Subject: acct.Subject, Kind: acct.Kind}, nil
}

// Authenticate returns the principal of a live session.
func (s *Sessions) Authenticate(ctx context.Context, token string) (Principal, error) {
	if !strings.HasPrefix(token, tokenPrefix) || len(token) != len(tokenPrefix)+43 {
		return Principal{}, ErrNoSession
	}
	sess, err := s.db.ActiveSession(ctx, HashToken(token), s.now())
	if errors.Is(err, ErrNoSession) {
		return Principal{}, ErrNoSession
	}
	if err != nil {
		return Principal{}, err
	}
	return Principal{Login: sess.Login, Subject: sess.Subject, Kind: sess.Kind}, nil
}

// Logout ends the session server-side.
func (s *Sessions) Logout(ctx context.Context, token string) error {
	return s.db.EndSession(ctx, HashToken(token), s.now())
}

// failureLimiter locks a login after max failures within window. It lives
// in one process; several nodes each enforce their own limit.
type failureLimiter struct {
	max    int
	window time.Duration
	mu     sync.Mutex
	fails  map[string][]time.Time
}

func newFailureLimiter(max int, window time.Duration) *failureLimiter {
	return &failureLimiter{max: max, window: window, fails: map[string][]time.Time{}}
}

func (l *failureLimiter) recent(login string, now time.Time) []time.Time {
	ts := l.fails[login]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) > l.window {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.fails, login)
	} else {
		l.fails[login] = ts
	}
	return ts
}

func (l *failureLimiter) allow(login string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recent(login, now)) < l.max
}

func (l *failureLimiter) fail(login string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fails[login] = append(l.recent(login, now), now)
}

func (l *failureLimiter) reset(login string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, login)
}
