// Package webtest owns Spate's browser test suite: Go tests that build the
// real spate binary, start it on loopback ports with a temporary data dir,
// run the fraud workflow through the Python SDK, and walk every page of the
// dashboard in headless Chromium driven over the DevTools protocol
// (github.com/chromedp/chromedp). The suite asserts on what the pages show,
// on the security of the session, and fails on any JavaScript error or
// failed request the browser reports.
//
// Run it with `go test ./server/webtest/`. It needs Chromium (Debian's
// `chromium` package; SPATE_CHROMIUM names another binary) and the repository
// venv (`make setup`). Without Chromium the suite skips with a message, unless
// SPATE_REQUIRE_BROWSER=1 (set by `make test` under CI), which turns the skip
// into a failure. SPATE_SCREENSHOT_DIR receives a full-page PNG of each main
// page (`make screenshots` points it at docs/screenshots).
package webtest
