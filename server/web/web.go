// Package web owns Spate's dashboard: the single-page app served under /ui/
// (embedded assets, no build step, nothing fetched from the internet), its
// JSON API under /ui/api/, the Server-Sent Events stream that keeps open
// pages live, and the browser session (API-key login, session cookie, CSRF
// token).
//
// # Security
//
// The user pastes an API key once on the login page. The server checks it
// with the same authenticator as every other surface and answers with a
// short-lived session JWT in an HttpOnly, SameSite=Strict cookie (Secure
// under TLS); the key itself is never stored by the page, never put in a URL
// and never written to localStorage. Every state-changing request must carry
// X-CSRF-Token, an HMAC of the session token with the server's secret, which
// the page keeps in memory only. Sessions are re-checked against the key
// store, so a revoked key loses its sessions within a few seconds. Every
// engine call takes the caller's namespace: a page sees only its namespace.
// Responses carry a Content-Security-Policy without 'unsafe-inline': all
// script and style live in files under /ui/assets/.
//
// # Charts
//
// Charts are hand-drawn SVG (assets/chart.js, a few hundred lines) rather
// than a vendored charting library: the dashboard needs line charts with
// axes, several series, a hover readout and nothing more; SVG built with
// DOM calls needs no inline style or eval, so it lives under the strict CSP;
// and it keeps the binary and the page small. Large series are downsampled
// on the server (min/max per bucket, which keeps every spike visible) so a
// chart never receives more than max_points points, and every series is also
// downloadable as CSV (?format=csv).
//
// # Live updates
//
// One hub per namespace polls the engine (every 250 ms by default) while at
// least one page of that namespace is subscribed to /ui/api/events, diffs
// the new figures against the previous poll and fans out only the changes,
// so a hundred open pages cost one poll.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/spate-ml/spate/core/runtime"
	"github.com/spate-ml/spate/server/auth"
)

//go:embed assets
var assetFS embed.FS

// ContentSecurityPolicy is sent with every /ui response.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// Options configure the dashboard.
type Options struct {
	Engine *runtime.Engine
	Auth   *auth.Authenticator
	// Secret keys the CSRF tokens (at least 32 bytes; the server's token
	// secret).
	Secret []byte
	Logger *slog.Logger
	// SessionTTL is the lifetime of a session (default 1 hour).
	SessionTTL time.Duration
	// PollInterval is how often a namespace's hub looks at the engine
	// while pages are subscribed (default 250 ms).
	PollInterval time.Duration
	// MaxUploadBytes bounds a dataset upload (default 256 MiB).
	MaxUploadBytes int64
}

// Dashboard is the http.Handler of /ui/.
type Dashboard struct {
	o         Options
	mux       *http.ServeMux
	routeList []Route
	assets    map[string]asset
	index     asset
	hubs      *hubs
	series    *seriesCache
	rates     *rateTracker

	outMu     sync.Mutex
	signedOut map[[32]byte]time.Time // sha256(session token) → expiry
}

type asset struct {
	body  []byte
	etag  string
	ctype string
}

// New builds the dashboard. It panics only when the embedded assets are
// unreadable, which is a build error.
func New(o Options) *Dashboard {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = time.Hour
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 250 * time.Millisecond
	}
	if o.MaxUploadBytes <= 0 {
		o.MaxUploadBytes = 256 << 20
	}
	d := &Dashboard{o: o, mux: http.NewServeMux(), assets: map[string]asset{},
		series: newSeriesCache(64), rates: newRateTracker(), signedOut: map[[32]byte]time.Time{}}
	d.hubs = newHubs(d)
	d.loadAssets()
	d.routes()
	return d
}

var contentTypes = map[string]string{
	".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
	".html": "text/html; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png",
}

func (d *Dashboard) loadAssets() {
	err := fs.WalkDir(assetFS, "assets", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := assetFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		a := asset{body: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, ctype: contentTypes[path.Ext(p)]}
		if a.ctype == "" {
			a.ctype = "application/octet-stream"
		}
		d.assets[strings.TrimPrefix(p, "assets/")] = a
		return nil
	})
	if err != nil {
		panic("web: embedded assets: " + err.Error())
	}
	d.index = d.assets["index.html"]
}

