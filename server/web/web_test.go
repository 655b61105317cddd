package web_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	spatev1 "github.com/spate-ml/spate/proto/spatev1"
	"github.com/spate-ml/spate/server/auth"
	"github.com/spate-ml/spate/server/web"
)

func TestLogin(t *testing.T) {
	e := start(t)
	revoked := e.newKey("default")
	if err := e.srv.Registry().RevokeKey(context.Background(), "default", auth.KeyID(revoked)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, key  string
		status     int
		wantDetail string
	}{
		{"valid key", e.key, 200, ""},
		{"unknown key", "spk_" + strings.Repeat("x", 40), 401, "unknown or revoked API key"},
		{"revoked key", revoked, 401, "unknown or revoked API key"},
		{"not a key", "hunter2", 401, "keys start with spk_"},
		{"empty", "", 401, "paste an API key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := e.browser()
			resp := b.login(c.key)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.status)
			}
			var sess *http.Cookie
			for _, ck := range resp.Cookies() {
				if ck.Name == web.SessionCookie {
					sess = ck
				}
			}
			if c.status != 200 {
				if sess != nil && sess.Value != "" {
					t.Error("a failed login set a session cookie")
				}
				_, body := b.do("POST", "/ui/api/login", map[string]string{"api_key": c.key}, nil)
				if d := detail(body); !strings.Contains(d, c.wantDetail) || (c.key != "" && strings.Contains(d, c.key)) {
					t.Errorf("detail %q, want it to say %q and not echo the key", d, c.wantDetail)
				}
				return
			}
			if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode || sess.Path != "/" || sess.Secure {
				t.Fatalf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/, not Secure without TLS", sess)
			}
			if strings.Contains(sess.Value, c.key) {
				t.Error("the cookie holds the API key")
			}
			if b.ns != "default" || b.csrf == "" {
				t.Errorf("login answered namespace %q csrf %q", b.ns, b.csrf)
			}
			var s struct{ Namespace, CSRFToken, ExpiresAt string }
			b.get("/ui/api/session", &s)
			if s.Namespace != "default" {
				t.Errorf("session %+v", s)
			}
		})
	}
}

func TestRevokedKeyEndsItsSessions(t *testing.T) {
	e := start(t)
	key := e.newKey("team")
	b := e.browser()
	if r := b.login(key); r.StatusCode != 200 {
		t.Fatal(r.Status)
	}
	if err := e.srv.Registry().RevokeKey(context.Background(), "team", auth.KeyID(key)); err != nil {
		t.Fatal(err)
	}
	resp, body := b.do("GET", "/ui/api/overview", nil, nil)
	if resp.StatusCode != 401 || !strings.Contains(detail(body), "revoked") {
		t.Fatalf("after revocation: %d %s", resp.StatusCode, body)
	}
}

func TestUnauthenticatedAPIIs401(t *testing.T) {
	e := start(t)
	b := e.browser()
	for _, p := range []string{"/ui/api/session", "/ui/api/overview", "/ui/api/datasets", "/ui/api/datasets/tx",
		"/ui/api/features", "/ui/api/features/tx/preview", "/ui/api/models", "/ui/api/models/m",
		"/ui/api/models/m/metrics/WindowedAUC", "/ui/api/models/m/outputs", "/ui/api/models/m/logs",
		"/ui/api/models/m/versions", "/ui/api/compare?models=m", "/ui/api/connectors", "/ui/api/drift", "/ui/api/events"} {
		resp, body := b.do("GET", p, nil, nil)
		if resp.StatusCode != 401 || detail(body) == "" {
			t.Errorf("GET %s without credentials: %d %s", p, resp.StatusCode, body)
		}
	}
	resp, _ := b.do("GET", "/ui/api/overview", nil, map[string]string{web.SessionCookie: "x", "Cookie": web.SessionCookie + "=forged.token.here"})
	if resp.StatusCode != 401 {
		t.Errorf("forged cookie: %d", resp.StatusCode)
	}
}

