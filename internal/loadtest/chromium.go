package loadtest

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"rsc.io/qr"

	"github.com/minwon/minwon/internal/ident"
	"github.com/minwon/minwon/internal/population"
	"github.com/minwon/minwon/internal/render"
)

// ChromiumResult compares minwon's PDF writer with the usual alternative:
// the same certificate as HTML, printed to PDF by headless Chromium.
type ChromiumResult struct {
	Documents       int     `json:"documents"`
	MinwonPerSec1   float64 `json:"minwon_docs_per_sec_1_core"`
	MinwonPerSecAll float64 `json:"minwon_docs_per_sec_all_cores"`
	MinwonBytes     int     `json:"minwon_pdf_bytes"`
	ChromePerSec1   float64 `json:"chromium_docs_per_sec_1_tab"`
	ChromePerSecAll float64 `json:"chromium_docs_per_sec_n_tabs"`
	ChromeTabs      int     `json:"chromium_tabs"`
	ChromeBytes     int     `json:"chromium_pdf_bytes"`
	ColdDocs        int     `json:"chromium_cold_documents"`
	ColdPerSec      float64 `json:"chromium_cold_docs_per_sec"` // one `chromium --print-to-pdf` process per document
	RatioWarm       float64 `json:"ratio_warm"`                 // minwon all cores / Chromium n tabs
	RatioCold       float64 `json:"ratio_cold"`
	ChromiumVersion string  `json:"chromium_version"`
	ChromiumTextOK  bool    `json:"chromium_text_ok"` // Chromium's PDF shows the subject's name (pdftotext)
	MinwonTextOK    bool    `json:"minwon_text_ok"`
	CPUs            int     `json:"cpus"`
	Note            string  `json:"note"`
}

// sampleDocuments builds n resident registration copies of different
// people, laid out as minwon's issuance pipeline lays them out.
func sampleDocuments(n int) ([]*render.Document, error) {
	w, err := population.Generate(population.Config{People: max(n, 50), Seed: 7})
	if err != nil {
		return nil, err
	}
	docs := make([]*render.Document, n)
	for i := range docs {
		p := &w.People[i%len(w.People)]
		hh := &w.Households[p.Household]
		number := fmt.Sprintf("%015d", 100000000000000+i)
		number += "0"
		d := &render.Document{
			Title: "주민등록표 등본", Subtitle: "Resident Registration Copy",
			Number:   number[0:4] + "-" + number[4:8] + "-" + number[8:12] + "-" + number[12:16],
			IssuedAt: time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC), Issuer: "minwon 민원서류 발급 시스템",
			VerifyURL: "https://minwon.example/verify/" + number,
			Notes: []string{
				"이 문서는 전자적으로 발급되었으며 발급번호 또는 QR 코드로 진위를 확인할 수 있습니다.",
				"This document was issued electronically; check it by its issuance number or the QR code.",
			},
		}
		d.Sections = append(d.Sections, render.Section{Heading: "기본 사항 (Particulars)", Rows: []render.Row{
			{Label: "성명 Name", Value: p.Name},
			{Label: "생년월일 Date of birth", Value: p.BirthDate.Format("2006-01-02")},
			{Label: "주민등록번호 Resident registration number", Value: ident.MaskRRN(p.RRN)},
			{Label: "주소 Address", Value: p.Address},
			{Label: "세대번호 Household number", Value: hh.ID},
			{Label: "세대주 성명 Head of household", Value: w.People[hh.Head].Name},
		}})
		t := &render.Table{Columns: []string{"관계", "성명", "생년월일", "주민등록번호"}}
		for _, m := range hh.Members {
			q := &w.People[m]
			rel := map[population.Relation]string{population.Head: "세대주", population.Spouse: "배우자", population.Child: "자녀", population.Parent: "부모"}[q.Relation]
			t.Rows = append(t.Rows, []string{rel, q.Name, q.BirthDate.Format("2006-01-02"), ident.MaskRRN(q.RRN)})
		}
		d.Sections = append(d.Sections, render.Section{Heading: "세대 구성원 (Household members)", Table: t})
		docs[i] = d
	}
	return docs, nil
}

