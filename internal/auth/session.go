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
	// CountSessions counts login's live sessions other than except's.
	CountSessions(ctx context.Context, login, except string, now time.Time) (int, error)
	// EndOtherSessions ends login's live sessions other than except's.
	EndOtherSessions(ctx context.Context, login, except string, now time.Time) (int, error)
	// PurgeSessions deletes the sessions that ended or expired before
	// now.
	PurgeSessions(ctx context.Context, now time.Time) (int, error)
}

// Sessions issues and checks opaque session tokens. A token is 256 random
// bits; the server keeps only its SHA-256. There is no signing key: nothing
// can be stolen that would let anyone mint a session, and logout ends a
// session everywhere at once.
type Sessions struct {
	db      sessionStore
	ttl     time.Duration
	now     func() time.Time
	limiter *limiter
	// dummy is verified for unknown logins, at the cost of a real
	// account's hash, so timing does not reveal which logins exist.
	dummy    string
	upgrader Params
	// hashing bounds concurrent argon2id work: each takes up to 19 MiB, and
	// a login storm (every session expiring at once) once took a server
	// to 4.7 GB. Logins beyond the bound wait their turn.
	hashing chan struct{}

	purgeMu   sync.Mutex
	lastPurge time.Time

	// Observer, if set, is told of refused logins (package metrics). Set
	// it before the first Login.
	Observer LoginObserver
}

// LoginObserver is told of logins refused for a wrong login or password,
// and of logins the limiter refused before checking them.
type LoginObserver interface {
	LoginFailed()
	LoginThrottled()
}

func (s *Sessions) throttled(w time.Duration) error {
	if s.Observer != nil {
		s.Observer.LoginThrottled()
	}
	return &RateLimitedError{RetryAfter: w}
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
	dummy, err := HashPassword("no such account", Interactive)
	if err != nil {
		return nil, err
	}
	return &Sessions{
		db:       db,
		ttl:      ttl,
		now:      time.Now,
		limiter:  newLimiter(),
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

// Login checks the password and opens a session. client is the caller's
// address (r.RemoteAddr): failed logins are throttled per login and
// address, per address, and (more gently) per login. It returns the token
// to hand to the client once; the server never sees it again in clear.
func (s *Sessions) Login(ctx context.Context, login, password, client string) (token string, expires time.Time, p Principal, err error) {
	addr := ClientKey(client)
	if w := s.limiter.check(login, addr, s.now()); w > 0 {
		return "", time.Time{}, Principal{}, s.throttled(w)
	}
	release, err := s.hashSlot(ctx)
	if err != nil {
		return "", time.Time{}, Principal{}, err
	}
	defer release()
	// Reserved before hashing, settled after: concurrent guesses are
	// counted before any of them is checked.
	a, w := s.limiter.reserve(login, addr, s.now())
	if w > 0 {
		return "", time.Time{}, Principal{}, s.throttled(w)
	}
	o := abandoned
	defer func() {
		s.limiter.done(a, o, s.now())
		if o == failed && s.Observer != nil {
			s.Observer.LoginFailed()
		}
	}()
	acct, err := s.db.Account(ctx, login)
	if errors.Is(err, ErrUnknownAccount) {
		VerifyPassword(s.dummy, password)
		o = failed
		return "", time.Time{}, Principal{}, ErrBadCredentials
	}
	if err != nil {
		return "", time.Time{}, Principal{}, err
	}
	if err := s.verify(ctx, acct, password); err != nil {
		if errors.Is(err, ErrBadCredentials) {
			o = failed
		}
		return "", time.Time{}, Principal{}, err
	}
	o = succeeded
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", time.Time{}, Principal{}, fmt.Errorf("auth: token: %w", err)
	}
	token = tokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	now := s.now()
	expires = now.Add(s.ttl)
	if err := s.db.CreateSession(ctx, Session{TokenHash: HashToken(token), Login: login, CreatedAt: now, ExpiresAt: expires}); err != nil {
		return "", time.Time{}, Principal{}, err
	}
	s.purge(ctx, now)
	return token, expires, Principal{Login: login, Subject: acct.Subject, Kind: acct.Kind}, nil
}

// verify checks password against acct's hash at the cost of one
// Interactive hash whatever the outcome, as an unknown login costs one
// against the dummy: otherwise the time taken would tell which logins
// exist and which have been used (a Generated hash takes 1 ms, an
// Interactive one 20 to 45). A weaker hash is checked and the password
// hashed at Interactive either way; that hash replaces the weak one when
// the password is right.
func (s *Sessions) verify(ctx context.Context, acct Account, password string) error {
	params, err := VerifyPassword(acct.PasswordHash, password)
	weak := err == nil || errors.Is(err, ErrMismatch)
	weak = weak && (params.Memory < s.upgrader.Memory || params.Time < s.upgrader.Time)
	var upgraded string
	if weak {
		upgraded, _ = HashPassword(password, s.upgrader)
	}
	if errors.Is(err, ErrMismatch) {
		return ErrBadCredentials
	}
	if err != nil {
		return fmt.Errorf("auth: account %s: %w", acct.Login, err)
	}
	if upgraded != "" {
		// Best effort: a failed upgrade leaves the old, valid hash.
		_ = s.db.SetPasswordHash(ctx, acct.Login, upgraded)
	}
	return nil
}

// purge deletes sessions that ended or expired, at most once every
// purgeEvery; a login (the only thing that adds sessions) pays for it.
func (s *Sessions) purge(ctx context.Context, now time.Time) {
	s.purgeMu.Lock()
	due := now.Sub(s.lastPurge) >= purgeEvery
	if due {
		s.lastPurge = now
	}
	s.purgeMu.Unlock()
	if due {
		// Best effort: what is not purged now is purged next time.
		_, _ = s.db.PurgeSessions(ctx, now)
	}
}

// purgeEvery is how often logins purge the sessions table.
const purgeEvery = 10 * time.Minute

// OtherSessions counts the live sessions of token's login besides token's.
func (s *Sessions) OtherSessions(ctx context.Context, token string) (int, error) {
	sess, err := s.session(ctx, token)
	if err != nil {
		return 0, err
	}
	return s.db.CountSessions(ctx, sess.Login, sess.TokenHash, s.now())
}

// EndOtherSessions ends every live session of token's login but token's,
// and says how many it ended.
func (s *Sessions) EndOtherSessions(ctx context.Context, token string) (int, error) {
	sess, err := s.session(ctx, token)
	if err != nil {
		return 0, err
	}
	return s.db.EndOtherSessions(ctx, sess.Login, sess.TokenHash, s.now())
}

func (s *Sessions) session(ctx context.Context, token string) (Session, error) {
	if !strings.HasPrefix(token, tokenPrefix) || len(token) != len(tokenPrefix)+43 {
		return Session{}, ErrNoSession
	}
	sess, err := s.db.ActiveSession(ctx, HashToken(token), s.now())
	if errors.Is(err, ErrNoSession) {
		return Session{}, ErrNoSession
	}
	return sess, err
}

// Authenticate returns the principal of a live session.
func (s *Sessions) Authenticate(ctx context.Context, token string) (Principal, error) {
	sess, err := s.session(ctx, token)
	if err != nil {
		return Principal{}, err
	}
	return Principal{Login: sess.Login, Subject: sess.Subject, Kind: sess.Kind}, nil
}

// Logout ends the session server-side.
func (s *Sessions) Logout(ctx context.Context, token string) error {
	return s.db.EndSession(ctx, HashToken(token), s.now())
}
