package webtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

const (
	historyRows = 300  // uploaded before the browser opens: fewer WindowedAUC points than a chart draws
	liveRows    = 2700 // streamed while the Metrics tab is open
	totalRows   = historyRows + liveRows
	latencyRows = 5  // the last rows, sent one at a time to time the live update of a page
	csvRows     = 25 // rows of the dataset created through the upload form

	model       = "fraud_model"    // Hoeffding tree, WindowedAUC
	secondModel = "fraud_model_nb" // Gaussian naive Bayes on the same data, for Compare
)

// setupResult is what `workflow.py setup` prints.
type setupResult struct {
	Transactions int      `json:"transactions"`
	Labels       int      `json:"labels"`
	Models       []string `json:"models"`
	Versions     []int64  `json:"versions"`
}

// walk is the state the steps of TestDashboard share.
type walk struct {
	ctx     context.Context
	b       *browser
	s       *server
	wf      *workflow
	setup   setupResult
	session string // the session cookie's value, for the logout check
	csrf    string
	exe     string
}

// TestDashboard runs the fraud workflow against a real server and walks
// every dashboard page in headless Chromium, in the order a user would.
func TestDashboard(t *testing.T) {
	exe := findChromium(t)
	root := repoRoot(t)
	// A cold build of the binary may take minutes on a busy machine; the
	// walk's own budget starts once it is built.
	buildCtx, cancelBuild := context.WithTimeout(context.Background(), 8*time.Minute)
	bin := buildSpate(buildCtx, t, root)
	cancelBuild()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	start := time.Now()
	s := startServer(ctx, t, bin)
	wf := newWorkflow(t, root, s)
	w := &walk{ctx: ctx, s: s, wf: wf}
	if err := wf.run(ctx, &w.setup, "setup", "--history", strconv.Itoa(historyRows), "--total", strconv.Itoa(totalRows)); err != nil {
		t.Fatal(err)
	}
	t.Logf("server started and workflow set up in %s", time.Since(start).Round(time.Millisecond))
	// The walk navigates with full page loads far more than a user of the
	// single-page app would; the back/forward cache is off so that pages
	// left behind hold no connections. "full reloads" checks with it on.
	w.b = newBrowser(ctx, t, exe, s.URL, false)
	w.exe = exe

	steps := []struct {
		name      string
		run       func(t *testing.T)
		essential bool // later steps make no sense without it
	}{
		{"redirect and headers", w.headers, false},
		{"failed login", w.failedLogin, false},
		{"login", w.login, true},
		{"session security", w.sessionSecurity, false},
		{"home", w.home, false},
		{"datasets", w.datasets, false},
		{"create dataset", w.createDataset, false},
		{"features", w.features, false},
		{"models", w.models, false},
		{"model overview", w.overview, false},
		{"model metrics live", w.metricsLive, false},
		{"model outputs", w.outputs, false},
		{"model logs", w.logs, false},
		{"model schema", w.schema, false},
		{"model versions rollback and promote", w.versions, false},
		{"live update latency", w.updateLatency, false},
		{"datasets after live rows", w.datasetsAfterLive, false},
		{"compare", w.compare, false},
		{"pause, resume and delete", w.lifecycle, false},
		{"connectors", w.connectors, false},
		{"drift", w.drift, false},
		{"home after everything", w.homeAgain, false},
		{"full reloads", w.fullReloads, false},
		{"logout", w.logout, false},
	}
	for _, st := range steps {
		ok := t.Run(st.name, func(t *testing.T) {
			defer w.b.checkIssues(t, st.name) // also after a t.Fatal
			st.run(t)
		})
		if !ok && st.essential {
			t.Fatalf("stopping after %q failed", st.name)
		}
	}
	for _, u := range w.b.issues.requested() {
		if strings.Contains(u, s.Key) {
			t.Errorf("the API key appeared in a requested URL: %s", strings.ReplaceAll(u, s.Key, "spk_…"))
		}
	}
	t.Logf("walk finished in %s; screenshots in %s", time.Since(start).Round(time.Millisecond), w.b.shots)
}

