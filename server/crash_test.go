package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/joho/godotenv"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	spatev1 "github.com/spate-ml/spate/proto/spatev1"
	"github.com/spate-ml/spate/server"
)

// TestMain lets the test binary act as a spate server process for the crash
// test (the child is killed with SIGKILL, so it must be a real process).
func TestMain(m *testing.M) {
	if dir := os.Getenv("SPATE_CRASH_CHILD_DIR"); dir != "" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		defer stop()
		s, err := server.New(ctx, server.Options{
			DataDir: dir + "/data", EnvFile: dir + "/.env",
			GRPCAddr: os.Getenv("SPATE_CRASH_GRPC"), HTTPAddr: os.Getenv("SPATE_CRASH_HTTP"),
			Logger: slog.New(slog.DiscardHandler), Announce: io.Discard,
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(3)
		}
		if err := s.Run(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(4)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

type child struct {
	cmd        *exec.Cmd
	grpc, http string
}

func startChild(t testing.TB, dir string) *child {
	t.Helper()
	c := &child{grpc: freeAddr(t), http: freeAddr(t)}
	c.cmd = exec.Command(os.Args[0], "-test.run=^$")
	c.cmd.Env = append(os.Environ(), "SPATE_CRASH_CHILD_DIR="+dir, "SPATE_CRASH_GRPC="+c.grpc, "SPATE_CRASH_HTTP="+c.http)
	c.cmd.Stderr = os.Stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + c.http + "/healthz"); err == nil {
			resp.Body.Close()
			return c
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.cmd.Process.Kill()
	t.Fatal("child server did not become healthy")
	return nil
}

// ack is one acknowledged batch: which rows of the global sequence it held
// and where the server put them.
type ack struct {
	first, seq, n int64
}

// TestKill9DuringUploadsLosesNoAcknowledgedRow uploads batches from several
// concurrent Flight streams while the server is killed with SIGKILL at
// random moments; after every restart each acknowledged row must be present
// exactly once, at the offset its acknowledgement named, with its contents.
func TestKill9DuringUploadsLosesNoAcknowledgedRow(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(7, 11))
	var (
		mu   sync.Mutex
		acks []ack
		seq  int64 // next global row number to send
		sent = map[int64]int64{}
	)
	nextSeq := func(n int64) int64 {
		mu.Lock()
		defer mu.Unlock()
		s := seq
		seq += n
		sent[s] = n
		return s
	}
	var key string
	const rounds = 4
	for round := 0; round < rounds; round++ {
		c := startChild(t, dir)
		if key == "" {
			env, err := godotenv.Read(dir + "/.env")
			if err != nil || env["SPATE_API_KEY"] == "" {
				t.Fatalf("no key in env file: %v", err)
			}
			key = env["SPATE_API_KEY"]
		}
		conn, err := grpc.NewClient(c.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		ds := spatev1.NewDatasetServiceClient(conn)
		if round == 0 {
			if _, err := ds.CreateDataset(withKey(key), &spatev1.CreateDatasetRequest{DatasetId: "tx", Fields: txFields, KeyField: "id"}); err != nil {
				t.Fatal(err)
			}
		}
		verify(t, c, key, acks, sent)

		fc, err := flight.NewClientWithMiddleware(c.grpc, nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(withKey(key))
		var wg sync.WaitGroup
		for w := 0; w < 3; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				h := &harness{t: t, flight: fc}
				for ctx.Err() == nil {
					n := int64(200 + 100*w)
					s := nextSeq(n)
					rec := txBatch(int(s), int(n))
					got, err := h.put(ctx, "tx", rec)
					rec.Release()
					mu.Lock()
					for _, a := range got {
						acks = append(acks, ack{first: a["first_offset"], seq: s, n: a["rows"]})
					}
					mu.Unlock()
					if err != nil {
						return
					}
				}
			}()
		}
		time.Sleep(time.Duration(150+rng.IntN(400)) * time.Millisecond)
		if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = c.cmd.Wait()
		cancel()
		wg.Wait()
		fc.Close()
		conn.Close()
	}
	c := startChild(t, dir)
	defer func() { c.cmd.Process.Signal(syscall.SIGTERM); c.cmd.Wait() }()
	if len(acks) < rounds {
		t.Fatalf("only %d acknowledged batches: the test did not exercise uploads", len(acks))
	}
	verify(t, c, key, acks, sent)
	// The log keeps accepting rows after recovery.
	conn, _ := grpc.NewClient(c.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()))
	defer conn.Close()
	code, body := (&harness{t: t, http: "http://" + c.http}).post("/api/dataset/tx/upload", "apiKey "+key, []byte(`[{"id":"after"}]`))
	if code != 200 {
		t.Fatalf("upload after recovery: %d %s", code, body)
	}
}

// verify reads the whole dataset and checks every acknowledged batch.
func verify(t *testing.T, c *child, key string, acks []ack, sent map[int64]int64) {
	t.Helper()
	fc, err := flight.NewClientWithMiddleware(c.grpc, nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer fc.Close()
	h := &harness{t: t, flight: fc}
	_, recs, err := h.get(withKey(key), map[string]any{"dataset_id": "tx"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range recs {
		col := r.Column(0).(*array.String)
		for i := 0; i < col.Len(); i++ {
			ids = append(ids, col.Value(i))
		}
		r.Release()
	}
	seen := map[string]int{}
	for _, id := range ids {
		seen[id]++
	}
	for _, a := range acks {
		for i := int64(0); i < a.n; i++ {
			want := fmt.Sprintf("tx%06d", a.seq+i)
			off := a.first + i
			if off >= int64(len(ids)) {
				t.Fatalf("acknowledged row %s at offset %d lost: log has %d rows", want, off, len(ids))
			}
			if ids[off] != want {
				t.Fatalf("offset %d holds %s, acknowledged as %s", off, ids[off], want)
			}
			if seen[want] != 1 {
				t.Fatalf("row %s present %d times", want, seen[want])
			}
		}
	}
	// Unacknowledged batches may or may not be there, but never in part:
	// the log is a sequence of whole batches as they were sent.
	for i := 0; i < len(ids); {
		var start int64
		if _, err := fmt.Sscanf(ids[i], "tx%06d", &start); err != nil {
			t.Fatalf("offset %d holds unexpected id %q", i, ids[i])
		}
		n, ok := sent[start]
		if !ok {
			t.Fatalf("offset %d starts with %s, which began no batch", i, ids[i])
		}
		for j := int64(0); j < n; j++ {
			if i+int(j) >= len(ids) || ids[i+int(j)] != fmt.Sprintf("tx%06d", start+j) {
				t.Fatalf("batch starting %s is torn at offset %d", ids[i], i+int(j))
			}
		}
		i += int(n)
	}
}