// certificateHTML is the same certificate as a web page, styled to print
// on A4 like minwon's PDF, with the QR code as inline SVG.
func certificateHTML(d *render.Document) (string, error) {
	var b strings.Builder
	e := html.EscapeString
	b.WriteString(`<!doctype html><html lang="ko"><head><meta charset="utf-8"><title>` + e(d.Title) + `</title><style>
@page { size: A4; margin: 50pt; }
body { font-family: "NanumGothic", "Nanum Gothic", sans-serif; font-size: 10pt; margin: 0; }
.frame { border: 1pt solid #333; padding: 14pt; min-height: 240mm; position: relative; }
h1 { text-align: center; font-size: 22pt; margin: 10pt 0 4pt; }
.sub { text-align: center; font-size: 10.5pt; margin-bottom: 18pt; }
.meta { display: flex; justify-content: space-between; border-bottom: .5pt solid #000; padding-bottom: 6pt; margin-bottom: 14pt; }
.meta b { font-size: 10pt; }
h2 { font-size: 11.5pt; margin: 14pt 0 6pt; }
table { width: 100%; border-collapse: collapse; font-size: 8.5pt; }
th { background: #ebebeb; text-align: left; padding: 3pt; }
td { border-bottom: .5pt solid #000; padding: 3pt; }
.rows td:first-child { width: 170pt; font-size: 9pt; border: none; }
.rows td { border: none; font-size: 10pt; }
.foot { border-top: .5pt solid #000; margin-top: 30pt; padding-top: 8pt; font-size: 8.5pt; position: relative; padding-right: 90pt; }
.foot .qr { position: absolute; right: 0; top: 8pt; width: 78pt; height: 78pt; }
.notes { font-size: 7pt; }
</style></head><body><div class="frame">`)
	fmt.Fprintf(&b, "<h1>%s</h1><div class=\"sub\">%s</div>", e(d.Title), e(d.Subtitle))
	fmt.Fprintf(&b, "<div class=\"meta\"><b>발급번호 (Issuance No.) %s</b><span>발급일 %s (%s)</span></div>", e(d.Number), d.IssuedAt.Format("2006년 01월 02일"), d.IssuedAt.Format("2006-01-02"))
	for _, s := range d.Sections {
		fmt.Fprintf(&b, "<h2>%s</h2>", e(s.Heading))
		if len(s.Rows) > 0 {
			b.WriteString(`<table class="rows">`)
			for _, r := range s.Rows {
				fmt.Fprintf(&b, "<tr><td>%s</td><td>%s</td></tr>", e(r.Label), e(r.Value))
			}
			b.WriteString(`</table>`)
		}
		if s.Table != nil {
			b.WriteString("<table><tr>")
			for _, c := range s.Table.Columns {
				fmt.Fprintf(&b, "<th>%s</th>", e(c))
			}
			b.WriteString("</tr>")
			for _, row := range s.Table.Rows {
				b.WriteString("<tr>")
				for _, c := range row {
					fmt.Fprintf(&b, "<td>%s</td>", e(c))
				}
				b.WriteString("</tr>")
			}
			b.WriteString("</table>")
		}
	}
	code, err := qr.Encode(d.VerifyURL, qr.M)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(&b, `<div class="foot">진위확인 (Verify): %s<br><b>%s</b><div class="notes">`, e(d.VerifyURL), e(d.Issuer))
	for _, n := range d.Notes {
		fmt.Fprintf(&b, "%s<br>", e(n))
	}
	fmt.Fprintf(&b, `</div><svg class="qr" viewBox="-4 -4 %d %d" shape-rendering="crispEdges"><path d="`, code.Size+8, code.Size+8)
	for y := 0; y < code.Size; y++ {
		for x := 0; x < code.Size; x++ {
			if code.Black(x, y) {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x, y)
			}
		}
	}
	b.WriteString(`"/></svg></div></div></body></html>`)
	return b.String(), nil
}

