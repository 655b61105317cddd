package server_test

import (
	"bytes"
	"context"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/spate-ml/spate/server"
	"github.com/spate-ml/spate/server/auth"
)

// syncBuffer is a bytes.Buffer safe for the server's concurrent writers.
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

// openOnce starts and closes a server on dataDir with envFile, returning
// its development key (on first start), its logs and what it announced.
func openOnce(t *testing.T, dataDir, envFile string) (key, logs, announced string) {
	t.Helper()
	var logBuf, ann syncBuffer
	srv, err := server.New(context.Background(), server.Options{
		DataDir: dataDir, EnvFile: envFile, GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug})), Announce: &ann,
	})
	if err != nil {
		t.Fatal(err)
	}
	key = srv.DevKey()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	return key, logBuf.String(), ann.String()
}

// widePaths lists what in dir group or others may access.
func widePaths(t *testing.T, dir string) []string {
	t.Helper()
	var wide []string
	if err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode().Perm()&0o077 != 0 {
			wide = append(wide, p+" "+info.Mode().Perm().String())
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return wide
}

func mode(t *testing.T, p string) fs.FileMode {
	t.Helper()
	info, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return info.Mode().Perm()
}

// TestDataDirAndEnvFileArePrivate: a fresh data dir is 0700 with nothing
// readable by others; a pre-existing .env (the README's copy step, 0644)
// is made 0600 before the key is written into it; a data dir left with
// wide permissions (an older version, a permissive umask) is tightened on
// the next start, and the log says so.
func TestDataDirAndEnvFileArePrivate(t *testing.T) {
	root := t.TempDir()
	dataDir, envFile := filepath.Join(root, "data"), filepath.Join(root, ".env")
	if err := os.WriteFile(envFile, []byte("SPATE_API_KEY=\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(envFile, 0o644); err != nil { // whatever the test's umask
		t.Fatal(err)
	}
	key, _, _ := openOnce(t, dataDir, envFile)
	if key == "" {
		t.Fatal("no development key on first start")
	}
	if m := mode(t, dataDir); m != 0o700 {
		t.Errorf("data dir is %v, want 0700", m)
	}
	for _, f := range []string{"registry.db", "jwt.secret"} {
		if m := mode(t, filepath.Join(dataDir, f)); m&0o077 != 0 {
			t.Errorf("%s is %v, want no group/other access", f, m)
		}
	}
	if wide := widePaths(t, dataDir); len(wide) > 0 {
		t.Errorf("readable by others after the first start: %v", wide)
	}
	if m := mode(t, envFile); m != 0o600 {
		t.Errorf(".env holding the key is %v, want 0600", m)
	}
	if b, _ := os.ReadFile(envFile); !strings.Contains(string(b), "SPATE_API_KEY="+key) {
		t.Errorf(".env does not hold the key: %s", b)
	}

	// Widen everything, as an older version or another umask would leave it.
	if err := filepath.WalkDir(dataDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.Chmod(p, 0o755)
		}
		return os.Chmod(p, 0o644)
	}); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(envFile, 0o644); err != nil {
		t.Fatal(err)
	}
	_, logs, _ := openOnce(t, dataDir, envFile)
	if wide := widePaths(t, dataDir); len(wide) > 0 {
		t.Errorf("still readable by others after a restart: %v", wide)
	}
	if m := mode(t, envFile); m != 0o600 {
		t.Errorf(".env is %v after a restart, want 0600", m)
	}
	if !strings.Contains(logs, "removed group and other permissions in the data dir") || !strings.Contains(logs, "made it 0600") {
		t.Errorf("the restart did not log what it tightened:\n%s", logs)
	}
}

// TestDevKeyShownOnceNeverLogged: the first start shows the development
// key in full on the announce writer only; its logs and later starts show
// only its id.
func TestDevKeyShownOnceNeverLogged(t *testing.T) {
	root := t.TempDir()
	dataDir, envFile := filepath.Join(root, "data"), filepath.Join(root, ".env")
	key, logs, announced := openOnce(t, dataDir, envFile)
	if key == "" || !strings.Contains(announced, key) {
		t.Fatalf("first start did not announce the key: %q", announced)
	}
	if strings.Contains(logs, key) {
		t.Fatalf("the key is in the logs:\n%s", logs)
	}
	id := auth.KeyID(key)
	if !strings.Contains(logs, id) {
		t.Errorf("the logs do not name the key id %s:\n%s", id, logs)
	}
	again, logs, announced := openOnce(t, dataDir, envFile)
	if again != "" {
		t.Fatal("a second development key was created")
	}
	if strings.Contains(announced, key) || strings.Contains(logs, key) {
		t.Fatalf("a later start showed the key in full:\n%s\n%s", announced, logs)
	}
	if !strings.Contains(announced, id) {
		t.Errorf("a later start does not show the key id %s: %q", id, announced)
	}
}
