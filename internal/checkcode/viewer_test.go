package checkcode_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/audit"
	"github.com/minwon/minwon/internal/checkcode"
	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/store"
	"github.com/minwon/minwon/internal/storetest"
	"github.com/minwon/minwon/internal/verify"
)

func number(serial int) string {
	s := fmt.Sprintf("%015d", 300000000000000+serial)
	return s + string(verify.NumberCheckDigit(s))
}

// fixture stores documents with known codes in a real database.
type fixture struct {
	db     *store.DB
	viewer *checkcode.Viewer
	now    time.Time
	codes  map[string]checkcode.Code
}

func newFixture(t testing.TB, b storetest.Backend, docs int) *fixture {
	t.Helper()
	db := storetest.Protect(t, b.Open(t))
	h, err := checkcode.NewHasher(bytes.Repeat([]byte{9}, checkcode.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, now: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC), codes: map[string]checkcode.Code{}}
	f.viewer = &checkcode.Viewer{Store: db, Hasher: h, Audit: &audit.Log{Store: db}, Now: func() time.Time { return f.now }}
	for i := 1; i <= docs; i++ {
		n := number(i)
		code, err := checkcode.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		is := issuance.Issuance{
			Number: n, RequesterLogin: "alice", RequesterSubject: "Palice", Subject: "Palice", Service: "resident-registration-copy",
			TemplateVersion: 1, TemplateDigest: "d", IssuedAt: f.now, PDFSHA256: "ab", KeyID: "k",
			PDF: []byte("%PDF- " + n), DataJSON: []byte(`{"document":{"number":"` + n + `"}}`), IdempotencyKey: n, RequestHash: "rh",
			CheckCodeHash: h.Sum(n, code),
		}
		if err := db.InsertIssuance(context.Background(), is); err != nil {
			t.Fatal(err)
		}
		f.codes[n] = code
	}
	return f
}

func TestViewWithCode(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		f := newFixture(t, b, 2)
		n := number(1)
		shown, err := f.viewer.View(ctx, n, string(f.codes[n]), "192.0.2.1", "fields")
		if err != nil {
			t.Fatal(err)
		}
		if shown.Number != n || !bytes.Equal(shown.PDF, []byte("%PDF- "+n)) || !bytes.Contains(shown.Data, []byte(n)) {
			t.Errorf("shown %+v", shown)
		}
		// Typed as a person would: formatted, lower case.
		if _, err := f.viewer.View(ctx, n, strings.ToLower(f.codes[n].Format()), "192.0.2.1", "pdf"); err != nil {
			t.Errorf("formatted code: %v", err)
		}
		events, err := f.db.AuditOfSubject(ctx, "Palice", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 2 || events[0].Action != audit.ActCheckCodeView || events[0].ActorKind != audit.Public || events[0].Number != n ||
			events[0].Detail != "shown=pdf" || events[1].Detail != "shown=fields" || events[0].From != "192.0.2.1" {
			t.Errorf("audit events %+v", events)
		}
		// Another document's code, an unknown number and a document
		// issued without a code get one and the same refusal.
		for _, tc := range []struct{ number, code string }{
			{n, string(f.codes[number(2)])},
			{number(99), string(f.codes[n])},
			{"1234", string(f.codes[n])},
		} {
			if _, err := f.viewer.View(ctx, tc.number, tc.code, "192.0.2.2", "fields"); !errors.Is(err, checkcode.ErrMismatch) {
				t.Errorf("View(%s, wrong): %v, want ErrMismatch", tc.number, err)
			}
		}
		if _, err := f.viewer.View(ctx, n, "not a code", "192.0.2.2", "fields"); !errors.Is(err, checkcode.ErrMalformed) {
			t.Errorf("malformed: %v", err)
		}
		if events, _ := f.db.AuditOfSubject(ctx, "Palice", 10); len(events) != 2 {
			t.Errorf("a refusal was recorded as a view: %d events", len(events))
		}
	})
}

// LockAt wrong codes lock the number, for the right code too; when the
// lock ends the right code opens it and clears the count.
func TestLockout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		f := newFixture(t, b, 2)
		n, wrong := number(1), string(f.codes[number(2)])
		for i := range checkcode.LockAt {
			// From many addresses: the lock is the number's.
			if _, err := f.viewer.View(ctx, n, wrong, fmt.Sprintf("192.0.2.%d", i), "fields"); !errors.Is(err, checkcode.ErrMismatch) {
				t.Fatalf("wrong code %d: %v", i, err)
			}
		}
		_, err := f.viewer.View(ctx, n, string(f.codes[n]), "198.51.100.1", "fields")
		var we *checkcode.WaitError
		if !errors.Is(err, checkcode.ErrLocked) || !errors.As(err, &we) || we.RetryAfter != checkcode.LockFor {
			t.Fatalf("right code while locked: %v", err)
		}
		// The other document is not locked.
		if _, err := f.viewer.View(ctx, number(2), wrong, "198.51.100.1", "fields"); err != nil {
			t.Errorf("other document: %v", err)
		}
		f.now = f.now.Add(checkcode.LockFor)
		// After the lock, one wrong code locks it again...
		if _, err := f.viewer.View(ctx, n, wrong, "198.51.100.2", "fields"); !errors.Is(err, checkcode.ErrMismatch) {
			t.Fatalf("wrong code after the lock: %v", err)
		}
		if _, err := f.viewer.View(ctx, n, string(f.codes[n]), "198.51.100.2", "fields"); !errors.Is(err, checkcode.ErrLocked) {
			t.Fatalf("relock: %v", err)
		}
		// ...and the right code, once it may be tried, clears the count.
		f.now = f.now.Add(checkcode.LockFor)
		if _, err := f.viewer.View(ctx, n, string(f.codes[n]), "198.51.100.2", "fields"); err != nil {
			t.Fatalf("right code after the lock: %v", err)
		}
		if st, err := f.db.CheckCodeState(ctx, n); err != nil || st.Failures != 0 || !st.LockedUntil.Equal(time.UnixMilli(0).UTC()) {
			t.Errorf("state after the right code: %+v %v", st, err)
		}
	})
}

// One address is throttled after ClientFailures wrong codes, whatever
// the numbers; other addresses are not.
func TestClientThrottle(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t), 1)
	ctx := context.Background()
	for i := range checkcode.ClientFailures {
		if _, err := f.viewer.View(ctx, number(100+i), string(f.codes[number(1)]), "203.0.113.7", "fields"); !errors.Is(err, checkcode.ErrMismatch) {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	_, err := f.viewer.View(ctx, number(1), string(f.codes[number(1)]), "203.0.113.7", "fields")
	var we *checkcode.WaitError
	if !errors.Is(err, checkcode.ErrThrottled) || !errors.As(err, &we) || we.Seconds() != int(checkcode.ClientWindow/time.Second) {
		t.Fatalf("throttled client: %v", err)
	}
	if _, err := f.viewer.View(ctx, number(1), string(f.codes[number(1)]), "203.0.113.8", "fields"); err != nil {
		t.Errorf("another client: %v", err)
	}
	f.now = f.now.Add(checkcode.ClientWindow)
	if _, err := f.viewer.View(ctx, number(1), string(f.codes[number(1)]), "203.0.113.7", "fields"); err != nil {
		t.Errorf("after the window: %v", err)
	}
}