// pages are the paths the single-page app routes; each serves index.html.
var pages = []string{"/ui/{$}", "/ui/login", "/ui/datasets", "/ui/datasets/new", "/ui/features", "/ui/models",
	"/ui/models/{name}", "/ui/compare", "/ui/connectors", "/ui/drift"}

// Route is one HTTP pattern of the dashboard and whether it needs a
// session (or an authorization header).
type Route struct {
	Pattern   string
	NeedsAuth bool
}

// Routes lists the dashboard's patterns, so that the server can prove each
// one is authenticated or deliberately public (the app's pages and assets,
// which hold no data, and the login call).
func (d *Dashboard) Routes() []Route { return append([]Route(nil), d.routeList...) }

func (d *Dashboard) public(pattern string, h http.HandlerFunc) {
	d.routeList = append(d.routeList, Route{Pattern: pattern})
	d.mux.HandleFunc(pattern, h)
}

func (d *Dashboard) private(pattern string, h apiHandler) {
	d.routeList = append(d.routeList, Route{Pattern: pattern, NeedsAuth: true})
	d.mux.Handle(pattern, d.authed(h))
}

func (d *Dashboard) routes() {
	for _, p := range pages {
		d.public("GET "+p, func(w http.ResponseWriter, r *http.Request) { d.serveAsset(w, r, d.index) })
	}
	d.public("GET /ui/assets/{file...}", func(w http.ResponseWriter, r *http.Request) {
		a, ok := d.assets[r.PathValue("file")]
		if !ok || r.PathValue("file") == "index.html" {
			http.NotFound(w, r)
			return
		}
		d.serveAsset(w, r, a)
	})
	d.public("POST /ui/api/login", d.login)
	d.private("POST /ui/api/logout", d.logout)
	d.private("GET /ui/api/session", d.session)
	d.private("GET /ui/api/overview", d.overview)
	d.private("GET /ui/api/datasets", d.datasets)
	d.private("POST /ui/api/datasets", d.createDataset)
	d.private("GET /ui/api/datasets/{id}", d.dataset)
	d.private("GET /ui/api/features", d.features)
	d.private("GET /ui/api/features/{dataset}/preview", d.featurePreview)
	d.private("GET /ui/api/models", d.models)
	d.private("GET /ui/api/models/{name}", d.model)
	d.private("DELETE /ui/api/models/{name}", d.deleteModel)
	d.private("GET /ui/api/models/{name}/metrics/{metric}", d.metricSeries)
	d.private("GET /ui/api/models/{name}/outputs", d.outputs)
	d.private("GET /ui/api/models/{name}/logs", d.logs)
	d.private("GET /ui/api/models/{name}/versions", d.versions)
	d.private("POST /ui/api/models/{name}/rollback", d.rollback)
	d.private("POST /ui/api/models/{name}/promote", d.promote)
	d.private("POST /ui/api/models/{name}/state", d.setState)
	d.private("GET /ui/api/compare", d.compare)
	d.private("GET /ui/api/connectors", d.connectors)
	d.private("GET /ui/api/drift", d.drift)
	d.private("GET /ui/api/events", d.events)
	d.mux.HandleFunc("/ui/api/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"detail": "no API route " + r.Method + " " + r.URL.Path})
	})
}

// ServeHTTP adds the security headers and dispatches.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	d.mux.ServeHTTP(w, r)
}

func (d *Dashboard) serveAsset(w http.ResponseWriter, r *http.Request, a asset) {
	w.Header().Set("Content-Type", a.ctype)
	w.Header().Set("ETag", a.etag)
	// Revalidate every time: a 304 costs one round trip and an upgraded
	// binary never serves stale code.
	w.Header().Set("Cache-Control", "no-cache")
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}

// Close stops the hubs (their pollers end with their last subscriber
// anyway).
func (d *Dashboard) Close() { d.hubs.closeAll() }
