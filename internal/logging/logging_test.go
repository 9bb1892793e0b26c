package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/minwon/minwon/internal/ident"
	"github.com/minwon/minwon/internal/reqid"
)

type person struct {
	Name string
	RRN  string
}

type valuer struct{ s string }

func (v valuer) LogValue() slog.Value { return slog.StringValue(v.s) }

// TestRedact logs RRNs in every spelling and every place an attribute can
// hold one, and finds none in the output, JSON or text.
func TestRedact(t *testing.T) {
	spellings := []string{
		"900101-1234568",   // with a check digit
		"0501014123456",    // post-2020: no check digit, no hyphen
		"900101 – 1234568", // spaces and an en dash
		"９００１０１－１２３４５６８",             // full-width
		"900101\u00a0-\u00a01234568", // no-break spaces
	}
	for _, text := range []bool{false, true} {
		for _, rrn := range spellings {
			var buf bytes.Buffer
			log := New(&buf, Options{Text: text})
			ctx := reqid.With(context.Background(), "req-1")
			log.With("outer", "caller "+rrn).WithGroup("g").InfoContext(ctx, "message "+rrn,
				"s", rrn,
				"err", fmt.Errorf("lookup %s: %w", rrn, errors.New("not found")),
				"nested", slog.GroupValue(slog.String("deep", "x"+rrn), slog.Group("deeper", "v", rrn)),
				"struct", person{Name: "홍길동", RRN: rrn},
				"bytes", []byte(rrn),
				"valuer", valuer{rrn},
				"n", int64(9001011234568),
				rrn, "as a key",
				"ok", "count 42",
			)
			out := buf.String()
			if ident.ContainsRRN(out) {
				t.Errorf("text=%v, %q: the log holds an RRN: %s", text, rrn, out)
			}
			if !strings.Contains(out, ident.RRNRedacted) || !strings.Contains(out, "count 42") || !strings.Contains(out, "req-1") {
				t.Errorf("text=%v, %q: want redactions, the harmless value and the request id: %s", text, rrn, out)
			}
			if !text {
				var m map[string]any
				if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
					t.Fatalf("not one JSON line: %v: %s", err, out)
				}
				if m[RequestIDKey] != "req-1" {
					t.Errorf("request_id = %v", m[RequestIDKey])
				}
				g, _ := m["g"].(map[string]any)
				if g == nil || g["ok"] != "count 42" {
					t.Errorf("group g lost its attributes: %s", out)
				}
			}
		}
	}
}

// TestRedactKeepsValues: what holds no RRN is written as it was.
func TestRedactKeepsValues(t *testing.T) {
	var buf bytes.Buffer
	New(&buf, Options{}).Info("issued", "number", "1234-5678-9012-3456", "n", 7, "p", person{Name: "a"})
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if _, has := m[RequestIDKey]; has {
		t.Error("a record without a request id got one")
	}
	if m["n"] != float64(7) || m["msg"] != "issued" {
		t.Errorf("values changed: %s", buf.String())
	}
	if p, _ := m["p"].(map[string]any); p == nil || p["Name"] != "a" {
		t.Errorf("a struct without an RRN lost its shape: %s", buf.String())
	}
}
