package store_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/audit"
	"github.com/minwon/minwon/internal/ident"
	"github.com/minwon/minwon/internal/store"
	"github.com/minwon/minwon/internal/storetest"
)

func TestSubjectIndex(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := b.Open(t)
		ctx := t.Context()
		x := ident.NewIndexer(bytes.Repeat([]byte{7}, 32))
		rows := []store.IndexRow{
			{Digest: x.RRN("9001011234568"), Kind: "rrn", Subject: "s-1"},
			{Digest: x.RRN("2103153847261"), Kind: "rrn", Subject: "s-2"},
			{Digest: x.BusinessNumber("1234567891"), Kind: "business_number", Subject: "c-1"},
		}
		for range 2 { // a second put keeps what is there
			if err := db.PutSubjectIndex(ctx, rows); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := db.SubjectIndexSize(ctx); err != nil || n != 3 {
			t.Fatalf("size %d, %v", n, err)
		}
		if s, ok, err := db.LookupSubject(ctx, "rrn", x.RRN("2103153847261")); err != nil || !ok || s != "s-2" {
			t.Errorf("lookup: %q, %v, %v", s, ok, err)
		}
		if _, ok, err := db.LookupSubject(ctx, "rrn", x.RRN("9001011234567")); ok || err != nil {
			t.Errorf("unknown RRN: %v, %v", ok, err)
		}
		// The same digits as another kind are another key.
		if _, ok, _ := db.LookupSubject(ctx, "business_number", x.RRN("9001011234568")); ok {
			t.Error("kind ignored")
		}
		// Another key finds nothing: the index is useless without it.
		other := ident.NewIndexer(bytes.Repeat([]byte{8}, 32))
		if _, ok, _ := db.LookupSubject(ctx, "rrn", other.RRN("9001011234568")); ok {
			t.Error("found under another key")
		}
	})
}

func TestAuditEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := b.Open(t)
		ctx := t.Context()
		log := &audit.Log{Store: db}
		t0 := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
		for i, e := range []audit.Event{
			{At: t0, ActorKind: audit.Official, Actor: "c001", Office: "행운동", Action: "counter_issuance", Service: "resident-registration-copy", Subject: "s-1", Number: "1234", Detail: "identity_check=resident_card"},
			{At: t0.Add(time.Second), ActorKind: audit.Official, Actor: "c002", Office: "청룡동", Action: "counter_issuance", Subject: "s-2"},
			{At: t0.Add(2 * time.Second), ActorKind: audit.Operator, Actor: "op1", Action: "key_rotate"},
		} {
			if err := log.Record(ctx, e); err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
		}
		got, err := db.AuditEvents(ctx, store.AuditQuery{Subject: "s-1"})
		if err != nil || len(got) != 1 || got[0].Actor != "c001" || got[0].Office != "행운동" || !got[0].At.Equal(t0) || got[0].Detail != "identity_check=resident_card" {
			t.Fatalf("by subject: %+v, %v", got, err)
		}
		all, err := db.AuditEvents(ctx, store.AuditQuery{})
		if err != nil || len(all) != 3 || all[0].Action != "key_rotate" {
			t.Fatalf("all, newest first: %+v, %v", all, err)
		}
		if err := log.Record(ctx, audit.Event{ActorKind: audit.Official, Actor: "c001", Action: "counter_issuance", Detail: "purpose=900101-1234568"}); !errors.Is(err, audit.ErrPersonalData) {
			t.Errorf("event with an RRN: %v, want ErrPersonalData", err)
		}
	})
}
