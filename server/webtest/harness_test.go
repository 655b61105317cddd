package webtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/joho/godotenv"
)

// requireBrowser reports whether a missing prerequisite must fail the suite
// instead of skipping it (SPATE_REQUIRE_BROWSER=1, set by `make test` in CI).
func requireBrowser() bool { return os.Getenv("SPATE_REQUIRE_BROWSER") == "1" }

// missing skips the test with the reason, or fails it when the environment
// requires the browser suite to run.
func missing(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if requireBrowser() {
		t.Fatalf("SPATE_REQUIRE_BROWSER=1 but %s", msg)
	}
	t.Skipf("browser suite skipped: %s", msg)
}

// repoRoot is the directory holding go.mod above the working directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("working directory: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// buildSpate compiles ./server/cmd/spate into a temporary directory.
func buildSpate(ctx context.Context, t *testing.T, root string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "spate")
	goTool := os.Getenv("GO")
	if goTool == "" {
		goTool = "go"
	}
	cmd := exec.CommandContext(ctx, goTool, "build", "-o", bin, "./server/cmd/spate")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./server/cmd/spate: %v\n%s", err, out)
	}
	return bin
}

// lockedBuffer collects a process's output for the failure report.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// server is a running `spate serve`.
type server struct {
	URL      string // http://127.0.0.1:port
	GRPCAddr string
	Key      string // the development API key it wrote to its env file
	log      *lockedBuffer
}

var servingLine = regexp.MustCompile(`msg="spate serving" grpc=(\S+) http=(\S+)`)

// startServer runs the binary on free loopback ports (it binds :0 and logs
// the addresses) with a fresh data dir, and stops it when the test ends.
func startServer(ctx context.Context, t *testing.T, bin string) *server {
	t.Helper()
	dir := t.TempDir()
	envFile := filepath.Join(dir, "spate.env")
	cmd := exec.Command(bin, "serve",
		"--data-dir", filepath.Join(dir, "data"),
		"--http-addr", "127.0.0.1:0",
		"--grpc-addr", "127.0.0.1:0",
		"--env-file", envFile,
		"--log-level", "info")
	cmd.Dir = dir // no .env of the repository is read
	cmd.Env = cleanEnv()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatalf("stderr pipe: %v", err)
	}
	s := &server{log: &lockedBuffer{}}
	cmd.Stdout = s.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	addrs := make(chan [2]string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(s.log, line)
			if m := servingLine.FindStringSubmatch(line); m != nil {
				select {
				case addrs <- [2]string{m[1], m[2]}:
				default:
				}
			}
		}
		_, _ = io.Copy(s.log, stderr)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("server log:\n%s", tail(s.log.String(), 60))
		}
	})
	select {
	case a := <-addrs:
		s.GRPCAddr, s.URL = a[0], "http://"+a[1]
	case err := <-exited:
		t.Fatalf("spate serve exited before serving: %v\n%s", err, s.log.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("spate serve did not report its addresses within 30 s\n%s", s.log.String())
	case <-ctx.Done():
		t.Fatalf("spate serve: %v", ctx.Err())
	}
	env, err := godotenv.Read(envFile)
	if err != nil {
		t.Fatalf("read the env file the server writes: %v", err)
	}
	if s.Key = env["SPATE_API_KEY"]; !strings.HasPrefix(s.Key, "spk_") {
		t.Fatalf("env file %s has no development key (SPATE_API_KEY=%q)", envFile, s.Key)
	}
	return s
}

// cleanEnv is the test's environment without SPATE_* settings, which would
// otherwise point the server or the SDK somewhere else.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SPATE_") {
			env = append(env, kv)
		}
	}
	return env
}

func tail(s string, lines int) string {
	parts := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}

// workflow runs testdata/workflow.py (the fraud example's steps through
// the SDK of this repository) against the server.
type workflow struct {
	python, script string
	env            []string
}

func newWorkflow(t *testing.T, root string, s *server) *workflow {
	t.Helper()
	py := filepath.Join(root, ".venv", "bin", "python")
	if _, err := os.Stat(py); err != nil {
		missing(t, "no Python venv at %s (run `make setup`): the suite drives the workflow through the SDK", py)
	}
	script, err := filepath.Abs(filepath.Join("testdata", "workflow.py"))
	if err != nil {
		t.Fatal(err)
	}
	env := append(cleanEnv(),
		"SPATE_BACKEND_URL="+s.URL,
		"SPATE_API_KEY="+s.Key,
		"SPATE_CACHE_DIR="+t.TempDir(),
		"PYTHONPATH="+filepath.Join(root, "sdk-python"),
		"PYTHONUNBUFFERED=1",
	)
	return &workflow{python: py, script: script, env: env}
}

// run executes one workflow command and decodes the JSON object it prints
// last into out.
func (w *workflow) run(ctx context.Context, out any, args ...string) error {
	cmd := exec.CommandContext(ctx, w.python, append([]string{w.script}, args...)...)
	cmd.Env = w.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("workflow %s: %w\n%s%s", strings.Join(args, " "), err, stdout.String(), tail(stderr.String(), 30))
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), out); err != nil {
		return fmt.Errorf("workflow %s: decode %q: %w", strings.Join(args, " "), lines[len(lines)-1], err)
	}
	return nil
}

// modelInfo is what `workflow.py info` prints: the model as the gRPC API
// reports it.
type modelInfo struct {
	Name           string           `json:"name"`
	Exists         bool             `json:"exists"`
	State          string           `json:"state"`
	Stage          string           `json:"stage"`
	CurrentVersion int64            `json:"current_version"`
	Versions       []int64          `json:"versions"`
	Parents        map[string]int64 `json:"parents"`
}

func (w *workflow) info(ctx context.Context, model string) (modelInfo, error) {
	var m modelInfo
	err := w.run(ctx, &m, "info", model)
	return m, err
}