// CompareChromium renders n certificates with minwon's renderer and prints
// the same certificates as HTML with headless Chromium, on this machine, in
// this run: one warm browser driven over the DevTools protocol (the fair
// per-document cost), and a few cold `chromium --print-to-pdf` runs (what
// a naive integration does).
func CompareChromium(ctx context.Context, n int, w io.Writer) (*ChromiumResult, error) {
	chrome, err := exec.LookPath("chromium")
	if err != nil {
		return nil, errors.New("chromium is not installed (apt-get install chromium)")
	}
	docs, err := sampleDocuments(n)
	if err != nil {
		return nil, err
	}
	res := &ChromiumResult{Documents: n, CPUs: runtime.NumCPU()}
	if out, err := exec.Command(chrome, "--version").Output(); err == nil {
		res.ChromiumVersion = strings.TrimSpace(string(out))
	}

	// minwon: one core, then every core.
	r, err := render.New()
	if err != nil {
		return nil, err
	}
	var sample []byte
	t0 := time.Now()
	for _, d := range docs {
		out, err := r.Render(d)
		if err != nil {
			return nil, err
		}
		sample = out.PDF
	}
	res.MinwonPerSec1 = float64(n) / time.Since(t0).Seconds()
	res.MinwonBytes = len(sample)
	rate, err := parallel(n, runtime.NumCPU(), func(_, i int) error {
		_, err := r.Render(docs[i])
		return err
	})
	if err != nil {
		return nil, err
	}
	res.MinwonPerSecAll = rate
	if txt, err := Pdftotext(sample); err == nil {
		res.MinwonTextOK = strings.Contains(txt, docs[n-1].Sections[0].Rows[0].Value)
	}
	fmt.Fprintf(w, "minwon renderer: %.0f docs/s on 1 core, %.0f docs/s on %d cores (%d bytes each)\n", res.MinwonPerSec1, res.MinwonPerSecAll, runtime.NumCPU(), res.MinwonBytes)

	dir, err := os.MkdirTemp("", "minwon-chromium-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	pages := make([]string, n)
	for i, d := range docs {
		h, err := certificateHTML(d)
		if err != nil {
			return nil, err
		}
		pages[i] = filepath.Join(dir, fmt.Sprintf("cert-%d.html", i))
		if err := os.WriteFile(pages[i], []byte(h), 0o600); err != nil {
			return nil, err
		}
	}

	// Warm: one browser, one tab, then as many tabs as cores.
	b, err := startBrowser(ctx, chrome, filepath.Join(dir, "profile"))
	if err != nil {
		return nil, err
	}
	defer b.close()
	tabs := make([]*tab, runtime.NumCPU())
	for i := range tabs {
		if tabs[i], err = b.newTab(); err != nil {
			return nil, err
		}
	}
	// Warm-up: fonts and the first layout are not what a service pays
	// per document.
	if _, err := tabs[0].print(pages[0]); err != nil {
		return nil, err
	}
	t0 = time.Now()
	var cpdf []byte
	for i := 0; i < n; i++ {
		if cpdf, err = tabs[0].print(pages[i]); err != nil {
			return nil, err
		}
	}
	res.ChromePerSec1 = float64(n) / time.Since(t0).Seconds()
	res.ChromeBytes = len(cpdf)
	if txt, err := Pdftotext(cpdf); err == nil {
		res.ChromiumTextOK = strings.Contains(txt, docs[n-1].Sections[0].Rows[0].Value)
	}
	res.ChromeTabs = len(tabs)
	if res.ChromePerSecAll, err = parallel(n, len(tabs), func(worker, i int) error {
		_, err := tabs[worker].print(pages[i])
		return err
	}); err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "Chromium (warm, DevTools printToPDF): %.1f docs/s with 1 tab, %.1f docs/s with %d tabs (%d bytes each)\n", res.ChromePerSec1, res.ChromePerSecAll, len(tabs), res.ChromeBytes)
	b.close()

	// Cold: one process per document, as a shell script would do it.
	res.ColdDocs = min(n, 10)
	t0 = time.Now()
	for i := 0; i < res.ColdDocs; i++ {
		out := filepath.Join(dir, fmt.Sprintf("cold-%d.pdf", i))
		cmd := exec.CommandContext(ctx, chrome, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--user-data-dir="+filepath.Join(dir, "cold-profile"), "--no-pdf-header-footer", "--print-to-pdf="+out, "file://"+pages[i])
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("chromium --print-to-pdf: %v: %s", err, b)
		}
	}
	res.ColdPerSec = float64(res.ColdDocs) / time.Since(t0).Seconds()
	fmt.Fprintf(w, "Chromium (cold, one --print-to-pdf process per document): %.2f docs/s\n", res.ColdPerSec)
	res.RatioWarm = res.MinwonPerSecAll / res.ChromePerSecAll
	res.RatioCold = res.MinwonPerSecAll / res.ColdPerSec
	res.Note = "rendering only (no agency call, signature or log append) on both sides; same documents, same machine, same run"
	fmt.Fprintf(w, "ratio: minwon is %.0fx faster than warm Chromium and %.0fx faster than one Chromium process per document\n", res.RatioWarm, res.RatioCold)
	return res, nil
}

// parallel runs f for i in [0, n) on workers goroutines (worker is the
// goroutine's number) and returns the rate; the first error stops its
// worker and is returned.
func parallel(n, workers int, f func(worker, i int) error) (float64, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	t0 := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				if err := f(w, int(i)); err != nil {
					mu.Lock()
					firstErr = cmpOr(firstErr, err)
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return float64(n) / time.Since(t0).Seconds(), firstErr
}

// browser is headless Chromium driven over the DevTools protocol on a pipe
// (--remote-debugging-pipe: NUL-terminated JSON on fds 3 and 4).
type browser struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	wmu  sync.Mutex
	id   atomic.Int64
	mu   sync.Mutex
	wait map[int64]chan cdpMsg
	subs map[string]chan cdpMsg // session id → events
	done chan struct{}
	once sync.Once
}

