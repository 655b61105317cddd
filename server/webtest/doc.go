// Package webtest owns Spate's browser test suite: Go tests that build the
// real spate binary, start it on loopback ports with a temporary data dir,
// run the fraud workflow through the Python SDK, and walk every page of the
// dashboard in headless Chromium driven over the DevTools protocol
// (github.com/chromedp/chromedp). The suite asserts on what the pages show,
// on the security of the session, and fails on any JavaScript error or
// failed request the browser reports.
//
// TestDashboard is one walk in steps (t.Run each): security headers, a
// failed and a good login, the session cookie (HttpOnly, SameSite=Strict)
// and CSRF refusals, Home counts, Datasets (rows as uploaded, and a CSV
// uploaded through the form), Features, Models, the six tabs of a running
// model (the WindowedAUC chart must grow while rows and labels stream, with
// no reload), rollback and promote through the confirmation dialog
// (checked through the gRPC API), Compare, Connectors, Drift, full page
// loads with the back/forward cache on, and logout. Every page is also
// checked for an error banner and a broken layout. The step "live update
// latency" logs how long a row takes from the REST upload to an open page.
//
// Run it with `go test ./server/webtest/`. It needs Chromium (Debian's
// `chromium` package; SPATE_CHROMIUM names another binary) and the repository
// venv (`make setup`). Without Chromium the suite skips with a message, unless
// SPATE_REQUIRE_BROWSER=1 (set by `make test` under CI), which turns the skip
// into a failure. SPATE_SCREENSHOT_DIR receives a full-page PNG of each main
// page (`make screenshots` points it at docs/screenshots).
package webtest
