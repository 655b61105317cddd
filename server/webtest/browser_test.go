package webtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// findChromium is the browser binary: SPATE_CHROMIUM, Debian's real ELF
// (the /usr/bin/chromium wrapper only adds flags we set ourselves), or a
// chromium/chrome on PATH.
func findChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SPATE_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("SPATE_CHROMIUM=%s: %v", p, err)
		}
		return p
	}
	if _, err := os.Stat("/usr/lib/chromium/chromium"); err == nil {
		return "/usr/lib/chromium/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	missing(t, "no Chromium found (install Debian's `chromium` package: apt-get install chromium fonts-dejavu-core, or set SPATE_CHROMIUM)")
	return ""
}

// issues collects what the browser reports going wrong: console errors,
// uncaught exceptions, failed requests and HTTP error responses that the
// test did not announce with expect.
type issues struct {
	mu       sync.Mutex
	list     []string
	requests map[network.RequestID]string    // "METHOD url"
	open     map[network.RequestID]time.Time // requests not finished yet
	urls     []string                        // every URL requested
	expected []expectation
}

type expectation struct {
	method, path string
	status       int64
	once         bool
}

func newIssues() *issues {
	return &issues{requests: map[network.RequestID]string{}, open: map[network.RequestID]time.Time{}}
}

// pending lists the requests still waiting for their end, oldest first
// (for failure messages; event streams stay open by design).
func (is *issues) pending() string {
	is.mu.Lock()
	defer is.mu.Unlock()
	var out []string
	for id, at := range is.open {
		out = append(out, fmt.Sprintf("%s (%s ago)", is.requests[id], time.Since(at).Round(time.Millisecond)))
	}
	return strings.Join(out, "; ")
}

// expect allows responses with this status (0: any 4xx) to METHOD path
// (method "" matches any, path "*" any path); once means for one response
// only, otherwise until unexpect.
func (is *issues) expect(method, path string, status int64, once bool) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.expected = append(is.expected, expectation{method, path, status, once})
}

// unexpect removes every allowance for status.
func (is *issues) unexpect(status int64) {
	is.mu.Lock()
	defer is.mu.Unlock()
	kept := is.expected[:0]
	for _, e := range is.expected {
		if e.status != status {
			kept = append(kept, e)
		}
	}
	is.expected = kept
}

func (is *issues) add(format string, args ...any) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.list = append(is.list, fmt.Sprintf(format, args...))
}

// take returns the issues seen since the last call.
func (is *issues) take() []string {
	is.mu.Lock()
	defer is.mu.Unlock()
	l := is.list
	is.list = nil
	return l
}

func (is *issues) requested() []string {
	is.mu.Lock()
	defer is.mu.Unlock()
	return append([]string(nil), is.urls...)
}

// listen is the chromedp event listener; it runs on the tab's reader
// goroutine and only records.
func (is *issues) listen(ev any) {
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range e.Args {
				if a.Description != "" {
					parts = append(parts, a.Description)
				} else {
					parts = append(parts, string(a.Value))
				}
			}
			is.add("console.%s: %s", e.Type, strings.Join(parts, " "))
		}
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		msg := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			msg += " " + d.Exception.Description
		}
		is.add("uncaught exception at %s:%d: %s", d.URL, d.LineNumber, msg)
	case *log.EventEntryAdded:
		// Network entries ("Failed to load resource") are judged by status
		// below, where expected responses can be told apart.
		if e.Entry.Level == log.EntryLevelError && e.Entry.Source != log.EntrySourceNetwork {
			is.add("browser log (%s): %s %s", e.Entry.Source, e.Entry.Text, e.Entry.URL)
		}
	case *network.EventRequestWillBeSent:
		is.mu.Lock()
		is.requests[e.RequestID] = e.Request.Method + " " + e.Request.URL
		is.urls = append(is.urls, e.Request.URL)
		is.open[e.RequestID] = time.Now()
		is.mu.Unlock()
	case *network.EventLoadingFinished:
		is.mu.Lock()
		delete(is.open, e.RequestID)
		is.mu.Unlock()
	case *network.EventLoadingFailed:
		is.mu.Lock()
		delete(is.open, e.RequestID)
		is.mu.Unlock()
		// A canceled load is the page navigating away (an open EventSource,
		// a fetch in flight), not a failure of the server.
		if !e.Canceled {
			is.mu.Lock()
			req := is.requests[e.RequestID]
			is.mu.Unlock()
			is.add("request failed: %s: %s", req, e.ErrorText)
		}
	case *network.EventResponseReceived:
		if e.Response.Status < 400 {
			return
		}
		is.mu.Lock()
		defer is.mu.Unlock()
		req := is.requests[e.RequestID]
		method, _, _ := strings.Cut(req, " ")
		path := e.Response.URL
		if u, err := url.Parse(e.Response.URL); err == nil {
			path = u.Path
		}
		for i, x := range is.expected {
			statusOK := x.status == e.Response.Status || x.status == 0 && e.Response.Status < 500
			if statusOK && (x.method == "" || x.method == method) && (x.path == "*" || x.path == path) {
				if x.once {
					is.expected = append(is.expected[:i], is.expected[i+1:]...)
				}
				return
			}
		}
		is.list = append(is.list, fmt.Sprintf("HTTP %d for %s %s", e.Response.Status, method, e.Response.URL))
	}
}