// headers checks the redirect from / and the security headers of /ui.
func (w *walk) headers(t *testing.T) {
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(w.s.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/ui/" {
		t.Errorf("GET / = %d Location %q, want 302 to /ui/", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, path := range []string{"/ui/", "/ui/models/" + model, "/ui/api/session"} {
		resp, err := c.Get(w.s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		if csp == "" || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") ||
			!strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("GET %s: Content-Security-Policy %q: want script-src 'self', frame-ancestors 'none' and no unsafe-*", path, csp)
		}
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s: X-Content-Type-Options %q, want nosniff", path, got)
		}
		if got := resp.Header.Get("Referrer-Policy"); got != "same-origin" {
			t.Errorf("GET %s: Referrer-Policy %q, want same-origin", path, got)
		}
	}
}

// failedLogin types a wrong key: the page must say so and stay on login.
func (w *walk) failedLogin(t *testing.T) {
	b := w.b
	// Logged out, the page asks for its session and is told 401.
	b.issues.expect("GET", "/ui/api/session", 401, false)
	b.issues.expect("POST", "/ui/api/login", 401, true)
	if err := b.do(20*time.Second, chromedp.Navigate(w.s.URL+"/")); err != nil {
		t.Fatal(err)
	}
	if err := b.do(15*time.Second, chromedp.WaitVisible(chromedp.CSS("form#login-form input#api-key"))); err != nil {
		t.Fatalf("login form: %v (%s)", err, b.describe())
	}
	if typ, _ := eval[string](b, `document.querySelector('input#api-key').type`); typ != "password" {
		t.Errorf("input#api-key type %q, want password", typ)
	}
	bad := "spk_notAKey0000000000000000000000000000000"
	if err := b.do(10*time.Second,
		chromedp.SendKeys(chromedp.CSS("input#api-key"), bad),
		chromedp.Click(chromedp.CSS("button#login-submit"))); err != nil {
		t.Fatal(err)
	}
	msg, err := poll[string](b, `(() => { const e = document.querySelector('#login-error'); return e && e.offsetParent !== null && e.textContent.trim() })()`, 10*time.Second)
	if err != nil {
		t.Fatalf("no visible #login-error after a bad key: %v", err)
	}
	if !strings.Contains(strings.ToLower(msg), "key") || strings.Contains(msg, bad) {
		t.Errorf("#login-error %q: want a message about the key that does not echo it", msg)
	}
	if n, _ := b.count("main#page[data-ready='1'] nav#nav, #whoami:not(:empty)"); n > 0 {
		t.Errorf("after a bad key the dashboard shows signed-in parts")
	}
}

// login signs in with the development key.
func (w *walk) login(t *testing.T) {
	b := w.b
	if err := b.do(20*time.Second,
		b.fill("input#api-key", w.s.Key),
		chromedp.Click(chromedp.CSS("button#login-submit"))); err != nil {
		t.Fatal(err)
	}
	if err := b.ready("home"); err != nil {
		msg, _ := eval[string](b, `(document.querySelector('#login-error') || {}).textContent || ''`)
		t.Fatalf("%v (login error: %q)", err, msg)
	}
	b.issues.unexpect(401) // signed in: no 401 is expected any more
	who, err := b.text("#whoami", 5*time.Second)
	if err != nil || who != "default" {
		t.Errorf("#whoami = %q (%v), want the namespace \"default\"", who, err)
	}
	if n, _ := b.count(`nav#nav a[data-nav]`); n < 7 {
		t.Errorf("nav#nav has %d a[data-nav] links, want 7 (home … drift)", n)
	}
}

// sessionSecurity checks the cookie, storage, URL and CSRF protection.
func (w *walk) sessionSecurity(t *testing.T) {
	b := w.b
	cookies, err := b.cookies()
	if err != nil {
		t.Fatal(err)
	}
	var sess *network.Cookie
	for _, c := range cookies {
		if c.Name == "spate_session" {
			sess = c
		}
	}
	if sess == nil {
		t.Fatalf("no spate_session cookie after login (cookies: %d)", len(cookies))
	}
	w.session = sess.Value
	if !sess.HTTPOnly {
		t.Error("spate_session is not HttpOnly")
	}
	if sess.SameSite != network.CookieSameSiteStrict {
		t.Errorf("spate_session SameSite=%q, want Strict", sess.SameSite)
	}
	if sess.Path != "/" {
		t.Errorf("spate_session Path=%q, want /", sess.Path)
	}
	if strings.Contains(sess.Value, w.s.Key) {
		t.Error("the session cookie contains the API key")
	}
	state, err := eval[string](b, `JSON.stringify({ls: {...localStorage}, ss: {...sessionStorage}, href: location.href, cookie: document.cookie, hist: history.state})`)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(state, w.s.Key) {
		t.Error("the API key is readable by the page (localStorage, sessionStorage, URL or history)")
	}
	if strings.Contains(state, "spate_session") {
		t.Error("the session cookie is readable from document.cookie")
	}
	// A state-changing request without the CSRF token is refused, and the
	// model keeps running.
	for _, hdr := range []string{`{}`, `{'X-CSRF-Token': 'forged'}`} {
		b.issues.expect("POST", "/ui/api/models/"+model+"/state", 403, true)
		status, err := eval[int](b, fmt.Sprintf(`fetch('/ui/api/models/%s/state', {method: 'POST', headers: Object.assign({'Content-Type': 'application/json'}, %s), body: JSON.stringify({state: 'paused'})}).then(r => r.status)`, model, hdr))
		if err != nil {
			t.Fatal(err)
		}
		if status != http.StatusForbidden {
			t.Errorf("POST state with headers %s = %d, want 403", hdr, status)
		}
	}
	b.issues.unexpect(403)
	if m, err := w.wf.info(w.ctx, model); err != nil {
		t.Fatal(err)
	} else if m.State != "running" {
		t.Errorf("after refused CSRF requests the model is %q, want running", m.State)
	}
	w.csrf, _ = eval[string](b, `fetch('/ui/api/session').then(r => r.json()).then(j => j.csrf_token || '')`)
}

// number reads the integer in an element's text ("2,000" → 2000).
func (w *walk) number(t *testing.T, sel string) int {
	t.Helper()
	txt, err := w.b.text(sel, 5*time.Second)
	if err != nil {
		t.Errorf("%s: %v", sel, err)
		return -1
	}
	digits := regexp.MustCompile(`[\d,]+`).FindString(txt)
	n, err := strconv.Atoi(strings.ReplaceAll(digits, ",", ""))
	if err != nil {
		t.Errorf("%s shows %q, not a number", sel, txt)
		return -1
	}
	return n
}

func (w *walk) wantNumber(t *testing.T, sel string, want int) {
	t.Helper()
	if got := w.number(t, sel); got != want && got != -1 {
		t.Errorf("%s = %d, want %d", sel, got, want)
	}
}

// home checks the counts against what the workflow created.
func (w *walk) home(t *testing.T) {
	if err := w.b.open("/ui/", "home"); err != nil {
		t.Fatal(err)
	}
	w.wantNumber(t, `[data-testid="count-datasets"]`, 2)
	w.wantNumber(t, `[data-testid="count-features"]`, 1)
	w.wantNumber(t, `[data-testid="count-models-running"]`, 2)
	w.wantNumber(t, `[data-testid="count-models-stopped"]`, 0)
	for _, sel := range []string{`[data-testid="ingest-rate"]`, `[data-testid="health"]`} {
		if txt, err := w.b.text(sel, 5*time.Second); err != nil || strings.TrimSpace(txt) == "" {
			t.Errorf("%s is empty (%v)", sel, err)
		}
	}
	if n, _ := w.b.count("#recent-errors"); n != 1 {
		t.Errorf("#recent-errors missing")
	}
}

// datasets checks the list against the rows uploaded.
func (w *walk) datasets(t *testing.T) {
	if err := w.b.open("/ui/datasets", "datasets"); err != nil {
		t.Fatal(err)
	}
	for _, ds := range []struct {
		id     string
		rows   int
		fields []string
	}{
		{"transactions", w.setup.Transactions, []string{"transactionAmount", "accountID", "timestamp"}},
		{"labels", w.setup.Labels, []string{"is_fraud"}},
	} {
		row := fmt.Sprintf(`table#datasets tbody tr[data-dataset=%q]`, ds.id)
		w.wantNumber(t, row+` td[data-col="rows"]`, ds.rows)
		if key, _ := w.b.text(row+` td[data-col="key"]`, 5*time.Second); key != "transactionID" {
			t.Errorf("%s key = %q, want transactionID", ds.id, key)
		}
		schema, _ := w.b.text(row+` td[data-col="schema"]`, 5*time.Second)
		for _, f := range ds.fields {
			if !strings.Contains(schema, f) {
				t.Errorf("%s schema %q lacks %s", ds.id, schema, f)
			}
		}
		if _, err := w.b.text(row+` td[data-col="rate"]`, 5*time.Second); err != nil {
			t.Errorf("%s rate: %v", ds.id, err)
		}
	}
}

// createDataset uploads a CSV through the form, first with a wrong key
// field (an error naming it), then right.
func (w *walk) createDataset(t *testing.T) {
	b := w.b
	var csv strings.Builder
	csv.WriteString("id,amount,category\n")
	for i := range csvRows {
		fmt.Fprintf(&csv, "r%02d,%d.5,%s\n", i, i*10, []string{"a", "b", "c"}[i%3])
	}
	file := filepath.Join(t.TempDir(), "uploaded.csv")
	if err := os.WriteFile(file, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := w.b.open("/ui/datasets", "datasets"); err != nil {
		t.Fatal(err)
	}
	if err := b.click("a#new-dataset"); err != nil {
		t.Fatalf("a#new-dataset: %v", err)
	}
	if err := b.ready("datasets/new"); err != nil {
		// The contract names the form, not the page name of the create page.
		if err2 := b.do(10*time.Second, chromedp.WaitVisible(chromedp.CSS("form#create-dataset-form"))); err2 != nil {
			t.Fatalf("create page: %v / %v", err, err2)
		}
	}
	submit := func(id, key, want string) (string, error) {
		if err := b.do(15*time.Second,
			b.fill("input#dataset-id", id),
			b.fill("input#dataset-key", key),
			chromedp.SetUploadFiles(chromedp.CSS("input#dataset-file"), []string{file}),
			chromedp.Evaluate[chromedp.Void](`document.querySelector('#create-dataset-result').textContent = ''`, chromedp.EvalIgnoreExceptions),
			chromedp.Click(chromedp.CSS("button#create-dataset-submit"))); err != nil {
			return "", err
		}
		return b.textMatching("#create-dataset-result", want, 20*time.Second)
	}
	b.issues.expect("POST", "/ui/api/datasets", 0, true)
	if _, err := submit("uploaded_csv", "no_such_column", `no_such_column`); err != nil {
		t.Errorf("a key field that is not a column: #create-dataset-result does not name it: %v", err)
	}
	b.issues.unexpect(0)
	if _, err := submit("uploaded_csv", "id", `\b`+strconv.Itoa(csvRows)+`\b`); err != nil {
		t.Fatalf("#create-dataset-result after the upload does not give the %d rows: %v", csvRows, err)
	}
	if err := b.open("/ui/datasets", "datasets"); err != nil {
		t.Fatal(err)
	}
	row := `table#datasets tbody tr[data-dataset="uploaded_csv"]`
	w.wantNumber(t, row+` td[data-col="rows"]`, csvRows)
	if key, _ := b.text(row+` td[data-col="key"]`, 5*time.Second); key != "id" {
		t.Errorf("uploaded_csv key = %q, want id", key)
	}
}

// features checks my_sum_feat: materialized, its definition, a preview.
func (w *walk) features(t *testing.T) {
	b := w.b
	if err := b.open("/ui/features", "features"); err != nil {
		t.Fatal(err)
	}
	row := `section[data-dataset="transactions"] tr[data-feature="my_sum_feat"]`
	status, err := b.text(row+` td[data-col="status"]`, 5*time.Second)
	if err != nil || strings.ToLower(status) != "materialized" {
		t.Errorf("my_sum_feat status %q (%v), want materialized", status, err)
	}
	def, _ := b.text(row+` td[data-col="definition"]`, 5*time.Second)
	for _, part := range []string{"SUM", "transactionAmount", "accountID", "24"} {
		if !strings.Contains(def, part) {
			t.Errorf("my_sum_feat definition %q lacks %q", def, part)
		}
	}
	if kind, _ := b.text(row+` td[data-col="kind"]`, 5*time.Second); strings.TrimSpace(kind) == "" {
		t.Error("my_sum_feat kind is empty")
	}
	n, err := poll[int](b, `document.querySelectorAll('table[data-preview="transactions"] tbody tr').length || 0`, 10*time.Second)
	if err != nil || n == 0 {
		t.Errorf("preview table of transactions has no rows (%v)", err)
	}
	head, _ := eval[string](b, `(document.querySelector('table[data-preview="transactions"]') || {}).textContent || ''`)
	if !strings.Contains(head, "my_sum_feat") {
		t.Errorf("preview of transactions does not show my_sum_feat")
	}
	b.screenshot(t, "features")
}

// models checks the list of models.
func (w *walk) models(t *testing.T) {
	b := w.b
	if err := b.open("/ui/models", "models"); err != nil {
		t.Fatal(err)
	}
	m, err := w.wf.info(w.ctx, model)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, algorithm string }{{model, "HoeffdingTreeClassifier"}, {secondModel, "GaussianNB"}} {
		row := fmt.Sprintf(`table#models tbody tr[data-model=%q]`, c.name)
		if alg, _ := b.text(row+` td[data-col="algorithm"]`, 5*time.Second); !strings.Contains(alg, c.algorithm) {
			t.Errorf("%s algorithm %q, want %s", c.name, alg, c.algorithm)
		}
		if st, _ := b.text(row+` td[data-col="status"]`, 5*time.Second); strings.ToLower(st) != "running" {
			t.Errorf("%s status %q, want running", c.name, st)
		}
		if got := w.number(t, row+` td[data-col="predicted"]`); got < historyRows {
			t.Errorf("%s predicted %d, want ≥ %d", c.name, got, historyRows)
		}
		if got := w.number(t, row+` td[data-col="learned"]`); got < historyRows {
			t.Errorf("%s learned %d, want ≥ %d", c.name, got, historyRows)
		}
		if _, err := b.text(row+` td[data-col="lag"]`, 5*time.Second); err != nil {
			t.Errorf("%s lag: %v", c.name, err)
		}
		if n, _ := b.count(fmt.Sprintf(`%s a[href="/ui/models/%s"]`, row, c.name)); n == 0 {
			t.Errorf("%s row has no link to /ui/models/%s", c.name, c.name)
		}
	}
	w.wantNumber(t, fmt.Sprintf(`table#models tbody tr[data-model=%q] td[data-col="version"]`, model), int(m.CurrentVersion))
	b.screenshot(t, "models")
	// Follow the link, as a user would.
	if err := b.click(fmt.Sprintf(`table#models tbody tr[data-model=%q] a[href="/ui/models/%s"]`, model, model)); err != nil {
		t.Fatal(err)
	}
	if err := b.ready("model"); err != nil {
		t.Error(err)
	}
}

// tab opens a tab of the model page by clicking it and waits for its panel.
func (w *walk) tab(t *testing.T, name string) {
	t.Helper()
	b := w.b
	path, _ := eval[string](b, `location.pathname`)
	if path != "/ui/models/"+model {
		if err := b.open("/ui/models/"+model, "model"); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.click(fmt.Sprintf(`a[data-tab=%q]`, name)); err != nil {
		t.Fatalf("tab %s: %v", name, err)
	}
	if err := b.do(10*time.Second, chromedp.WaitVisible(chromedp.CSS("section#tab-"+name))); err != nil {
		t.Fatalf("section#tab-%s: %v", name, err)
	}
	if err := b.checkPage(); err != nil {
		t.Error(err)
	}
}

func (w *walk) overview(t *testing.T) {
	w.tab(t, "overview")
	txt, _ := w.b.text("section#tab-overview", 5*time.Second)
	want := []string{"HoeffdingTreeClassifier", "transactions", "labels", "is_fraud",
		"transactionAmount", "localHour", "my_sum_feat", "digitalItemCount", "physicalItemCount", "isProxyIP"}
	for _, s := range want {
		if !strings.Contains(txt, s) {
			t.Errorf("Overview lacks %q", s)
		}
	}
}

// metricsLive opens the Metrics tab, streams rows and labels, and watches
// the WindowedAUC chart grow without a reload (the SSE path).
func (w *walk) metricsLive(t *testing.T) {
	b := w.b
	w.tab(t, "metrics")
	chart := `section#tab-metrics svg[data-chart="WindowedAUC"]`
	pointsJS := fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e ? +e.getAttribute('data-points') : -1 })()`, chart)
	p0, err := poll[int](b, pointsJS+` > 0 && `+pointsJS, 10*time.Second)
	if err != nil {
		t.Fatalf("%s with data-points > 0: %v", chart, err)
	}
	if _, err := eval[int](b, `window.__spateNoReload = 1`); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		var r map[string]any
		done <- w.wf.run(w.ctx, &r, "live", "--from", strconv.Itoa(historyRows), "--to", strconv.Itoa(totalRows-latencyRows),
			"--total", strconv.Itoa(totalRows), "--batch", "100", "--delay", "0.3")
	}()
	start := time.Now()
	seen := []int{p0}
	var firstGrowth time.Duration
	var liveErr error
	live := true
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); {
		if live {
			select {
			case liveErr = <-done:
				live = false
			default:
			}
		}
		p, err := eval[int](b, pointsJS)
		if err != nil {
			t.Fatal(err)
		}
		if p != seen[len(seen)-1] {
			if firstGrowth == 0 && p > p0 {
				firstGrowth = time.Since(start)
			}
			seen = append(seen, p)
		}
		if !live && time.Since(start) > 2*time.Second {
			// The stream is over; give the last update a second to arrive.
			time.Sleep(1500 * time.Millisecond)
			if p, _ := eval[int](b, pointsJS); p != seen[len(seen)-1] {
				seen = append(seen, p)
			}
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if live {
		t.Fatal("the live stream did not finish within 90 s")
	}
	if liveErr != nil {
		t.Fatal(liveErr)
	}
	t.Logf("WindowedAUC data-points while %d rows and labels streamed: %v (first growth after %s)", liveRows-latencyRows, seen, firstGrowth.Round(time.Millisecond))
	grew := 0
	for i := 1; i < len(seen); i++ {
		if seen[i] > seen[i-1] {
			grew++
		}
	}
	if grew < 2 || seen[len(seen)-1] <= p0 {
		t.Errorf("WindowedAUC data-points went %v while rows arrived: want it to grow several times", seen)
	}
	if v, _ := eval[int](b, `window.__spateNoReload || 0`); v != 1 {
		t.Error("the page reloaded while it watched the stream; updates must come without a reload")
	}
	w.csv(t, "section#tab-metrics", "WindowedAUC")
	b.screenshot(t, "model-metrics")
}

// csv fetches a chart's CSV download in the page and checks its header
// and first row.
func (w *walk) csv(t *testing.T, scope, series string) {
	t.Helper()
	js := fmt.Sprintf(`(async () => {
		const a = document.querySelector(%q);
		if (!a) return JSON.stringify({missing: true});
		const r = await fetch(a.href);
		const text = await r.text();
		return JSON.stringify({status: r.status, type: r.headers.get('content-type') || '', disposition: r.headers.get('content-disposition') || '',
			download: a.hasAttribute('download'), href: a.getAttribute('href'), lines: text.trim().split('\n')});
	})()`, fmt.Sprintf(`%s a[data-csv=%q]`, scope, series))
	out, err := eval[string](w.b, js)
	if err != nil {
		t.Fatalf("CSV of %s: %v", series, err)
	}
	var r struct {
		Missing           bool
		Status            int
		Type, Disposition string
		Download          bool
		Href              string
		Lines             []string
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Missing {
		t.Fatalf("no a[data-csv=%q] in %s", series, scope)
	}
	if r.Status != 200 || !strings.Contains(r.Type, "text/csv") {
		t.Errorf("CSV of %s (%s): status %d type %q, want 200 text/csv", series, r.Href, r.Status, r.Type)
	}
	if !r.Download && !strings.Contains(r.Disposition, "attachment") {
		t.Errorf("CSV link of %s is neither a download link nor an attachment", series)
	}
	if len(r.Lines) < 2 {
		t.Fatalf("CSV of %s has %d lines, want a header and rows", series, len(r.Lines))
	}
	header := strings.Split(r.Lines[0], ",")
	if len(header) < 2 {
		t.Errorf("CSV header %q has fewer than 2 columns", r.Lines[0])
	}
	for _, h := range header {
		if _, err := strconv.ParseFloat(h, 64); err == nil {
			t.Errorf("CSV header %q looks like data, not column names", r.Lines[0])
		}
	}
	numeric := 0
	for _, line := range r.Lines[1:] {
		f := strings.Split(line, ",")
		if len(f) != len(header) {
			t.Errorf("CSV row %q has %d fields, the header %d", line, len(f), len(header))
			break
		}
		if _, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			numeric++
		}
	}
	if numeric == 0 {
		t.Errorf("CSV of %s has no row with a numeric value (first %q)", series, r.Lines[1])
	}
}

func (w *walk) outputs(t *testing.T) {
	b := w.b
	w.tab(t, "outputs")
	p, err := poll[int](b, `+((document.querySelector('section#tab-outputs svg[data-chart="score"]') || {getAttribute: () => 0}).getAttribute('data-points')) || 0`, 10*time.Second)
	if err != nil || p == 0 {
		t.Errorf("score chart has no points (%v)", err)
	}
	rows, err := poll[int](b, `document.querySelectorAll('table#outputs tbody tr').length || 0`, 10*time.Second)
	if err != nil || rows == 0 {
		t.Errorf("table#outputs has no rows (%v)", err)
	}
	txt, _ := b.text("table#outputs", 5*time.Second)
	if !regexp.MustCompile(`0\.\d+|1\.0`).MatchString(txt) {
		t.Errorf("table#outputs shows no score: %.200q", txt)
	}
	w.csv(t, "section#tab-outputs", "score")
	b.screenshot(t, "model-outputs")
}

func (w *walk) logs(t *testing.T) {
	w.tab(t, "logs")
	txt, err := poll[string](w.b, `(() => { const e = document.querySelector('pre#model-logs') || document.querySelector('ul#model-logs'); return e && e.textContent.trim() })()`, 10*time.Second)
	if err != nil {
		t.Fatalf("#model-logs: %v", err)
	}
	if !strings.Contains(strings.ToLower(txt), "deploy") {
		t.Errorf("model logs have no deploy event: %.300q", txt)
	}
	if !strings.Contains(strings.ToLower(txt), "version") {
		t.Errorf("model logs have no version cut: %.300q", txt)
	}
}

func (w *walk) schema(t *testing.T) {
	w.tab(t, "schema")
	for _, f := range []struct{ name, kind string }{
		{"transactionAmount", "numeric|double|float"}, {"localHour", "numeric|double|float|int"}, {"my_sum_feat", "numeric|double|float"},
		{"digitalItemCount", "categor|int|string"}, {"physicalItemCount", "categor|int|string"}, {"isProxyIP", "categor|int|string|bool"},
	} {
		txt, err := w.b.text(fmt.Sprintf(`table#model-schema tr[data-field=%q]`, f.name), 5*time.Second)
		if err != nil {
			t.Errorf("schema row %s: %v", f.name, err)
			continue
		}
		if !regexp.MustCompile(`(?i)` + f.kind).MatchString(txt) {
			t.Errorf("schema row %s = %q: want a type matching %s", f.name, txt, f.kind)
		}
	}
}