type cdpMsg struct {
	ID        int64           `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

func startBrowser(ctx context.Context, chrome, profile string) (*browser, error) {
	toChrome, ourIn, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	ourOut, fromChrome, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, chrome, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir="+profile,
		"--remote-debugging-pipe", "about:blank")
	cmd.ExtraFiles = []*os.File{toChrome, fromChrome}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	toChrome.Close()
	fromChrome.Close()
	b := &browser{cmd: cmd, in: ourIn, wait: map[int64]chan cdpMsg{}, subs: map[string]chan cdpMsg{}, done: make(chan struct{})}
	go b.read(ourOut)
	return b, nil
}

func (b *browser) read(r io.Reader) {
	defer close(b.done)
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		raw, err := br.ReadBytes(0)
		if err != nil {
			return
		}
		var m cdpMsg
		if json.Unmarshal(raw[:len(raw)-1], &m) != nil {
			continue
		}
		b.mu.Lock()
		if m.ID != 0 {
			if ch, ok := b.wait[m.ID]; ok {
				delete(b.wait, m.ID)
				ch <- m
			}
		} else if ch, ok := b.subs[m.SessionID]; ok {
			select {
			case ch <- m:
			default:
			}
		}
		b.mu.Unlock()
	}
}

func (b *browser) call(session, method string, params any, out any) error {
	id := b.id.Add(1)
	ch := make(chan cdpMsg, 1)
	b.mu.Lock()
	b.wait[id] = ch
	b.mu.Unlock()
	msg := map[string]any{"id": id, "method": method, "params": params}
	if session != "" {
		msg["sessionId"] = session
	}
	raw, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	b.wmu.Lock()
	_, err = b.in.Write(append(raw, 0))
	b.wmu.Unlock()
	if err != nil {
		return err
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return fmt.Errorf("%s: %s", method, m.Error.Message)
		}
		if out != nil {
			return json.Unmarshal(m.Result, out)
		}
		return nil
	case <-b.done:
		return errors.New("chromium exited")
	case <-time.After(60 * time.Second):
		return fmt.Errorf("%s: no answer from chromium", method)
	}
}

type tab struct {
	b       *browser
	session string
	events  chan cdpMsg
}

func (b *browser) newTab() (*tab, error) {
	var t struct {
		TargetID string `json:"targetId"`
	}
	if err := b.call("", "Target.createTarget", map[string]any{"url": "about:blank"}, &t); err != nil {
		return nil, err
	}
	var s struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.call("", "Target.attachToTarget", map[string]any{"targetId": t.TargetID, "flatten": true}, &s); err != nil {
		return nil, err
	}
	tb := &tab{b: b, session: s.SessionID, events: make(chan cdpMsg, 64)}
	b.mu.Lock()
	b.subs[s.SessionID] = tb.events
	b.mu.Unlock()
	if err := b.call(s.SessionID, "Page.enable", map[string]any{}, nil); err != nil {
		return nil, err
	}
	return tb, nil
}

// print loads a page, waits for its load event and prints it to PDF.
func (t *tab) print(path string) ([]byte, error) {
	for len(t.events) > 0 {
		<-t.events
	}
	if err := t.b.call(t.session, "Page.navigate", map[string]any{"url": "file://" + path}, nil); err != nil {
		return nil, err
	}
	timeout := time.After(30 * time.Second)
	for loaded := false; !loaded; {
		select {
		case m := <-t.events:
			loaded = m.Method == "Page.loadEventFired"
		case <-timeout:
			return nil, errors.New("page did not load")
		}
	}
	var out struct {
		Data string `json:"data"`
	}
	if err := t.b.call(t.session, "Page.printToPDF", map[string]any{"preferCSSPageSize": true, "printBackground": true}, &out); err != nil {
		return nil, err
	}
	return base64.StdEncoding.Strict().DecodeString(out.Data)
}

func (b *browser) close() {
	b.once.Do(func() {
		b.call("", "Browser.close", map[string]any{}, nil)
		select {
		case <-b.done:
		case <-time.After(5 * time.Second):
			b.cmd.Process.Kill()
		}
		b.in.Close()
		b.cmd.Wait()
	})
}
