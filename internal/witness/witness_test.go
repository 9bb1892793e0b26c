package witness_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/doclog"
	"github.com/minwon/minwon/internal/doclog/doclogtest"
	"github.com/minwon/minwon/internal/verify"
	"github.com/minwon/minwon/internal/witness"
	"github.com/minwon/minwon/internal/witness/witnesstest"
)

const origin = "minwon.test/log"

func entry(i int) doclog.Entry {
	s := fmt.Sprintf("%015d", i)
	return doclog.Entry{Kind: doclog.KindIssued, Number: s + string(verify.NumberCheckDigit(s)), Service: "resident-registration-copy",
		KeyID: "doc-0123456789ab", SHA256: fmt.Sprintf("%064x", i), Time: time.Unix(1_764_000_000, 0).UTC()}
}

func openLog(t *testing.T, key ed25519.PrivateKey, first, n int) *doclog.Log {
	t.Helper()
	l, err := doclog.Open(context.Background(), doclogtest.NewMemStore(), origin, key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	for i := first; i < first+n; i++ {
		if _, err := l.Append(context.Background(), entry(i), nil); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

type alerts struct {
	mu   sync.Mutex
	seen []string
}

func (a *alerts) add(kind, detail string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.seen = append(a.seen, kind)
}

func (a *alerts) has(kind string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, k := range a.seen {
		if k == kind {
			return true
		}
	}
	return false
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A real litewitness cosigns each new checkpoint; the published checkpoint
// carries its cosignature, which verify requires when given the witness's
// key and which a verifier that does not know the witness ignores. A
// shorter log (a rollback) and another tree at the same size (a fork) are
// refused by the witness and raise an alert; a witness that is down never
// stops appends.
func TestCosignWithLitewitness(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	logKey, _ := doclog.VerifierKey(origin, key.Public().(ed25519.PublicKey))
	w := witnesstest.Start(t, origin, logKey)
	wv, err := verify.NewCosignatureVerifier(w.VerifierKey)
	if err != nil {
		t.Fatal(err)
	}
	client := &witness.Client{URL: w.URL, Verifier: wv}

	l := openLog(t, key, 0, 3)
	var al alerts
	c := &witness.Cosigner{Client: client, Log: l, Alert: al.add, RetryEvery: 100 * time.Millisecond}
	c.Start()
	defer c.Close()
	pub := witness.Published{Log: l, Cosigner: c}
	cosigned := func() bool {
		_, _, cp := pub.Checkpoint()
		_, err := verify.OpenCosigned(cp, []string{logKey}, []string{w.VerifierKey})
		return err == nil
	}
	eventually(t, "a cosigned checkpoint of size 3", cosigned)
	for i := 3; i < 6; i++ {
		if _, err := l.Append(context.Background(), entry(i), nil); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "a cosigned checkpoint of size 6", func() bool { return cosigned() && c.Known() == 6 })
	_, _, cp := pub.Checkpoint()
	if got, err := verify.OpenCheckpoint(cp, logKey); err != nil || got.Size != 6 {
		t.Errorf("a verifier that does not know the witness: %+v %v", got, err)
	}
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := verify.OpenCosigned(cp, []string{logKey}, []string{witnesstest.VerifierKey("witness.test/other", other.Public().(ed25519.PublicKey))}); err == nil {
		t.Error("a checkpoint without the required witness's cosignature was accepted")
	}

	// A restored, shorter log: the witness holds 6, the log 4.
	short := openLog(t, key, 0, 4)
	var shortAlerts alerts
	sc := &witness.Cosigner{Client: client, Log: short, Alert: shortAlerts.add}
	var rb *doclog.RollbackError
	if err := sc.Cosign(context.Background()); !errors.As(err, &rb) || rb.Have != 4 || rb.Seen != 6 {
		t.Fatalf("cosigning a shorter log: %v, want a RollbackError 4 < 6", err)
	}
	sc.Start()
	eventually(t, "a rollback alert", func() bool { return shortAlerts.has(witness.AlertRollback) })
	sc.Close()

	// A fork: another tree of the same size.
	forked := openLog(t, key, 100, 6)
	fc := &witness.Cosigner{Client: client, Log: forked}
	var fk *doclog.ForkError
	if err := fc.Cosign(context.Background()); !errors.As(err, &fk) {
		t.Fatalf("cosigning a fork: %v, want a ForkError", err)
	}

	// The witness goes down: appends go on, an alert is raised, and
	// cosigning resumes when it is back.
	w.Stop()
	if _, err := l.Append(context.Background(), entry(6), nil); err != nil {
		t.Fatalf("append with the witness down: %v", err)
	}
	eventually(t, "an unreachable alert", func() bool { return al.has(witness.AlertUnreachable) })
	w.Restart(t)
	eventually(t, "a cosigned checkpoint of size 7", func() bool { return cosigned() && c.Known() == 7 })
}
