// Package webtest drives a real browser — Debian's headless Chromium,
// through the DevTools protocol (chromedp) — for tests of minwon's pages.
//
// Without Chromium, tests skip locally and fail in CI (CI set). Screenshots
// are written only when MINWON_SCREENSHOTS names a directory.
package webtest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// ExecPath finds Chromium: $MINWON_CHROMIUM, then chromium on PATH.
func ExecPath(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("MINWON_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is required in CI (apt-get install chromium)")
	}
	t.Skip("chromium not installed (apt-get install chromium); skipping browser tests")
	return ""
}

// Browser is one headless Chromium with one tab.
type Browser struct {
	Ctx         context.Context // the tab's chromedp context
	DownloadDir string
	t           testing.TB
}

// Start launches Chromium for the length of the test, with a fresh profile
// and everything that would reach the network switched off (the machine
// running the tests may have none: without these flags Chromium waits on
// connections that never come).
func Start(t testing.TB, width, height int) *Browser {
	t.Helper()
	path := ExecPath(t)
	profile := t.TempDir()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(width, height),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter"),
		chromedp.Flag("safebrowsing-disable-auto-update", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.Flag("lang", "ko-KR"),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser, with no timeout
		t.Fatalf("start chromium %s: %v", path, err)
	}
	b := &Browser{Ctx: ctx, DownloadDir: t.TempDir(), t: t}
	_, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: b.DownloadDir, EventsEnabled: new(true),
	})
	if err != nil {
		t.Fatalf("download behaviour: %v", err)
	}
	return b
}

// Do runs steps in the tab with a deadline, failing the test on error.
func (b *Browser) Do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// Run runs one action that returns a value, failing the test on error.
func Run[T any](b *Browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// Text returns the visible text of the first element matching css.
func (b *Browser) Text(css string) string {
	b.t.Helper()
	return Run(b, "text of "+css, chromedp.Text(chromedp.CSS(css)))
}

// Eval evaluates a JavaScript expression in the page.
func Eval[T any](b *Browser, expr string) T {
	b.t.Helper()
	return Run(b, "eval "+expr, chromedp.Evaluate[T](expr))
}

// Download runs trigger (a click on a download link) and returns the bytes
// of the file the browser saved.
func (b *Browser) Download(trigger chromedp.Action[chromedp.Void]) []byte {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 20*time.Second)
	defer cancel()
	// Subscribe first: the events are buffered until the loop reads them.
	progress := chromedp.BrowserEvents(ctx, browser.DownloadProgress)
	if err := chromedp.Do(ctx, trigger); err != nil {
		b.t.Fatalf("start download: %v", err)
	}
	for ev, err := range progress {
		if err != nil {
			b.t.Fatalf("download: %v", err)
		}
		switch ev.State {
		case browser.DownloadProgressStateCompleted:
			path := ev.FilePath
			if path == "" {
				path = filepath.Join(b.DownloadDir, ev.GUID)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				b.t.Fatalf("read download: %v", err)
			}
			return data
		case browser.DownloadProgressStateCanceled:
			b.t.Fatal("download was cancelled")
		}
	}
	b.t.Fatal(errors.New("download never completed"))
	return nil
}

// Shot saves a full-page PNG of the tab as DIR/name.png when
// MINWON_SCREENSHOTS=DIR is set; otherwise it does nothing.
func (b *Browser) Shot(name string) { b.t.Helper(); b.shot(name, chromedp.FullScreenshot(100)) }

// ShotViewport is Shot of the visible part of the page only.
func (b *Browser) ShotViewport(name string) { b.t.Helper(); b.shot(name, chromedp.CaptureScreenshot()) }

func (b *Browser) shot(name string, capture chromedp.Action[[]byte]) {
	b.t.Helper()
	dir := os.Getenv("MINWON_SCREENSHOTS")
	if dir == "" {
		return
	}
	png := Run(b, "screenshot "+name, capture)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}
