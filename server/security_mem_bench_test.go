package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/joho/godotenv"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	spatev1 "github.com/spate-ml/spate/proto/spatev1"
)

// procKiB reads a "VmRSS"/"VmHWM" line of /proc/<pid>/status in KiB.
func procKiB(b *testing.B, pid int, field string) int64 {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Skipf("no /proc on this system: %v", err)
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(l, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	b.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// BenchmarkUnauthenticatedBigRequestMemory measures how much the resident
// memory of a server process (a child process, so the client's buffers do
// not count) peaks above its idle size when it is sent, without
// credentials, one 200 MiB gRPC message and one 66 MiB REST upload, and one 66 MiB upload with a valid key
// (over the 64 MiB limit). It
// reports the growth in MiB (peak RSS minus RSS before the requests).
//
//	go test -run '^$' -bench BenchmarkUnauthenticatedBigRequestMemory -benchtime 1x ./server
func BenchmarkUnauthenticatedBigRequestMemory(b *testing.B) {
	for _, tc := range []struct {
		name string
		send func(b *testing.B, c *child, dir string)
	}{
		{"grpc-200MiB", func(b *testing.B, c *child, _ string) {
			conn, err := grpc.NewClient(c.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()),
				grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(256<<20)))
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, err = spatev1.NewDatasetServiceClient(conn).CreateDataset(ctx, &spatev1.CreateDatasetRequest{DatasetId: strings.Repeat("a", 200<<20)})
			if err == nil {
				b.Fatal("an unauthenticated call was accepted")
			}
		}},
		{"rest-66MiB", func(b *testing.B, c *child, _ string) {
			body := bytes.Repeat([]byte("a"), 66<<20)
			resp, err := http.Post("http://"+c.http+"/api/dataset/tx/upload", "application/json", bytes.NewReader(body))
			if err != nil {
				return // the server may close the connection while the body is still being sent
			}
			resp.Body.Close()
			if resp.StatusCode < 400 {
				b.Fatalf("an unauthenticated upload answered %d", resp.StatusCode)
			}
		}},
		{"rest-66MiB-with-key", func(b *testing.B, c *child, dir string) {
			env, err := godotenv.Read(dir + "/.env")
			if err != nil || env["SPATE_API_KEY"] == "" {
				b.Fatalf("no key in the child's .env: %v", err)
			}
			req, _ := http.NewRequest(http.MethodPost, "http://"+c.http+"/api/dataset/tx/upload", bytes.NewReader(bytes.Repeat([]byte("a"), 66<<20)))
			req.Header.Set("Authorization", "apiKey "+env["SPATE_API_KEY"])
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				b.Fatalf("a 66 MiB upload answered %d, want 413", resp.StatusCode)
			}
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var growth float64
			for b.Loop() {
				b.StopTimer()
				dir := b.TempDir()
				c := startChild(b, dir)
				pid := c.cmd.Process.Pid
				time.Sleep(200 * time.Millisecond)
				idle := procKiB(b, pid, "VmRSS")
				b.StartTimer()
				tc.send(b, c, dir)
				b.StopTimer()
				growth = float64(procKiB(b, pid, "VmHWM")-idle) / 1024
				_ = c.cmd.Process.Kill()
				_ = c.cmd.Wait()
				b.StartTimer()
			}
			b.ReportMetric(growth, "MiB-peak-growth")
		})
	}
}
