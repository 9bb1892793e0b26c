package notify_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/notify"
	"github.com/minwon/minwon/internal/store"
	"github.com/minwon/minwon/internal/storetest"
)

func notice(subject string, i int) notify.Notice {
	return notify.Notice{Subject: subject, Kind: notify.KindIssuedToOther, Title: fmt.Sprintf("notice %d", i), Body: "주민등록표 등본 was issued to a household member."}
}

func TestInbox(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := b.Open(t)
		ctx := t.Context()
		clock := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
		o := &notify.Outbox{Store: db, Now: func() time.Time { clock = clock.Add(time.Second); return clock }}
		for i := range 3 {
			if err := o.Enqueue(ctx, db, notice("s-1", i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := o.Enqueue(ctx, db, notice("s-2", 9)); err != nil {
			t.Fatal(err)
		}
		list, err := o.Inbox(ctx, "s-1")
		if err != nil || len(list) != 3 || list[0].Title != "notice 2" || list[0].Read {
			t.Fatalf("inbox %+v %v", list, err)
		}
		if err := o.MarkRead(ctx, "s-1", list[0].ID); err != nil {
			t.Fatal(err)
		}
		// Another citizen's notice is not theirs to mark.
		if err := o.MarkRead(ctx, "s-2", list[1].ID); !errors.Is(err, notify.ErrNotFound) {
			t.Errorf("marking another's notice: %v", err)
		}
		if list, _ := o.Inbox(ctx, "s-1"); !list[0].Read || list[1].Read {
			t.Errorf("after reading: %+v", list)
		}
		// A notice with an RRN, or without a subject, is refused.
		bad := notice("s-1", 0)
		bad.Body = "about 900101-1234568"
		if err := o.Enqueue(ctx, db, bad); !errors.Is(err, notify.ErrPersonalData) {
			t.Errorf("RRN in a notice: %v", err)
		}
		if err := o.Enqueue(ctx, db, notice("", 0)); !errors.Is(err, notify.ErrBadNotice) {
			t.Errorf("no subject: %v", err)
		}
		// The issuance number is kept apart from the scanned text, and
		// must be one.
		withNumber := notice("s-4", 0)
		withNumber.Number = "9001011234568000"
		if err := o.Enqueue(ctx, db, withNumber); err != nil {
			t.Errorf("a number that looks like an RRN with a suffix: %v", err)
		}
		if list, _ := o.Inbox(ctx, "s-4"); len(list) != 1 || list[0].Number != withNumber.Number {
			t.Errorf("number kept: %+v", list)
		}
		withNumber.Number = "12-34 <b>"
		if err := o.Enqueue(ctx, db, withNumber); !errors.Is(err, notify.ErrBadNotice) {
			t.Errorf("a number that is not one: %v", err)
		}
		// Queued twice under one id, kept once.
		n := notice("s-3", 0)
		n.ID = "fixed"
		for range 2 {
			if err := o.Enqueue(ctx, db, n); err != nil {
				t.Fatal(err)
			}
		}
		if list, _ := o.Inbox(ctx, "s-3"); len(list) != 1 {
			t.Errorf("one id queued twice: %d notices", len(list))
		}
	})
}

// flaky fails its first failures sends, then hands over to next.
type flaky struct {
	mu       sync.Mutex
	failures int
	tries    map[string]int
	next     notify.Sender
}

func (f *flaky) Send(ctx context.Context, m notify.Message) error {
	f.mu.Lock()
	f.tries[m.ID]++
	fail := f.tries[m.ID] <= f.failures
	f.mu.Unlock()
	if fail {
		return errors.New("gateway unavailable")
	}
	return f.next.Send(ctx, m)
}

func lines(t *testing.T, dir string) map[string]int {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, notify.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m notify.Message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out[m.ID]++
	}
	return out
}

// Failed deliveries are retried after a growing wait, and a notice that
// keeps failing is marked failed after MaxAttempts.
func TestDeliveryRetriesWithBackoff(t *testing.T) {
	db := storetest.Open(t)
	ctx := t.Context()
	dir := t.TempDir()
	clock := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	f := &flaky{failures: 2, tries: map[string]int{}, next: &notify.FileSender{Dir: dir}}
	o := &notify.Outbox{Store: db, Sender: f, Now: func() time.Time { return clock }, Backoff: 10 * time.Second, MaxAttempts: 3}
	if err := o.Enqueue(ctx, db, notice("s-1", 1)); err != nil {
		t.Fatal(err)
	}
	step := func(advance time.Duration, want int) {
		t.Helper()
		clock = clock.Add(advance)
		n, err := o.DeliverDue(ctx)
		if err != nil || n != want {
			t.Fatalf("at +%v: delivered %d, %v; want %d", advance, n, err, want)
		}
	}
	step(0, 0)              // first attempt fails; next in 10s
	step(5*time.Second, 0)  // not due yet: no attempt
	step(5*time.Second, 0)  // second attempt fails; next in 20s
	step(19*time.Second, 0) // not due
	step(1*time.Second, 1)  // third attempt succeeds
	step(time.Hour, 0)      // nothing left
	if got := f.tries; len(got) != 1 {
		t.Fatalf("tries %v", got)
	}
	for id, tries := range f.tries {
		if tries != 3 {
			t.Errorf("%s tried %d times", id, tries)
		}
	}
	// Always failing: given up after MaxAttempts.
	f.failures = 100
	if err := o.Enqueue(ctx, db, notice("s-1", 2)); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		step(time.Hour, 0)
	}
	counts, err := db.NoticeCounts(ctx)
	if err != nil || counts["failed"] != 1 || counts["sent"] != 1 {
		t.Errorf("counts %v %v", counts, err)
	}
}

