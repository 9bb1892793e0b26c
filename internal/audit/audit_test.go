package audit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/audit"
)

// mem is a chain in memory, appended the way the store appends.
type mem struct{ events []audit.Event }

func (m *mem) InsertAudit(_ context.Context, e audit.Event) error {
	e.Seq = int64(len(m.events)) + 1
	if len(m.events) > 0 {
		e.PrevHash = m.events[len(m.events)-1].Hash
	}
	e.Hash = audit.ChainHash(e.PrevHash, e.Seq, e)
	m.events = append(m.events, e)
	return nil
}

func (m *mem) AuditChain(_ context.Context, after int64, limit int) ([]audit.Event, error) {
	var out []audit.Event
	for _, e := range m.events {
		if e.Seq > after && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func (m *mem) AuditHead(context.Context) (int64, string, error) {
	if len(m.events) == 0 {
		return 0, "", nil
	}
	last := m.events[len(m.events)-1]
	return last.Seq, last.Hash, nil
}

func (m *mem) AuditRows(context.Context) (int64, error) { return int64(len(m.events)), nil }

func TestRecordStampsOriginAndRefusesRRN(t *testing.T) {
	m := &mem{}
	now := time.Date(2026, 11, 30, 9, 0, 0, 123456789, time.UTC)
	l := &audit.Log{Store: m, Now: func() time.Time { return now }}
	ctx := audit.WithOrigin(t.Context(), "192.0.2.7:5555")
	if err := l.Record(ctx, audit.Event{ActorKind: audit.Official, Actor: "c001", Action: audit.ActCounterLookup, Purpose: "은행 제출"}); err != nil {
		t.Fatal(err)
	}
	if e := m.events[0]; e.From != "192.0.2.7" || !e.At.Equal(now.Truncate(time.Millisecond)) {
		t.Errorf("stamped %+v", e)
	}
	for _, e := range []audit.Event{
		{ActorKind: audit.Official, Actor: "c001", Action: "x", Purpose: "제출 900101-1234568"},
		{ActorKind: audit.Official, Actor: "c001", Action: "x", Detail: "rrn=9001011234568"},
		{ActorKind: audit.Official, Action: "x"},
	} {
		if err := l.Record(ctx, e); err == nil {
			t.Errorf("recorded %+v", e)
		}
	}
	if err := l.Record(ctx, audit.Event{ActorKind: audit.Official, Actor: "c001", Action: "x", Purpose: "900101-1234568"}); !errors.Is(err, audit.ErrPersonalData) {
		t.Errorf("RRN in the purpose: %v", err)
	}
}

// Every field is in the hash: changing any one breaks the chain there.
func TestEveryFieldIsChained(t *testing.T) {
	edits := map[string]func(*audit.Event){
		"at":      func(e *audit.Event) { e.At = e.At.Add(time.Millisecond) },
		"kind":    func(e *audit.Event) { e.ActorKind = audit.Operator },
		"actor":   func(e *audit.Event) { e.Actor = "c002" },
		"role":    func(e *audit.Event) { e.Role = "auditor" },
		"office":  func(e *audit.Event) { e.Office = "elsewhere" },
		"from":    func(e *audit.Event) { e.From = "198.51.100.1" },
		"action":  func(e *audit.Event) { e.Action = "y" },
		"service": func(e *audit.Event) { e.Service = "z" },
		"subject": func(e *audit.Event) { e.Subject = "s-2" },
		"number":  func(e *audit.Event) { e.Number = "2" },
		"purpose": func(e *audit.Event) { e.Purpose = "other" },
		"detail":  func(e *audit.Event) { e.Detail = "other" },
		"seq":     func(e *audit.Event) { e.Seq = 9 },
		"request": func(e *audit.Event) { e.RequestID = "req-2" },
		"strip":   func(e *audit.Event) { e.RequestID = "" },
	}
	for name, edit := range edits {
		m := &mem{}
		l := &audit.Log{Store: m}
		for range 3 {
			if err := l.Record(t.Context(), audit.Event{ActorKind: audit.Official, Actor: "c001", Role: "counter_clerk", Office: "o", From: "192.0.2.1",
				Action: "x", Service: "s", Subject: "s-1", Number: "1", Purpose: "p", Detail: "d", RequestID: "req-1"}); err != nil {
				t.Fatal(err)
			}
		}
		if _, brk, _ := audit.Verify(t.Context(), m); brk != nil {
			t.Fatalf("untouched: %v", brk)
		}
		edit(&m.events[1])
		if _, brk, _ := audit.Verify(t.Context(), m); brk == nil || brk.Seq != 2 {
			t.Errorf("edited %s: %v", name, brk)
		}
	}
}
