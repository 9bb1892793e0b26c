package checkcode

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/minwon/minwon/internal/audit"
	"github.com/minwon/minwon/internal/verify"
)

// Errors of a view with a check code; package httperr maps each to one
// answer.
var (
	// ErrMismatch is the one refusal for a wrong code, an unknown number
	// and a document issued without a code alike: it tells a guesser
	// nothing about which.
	ErrMismatch = errors.New("the issuance number and the document-check code do not match any document")
	// ErrLocked: too many wrong codes were tried for this number.
	ErrLocked = errors.New("too many wrong document-check codes were tried for this number")
	// ErrThrottled: too many wrong codes came from this client.
	ErrThrottled = errors.New("too many wrong document-check codes from this address")
	// ErrGone: the document's files were deleted at the end of their
	// retention period; its number still verifies.
	ErrGone = errors.New("this document's content was deleted at the end of its retention period; its issuance number still verifies")
	// ErrNotFound is what a Store returns for a number it does not hold.
	ErrNotFound = errors.New("no such document")
)

// WaitError is ErrLocked or ErrThrottled with the time to wait.
type WaitError struct {
	Err        error
	RetryAfter time.Duration
}

func (e *WaitError) Error() string { return e.Err.Error() }
func (e *WaitError) Unwrap() error { return e.Err }

// Seconds is RetryAfter in whole seconds, at least 1.
func (e *WaitError) Seconds() int { return max(1, int((e.RetryAfter+time.Second-1)/time.Second)) }

// State is what the store keeps about a document's code.
type State struct {
	Number      string
	Service     string
	Subject     string // the opaque subject id, for the audit record
	Sum         string // Hasher.Sum of the code; "" for a document issued without one
	Failures    int    // wrong codes tried since the last right one
	LockedUntil time.Time
}

// Store is what the viewer needs from the database.
type Store interface {
	// CheckCodeState returns the state of number's code, or ErrNotFound.
	CheckCodeState(ctx context.Context, number string) (State, error)
	// NoteWrongCode counts a wrong code for number in one statement and,
	// once the count reaches lockAt, sets the lock to until.
	NoteWrongCode(ctx context.Context, number string, lockAt int, until time.Time) error
	// ClearWrongCodes resets the count after a right code.
	ClearWrongCodes(ctx context.Context, number string) error
	// DocumentFiles returns number's signed PDF and data.json, opened; a
	// purged document is ErrGone.
	DocumentFiles(ctx context.Context, number string) (pdf, data []byte, err error)
}

// auditRecorder records a use of personal data (an *audit.Log).
type auditRecorder interface {
	Record(ctx context.Context, e audit.Event) error
}

// The limits. A number is locked for LockFor after LockAt wrong codes, and
// every further wrong code locks it again: a guesser gets LockAt tries,
// then one an hour, against 2^80 codes. The holder of the paper may be
// locked out by someone guessing at their public number; verification by
// number keeps working, and the lock ends by itself. A client address
// gets ClientFailures wrong codes per ClientWindow across all numbers.
const (
	LockAt         = 5
	LockFor        = time.Hour
	ClientFailures = 20
	ClientWindow   = time.Hour
	maxClients     = 32768
)

// Viewer shows a document to whoever holds its number and its code.
type Viewer struct {
	Store  Store
	Hasher *Hasher
	Audit  auditRecorder
	Now    func() time.Time

	mu      sync.Mutex
	clients map[string]*window
}

// window counts a client's wrong codes since start.
type window struct {
	start time.Time
	fails int
}

// Shown is a document shown with its code.
type Shown struct {
	Number  string
	Service string
	PDF     []byte
	Data    []byte // the signed data.json, which `minwon verify` checks
}

func (v *Viewer) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// View checks code against number's and returns the document, recording
// the view as a use of its subject's personal data. what says what was
// shown ("fields" or "pdf") in the record. client is the caller's network
// address (an IPv6 address's /64), whose wrong codes are counted.
func (v *Viewer) View(ctx context.Context, number, code, client, what string) (*Shown, error) {
	now := v.now()
	if err := v.clientAllowed(client, now); err != nil {
		return nil, err
	}
	c, err := Parse(code)
	if err != nil {
		return nil, err
	}
	n, err := verify.ParseNumber(number)
	if err != nil {
		v.clientFailed(client, now)
		return nil, ErrMismatch
	}
	st, err := v.Store.CheckCodeState(ctx, string(n))
	if errors.Is(err, ErrNotFound) {
		v.clientFailed(client, now)
		return nil, ErrMismatch
	}
	if err != nil {
		return nil, err
	}
	if now.Before(st.LockedUntil) {
		// Locked: not even the right code is checked, or a lock would
		// not stop guessing.
		return nil, &WaitError{Err: ErrLocked, RetryAfter: st.LockedUntil.Sub(now)}
	}
	if !v.Hasher.Match(st.Number, c, st.Sum) {
		v.clientFailed(client, now)
		if st.Sum != "" {
			if err := v.Store.NoteWrongCode(ctx, st.Number, LockAt, now.Add(LockFor)); err != nil {
				return nil, err
			}
		}
		return nil, ErrMismatch
	}
	if st.Failures > 0 {
		if err := v.Store.ClearWrongCodes(ctx, st.Number); err != nil {
			return nil, err
		}
	}
	pdf, data, err := v.Store.DocumentFiles(ctx, st.Number)
	if err != nil {
		return nil, err
	}
	// Recorded before the content leaves.
	if err := v.Audit.Record(ctx, audit.Event{
		ActorKind: audit.Public, Actor: audit.CheckCodeHolder, Action: audit.ActCheckCodeView,
		Service: st.Service, Subject: st.Subject, Number: st.Number, From: client, Detail: "shown=" + what,
	}); err != nil {
		return nil, err
	}
	return &Shown{Number: st.Number, Service: st.Service, PDF: pdf, Data: data}, nil
}

// clientAllowed refuses a client past its wrong codes for the window.
func (v *Viewer) clientAllowed(client string, now time.Time) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	w := v.clients[client]
	if w == nil || now.Sub(w.start) >= ClientWindow || w.fails < ClientFailures {
		return nil
	}
	return &WaitError{Err: ErrThrottled, RetryAfter: w.start.Add(ClientWindow).Sub(now)}
}

// clientFailed counts a wrong code from client.
func (v *Viewer) clientFailed(client string, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.clients == nil {
		v.clients = map[string]*window{}
	}
	w := v.clients[client]
	if w == nil || now.Sub(w.start) >= ClientWindow {
		if w == nil && len(v.clients) >= maxClients {
			v.sweep(now)
		}
		w = &window{start: now}
		v.clients[client] = w
	}
	w.fails++
}

// sweep forgets the windows that ended; if none did, the table is full of
// live guessers and the oldest are forgotten, so memory stays bounded.
func (v *Viewer) sweep(now time.Time) {
	for k, w := range v.clients {
		if now.Sub(w.start) >= ClientWindow {
			delete(v.clients, k)
		}
	}
	for k := range v.clients {
		if len(v.clients) < maxClients {
			break
		}
		delete(v.clients, k)
	}
}
