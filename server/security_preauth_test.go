package server_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	spatev1 "github.com/spate-ml/spate/proto/spatev1"
)

// countingProxy forwards one TCP address to another and counts the bytes
// that went from the client to the server.
type countingProxy struct {
	lis  net.Listener
	up   atomic.Int64
	wg   sync.WaitGroup
	done chan struct{}
}

func newCountingProxy(t *testing.T, target string) *countingProxy {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProxy{lis: lis, done: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.wg.Add(2)
			go func() {
				defer p.wg.Done()
				n, _ := io.Copy(countWriter{s, &p.up}, c)
				_ = n
				s.Close()
			}()
			go func() {
				defer p.wg.Done()
				_, _ = io.Copy(c, s)
				c.Close()
			}()
		}
	}()
	t.Cleanup(func() { lis.Close(); p.wg.Wait() })
	return p
}

type countWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n.Add(int64(n))
	return n, err
}

// TestUnauthenticatedBigMessageRejectedBeforeItsBody sends a 64 MiB gRPC
// request without valid credentials through a byte-counting proxy: the
// refusal must come from the headers alone, so the server reads at most a
// flow-control window of the body (the bound here is 4 MiB), and the client
// gets UNAUTHENTICATED.
func TestUnauthenticatedBigMessageRejectedBeforeItsBody(t *testing.T) {
	h := startWith(t, nil)
	p := newCountingProxy(t, h.srv.GRPCAddr())
	conn, err := grpc.NewClient(p.lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(128<<20)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ds := spatev1.NewDatasetServiceClient(conn)
	big := strings.Repeat("a", 64<<20)
	for name, hdr := range map[string]string{"none": "", "wrong key": "apiKey spk_wrong", "bad token": "Bearer x.y.z"} {
		t.Run(name, func(t *testing.T) {
			before := p.up.Load()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if hdr != "" {
				ctx = metadata.AppendToOutgoingContext(ctx, "authorization", hdr)
			}
			_, err := ds.CreateDataset(ctx, &spatev1.CreateDatasetRequest{DatasetId: big})
			if status.Code(err) != codes.Unauthenticated {
				t.Fatalf("got %v, want UNAUTHENTICATED", err)
			}
			if sent := p.up.Load() - before; sent > 4<<20 {
				t.Fatalf("the server read %d bytes of an unauthenticated 64 MiB request before refusing it", sent)
			}
		})
	}
	// The same connection still serves an authenticated call.
	if _, err := ds.ListDatasets(h.ctx(), &spatev1.ListDatasetsRequest{}); err != nil {
		t.Fatalf("authenticated call after the refusals: %v", err)
	}
}

// TestRESTUploadTooLargeRefusedFromItsHeaders: an upload whose
// Content-Length exceeds the limit gets 413 before its body is read (the
// test sends only the headers and waits for the answer); with no
// Content-Length the body is cut at the limit.
func TestRESTUploadTooLargeRefusedFromItsHeaders(t *testing.T) {
	h := startWith(t, nil) // MaxUploadBytes 1 MiB
	h.create(h.ctx(), "tx")
	c, err := net.Dial("tcp", h.srv.HTTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	req := "POST /api/dataset/tx/upload HTTP/1.1\r\nHost: x\r\nAuthorization: apiKey " + h.key +
		"\r\nContent-Type: application/json\r\nContent-Length: 209715200\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	n, err := c.Read(buf) // no body byte was sent: an answer now means the headers decided
	if err != nil {
		t.Fatalf("no answer to the headers of a 200 MiB upload: %v", err)
	}
	if got := string(buf[:n]); !strings.HasPrefix(got, "HTTP/1.1 413") || !strings.Contains(got, "larger than") {
		t.Fatalf("answer to a 200 MiB Content-Length:\n%s", got)
	}

	// Chunked (no Content-Length): cut at the limit, nothing written.
	body := io.MultiReader(strings.NewReader("["), strings.NewReader(strings.Repeat(`{"id":"a"},`, 200_000)), strings.NewReader(`{"id":"b"}]`))
	r, _ := http.NewRequest(http.MethodPost, h.http+"/api/dataset/tx/upload", body)
	r.Header.Set("Authorization", "apiKey "+h.key)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !bytes.Contains(b, []byte("larger than")) {
		t.Fatalf("chunked 2 MiB upload: %d %s", resp.StatusCode, b)
	}
	if n := h.rows(h.ctx(), "tx"); n != 0 {
		t.Fatalf("refused uploads wrote %d rows", n)
	}
}
