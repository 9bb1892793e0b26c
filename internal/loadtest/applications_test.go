package loadtest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/casework"
)

func journalOf(t *testing.T, writes ...[2]string) []journalLine {
	t.Helper()
	var out []journalLine
	for _, w := range writes {
		var l journalLine
		l.Request.RequestID = casework.RequestID(w[0])
		l.Request.Subject = "P1"
		l.Request.Payload, _ = json.Marshal(map[string]string{"new_address": w[1], "moved_in": "2026-11-30"})
		out = append(out, l)
	}
	return out
}

// One write per report passes; a report written twice, a report never
// written and a write no report made are each a problem; the last write
// gives the address the 등본 must show.
func TestCheckJournal(t *testing.T) {
	ok := journalOf(t, [2]string{"a1", "서울특별시 관악구 행운로 1"}, [2]string{"a2", "서울특별시 관악구 행운로 2"})
	probs, last := checkJournal(ok, []string{"a1", "a2"})
	if len(probs) != 0 || last["P1"] != "서울특별시 관악구 행운로 2" {
		t.Fatalf("clean journal: problems %v, last address %q", probs, last["P1"])
	}
	bad := append(ok, journalOf(t, [2]string{"a1", "서울특별시 관악구 행운로 1"}, [2]string{"zz", "서울특별시 관악구 행운로 9"})...)
	probs, _ = checkJournal(bad, []string{"a1", "a2", "a3"})
	want := []string{"a1: 2 writes", "a3: 0 writes", "1 writes of request " + casework.RequestID("zz")}
	if len(probs) != len(want) {
		t.Fatalf("problems %v, want %d", probs, len(want))
	}
	for _, w := range want {
		found := false
		for _, p := range probs {
			found = found || strings.Contains(p, w)
		}
		if !found {
			t.Errorf("no problem saying %q in %v", w, probs)
		}
	}
}

// A line cut by a crash mid-append ends the journal, as the registry
// reads it on restart.
func TestReadJournalStopsAtCutLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registry-journal.jsonl")
	b, _ := json.Marshal(journalOf(t, [2]string{"a1", "x"})[0])
	if err := os.WriteFile(path, append(append(b, '\n'), b[:len(b)/2]...), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := readJournal(path); len(got) != 1 || got[0].Request.RequestID != casework.RequestID("a1") {
		t.Errorf("read %d lines: %+v", len(got), got)
	}
	if got := readJournal(path + ".none"); got != nil {
		t.Errorf("missing journal read as %d lines", len(got))
	}
}

func TestMonthsSince(t *testing.T) {
	d := func(s string) time.Time { t, _ := time.Parse("2006-01-02", s); return t }
	for _, c := range []struct {
		b, now string
		want   int
	}{{"2020-01-15", "2027-03-15", 86}, {"2020-01-15", "2027-03-14", 85}, {"2026-11-30", "2026-12-01", 0}} {
		if got := monthsSince(d(c.b), d(c.now)); got != c.want {
			t.Errorf("monthsSince(%s, %s) = %d, want %d", c.b, c.now, got, c.want)
		}
	}
}

// The line counter reads only what was appended since its last call.
func TestLineCounter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	var c lineCounter
	if n := c.count(path); n != 0 {
		t.Fatalf("missing file: %d lines", n)
	}
	os.WriteFile(path, []byte("a\nb\nc"), 0o600)
	if n := c.count(path); n != 2 {
		t.Fatalf("%d lines, want 2", n)
	}
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("\nd\n")
	f.Close()
	if n := c.count(path); n != 4 {
		t.Fatalf("%d lines after appending, want 4", n)
	}
}