// browser is one headless Chromium tab.
type browser struct {
	ctx    context.Context
	issues *issues
	base   string
	shots  string
}

// newBrowser starts Chromium with a fresh profile; it stops with the test.
// Without bfcache, pages left by a full navigation are discarded instead of
// kept in the back/forward cache (where they keep their connections).
func newBrowser(ctx context.Context, t *testing.T, exe, base string, bfcache bool) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox, // Chromium refuses to start as root with its sandbox
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	)
	if !bfcache {
		opts = append(opts, chromedp.Flag("disable-features", "BackForwardCache"))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	is := newIssues()
	bctx, cancelTab := chromedp.NewContext(actx, chromedp.WithListener(is.listen))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	// The first Run starts the browser; it must not carry a short timeout.
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatalf("start Chromium (%s): %v", exe, err)
	}
	shots := os.Getenv("SPATE_SCREENSHOT_DIR")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatalf("SPATE_SCREENSHOT_DIR: %v", err)
	}
	return &browser{ctx: bctx, issues: is, base: base, shots: shots}
}

// within derives a context for one step from the browser's context.
func (b *browser) within(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.ctx, d)
}

// do runs actions with a timeout.
func (b *browser) do(d time.Duration, steps ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := b.within(d)
	defer cancel()
	return chromedp.Do(ctx, steps...)
}

// eval evaluates a JS expression (promises awaited) into T.
func eval[T any](b *browser, js string) (T, error) {
	ctx, cancel := b.within(20 * time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
}

// poll waits until the JS predicate is truthy and returns its value.
func poll[T any](b *browser, js string, timeout time.Duration) (T, error) {
	ctx, cancel := b.within(timeout + 5*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Poll[T](js, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(100*time.Millisecond)))
}

// text is the trimmed textContent of the first match of sel, waiting up to
// timeout for it to exist.
func (b *browser) text(sel string, timeout time.Duration) (string, error) {
	return poll[string](b, fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e ? e.textContent.trim() || " " : null })()`, sel), timeout)
}

// textMatching waits until the text of sel matches the regular expression
// want and returns it; on timeout the error gives the last text seen.
func (b *browser) textMatching(sel, want string, timeout time.Duration) (string, error) {
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); const t = e ? e.textContent.trim() : ''; return new RegExp(%q).test(t) && t })()`, sel, want)
	got, err := poll[string](b, js, timeout)
	if err != nil {
		last, _ := eval[string](b, fmt.Sprintf(`(document.querySelector(%q) || {textContent: '<absent>'}).textContent.trim()`, sel))
		return last, fmt.Errorf("%s never matched /%s/ (last text %q): %w", sel, want, last, err)
	}
	return got, nil
}

// count is the number of elements matching sel right now.
func (b *browser) count(sel string) (int, error) {
	return eval[int](b, fmt.Sprintf(`document.querySelectorAll(%q).length`, sel))
}

// open navigates to a /ui path and waits until the page says it rendered
// its data.
func (b *browser) open(path, page string) error {
	if err := b.do(20*time.Second, chromedp.Navigate(b.base+path)); err != nil {
		return fmt.Errorf("navigate %s: %w (%s; requests without an answer: %s)", path, err, b.describe(), b.issues.pending())
	}
	return b.ready(page)
}

// ready waits for main#page[data-page=page][data-ready="1"] and checks that
// no error banner is shown.
func (b *browser) ready(page string) error {
	sel := fmt.Sprintf(`main#page[data-page=%q][data-ready="1"]`, page)
	if err := b.do(15*time.Second, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		return fmt.Errorf("waiting for %s: %w (%s)", sel, err, b.describe())
	}
	return b.checkPage()
}

