package app_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/minwon/minwon/internal/apiwire"
	"github.com/minwon/minwon/internal/apptest"
	"github.com/minwon/minwon/internal/audit"
	"github.com/minwon/minwon/internal/checkcode"
	"github.com/minwon/minwon/internal/pki"
)

// codeRE finds the document-check code in a PDF's text.
var codeRE = regexp.MustCompile(`문서확인번호 \(Document check code\)\s+([2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4})`)

func printedCode(t *testing.T, pdf []byte) string {
	t.Helper()
	m := codeRE.FindStringSubmatch(apptest.PDFText(t, pdf))
	if m == nil {
		t.Fatal("the PDF prints no document-check code")
	}
	return m[1]
}

// syncBuffer is a log sink for concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Paper verification: a portal and a counter document each print a
// check code; number + code shows the document as issued to anyone, and
// the view is in the subject's access log; a wrong code, or a number
// that does not exist, gets one refusal; five wrong codes lock the
// number (429, Retry-After). The code is nowhere in the log, data.json,
// the database or the server's log.
func TestDocumentCheckCode(t *testing.T) {
	var logs syncBuffer
	env := apptest.StartOpts(t, 300, 23, apptest.Options{Log: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	person := env.World.People[0]
	c := env.Login(t, env.AccountOf(t, person.Subject))
	var is apiwire.Issued
	if code := c.Do("POST", "/api/v1/issuances", map[string]any{"service": "resident-registration-abstract"}, newKey(), &is); code != http.StatusCreated {
		t.Fatalf("issue: %d", code)
	}
	resp, pdf := c.Raw("GET", is.Document, nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("pdf: %d", resp.StatusCode)
	}
	code := printedCode(t, pdf)
	_, data := c.Raw("GET", is.Data, nil, nil)

	anon := env.Anonymous(t)
	path := "/api/v1/verify/" + is.Number + "/document"
	var doc apiwire.CheckedDocument
	// As a person types it: lower case, no dashes.
	if st := anon.Do("POST", path, apiwire.CheckCodeRequest{Code: strings.ToLower(strings.ReplaceAll(code, "-", ""))}, nil, &doc); st != http.StatusOK {
		t.Fatalf("view with the code: %d", st)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		t.Fatal(err)
	}
	if doc.Number != is.Number || doc.Status != "valid" || !bytes.Equal(doc.Data, compact.Bytes()) || !strings.Contains(string(doc.Data), person.Name) {
		t.Errorf("view: %+v (data: %s)", doc, doc.Data)
	}
	r2, shownPDF := anon.Send("POST", doc.Document, "application/json", []byte(`{"code":"`+code+`"}`), nil)
	if r2.StatusCode != 200 || r2.Header.Get("Content-Type") != "application/pdf" || !bytes.Equal(shownPDF, pdf) {
		t.Errorf("pdf with the code: %d %s, same bytes %t", r2.StatusCode, r2.Header.Get("Content-Type"), bytes.Equal(shownPDF, pdf))
	}

	// Wrong code and unknown number: the same refusal.
	other, err := checkcode.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	var e1, e2 apiwire.ErrorBody
	if st := anon.Do("POST", path, apiwire.CheckCodeRequest{Code: other.Format()}, nil, &e1); st != http.StatusForbidden || e1.Error.Code != "check_code_mismatch" {
		t.Errorf("wrong code: %d %+v", st, e1)
	}
	if st := anon.Do("POST", "/api/v1/verify/1000000000000009/document", apiwire.CheckCodeRequest{Code: code}, nil, &e2); st != http.StatusForbidden || e2 != e1 {
		t.Errorf("unknown number: %d %+v, want the wrong code's answer %+v", st, e2, e1)
	}

	var log []apiwire.AccessEntry
	if st := c.Do("GET", "/api/v1/access-log", nil, nil, &log); st != 200 || len(log) < 2 {
		t.Fatalf("access log: %d %+v", st, log)
	}
	for _, e := range log[:2] {
		if e.Action != audit.ActCheckCodeView || e.ActorKind != audit.Public || e.Number != is.Number {
			t.Errorf("access log entry %+v", e)
		}
	}

	// At the counter too.
	_, _, clerk := env.StartCounter(t, pki.DefaultGrace).Official(t, pki.CounterClerk)
	var counterIs apiwire.Issued
	if st := clerk.Do("POST", "/counter/v1/issuances", counterRequest("resident-registration-abstract", person.RRN, ""), newKey(), &counterIs); st != http.StatusCreated {
		t.Fatalf("counter issuance: %d", st)
	}
	_, counterPDF := clerk.Raw("GET", counterIs.Document, nil, nil)
	counterCode := printedCode(t, counterPDF)
	if st := anon.Do("POST", "/api/v1/verify/"+counterIs.Number+"/document", apiwire.CheckCodeRequest{Code: counterCode}, nil, nil); st != http.StatusOK {
		t.Errorf("counter document with its code: %d", st)
	}

	// Lockout: LockAt wrong codes in all (one above), then even the right
	// code waits.
	for range checkcode.LockAt - 1 {
		anon.Do("POST", path, apiwire.CheckCodeRequest{Code: other.Format()}, nil, nil)
	}
	r3, body := anon.Send("POST", path, "application/json", []byte(`{"code":"`+code+`"}`), nil)
	if r3.StatusCode != http.StatusTooManyRequests || r3.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "check_code_locked") {
		t.Errorf("locked: %d Retry-After %q %s", r3.StatusCode, r3.Header.Get("Retry-After"), body)
	}

	// Nowhere but on the paper.
	for _, cd := range []string{code, counterCode} {
		plain := strings.ReplaceAll(cd, "-", "")
		for where, blob := range map[string][]byte{"data.json": data, "server log": []byte(logs.String())} {
			if bytes.Contains(blob, []byte(plain)) || bytes.Contains(blob, []byte(cd)) {
				t.Errorf("the check code is in %s", where)
			}
		}
		for table, raw := range allRows(t, env.Backend) {
			if bytes.Contains(raw, []byte(plain)) || bytes.Contains(raw, []byte(cd)) {
				t.Errorf("the check code is in table %s", table)
			}
		}
	}
	entries, err := env.DB.LogEntriesFor(t.Context(), is.Number)
	if err != nil || len(entries) == 0 {
		t.Fatalf("log entries: %v", err)
	}
	for _, e := range entries {
		if bytes.Contains(e.Data, []byte(strings.ReplaceAll(code, "-", ""))) || bytes.Contains(e.Data, []byte(code)) {
			t.Errorf("the check code is in log entry %d", e.Index)
		}
		var fields map[string]any
		if err := json.Unmarshal(e.Data, &fields); err == nil {
			if _, ok := fields["check_code"]; ok {
				t.Errorf("log entry %d has a check_code field", e.Index)
			}
		}
	}
}
