package server_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	spatev1 "github.com/spate-ml/spate/proto/spatev1"
	"github.com/spate-ml/spate/server"
)

// dripUntilClosed writes msg one byte every gap and reports how many bytes
// went out before the server closed the connection (len(msg) when it never
// did). The whole exchange is bounded by 20 s.
func dripUntilClosed(t *testing.T, addr, msg string, gap time.Duration) int {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	closed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, c) // returns when the server closes
		close(closed)
	}()
	for i := 0; i < len(msg); i++ {
		select {
		case <-closed:
			return i
		case <-time.After(gap):
		}
		if _, err := c.Write([]byte{msg[i]}); err != nil {
			return i
		}
	}
	return len(msg)
}

// TestSlowClientsAreCutOff: a client that sends its headers one byte at a
// time (slow-loris) is disconnected after the header timeout, and one that
// trickles a body after the read timeout, long before they finish.
func TestSlowClientsAreCutOff(t *testing.T) {
	h := startWith(t, func(o *server.Options) {
		o.HTTPReadHeaderTimeout = 300 * time.Millisecond
		o.HTTPReadTimeout = 600 * time.Millisecond
	})
	headers := "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 100) + "\r\n\r\n"
	if sent := dripUntilClosed(t, h.srv.HTTPAddr(), headers, 50*time.Millisecond); sent >= len(headers) {
		t.Fatalf("a client sending its headers byte by byte was served to the end (%d bytes over %s)", sent, 50*time.Millisecond*time.Duration(sent))
	}
	body := strings.Repeat("x", 100)
	upload := "POST /api/dataset/tx/upload HTTP/1.1\r\nHost: x\r\nAuthorization: apiKey " + h.key +
		"\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	c, err := net.Dial("tcp", h.srv.HTTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, upload); err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	start := time.Now()
	var werr error
	for i := 0; i < len(body) && werr == nil; i++ {
		time.Sleep(50 * time.Millisecond)
		_, werr = c.Write([]byte{body[i]})
		if werr == nil {
			// The server answers (with an error) or closes once its read
			// deadline passes; either ends the trickle.
			_ = c.SetReadDeadline(time.Now().Add(time.Millisecond))
			var b [1]byte
			if _, err := c.Read(b[:]); err != nil && !errors.Is(err, context.DeadlineExceeded) && !isTimeout(err) {
				werr = err
			} else if err == nil {
				werr = errors.New("answered")
			}
		}
	}
	if werr == nil {
		t.Fatalf("a body trickled over %s was read to the end", time.Since(start))
	}
	// The server still serves normal clients.
	if code, _ := h.getHTTP("/healthz", ""); code != http.StatusOK {
		t.Fatalf("healthz after the slow clients: %d", code)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestRateLimitPerKey: past its burst a key gets 429 with Retry-After on
// HTTP and RESOURCE_EXHAUSTED on gRPC; its session tokens share its bucket;
// another key is not affected.
func TestRateLimitPerKey(t *testing.T) {
	h := startWith(t, func(o *server.Options) { o.RateLimit, o.RateBurst = 0.5, 4 })
	other := h.newKey("other")
	// 1: log in (a token shares the key's bucket).
	login, err := h.authc.Login(h.ctx(), &spatev1.LoginRequest{TtlSeconds: 60})
	if err != nil {
		t.Fatal(err)
	}
	// 2, 3: HTTP with the key and with the token; 4: gRPC.
	for _, hdr := range []string{"apiKey " + h.key, "Bearer " + login.Token} {
		if code, body := h.getHTTP("/api/user", hdr); code != http.StatusOK {
			t.Fatalf("call within the burst: %d %s", code, body)
		}
	}
	if _, err := h.authc.WhoAmI(h.ctx(), &spatev1.WhoAmIRequest{}); err != nil {
		t.Fatalf("call within the burst: %v", err)
	}
	// The burst is spent (refill: one call per 2 s).
	req, _ := http.NewRequest(http.MethodGet, h.http+"/api/user", nil)
	req.Header.Set("Authorization", "Bearer "+login.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "rate limit") {
		t.Fatalf("call past the burst: %d Retry-After=%q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 1 || s > 2 {
		t.Fatalf("Retry-After %q, want 1-2 s", resp.Header.Get("Retry-After"))
	}
	if _, err := h.ds.ListDatasets(h.ctx(), &spatev1.ListDatasetsRequest{}); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("gRPC past the burst: %v, want RESOURCE_EXHAUSTED", err)
	}
	if _, _, err := h.get(h.ctx(), map[string]any{"dataset_id": "tx"}); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("Flight past the burst: %v, want RESOURCE_EXHAUSTED", err)
	}
	if _, err := h.authc.WhoAmI(withKey(other), &spatev1.WhoAmIRequest{}); err != nil {
		t.Fatalf("another key was limited too: %v", err)
	}
	// Health needs no key and is never limited.
	if code, _ := h.getHTTP("/healthz", ""); code != http.StatusOK {
		t.Fatalf("healthz: %d", code)
	}
}