// checkPage fails on a visible error banner, and records a broken layout
// as an issue of the step (so that the step's other checks still run).
func (b *browser) checkPage() error {
	if err := b.noBanner(); err != nil {
		return err
	}
	if err := b.layout(); err != nil {
		path, _ := eval[string](b, `location.pathname + location.search`)
		b.issues.add("%s: %v", path, err)
	}
	return nil
}

// layout reports a page wider than the window, or a table whose body
// cells do not sit under its header cells.
func (b *browser) layout() error {
	bad, err := eval[string](b, `(() => {
		const out = [];
		if (document.documentElement.scrollWidth > window.innerWidth + 1)
			out.push('page is ' + document.documentElement.scrollWidth + 'px wide in a ' + window.innerWidth + 'px window');
		for (const t of document.querySelectorAll('main#page table')) {
			const th = t.querySelectorAll(':scope > thead > tr:first-child > th');
			const row = t.querySelector('tbody tr:not(.empty-row)');
			if (!th.length || !row || t.offsetParent === null) continue;
			const td = row.querySelectorAll(':scope > td, :scope > th');
			const name = 'table' + (t.id ? '#' + t.id : '') + [...t.attributes].filter(a => a.name.startsWith('data-')).map(a => '[' + a.name + '="' + a.value + '"]').join('');
			if (t.querySelector('tbody tbody')) { out.push(name + ': a tbody inside a tbody puts the whole body under the first header cell'); continue; }
			if (td.length !== th.length) { out.push(name + ': ' + th.length + ' header cells but ' + td.length + ' cells in the first body row'); continue; }
			for (let i = 0; i < th.length; i++) {
				if (Math.abs(th[i].getBoundingClientRect().left - td[i].getBoundingClientRect().left) > 2) {
					out.push(name + ': column ' + (i + 1) + ' (' + th[i].textContent.trim() + ') is not under its header'); break;
				}
			}
		}
		return out.join('; ');
	})()`)
	if err != nil {
		return err
	}
	if bad != "" {
		return fmt.Errorf("layout: %s", bad)
	}
	return nil
}

// describe says where the page is and what it shows, for failure messages.
func (b *browser) describe() string {
	ctx, cancel := b.within(5 * time.Second)
	defer cancel()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const m = document.querySelector('main#page');
		const page = m ? 'main#page data-page=' + m.dataset.page + ' data-ready=' + m.dataset.ready : 'no main#page';
		return location.pathname + ', ' + page + ', text: ' + document.body.innerText.replace(/\s+/g, ' ').slice(0, 300);
	})()`))
	if err != nil {
		return "page unreadable: " + err.Error()
	}
	return got
}

// noBanner fails when #error-banner is visible.
func (b *browser) noBanner() error {
	msg, err := eval[string](b, `(() => { const e = document.querySelector('#error-banner'); return e && e.offsetParent !== null && e.textContent.trim() ? e.textContent.trim() : '' })()`)
	if err != nil {
		return err
	}
	if msg != "" {
		return fmt.Errorf("#error-banner shows %q", msg)
	}
	return nil
}

// click waits for sel to be visible and clicks it.
func (b *browser) click(sel string) error {
	return b.do(10*time.Second, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// fill clears an input and types text into it, as a user would.
func (b *browser) fill(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.WaitVisible(chromedp.CSS(sel)),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).value = ''`, sel)),
		chromedp.SendKeys(chromedp.CSS(sel), text))
}

// screenshot writes a full-page PNG named name.png.
func (b *browser) screenshot(t *testing.T, name string) {
	t.Helper()
	ctx, cancel := b.within(20 * time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		t.Errorf("screenshot %s: %v", name, err)
	}
}

// cookies are the browser's cookies for the dashboard's origin.
func (b *browser) cookies() ([]*network.Cookie, error) {
	ctx, cancel := b.within(10 * time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Action[[]*network.Cookie](func(ctx context.Context, t *chromedp.Target) ([]*network.Cookie, error) {
		r, err := cdp.Call(ctx, t, network.GetCookies, network.GetCookiesParams{URLs: []string{b.base + "/ui/"}})
		return r.Cookies, err
	}))
}

// checkIssues reports, as test errors, what the browser logged since the
// last check.
func (b *browser) checkIssues(t *testing.T, step string) {
	t.Helper()
	for _, m := range b.issues.take() {
		t.Errorf("%s: browser reported: %s", step, m)
	}
}
