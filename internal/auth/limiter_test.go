package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// clock is a settable time for the limiter's waits.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func withClock(s *Sessions) *clock {
	c := &clock{t: time.Now()}
	s.now = c.now
	return c
}

// guess logs in with a wrong password and, if throttled, waits (on the
// clock) as long as told and tries again, up to a minute of waiting.
func guess(t *testing.T, s *Sessions, c *clock, login, client string) error {
	t.Helper()
	_, _, _, err := s.Login(context.Background(), login, "wrong", client)
	var rl *RateLimitedError
	if errors.As(err, &rl) && rl.RetryAfter <= time.Minute {
		c.add(rl.RetryAfter)
		_, _, _, err = s.Login(context.Background(), login, "wrong", client)
	}
	return err
}

// TestAttackerDoesNotLockOutOwner: ten wrong passwords from one address
// lock that address out of the login, not the owner elsewhere.
func TestAttackerDoesNotLockOutOwner(t *testing.T) {
	ctx := context.Background()
	s, _ := newSessions(t)
	c := withClock(s)
	const attacker, owner = "203.0.113.9:5000", "198.51.100.7:6000"
	for i := range 10 {
		if err := guess(t, s, c, "alice", attacker); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("guess %d: %v, want a wrong password", i+1, err)
		}
	}
	_, _, _, err := s.Login(ctx, "alice", "s3cret-password", attacker)
	var rl *RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter < 14*time.Minute || !errors.Is(err, ErrRateLimited) {
		t.Fatalf("11th attempt from the attacker's address: %v, want locked for about 15 minutes", err)
	}
	if _, _, _, err := s.Login(ctx, "alice", "s3cret-password", owner); err != nil {
		t.Fatalf("owner from another address: %v", err)
	}
	c.add(15 * time.Minute)
	if _, _, _, err := s.Login(ctx, "alice", "s3cret-password", attacker); err != nil {
		t.Fatalf("after 15 minutes: %v", err)
	}
}

// TestProgressiveDelay: a few mistakes are free, then each attempt waits
// longer.
func TestProgressiveDelay(t *testing.T) {
	s, _ := newSessions(t)
	c := withClock(s)
	var waits []time.Duration
	for range 20 {
		_, _, _, err := s.Login(context.Background(), "alice", "wrong", "192.0.2.1:1")
		var rl *RateLimitedError
		if errors.As(err, &rl) {
			waits = append(waits, rl.RetryAfter)
			if rl.RetryAfter >= 15*time.Minute {
				break
			}
			c.add(rl.RetryAfter)
		}
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 15 * time.Minute}
	if !slices.Equal(waits, want) {
		t.Fatalf("waits = %v, want %v", waits, want)
	}
}

