package agency

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/population"
)

func newRegistry(t *testing.T, w *population.World, journal string) *Server {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	s, err := New(linkage.Registry, w, linkage.Signer{KeyID: "registry-test", Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if journal != "" {
		if err := s.SetJournal(journal); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// A write is applied once per request id and answered the same every
// time; a reused id with another request is refused; a restart from the
// journal has the same records and repeats the same answers.
func TestRegistryWritesAreIdempotentAndJournaled(t *testing.T) {
	w, err := population.Generate(population.Config{People: 50, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	journal := filepath.Join(t.TempDir(), "registry-journal.jsonl")
	s := newRegistry(t, w, journal)
	p := &w.People[0]
	payload, _ := json.Marshal(linkage.MoveIn{NewAddress: "서울특별시 관악구 행운로 12", MovedIn: "2026-01-02"})
	req := linkage.WriteRequest{RequestID: linkage.NewCorrelationID(), Purpose: "move-in-report", Subject: p.Subject, Operation: linkage.OpMoveIn, Payload: payload}
	first, err := s.applyWrite(req)
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.applyWrite(req)
	if err != nil || string(again.body) != string(first.body) || again.sig != first.sig {
		t.Fatalf("repeat answered differently: %v", err)
	}
	other := req
	other.Payload, _ = json.Marshal(linkage.MoveIn{NewAddress: "서울특별시 관악구 행운로 13", MovedIn: "2026-01-02"})
	if _, err := s.applyWrite(other); err != errRequestReused {
		t.Errorf("reused id: %v", err)
	}
	hist := func(s *Server) []linkage.AddressEntry {
		s.data.ch.mu.RLock()
		defer s.data.ch.mu.RUnlock()
		return s.data.personHistory(0)
	}
	h := hist(s)
	if n := len(h); h[n-1].Address != "서울특별시 관악구 행운로 12" || h[n-2].Address == h[n-1].Address || n != len(p.AddressHistory)+1 {
		t.Fatalf("history after one move: %+v", h)
	}
	// Refusals are answers too, repeated the same.
	bad := req
	bad.RequestID = linkage.NewCorrelationID()
	bad.Payload, _ = json.Marshal(linkage.MoveIn{NewAddress: "nowhere", MovedIn: "2026-01-02"})
	r1, _ := s.applyWrite(bad)
	var resp linkage.WriteResponse
	if json.Unmarshal(r1.body, &resp); resp.Status != linkage.WriteRefused || resp.Code != "bad_address" {
		t.Errorf("refusal %+v", resp)
	}

	restarted := newRegistry(t, w, journal)
	if got := hist(restarted); len(got) != len(h) || got[len(got)-1] != h[len(h)-1] {
		t.Errorf("after a restart: %+v", got)
	}
	replayed, err := restarted.applyWrite(req)
	if err != nil || string(replayed.body) != string(first.body) {
		t.Errorf("after a restart the same id got another answer: %v", err)
	}
}