func TestSecurityHeadersAndPages(t *testing.T) {
	e := start(t)
	b := e.browser()
	resp, _ := b.do("GET", "/", nil, nil)
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/ui/" {
		t.Errorf("GET / = %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, p := range []string{"/ui/", "/ui/login", "/ui/datasets", "/ui/datasets/new", "/ui/features", "/ui/models",
		"/ui/models/x", "/ui/compare", "/ui/connectors", "/ui/drift", "/ui/assets/app.js", "/ui/assets/style.css", "/ui/api/session"} {
		resp, body := b.do("GET", p, nil, nil)
		if csp := resp.Header.Get("Content-Security-Policy"); csp != web.ContentSecurityPolicy || strings.Contains(csp, "unsafe") {
			t.Errorf("GET %s: CSP %q", p, csp)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Referrer-Policy") != "same-origin" {
			t.Errorf("GET %s: headers %v", p, resp.Header)
		}
		if strings.HasPrefix(p, "/ui/api/") {
			continue
		}
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", p, resp.StatusCode)
		}
		if strings.HasSuffix(p, ".js") {
			continue
		}
		if s := string(body); strings.Contains(s, "<script>") || strings.Contains(s, "style=") || strings.Contains(s, " on") && strings.Contains(s, "onclick") {
			t.Errorf("GET %s has inline script or style", p)
		}
	}
	resp, _ = b.do("GET", "/ui/assets/app.js", nil, nil)
	etag := resp.Header.Get("ETag")
	resp, _ = b.do("GET", "/ui/assets/app.js", nil, map[string]string{"If-None-Match": etag})
	if etag == "" || resp.StatusCode != http.StatusNotModified {
		t.Errorf("asset revalidation: etag %q status %d", etag, resp.StatusCode)
	}
	if resp, _ := b.do("GET", "/ui/assets/nope.js", nil, nil); resp.StatusCode != 404 {
		t.Errorf("missing asset: %d", resp.StatusCode)
	}
}

func TestCSRFAndLogout(t *testing.T) {
	e := start(t)
	e.pipeline(e.key, "m", 300)
	b := e.browser()
	b.login(e.key)
	for _, c := range []struct {
		name   string
		hdr    map[string]string
		status int
	}{
		{"no token", nil, 403},
		{"forged token", map[string]string{"X-CSRF-Token": "forged"}, 403},
		{"other origin", map[string]string{"X-CSRF-Token": b.csrf, "Origin": "http://evil.example"}, 403},
		{"right token", map[string]string{"X-CSRF-Token": b.csrf}, 200},
	} {
		resp, body := b.do("POST", "/ui/api/models/m/state", map[string]string{"state": "paused"}, c.hdr)
		if resp.StatusCode != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, resp.StatusCode, body, c.status)
		}
	}
	var m struct{ Status string }
	b.get("/ui/api/models/m", &m)
	if m.Status != web.StatusPaused {
		t.Errorf("status after pause: %q", m.Status)
	}
	// Scripts with the authorization header need no CSRF token.
	resp, body := b.do("POST", "/ui/api/models/m/state", map[string]string{"state": "running"}, map[string]string{"Authorization": "apiKey " + e.key})
	if resp.StatusCode != 200 {
		t.Errorf("header-authenticated state change: %d %s", resp.StatusCode, body)
	}
	if resp, body := b.post("POST", "/ui/api/models/m/state", map[string]string{"state": "asleep"}); resp.StatusCode != 400 || !strings.Contains(detail(body), "asleep") {
		t.Errorf("bad state: %d %s", resp.StatusCode, body)
	}
	var token string
	for _, ck := range b.c.Jar.Cookies(mustURL(e.base)) {
		if ck.Name == web.SessionCookie {
			token = ck.Value
		}
	}
	if resp, _ := b.do("POST", "/ui/api/logout", nil, nil); resp.StatusCode != 403 {
		t.Errorf("logout without CSRF: %d", resp.StatusCode)
	}
	if resp, _ := b.post("POST", "/ui/api/logout", nil); resp.StatusCode != 200 {
		t.Errorf("logout: %d", resp.StatusCode)
	}
	if resp, _ := b.do("GET", "/ui/api/session", nil, nil); resp.StatusCode != 401 {
		t.Errorf("session after logout: %d", resp.StatusCode)
	}
	replay := e.browser()
	if resp, _ := replay.do("GET", "/ui/api/overview", nil, map[string]string{"Cookie": web.SessionCookie + "=" + token}); resp.StatusCode != 401 {
		t.Errorf("replayed session token after logout: %d, want 401", resp.StatusCode)
	}
}

