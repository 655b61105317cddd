package faulttest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/joho/godotenv"

	"github.com/spate-ml/spate/server"
)

// TestMain lets the test binary act as a spate server process: with
// SPATE_FAULT_CHILD_DIR set it serves on loopback until killed, logging to
// stderr as the real binary does, so the tests can SIGKILL it and read its
// log.
func TestMain(m *testing.M) {
	if dir := os.Getenv("SPATE_FAULT_CHILD_DIR"); dir != "" {
		os.Exit(runChild(dir, os.Getenv("SPATE_FAULT_CHILD_DATA")))
	}
	os.Exit(m.Run())
}

func runChild(dir, data string) int {
	if data == "" {
		data = filepath.Join(dir, "data")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	s, err := server.New(ctx, server.Options{
		DataDir: data, EnvFile: filepath.Join(dir, ".env"),
		GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		Logger:   slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Announce: io.Discard,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 3
	}
	if err := s.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 4
	}
	return 0
}

// seed returns the run's seed (SPATE_FAULT_SEED, or a fresh one) and logs
// it, so that a failure can be replayed.
func seed(t *testing.T) uint64 {
	t.Helper()
	var s uint64
	if v := os.Getenv("SPATE_FAULT_SEED"); v != "" {
		var err error
		if s, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("SPATE_FAULT_SEED=%q: %v", v, err)
		}
	} else {
		s = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with SPATE_FAULT_SEED=%d)", s, s)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("FAILED with seed %d: replay with SPATE_FAULT_SEED=%d go test -run '^%s$' ./server/faulttest/", s, s, t.Name())
		}
	})
	return s
}

func newRand(s uint64, stream uint64) *rand.Rand { return rand.New(rand.NewPCG(s, stream)) }

// envInt reads a positive integer knob from the environment.
func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// syncBuffer collects a child's stderr while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// child is one spate server process.
type child struct {
	t          *testing.T
	cmd        *exec.Cmd
	grpc, http string
	key        string
	log        *syncBuffer
	done       chan struct{}
}

var servingRE = regexp.MustCompile(`msg="spate serving" grpc=(\S+) http=(\S+)`)

// startChild starts a server on dir (data in dir/data unless data is
// given) and waits until it serves. Its stderr is kept in c.log.
func startChild(t *testing.T, dir, data string) *child {
	t.Helper()
	c := &child{t: t, log: &syncBuffer{}, done: make(chan struct{})}
	c.cmd = exec.Command(os.Args[0], "-test.run=^$")
	c.cmd.Env = append(os.Environ(), "SPATE_FAULT_CHILD_DIR="+dir, "SPATE_FAULT_CHILD_DATA="+data)
	pr, pw := io.Pipe()
	c.cmd.Stderr = pw
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start server: %v", err)
	}
	go func() {
		_ = c.cmd.Wait()
		pw.Close()
		close(c.done)
	}()
	addrs := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		found := false
		for sc.Scan() {
			line := sc.Text()
			c.log.Write([]byte(line + "\n"))
			if m := servingRE.FindStringSubmatch(line); m != nil && !found {
				found = true
				addrs <- m[1:]
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	select {
	case a := <-addrs:
		c.grpc, c.http = a[0], a[1]
	case <-c.done:
		t.Fatalf("server exited before serving:\n%s", c.log)
	case <-time.After(30 * time.Second):
		c.kill()
		t.Fatalf("server did not serve within 30s:\n%s", c.log)
	}
	env, err := godotenv.Read(filepath.Join(dir, ".env"))
	if err != nil || env["SPATE_API_KEY"] == "" {
		c.kill()
		t.Fatalf("no API key in %s/.env: %v", dir, err)
	}
	c.key = env["SPATE_API_KEY"]
	if resp, err := http.Get("http://" + c.http + "/healthz"); err != nil || resp.StatusCode != 200 {
		c.kill()
		t.Fatalf("healthz: %v", err)
	} else {
		resp.Body.Close()
	}
	t.Cleanup(c.kill)
	return c
}

// kill sends SIGKILL and waits for the process to end.
func (c *child) kill() {
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

// stop asks the server to shut down gracefully and waits.
func (c *child) stop() {
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		c.t.Errorf("server did not stop within 20s after SIGTERM")
		c.kill()
	}
}

// logTail is the end of the child's log, for failure messages.
func (c *child) logTail() string {
	s := c.log.String()
	if len(s) > 4000 {
		s = "…" + s[len(s)-4000:]
	}
	return strings.TrimSpace(s)
}
