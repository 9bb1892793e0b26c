package auth

import (
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// The login limiter throttles whoever guesses, not the account they guess
// at. Failed logins are counted under three keys:
//
//   - the login and the client address together: the guesser's own
//     attempts. A few are free, then each waits longer, and at the rule's
//     lock count that address is locked out of that login for lockFor. The
//     owner, from any other address, is not.
//   - the client address alone: password spraying, one guess at each of
//     many logins, is slowed and then locked the same way.
//   - the login alone: a guesser with many addresses. This ceiling only
//     slows (at most the rule's max between attempts), it never locks, so
//     the owner can always get in; and addresses the owner has logged in
//     from are exempt from it altogether.
//
// A key is forgotten lockFor after its last attempt. An attempt is
// reserved before its password is hashed and settled after, so concurrent
// guesses cannot all pass a check that only the finished ones were counted
// against. The limiter lives in one process; several nodes each enforce
// their own limits.
type limiter struct {
	pair, addr, login rule
	// lockFor is how long a key is remembered after its last attempt, and
	// how long a locked key waits.
	lockFor time.Duration
	// knownFor is how long a successful login exempts its address from
	// the login-wide ceiling.
	knownFor time.Duration
	// maxEntries bounds each table, so a flood of addresses cannot grow
	// memory without limit.
	maxEntries int

	mu        sync.Mutex
	pairs     map[string]*entry
	addrs     map[string]*entry
	logins    map[string]*entry
	known     map[string]time.Time // login+address → until
	lastSweep time.Time
}

// rule is one limit: the first free failures cost nothing; then each
// attempt waits base, doubled for every further failure, up to max; from
// lock failures on (if lock > 0) the key is locked for the limiter's
// lockFor.
type rule struct {
	free int
	base time.Duration
	max  time.Duration
	lock int
	// inFlight counts attempts in flight as failures until they settle.
	// The address rule does not: many people behind one address (an
	// office, a carrier's NAT) log in at once, and as an attempt is
	// reserved only once it holds a hashing slot, ignoring them lets at
	// most a slot's worth of guesses more through, once.
	inFlight bool
}

// entry counts a key's failures and its attempts in flight.
type entry struct {
	fails   int
	pending int
	last    time.Time // when the last attempt was let through
}

// The limits. A person who mistypes a few times waits a second or two. A
// guesser gets 10 guesses at a login from one address, then 15 minutes'
// lockout; 100 guesses from one address (after the first 20, at most one a
// minute), then the same; and, once 20 have failed at one login, one guess
// every 30 seconds at it from all their addresses together.
func newLimiter() *limiter {
	return &limiter{
		pair:       rule{free: 5, base: time.Second, max: 5 * time.Minute, lock: 10, inFlight: true},
		addr:       rule{free: 20, base: time.Second, max: time.Minute, lock: 100},
		login:      rule{free: 20, base: time.Second, max: 30 * time.Second, inFlight: true},
		lockFor:    15 * time.Minute,
		knownFor:   30 * 24 * time.Hour,
		maxEntries: 1 << 15,
		pairs:      map[string]*entry{},
		addrs:      map[string]*entry{},
		logins:     map[string]*entry{},
		known:      map[string]time.Time{},
	}
}

// wait is how long after e.last the next attempt must wait under r.
func (l *limiter) wait(r rule, e *entry) time.Duration {
	n := e.fails
	if r.inFlight {
		n += e.pending
	}
	switch {
	case n < r.free:
		return 0
	case r.lock > 0 && n >= r.lock:
		return l.lockFor
	}
	d := r.base
	for i := r.free; i < n && d < r.max; i++ {
		d *= 2
	}
	return min(d, r.max)
}

// attempt is a reserved login attempt, to settle when its outcome is known.
type attempt struct {
	pair, addr, login string
	countLogin        bool // false for an address the owner logged in from
}

// outcome of a reserved attempt.
type outcome int

const (
	failed    outcome = iota // wrong login or password: counted
	succeeded                // the pair is forgiven and its address known
	abandoned                // neither (the caller gave up, a database error)
)

func pairKey(login, addr string) string { return login + "\x00" + addr }

// check returns how long an attempt at login from addr must still wait, or
// 0. It reserves nothing: callers check before queueing for a hash and
// reserve once they hold one.
func (l *limiter) check(login, addr string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, w := l.verdict(login, addr, now)
	return w
}

// reserve lets an attempt through, counted as in flight, or says how long
// to wait.
func (l *limiter) reserve(login, addr string, now time.Time) (attempt, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= time.Minute {
		l.sweep(now)
	}
	a, w := l.verdict(login, addr, now)
	if w > 0 {
		return attempt{}, w
	}
	l.take(l.pairs, a.pair, now)
	l.take(l.addrs, a.addr, now)
	if a.countLogin {
		l.take(l.logins, a.login, now)
	}
	return a, 0
}

// verdict is check's answer and the attempt it would reserve; l.mu is held.
func (l *limiter) verdict(login, addr string, now time.Time) (attempt, time.Duration) {
	a := attempt{pair: pairKey(login, addr), addr: addr, login: login}
	a.countLogin = !now.Before(l.known[a.pair])
	var w time.Duration
	for _, c := range []struct {
		m   map[string]*entry
		key string
		r   rule
		on  bool
	}{{l.pairs, a.pair, l.pair, true}, {l.addrs, a.addr, l.addr, true}, {l.logins, a.login, l.login, a.countLogin}} {
		e := l.live(c.m, c.key, now)
		if !c.on || e == nil {
			continue
		}
		// A key with no wait is never held up, even by an attempt let
		// through a moment "after" now (now is read before the lock).
		if d := l.wait(c.r, e); d > 0 {
			w = max(w, e.last.Add(d).Sub(now))
		}
	}
	return a, w
}

// live returns key's entry, forgetting it if it has expired.
func (l *limiter) live(m map[string]*entry, key string, now time.Time) *entry {
	e := m[key]
	if e != nil && l.expired(e, now) {
		delete(m, key)
		return nil
	}
	return e
}

func (l *limiter) expired(e *entry, now time.Time) bool {
	return e.pending == 0 && now.Sub(e.last) >= l.lockFor
}

// take counts an attempt in flight under key.
func (l *limiter) take(m map[string]*entry, key string, now time.Time) {
	e := m[key]
	if e == nil {
		l.makeRoom(m)
		e = &entry{}
		m[key] = e
	}
	e.pending++
	e.last = now
}

// makeRoom keeps m below maxEntries. The sweep drops expired entries every
// minute; a table still full drops an arbitrary idle entry (the other two
// tables still count its attempts).
func (l *limiter) makeRoom(m map[string]*entry) {
	for k, e := range m {
		if len(m) < l.maxEntries {
			return
		}
		if e.pending == 0 {
			delete(m, k)
		}
	}
}

// done settles a reserved attempt.
func (l *limiter) done(a attempt, o outcome, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	settle := func(m map[string]*entry, key string) {
		e := m[key]
		if e == nil {
			return
		}
		e.pending--
		if o == failed {
			e.fails++
		}
	}
	settle(l.pairs, a.pair)
	settle(l.addrs, a.addr)
	if a.countLogin {
		settle(l.logins, a.login)
	}
	if o == succeeded {
		// The owner's address is forgiven, and exempt from the login-wide
		// ceiling from now on. The address and login counts stand: a
		// sprayer could otherwise clear them with an account of their own.
		if e := l.pairs[a.pair]; e != nil && e.pending == 0 {
			delete(l.pairs, a.pair)
		}
		if _, ok := l.known[a.pair]; !ok && len(l.known) >= l.maxEntries {
			for k := range l.known {
				delete(l.known, k)
				break
			}
		}
		l.known[a.pair] = now.Add(l.knownFor)
	}
}

// sweep drops expired entries; l.mu is held.
func (l *limiter) sweep(now time.Time) {
	l.lastSweep = now
	for _, m := range []map[string]*entry{l.pairs, l.addrs, l.logins} {
		for k, e := range m {
			if l.expired(e, now) {
				delete(m, k)
			}
		}
	}
	for k, until := range l.known {
		if !now.Before(until) {
			delete(l.known, k)
		}
	}
}

// size is the number of entries held, for tests.
func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.pairs) + len(l.addrs) + len(l.logins) + len(l.known)
}

// ClientKey is the address a client is counted under (logins, check codes): the IP of
// r.RemoteAddr without its port, and an IPv6 address's /64, since one
// subscriber is routinely given a whole /64.
func ClientKey(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// RateLimitedError says how long a throttled login must wait. It matches
// ErrRateLimited.
type RateLimitedError struct {
	RetryAfter time.Duration
}

func (e *RateLimitedError) Error() string {
	return ErrRateLimited.Error() + " (retry in " + strconv.Itoa(e.Seconds()) + " s)"
}

// Is makes errors.Is(err, ErrRateLimited) true.
func (e *RateLimitedError) Is(target error) bool { return target == ErrRateLimited }

// Seconds is RetryAfter rounded up to whole seconds, at least 1.
func (e *RateLimitedError) Seconds() int {
	return max(1, int((e.RetryAfter+time.Second-1)/time.Second))
}