func TestNamespaceIsolation(t *testing.T) {
	e := start(t)
	e.pipeline(e.key, "m", 300)
	b := e.browser()
	b.login(e.newKey("other"))
	if b.ns != "other" {
		t.Fatalf("namespace %q", b.ns)
	}
	var ds struct{ Datasets []any }
	b.get("/ui/api/datasets", &ds)
	var ms struct{ Models []any }
	b.get("/ui/api/models", &ms)
	var ov struct{ Counts map[string]int }
	b.get("/ui/api/overview", &ov)
	if len(ds.Datasets) != 0 || len(ms.Models) != 0 || ov.Counts["datasets"] != 0 || ov.Counts["models"] != 0 {
		t.Errorf("other namespace sees %d datasets, %d models, counts %v", len(ds.Datasets), len(ms.Models), ov.Counts)
	}
	for _, p := range []string{"/ui/api/models/m", "/ui/api/models/m/outputs", "/ui/api/models/m/metrics/WindowedAUC", "/ui/api/datasets/tx", "/ui/api/features/tx/preview"} {
		if resp, _ := b.do("GET", p, nil, nil); resp.StatusCode != 404 {
			t.Errorf("GET %s from another namespace: %d, want 404", p, resp.StatusCode)
		}
	}
	if resp, _ := b.post("POST", "/ui/api/models/m/rollback", map[string]int{"version": 1}); resp.StatusCode != 404 {
		t.Errorf("rollback from another namespace: %d", resp.StatusCode)
	}
}

func TestSSEDeliversChanges(t *testing.T) {
	e := start(t)
	e.pipeline(e.key, "m", 200)
	b := e.browser()
	b.login(e.key)
	req, _ := http.NewRequest("GET", e.base+"/ui/api/events", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := b.c.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	events := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var name string
		for sc.Scan() {
			l := sc.Text()
			if n, ok := strings.CutPrefix(l, "event: "); ok {
				name = n
			} else if d, ok := strings.CutPrefix(l, "data: "); ok {
				events <- name + " " + d
			}
		}
		close(events)
	}()
	time.Sleep(300 * time.Millisecond) // let the hub take its baseline
	changed := time.Now()
	e.rows(e.key, 200, 260)
	want := map[string]bool{"output": false, "dataset": false, "overview": false, "model": false, "metric": false}
	for missing := len(want); missing > 0; {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("stream ended")
			}
			name, data, _ := strings.Cut(ev, " ")
			if seen, ok := want[name]; ok && !seen {
				want[name] = true
				missing--
				t.Logf("%s event %s after the change: %.120s", name, time.Since(changed).Round(time.Millisecond), data)
			}
			if name == "output" && !strings.Contains(data, `"model":"m"`) {
				t.Errorf("output event %s", data)
			}
		case <-ctx.Done():
			t.Fatalf("events seen: %v", want)
		}
	}
}

func mustURL(s string) *urlT { u, _ := parseURL(s); return u }

var _ = spatev1.FieldType_FIELD_TYPE_STRING
var _ = fmt.Sprint
