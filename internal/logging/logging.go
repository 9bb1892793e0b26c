// Package logging owns minwon's structured logs: log/slog records as JSON
// lines (or text for a person at a terminal), each with the request id of
// the request it was logged under, and every message, key and attribute
// value — strings, errors, anything printable, inside groups at any depth —
// passed through the personal-data scanner (ident.RedactRRNs) before it is
// written. Callers still never log an RRN, a password or a token on
// purpose; this is the net under them, not a licence.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/minwon/minwon/internal/ident"
	"github.com/minwon/minwon/internal/reqid"
)

// Options choose the format and level.
type Options struct {
	Text  bool         // text lines instead of JSON (the demo's terminal)
	Level slog.Leveler // default slog.LevelInfo
}

// New returns a logger writing to w with the request id and redaction
// added.
func New(w io.Writer, opt Options) *slog.Logger {
	ho := &slog.HandlerOptions{Level: opt.Level}
	var h slog.Handler
	if opt.Text {
		h = slog.NewTextHandler(w, ho)
	} else {
		h = slog.NewJSONHandler(w, ho)
	}
	return slog.New(Redact(h))
}

// RequestIDKey is the attribute that carries a record's request id.
const RequestIDKey = "request_id"

// Redact wraps h: every record's message and attributes are scanned for
// RRNs and redacted before h sees them, and a record logged with a context
// that carries a request id gets it as RequestIDKey.
func Redact(h slog.Handler) slog.Handler { return &redactor{next: h} }

// redactor keeps the groups and attributes it was given (already
// redacted) and applies them at Handle, so that the request id stays at the
// top of the record whatever groups are open.
type redactor struct {
	next slog.Handler
	ops  []op
}

// op is one WithGroup (group != "") or WithAttrs.
type op struct {
	group string
	attrs []slog.Attr
}

func (r *redactor) Enabled(ctx context.Context, l slog.Level) bool { return r.next.Enabled(ctx, l) }

func (r *redactor) Handle(ctx context.Context, rec slog.Record) error {
	attrs := make([]slog.Attr, 0, rec.NumAttrs())
	rec.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, redactAttr(a))
		return true
	})
	for i := len(r.ops) - 1; i >= 0; i-- {
		o := r.ops[i]
		if o.group == "" {
			attrs = append(o.attrs[:len(o.attrs):len(o.attrs)], attrs...)
			continue
		}
		if len(attrs) > 0 {
			attrs = []slog.Attr{{Key: o.group, Value: slog.GroupValue(attrs...)}}
		}
	}
	out := slog.NewRecord(rec.Time, rec.Level, ident.RedactRRNs(rec.Message), rec.PC)
	if id := reqid.From(ctx); id != "" {
		out.AddAttrs(slog.String(RequestIDKey, id))
	}
	out.AddAttrs(attrs...)
	return r.next.Handle(ctx, out)
}

func (r *redactor) with(o op) *redactor {
	return &redactor{next: r.next, ops: append(r.ops[:len(r.ops):len(r.ops)], o)}
}

func (r *redactor) WithAttrs(as []slog.Attr) slog.Handler {
	if len(as) == 0 {
		return r
	}
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = redactAttr(a)
	}
	return r.with(op{attrs: red})
}

func (r *redactor) WithGroup(name string) slog.Handler {
	if name == "" {
		return r
	}
	return r.with(op{group: ident.RedactRRNs(name)})
}

// redactAttr returns a with its key and value redacted, groups and
// LogValuers resolved first.
func redactAttr(a slog.Attr) slog.Attr {
	a.Key = ident.RedactRRNs(a.Key)
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, ident.RedactRRNs(v.String()))
	case slog.KindGroup:
		g := v.Group()
		red := make([]slog.Attr, len(g))
		for i, ga := range g {
			red[i] = redactAttr(ga)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(red...)}
	case slog.KindAny:
		// An error is written as its text; anything else as the handler
		// would print it, unless that text holds an RRN: then as the
		// redacted text (a struct loses its shape, not its secrecy).
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, ident.RedactRRNs(x.Error()))
		case []byte:
			return slog.String(a.Key, ident.RedactRRNs(string(x)))
		default:
			if s := fmt.Sprintf("%+v", x); ident.ContainsRRN(s) {
				return slog.String(a.Key, ident.RedactRRNs(s))
			}
		}
	}
	// Numbers, booleans, times and durations print no RRN in any spelling
	// FindRRNs knows except as an int64 of 13 digits: scanned too.
	if v.Kind() == slog.KindInt64 || v.Kind() == slog.KindUint64 {
		if s := v.String(); ident.ContainsRRN(s) {
			return slog.String(a.Key, ident.RedactRRNs(s))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