// TestConcurrentGuessesAreCounted: the attempt is reserved before the
// hash, so 30 guesses at once cannot all be checked.
func TestConcurrentGuessesAreCounted(t *testing.T) {
	s, _ := newSessions(t)
	withClock(s)
	var mu sync.Mutex
	checked := 0
	var wg sync.WaitGroup
	for range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, _, err := s.Login(context.Background(), "alice", "wrong", "203.0.113.9:5000")
			switch {
			case errors.Is(err, ErrBadCredentials):
				mu.Lock()
				checked++
				mu.Unlock()
			case !errors.Is(err, ErrRateLimited):
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if checked > s.limiter.pair.free {
		t.Fatalf("%d of 30 concurrent guesses were checked, want at most %d", checked, s.limiter.pair.free)
	}
}

// TestPasswordSprayingIsLimited: one guess at each of many logins from one
// address is throttled; other addresses are not.
func TestPasswordSprayingIsLimited(t *testing.T) {
	s, _ := newSessions(t)
	withClock(s)
	limited := 0
	for i := range 100 {
		_, _, _, err := s.Login(context.Background(), fmt.Sprintf("user%03d", i), "Spring2026!", "203.0.113.9:5000")
		if errors.Is(err, ErrRateLimited) {
			limited++
		}
	}
	if limited < 100-s.limiter.addr.free {
		t.Fatalf("%d of 100 sprayed guesses throttled, want at least %d", limited, 100-s.limiter.addr.free)
	}
	if _, _, _, err := s.Login(context.Background(), "alice", "s3cret-password", "198.51.100.7:6000"); err != nil {
		t.Fatalf("another address: %v", err)
	}
}

// TestLoginCeilingSlowsNeverLocks: guesses at one login from many
// addresses slow every new address down, by at most 30 seconds; an address
// the owner logged in from is exempt.
func TestLoginCeilingSlowsNeverLocks(t *testing.T) {
	ctx := context.Background()
	s, _ := newSessions(t)
	c := withClock(s)
	const home = "198.51.100.7:6000"
	tok, _, _, err := s.Login(ctx, "alice", "s3cret-password", home)
	if err != nil {
		t.Fatal(err)
	}
	s.Logout(ctx, tok)
	for i := range 40 {
		if err := guess(t, s, c, "alice", fmt.Sprintf("203.0.113.%d:5000", i)); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	_, _, _, err = s.Login(ctx, "alice", "s3cret-password", "192.0.2.200:7000")
	var rl *RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter > 30*time.Second {
		t.Fatalf("owner from a new address: %v, want a wait of at most 30 s", err)
	}
	c.add(rl.RetryAfter)
	if _, _, _, err := s.Login(ctx, "alice", "s3cret-password", "192.0.2.200:7000"); err != nil {
		t.Fatalf("after the wait: %v", err)
	}
	if _, _, _, err := s.Login(ctx, "alice", "s3cret-password", home); err != nil {
		t.Fatalf("from the owner's known address: %v", err)
	}
}

// TestLimiterIsBoundedAndForgets: entries expire, and a flood of
// addresses cannot grow the tables past their cap.
func TestLimiterIsBoundedAndForgets(t *testing.T) {
	l := newLimiter()
	l.maxEntries = 16
	now := time.Now()
	for i := range 1000 {
		a, w := l.reserve("alice", fmt.Sprintf("10.0.%d.%d", i/256, i%256), now)
		if w == 0 {
			l.done(a, failed, now)
		}
	}
	if n := l.size(); n > 3*16 {
		t.Fatalf("%d entries after 1000 addresses, cap is 16 a table", n)
	}
	later := now.Add(l.lockFor + time.Minute)
	a, _ := l.reserve("bob", "10.9.9.9", later)
	l.done(a, failed, later)
	if n := l.size(); n != 3 {
		t.Fatalf("%d entries after 15 minutes, want only bob's 3", n)
	}
}

func TestClientKey(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"192.0.2.1:4711", "192.0.2.1"},
		{"[::ffff:192.0.2.1]:80", "192.0.2.1"},
		{"[2001:db8:1:2:3:4:5:6]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff::1%eth0]:443", "2001:db8:1:2::/64"},
		{"192.0.2.1", "192.0.2.1"},
		{"pipe", "pipe"},
	} {
		if got := ClientKey(c.in); got != c.want {
			t.Errorf("ClientKey(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestLoginTimingIsTheSame: an unknown login, an account never used (a
// cheap Generated hash) and one used before (upgraded to Interactive) take
// the same time to refuse. Before, they took 1.5, 1.5 and 45 ms. The
// fastest of interleaved rounds is compared: other work on the machine
// only ever adds time, so the floor is each path's own cost (medians
// failed at 3× on a machine with a load average of 19), and a path that
// skipped the hash would still show a floor far below the others'.
func TestLoginTimingIsTheSame(t *testing.T) {
	if testing.Short() {
		t.Skip("times argon2id")
	}
	ctx := context.Background()
	s, db := newSessions(t)
	used, _ := HashPassword("s3cret-password", Interactive)
	db.accounts["bob"] = Account{Login: "bob", PasswordHash: used, Subject: "PBOB0000001", Kind: "person"}
	logins := []string{"alice", "bob", "nobody"}
	const rounds = 15
	times := make([][]time.Duration, len(logins))
	for r := range rounds {
		for i, login := range logins {
			start := time.Now()
			_, _, _, err := s.Login(ctx, login, "wrong", fmt.Sprintf("10.%d.%d.1:1", r, i))
			times[i] = append(times[i], time.Since(start))
			if !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("%s: %v", login, err)
			}
		}
	}
	var floors []time.Duration
	for i, ts := range times {
		slices.Sort(ts)
		floors = append(floors, ts[0])
		t.Logf("%-7s fastest %v (median %v, max %v)", logins[i], ts[0], ts[len(ts)/2], ts[len(ts)-1])
	}
	lo, hi := slices.Min(floors), slices.Max(floors)
	if float64(hi) > 2*float64(lo) {
		t.Fatalf("fastest times %v: the slowest path is %.1f× the fastest, want at most 2×", floors, float64(hi)/float64(lo))
	}
}

// TestOtherSessions: a login can count and end the account's other
// sessions; ended and expired sessions are purged.
func TestOtherSessions(t *testing.T) {
	ctx := context.Background()
	s, db := newSessions(t)
	c := withClock(s)
	old, _, _, err := s.Login(ctx, "alice", "s3cret-password", "192.0.2.1:1")
	if err != nil {
		t.Fatal(err)
	}
	other, _, _, _ := s.Login(ctx, "alice", "s3cret-password", "192.0.2.2:1")
	cur, _, _, _ := s.Login(ctx, "alice", "s3cret-password", "192.0.2.3:1")
	if n, err := s.OtherSessions(ctx, cur); n != 2 || err != nil {
		t.Fatalf("OtherSessions = %d, %v; want 2", n, err)
	}
	if n, err := s.EndOtherSessions(ctx, cur); n != 2 || err != nil {
		t.Fatalf("EndOtherSessions = %d, %v; want 2", n, err)
	}
	for _, tok := range []string{old, other} {
		if _, err := s.Authenticate(ctx, tok); !errors.Is(err, ErrNoSession) {
			t.Fatalf("an ended session still works: %v", err)
		}
	}
	if _, err := s.Authenticate(ctx, cur); err != nil {
		t.Fatalf("the current session was ended: %v", err)
	}
	if _, err := s.OtherSessions(ctx, "garbage"); !errors.Is(err, ErrNoSession) {
		t.Fatalf("OtherSessions without a session: %v", err)
	}
	// The next login after purgeEvery purges the ended and the expired.
	c.add(purgeEvery + time.Hour)
	if _, _, _, err := s.Login(ctx, "alice", "s3cret-password", "192.0.2.1:1"); err != nil {
		t.Fatal(err)
	}
	db.mu.Lock()
	n := len(db.sessions)
	db.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d sessions stored after the purge, want only the new one", n)
	}
}

// TestManyPeopleBehindOneAddress: concurrent logins to many accounts from
// one address (an office, a carrier's NAT, a login storm) are not taken for
// spraying, however many hashing slots the machine has.
func TestManyPeopleBehindOneAddress(t *testing.T) {
	s, db := newSessions(t)
	s.hashing = make(chan struct{}, 64)
	h, _ := HashPassword("pw", Generated)
	for i := range 40 {
		login := fmt.Sprintf("p%02d", i)
		db.accounts[login] = Account{Login: login, PasswordHash: h, Subject: "S" + login, Kind: "person"}
	}
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, _, err := s.Login(context.Background(), fmt.Sprintf("p%02d", i), "pw", "192.0.2.1:1"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}

type loginCounts struct{ failed, throttled int }

func (l *loginCounts) LoginFailed()    { l.failed++ }
func (l *loginCounts) LoginThrottled() { l.throttled++ }

// TestLoginObserver: every wrong password and every throttled attempt is
// reported, and a good login is neither.
func TestLoginObserver(t *testing.T) {
	s, _ := newSessions(t)
	withClock(s)
	obs := &loginCounts{}
	s.Observer = obs
	var throttled int
	for range 8 {
		_, _, _, err := s.Login(context.Background(), "alice", "wrong", "192.0.2.1:1")
		var rl *RateLimitedError
		if errors.As(err, &rl) {
			throttled++
		}
	}
	if obs.failed+obs.throttled != 8 || obs.throttled != throttled || throttled == 0 {
		t.Errorf("observed %+v, want %d throttled of 8", obs, throttled)
	}
}