// A worker that stops between handing a message over and marking it sent
// (killed, or the sender answered too late) leads to a second attempt;
// the receiver keeps the message once. A line a crash tore is dropped and
// written again.
func TestDeliveryExactlyOnceAfterRestart(t *testing.T) {
	db := storetest.Open(t)
	ctx := t.Context()
	dir := t.TempDir()
	clock := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	first := &notify.FileSender{Dir: dir}
	// Delivered, but the answer is lost: the outbox retries.
	lost := senderFunc(func(ctx context.Context, m notify.Message) error {
		if err := first.Send(ctx, m); err != nil {
			return err
		}
		return errors.New("connection reset after delivery")
	})
	o := &notify.Outbox{Store: db, Sender: lost, Now: now, Backoff: time.Second}
	for i := range 5 {
		if err := o.Enqueue(ctx, db, notice("s-1", i)); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := o.DeliverDue(ctx); n != 0 || err != nil {
		t.Fatalf("first round: %d %v", n, err)
	}
	first.Close()
	// A torn last line, as a crash mid-write leaves.
	f, err := os.OpenFile(filepath.Join(dir, notify.FileName), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"id":"torn","to":"s-9","ki`)
	f.Close()
	// The restarted worker: a new sender reads what was delivered.
	clock = clock.Add(time.Minute)
	o2 := &notify.Outbox{Store: db, Sender: &notify.FileSender{Dir: dir}, Now: now}
	if n, err := o2.DeliverDue(ctx); n != 5 || err != nil {
		t.Fatalf("after restart: %d %v", n, err)
	}
	got := lines(t, dir)
	if len(got) != 5 {
		t.Errorf("delivered ids %v", got)
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("%s delivered %d times", id, n)
		}
	}
}

type senderFunc func(ctx context.Context, m notify.Message) error

func (f senderFunc) Send(ctx context.Context, m notify.Message) error { return f(ctx, m) }

// The worker process is killed (SIGKILL) in the middle of a delivery, after
// the sender wrote the message and before the outbox marked it sent; a new
// worker delivers the rest, and every message is in the sink exactly once.
func TestDeliveryExactlyOnceAfterKill9(t *testing.T) {
	if os.Getenv("NOTIFY_CHILD_DB") != "" {
		return // the child's work is in TestMain
	}
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "minwon.db")
	db, err := store.OpenSQLite(t.Context(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	o := &notify.Outbox{Store: db}
	const total = 20
	for i := range total {
		if err := o.Enqueue(t.Context(), db, notice("s-1", i)); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "NOTIFY_CHILD_DB="+dbPath, "NOTIFY_CHILD_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it as the sink holds its eighth message, before it is marked.
	sc := bufio.NewScanner(out)
	delivered := 0
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "delivered ") {
			delivered++
			if delivered == 8 {
				cmd.Process.Kill()
				break
			}
		}
	}
	cmd.Wait()
	if delivered != 8 {
		t.Fatalf("the child delivered %d before it was killed", delivered)
	}
	counts, _ := db.NoticeCounts(t.Context())
	if counts["sent"] != 7 {
		t.Fatalf("marked sent before the kill: %v, want 7", counts)
	}
	// The restarted worker, past the dead worker's lease.
	later := time.Now().Add(2 * time.Minute)
	o2 := &notify.Outbox{Store: db, Sender: &notify.FileSender{Dir: dir}, Now: func() time.Time { return later }}
	if n, err := o2.DeliverDue(t.Context()); err != nil || n != total-7 {
		t.Fatalf("after restart: %d %v", n, err)
	}
	got := lines(t, dir)
	if len(got) != total {
		t.Errorf("%d distinct messages in the sink, want %d", len(got), total)
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("%s delivered %d times", id, n)
		}
	}
}

// blockAfter delivers through next, reports each delivery on stdout, and
// never returns from the eighth: the parent kills the process there.
type blockAfter struct {
	next notify.Sender
	n    int
}

func (b *blockAfter) Send(ctx context.Context, m notify.Message) error {
	if err := b.next.Send(ctx, m); err != nil {
		return err
	}
	b.n++
	fmt.Printf("delivered %s\n", m.ID)
	if b.n == 8 {
		select {}
	}
	return nil
}

func TestMain(m *testing.M) {
	if dbPath := os.Getenv("NOTIFY_CHILD_DB"); dbPath != "" {
		db, err := store.OpenSQLite(context.Background(), dbPath)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		o := &notify.Outbox{Store: db, Sender: &blockAfter{next: &notify.FileSender{Dir: os.Getenv("NOTIFY_CHILD_DIR")}}}
		o.DeliverDue(context.Background())
		os.Exit(3) // not reached: killed in the eighth delivery
	}
	os.Exit(m.Run())
}