// versions rolls back to version 1 through the confirmation dialog
// (cancelled once first), then promotes, and checks both through the API.
func (w *walk) versions(t *testing.T) {
	b := w.b
	w.tab(t, "versions")
	before, err := w.wf.info(w.ctx, model)
	if err != nil {
		t.Fatal(err)
	}
	n, err := poll[int](b, `document.querySelectorAll('table#versions tbody tr[data-version]').length || 0`, 10*time.Second)
	if err != nil || n != len(before.Versions) {
		t.Errorf("table#versions lists %d versions, the API %d (%v)", n, len(before.Versions), err)
	}
	cur, _ := eval[string](b, `(document.querySelector('table#versions tr[data-current="1"]') || {dataset: {}}).dataset.version || ''`)
	if cur != strconv.FormatInt(before.CurrentVersion, 10) {
		t.Errorf("current version marked %q, the API says %d", cur, before.CurrentVersion)
	}
	b.screenshot(t, "model-versions")

	dialogOpen := `(() => { const d = document.querySelector('dialog#confirm'); return !!(d && d.open) })()`
	rollback := `button[data-action="rollback"][data-version="1"]`
	if err := b.click(rollback); err != nil {
		t.Fatalf("%s: %v", rollback, err)
	}
	if _, err := poll[bool](b, dialogOpen, 5*time.Second); err != nil {
		t.Fatalf("dialog#confirm did not open: %v", err)
	}
	if err := b.click("button#confirm-cancel"); err != nil {
		t.Fatal(err)
	}
	if _, err := poll[bool](b, `!`+dialogOpen, 5*time.Second); err != nil {
		t.Errorf("dialog#confirm stayed open after cancel: %v", err)
	}
	if m, err := w.wf.info(w.ctx, model); err != nil {
		t.Fatal(err)
	} else if m.CurrentVersion != before.CurrentVersion {
		t.Errorf("cancelled rollback changed the version %d → %d", before.CurrentVersion, m.CurrentVersion)
	}

	if err := b.click(rollback); err != nil {
		t.Fatal(err)
	}
	if _, err := poll[bool](b, dialogOpen, 5*time.Second); err != nil {
		t.Fatalf("dialog#confirm did not open: %v", err)
	}
	if err := b.click("button#confirm-ok"); err != nil {
		t.Fatal(err)
	}
	msg, err := b.textMatching("#action-result", `\S`, 20*time.Second)
	if err != nil {
		t.Fatalf("#action-result after rollback: %v", err)
	}
	after, err := w.wf.info(w.ctx, model)
	if err != nil {
		t.Fatal(err)
	}
	if after.CurrentVersion == before.CurrentVersion || after.Parents[strconv.FormatInt(after.CurrentVersion, 10)] != 1 {
		t.Errorf("after rollback to 1 the API says current version %d (parents %v), was %d", after.CurrentVersion, after.Parents, before.CurrentVersion)
	}
	t.Logf("rollback: %q; current version %d → %d", msg, before.CurrentVersion, after.CurrentVersion)
	want := strconv.FormatInt(after.CurrentVersion, 10)
	if _, err := poll[bool](b, fmt.Sprintf(`!!document.querySelector('table#versions tbody tr[data-version=%q][data-current="1"]')`, want), 5*time.Second); err != nil {
		t.Errorf("the Versions tab does not mark version %s current: %v", want, err)
	}

	if before.Stage == "prod" {
		t.Fatalf("model already prod before promote")
	}
	if err := b.click(`button[data-action="promote"]`); err != nil {
		t.Fatal(err)
	}
	if _, err := poll[bool](b, dialogOpen, 5*time.Second); err != nil {
		t.Fatalf("dialog#confirm did not open for promote: %v", err)
	}
	if err := b.click("button#confirm-ok"); err != nil {
		t.Fatal(err)
	}
	if _, err := poll[bool](b, fmt.Sprintf(`(document.querySelector('#action-result') || {}).textContent.trim() !== %q`, msg), 20*time.Second); err != nil {
		t.Errorf("#action-result did not change after promote: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		m, err := w.wf.info(w.ctx, model)
		if err != nil {
			t.Fatal(err)
		}
		if m.Stage == "prod" {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("after promote the API says stage %q, want prod", m.Stage)
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// datasetsAfterLive checks that the rows streamed reached the list.
func (w *walk) datasetsAfterLive(t *testing.T) {
	if err := w.b.open("/ui/datasets", "datasets"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"transactions", "labels"} {
		w.wantNumber(t, fmt.Sprintf(`table#datasets tbody tr[data-dataset=%q] td[data-col="rows"]`, id), totalRows)
	}
	w.wantNumber(t, `table#datasets tbody tr[data-dataset="uploaded_csv"] td[data-col="rows"]`, csvRows)
	w.b.screenshot(t, "datasets")
}

// compare draws both models' WindowedAUC on one chart.
func (w *walk) compare(t *testing.T) {
	b := w.b
	if err := b.open("/ui/compare", "compare"); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{model, secondModel} {
		sel := fmt.Sprintf(`input[data-compare=%q]`, m)
		checked, err := poll[string](b, fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e ? String(e.checked) : null })()`, sel), 10*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		if checked != "true" {
			if err := b.click(sel); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := eval[string](b, `(() => { const s = document.querySelector('select#compare-metric'); if (!s) return 'missing'; if (s.value !== 'WindowedAUC') { s.value = 'WindowedAUC'; s.dispatchEvent(new Event('change', {bubbles: true})); } return s.value })()`); err != nil {
		t.Fatal(err)
	}
	if v, _ := eval[string](b, `(document.querySelector('select#compare-metric') || {}).value || ''`); v != "WindowedAUC" {
		t.Errorf("select#compare-metric = %q, want WindowedAUC", v)
	}
	series, err := poll[[]string](b, `(() => { const s = [...document.querySelectorAll('svg[data-chart="compare"] [data-series]')].map(e => e.getAttribute('data-series')); return s.length >= 2 && s })()`, 10*time.Second)
	if err != nil {
		t.Fatalf("compare chart with two series: %v", err)
	}
	got := strings.Join(series, ",")
	if len(series) != 2 || !strings.Contains(got, model) || !strings.Contains(got, secondModel) {
		t.Errorf("compare chart series %v, want exactly %s and %s", series, model, secondModel)
	}
	w.csv(t, "main#page", "compare")
	b.screenshot(t, "compare")
}

func (w *walk) connectors(t *testing.T) {
	if err := w.b.open("/ui/connectors", "connectors"); err != nil {
		t.Fatal(err)
	}
	if txt, err := w.b.text("section#connectors", 5*time.Second); err != nil || !strings.Contains(txt, "No connectors configured") {
		t.Errorf("section#connectors = %q (%v), want the empty state", txt, err)
	}
}

func (w *walk) drift(t *testing.T) {
	if err := w.b.open("/ui/drift", "drift"); err != nil {
		t.Fatal(err)
	}
	if txt, err := w.b.text("section#drift", 5*time.Second); err != nil || !strings.Contains(txt, "No drift detectors registered") {
		t.Errorf("section#drift = %q (%v), want the empty state", txt, err)
	}
}

// homeAgain checks the counts once the dataset created in the browser and
// the live rows are in, by clicking the nav link.
func (w *walk) homeAgain(t *testing.T) {
	if err := w.b.click(`nav#nav a[data-nav="home"]`); err != nil {
		t.Fatal(err)
	}
	if err := w.b.ready("home"); err != nil {
		t.Fatal(err)
	}
	w.wantNumber(t, `[data-testid="count-datasets"]`, 3)
	w.wantNumber(t, `[data-testid="count-models-running"]`, 1) // the second model was deleted
	w.wantNumber(t, `[data-testid="count-models-stopped"]`, 0)
	w.b.screenshot(t, "home")
}

// logout signs out: the login page comes back, the cookie is gone and the
// API answers 401, also to the old session token.
func (w *walk) logout(t *testing.T) {
	b := w.b
	b.issues.expect("", "*", 401, false) // signed out, every API call is refused
	if err := b.click("button#logout"); err != nil {
		t.Fatal(err)
	}
	if err := b.do(10*time.Second, chromedp.WaitVisible(chromedp.CSS("form#login-form"))); err != nil {
		t.Fatalf("no login form after logout: %v (%s)", err, b.describe())
	}
	cookies, err := b.cookies()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cookies {
		if c.Name == "spate_session" && c.Value != "" {
			t.Error("spate_session cookie still set after logout")
		}
	}
	if err := b.do(20*time.Second, chromedp.Navigate(w.s.URL+"/ui/"),
		chromedp.WaitVisible(chromedp.CSS("form#login-form"))); err != nil {
		t.Errorf("/ui/ after logout does not show the login form: %v", err)
	}
	status, err := eval[int](b, `fetch('/ui/api/overview').then(r => r.status)`)
	if err != nil || status != http.StatusUnauthorized {
		t.Errorf("GET /ui/api/overview after logout = %d (%v), want 401", status, err)
	}
	if w.session == "" {
		return
	}
	// The old token, replayed by someone who copied it, must not work
	// either.
	req, _ := http.NewRequestWithContext(w.ctx, http.MethodGet, w.s.URL+"/ui/api/overview", nil)
	req.AddCookie(&http.Cookie{Name: "spate_session", Value: w.session})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /ui/api/overview with the session token from before logout = %d, want 401 (logout must end the session on the server)", resp.StatusCode)
	}
}

// fullReloads signs in with a second browser that keeps the back/forward
// cache on (as a user's does) and loads dashboard pages by URL, one after
// the other: each must render, however many pages with live connections
// were left behind.
func (w *walk) fullReloads(t *testing.T) {
	b := newBrowser(w.ctx, t, w.exe, w.s.URL, true)
	b.shots = t.TempDir()
	b.issues.expect("GET", "/ui/api/session", 401, true)
	if err := b.do(20*time.Second, chromedp.Navigate(w.s.URL+"/ui/login"),
		b.fill("input#api-key", w.s.Key),
		chromedp.Click(chromedp.CSS("button#login-submit"))); err != nil {
		t.Fatal(err)
	}
	if err := b.ready("home"); err != nil {
		t.Fatal(err)
	}
	b.issues.unexpect(401)
	pages := [][2]string{{"/ui/datasets", "datasets"}, {"/ui/features", "features"}, {"/ui/models", "models"},
		{"/ui/models/" + model, "model"}, {"/ui/compare", "compare"}, {"/ui/connectors", "connectors"},
		{"/ui/drift", "drift"}, {"/ui/", "home"}, {"/ui/datasets", "datasets"}, {"/ui/models", "models"}}
	for i, p := range pages {
		if err := b.open(p[0], p[1]); err != nil {
			t.Fatalf("full page load %d of %d: %v", i+1, len(pages), err)
		}
	}
	b.checkIssues(t, "full reloads (second browser)")
}

// updateLatency sends the last rows one at a time through the REST upload
// route and times how long the Models page takes to show each one
// predicted (ingest, prediction, the server's poll and the SSE event). It
// reports the figures; it asserts only that every row shows up.
func (w *walk) updateLatency(t *testing.T) {
	b := w.b
	var rows struct {
		Transactions []json.RawMessage `json:"transactions"`
		Labels       []json.RawMessage `json:"labels"`
	}
	if err := w.wf.run(w.ctx, &rows, "rows", "--from", strconv.Itoa(totalRows-latencyRows), "--to", strconv.Itoa(totalRows), "--total", strconv.Itoa(totalRows)); err != nil {
		t.Fatal(err)
	}
	if len(rows.Transactions) != latencyRows || len(rows.Labels) != latencyRows {
		t.Fatalf("workflow rows gave %d transactions and %d labels, want %d", len(rows.Transactions), len(rows.Labels), latencyRows)
	}
	if err := b.open("/ui/models", "models"); err != nil {
		t.Fatal(err)
	}
	cell := fmt.Sprintf(`table#models tbody tr[data-model=%q] td[data-col="predicted"]`, secondModel)
	predictedJS := fmt.Sprintf(`+((document.querySelector(%q) || {textContent: '-1'}).textContent.replace(/[^0-9]/g, '') || -1)`, cell)
	if err := b.do(5*time.Second, chromedp.Evaluate[chromedp.Void](`window.__spateNoReload = 2`)); err != nil {
		t.Fatal(err)
	}
	var took []time.Duration
	for i := range latencyRows {
		before, err := eval[int](b, predictedJS)
		if err != nil {
			t.Fatal(err)
		}
		w.upload(t, "transactions", rows.Transactions[i])
		sent := time.Now()
		if _, err := poll[bool](b, fmt.Sprintf(`%s > %d`, predictedJS, before), 10*time.Second); err != nil {
			t.Fatalf("row %d: %s stayed at %d: %v", i+1, cell, before, err)
		}
		took = append(took, time.Since(sent))
		w.upload(t, "labels", rows.Labels[i])
	}
	if v, _ := eval[int](b, `window.__spateNoReload || 0`); v != 2 {
		t.Error("the Models page reloaded; updates must come without a reload")
	}
	slices.Sort(took)
	t.Logf("upload → predicted count on the open Models page, %d rows: min %s, median %s, max %s",
		len(took), took[0].Round(time.Millisecond), took[len(took)/2].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond))
}

// upload posts one row through the public REST route, as the live data
// generator of the fraud example does.
func (w *walk) upload(t *testing.T, dataset string, row json.RawMessage) {
	t.Helper()
	body := append(append([]byte("["), row...), ']')
	req, err := http.NewRequestWithContext(w.ctx, http.MethodPost, w.s.URL+"/api/dataset/"+dataset+"/upload", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "apiKey "+w.s.Key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("upload to %s: %d %s", dataset, resp.StatusCode, msg)
	}
}

// confirmAction clicks a button that asks for confirmation and accepts.
func (w *walk) confirmAction(t *testing.T, sel string) {
	t.Helper()
	b := w.b
	if err := b.click(sel); err != nil {
		t.Fatalf("%s: %v", sel, err)
	}
	if _, err := poll[bool](b, `(() => { const d = document.querySelector('dialog#confirm'); return !!(d && d.open) })()`, 5*time.Second); err != nil {
		t.Fatalf("%s: dialog#confirm did not open: %v", sel, err)
	}
	if err := b.click("button#confirm-ok"); err != nil {
		t.Fatal(err)
	}
}

// waitInfo polls the model through the gRPC API until ok accepts it.
func (w *walk) waitInfo(t *testing.T, name, what string, ok func(modelInfo) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		m, err := w.wf.info(w.ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if ok(m) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: the API still says %+v", what, m)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// lifecycle pauses the second model from its page (Home then counts it
// stopped), resumes it, and deletes it, each through the confirmation
// dialog and checked through the API.
func (w *walk) lifecycle(t *testing.T) {
	b := w.b
	page := "/ui/models/" + secondModel
	if err := b.open(page, "model"); err != nil {
		t.Fatal(err)
	}
	w.confirmAction(t, `button[data-action="state"]`)
	w.waitInfo(t, secondModel, "after Pause", func(m modelInfo) bool { return m.State == "paused" })
	if _, err := b.textMatching(`button[data-action="state"]`, `Resume`, 5*time.Second); err != nil {
		t.Error(err)
	}
	if err := b.click(`nav#nav a[data-nav="home"]`); err != nil {
		t.Fatal(err)
	}
	if err := b.ready("home"); err != nil {
		t.Fatal(err)
	}
	w.wantNumber(t, `[data-testid="count-models-running"]`, 1)
	w.wantNumber(t, `[data-testid="count-models-stopped"]`, 1)

	if err := b.open(page, "model"); err != nil {
		t.Fatal(err)
	}
	w.confirmAction(t, `button[data-action="state"]`)
	w.waitInfo(t, secondModel, "after Resume", func(m modelInfo) bool { return m.State == "running" })

	w.confirmAction(t, `button[data-action="delete"]`)
	w.waitInfo(t, secondModel, "after Delete", func(m modelInfo) bool { return !m.Exists })
	if err := b.ready("models"); err != nil {
		t.Fatalf("after Delete the page does not go back to the models list: %v", err)
	}
	if _, err := poll[bool](b, fmt.Sprintf(`!document.querySelector('table#models tbody tr[data-model=%q]')`, secondModel), 5*time.Second); err != nil {
		t.Errorf("the models list still shows %s after Delete", secondModel)
	}
	if n, _ := b.count(fmt.Sprintf(`table#models tbody tr[data-model=%q]`, model)); n != 1 {
		t.Errorf("the models list lost %s", model)
	}
}
