package registry_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite"

	"github.com/spate-ml/spate/core/registry"
	"github.com/spate-ml/spate/core/registry/registrytest"
)

// migrationCount is the number of migration files of each back end: one
// registry_migrations row each.
const migrationCount = 2

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func openSQLite(t *testing.T) registry.Store {
	s, err := registry.Open(testCtx(t), "sqlite://"+filepath.Join(t.TempDir(), "registry.db"), nil)
	if err != nil {
		t.Fatalf("open sqlite registry: %v", err)
	}
	return s
}

func TestSQLiteConformance(t *testing.T) {
	registrytest.Run(t, openSQLite)
}

func TestPostgresConformance(t *testing.T) {
	registrytest.Run(t, postgresOpener(t))
}

// postgresOpener returns an opener that gives each test a fresh PostgreSQL
// schema. Without SPATE_TEST_POSTGRES_URL the Postgres tests are skipped,
// unless SPATE_TEST_POSTGRES_REQUIRED=1, when they fail; a URL that is set
// but unreachable always fails.
func postgresOpener(t *testing.T) registrytest.Opener {
	t.Helper()
	base := postgresURL(t)
	return func(t *testing.T) registry.Store {
		u := freshSchema(t, base)
		s, err := registry.Open(testCtx(t), u, nil)
		if err != nil {
			t.Fatalf("open postgres registry: %v", err)
		}
		return s
	}
}

// postgresURL returns SPATE_TEST_POSTGRES_URL after checking that the
// server answers.
func postgresURL(t *testing.T) string {
	t.Helper()
	base := os.Getenv("SPATE_TEST_POSTGRES_URL")
	if base == "" {
		if os.Getenv("SPATE_TEST_POSTGRES_REQUIRED") == "1" {
			t.Fatal("SPATE_TEST_POSTGRES_REQUIRED=1 but SPATE_TEST_POSTGRES_URL is not set; start a server with: eval \"$(scripts/pg-test.sh start)\"")
		}
		t.Skip("SPATE_TEST_POSTGRES_URL is not set; start a server with: eval \"$(scripts/pg-test.sh start)\"")
	}
	ctx := testCtx(t)
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("SPATE_TEST_POSTGRES_URL is set but PostgreSQL is unreachable: %v", err)
	}
	if err := conn.Close(ctx); err != nil {
		t.Fatal(err)
	}
	return base
}

// freshSchema creates an empty schema, drops it when the test ends, and
// returns base with its search_path set to it.
func freshSchema(t testing.TB, base string) string {
	t.Helper()
	ctx := testCtx(t)
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := "registrytest_" + hex.EncodeToString(b[:])
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to SPATE_TEST_POSTGRES_URL: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+name+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("SPATE_TEST_POSTGRES_URL must be a postgres:// URL (%v)", err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestOpenRejects(t *testing.T) {
	tests := []struct {
		name, url string
		want      error
	}{
		{"empty", "", registry.ErrInvalid},
		{"unknown scheme", "mysql://localhost/db", registry.ErrInvalid},
		{"sqlite without path", "sqlite://", registry.ErrInvalid},
		{"sqlite with options", "sqlite:///tmp/x.db?mode=ro", registry.ErrInvalid},
		{"sqlite in memory", "sqlite::memory:", registry.ErrInvalid},
		{"sqlite file URI", "sqlite:file:x.db", registry.ErrInvalid},
		{"bad postgres URL", "postgres://localhost:notaport/db", registry.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := registry.Open(testCtx(t), tc.url, nil)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) succeeded", tc.url)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Open(%q) = %v, want %v", tc.url, err, tc.want)
			}
		})
	}
}

func TestOpenUnreachablePostgres(t *testing.T) {
	// Port 1 on loopback refuses connections.
	s, err := registry.Open(testCtx(t), "postgres://spate:secret@127.0.0.1:1/spate?connect_timeout=5", nil)
	if err == nil {
		s.Close()
		t.Fatal("Open of an unreachable server succeeded")
	}
	if errors.Is(err, registry.ErrInvalid) {
		t.Fatalf("unreachable server reported as an invalid URL: %v", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Fatalf("error shows the password: %v", err)
	}
}

func TestSQLiteURLForms(t *testing.T) {
	dir := t.TempDir()
	abs := filepath.Join(dir, "a", "registry.db")
	rel, err := filepath.Rel(mustGetwd(t), filepath.Join(dir, "b", "registry.db"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ url, file string }{
		{"sqlite://" + abs, abs},
		{filepath.Join(dir, "plain.db"), filepath.Join(dir, "plain.db")},
		{"sqlite:" + filepath.Join(dir, "c.db"), filepath.Join(dir, "c.db")},
		{"sqlite://" + rel, filepath.Join(dir, "b", "registry.db")},
	}
	for _, tc := range tests {
		s, err := registry.Open(testCtx(t), tc.url, nil)
		if err != nil {
			t.Fatalf("Open(%q): %v", tc.url, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(tc.file); err != nil {
			t.Fatalf("Open(%q) did not create %s: %v", tc.url, tc.file, err)
		}
	}
}

func mustGetwd(t *testing.T) string {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}

// TestSQLiteReopen checks that data survives a reopen, that reopening does
// not apply the migrations again, that the file is in WAL mode with
// foreign keys enforced, and that a database from a newer build is refused.
func TestSQLiteReopen(t *testing.T) {
	ctx := testCtx(t)
	path := filepath.Join(t.TempDir(), "registry.db")
	s, err := registry.Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateModel(ctx, registry.Model{Namespace: "ns", Name: "m"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddVersion(ctx, registry.Version{Namespace: "ns", Model: "m", Snapshot: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		s, err = registry.Open(ctx, "sqlite://"+path, nil)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		v, err := s.GetVersion(ctx, "ns", "m", 1)
		if err != nil || string(v.Snapshot) != "x" {
			t.Fatalf("after reopen: %+v, %v", v, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}

	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	var migrations int
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM registry_migrations").Scan(&migrations); err != nil || migrations != migrationCount {
		t.Fatalf("registry_migrations has %d rows (%v), want %d after three opens", migrations, err, migrationCount)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO registry_migrations (version, name, applied_at) VALUES (999, 'future', 0)"); err != nil {
		t.Fatal(err)
	}
	if s, err := registry.Open(ctx, path, nil); err == nil {
		s.Close()
		t.Fatal("Open accepted a database migrated by a newer build")
	} else if !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a newer database: %v", err)
	}
}

// TestPostgresConcurrentOpen opens several registries on one fresh schema
// at once: the migrations must run exactly once.
func TestPostgresConcurrentOpen(t *testing.T) {
	u := freshSchema(t, postgresURL(t))
	ctx := testCtx(t)
	const n = 4
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s, err := registry.Open(ctx, u, nil)
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Open #%d: %v", i, err)
		}
	}
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var rows int
	if err := conn.QueryRow(ctx, "SELECT COUNT(*) FROM registry_migrations").Scan(&rows); err != nil || rows != migrationCount {
		t.Fatalf("registry_migrations has %d rows (%v), want %d", rows, err, migrationCount)
	}
	s, err := registry.Open(ctx, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateDataset(ctx, registry.Dataset{Namespace: "ns", ID: "d"}); !errors.Is(err, registry.ErrInvalid) {
		t.Fatalf("store after concurrent migrations: CreateDataset without schema = %v", err)
	}
	if n, err := s.CountKeys(ctx); err != nil || n != 0 {
		t.Fatalf("CountKeys = %d, %v", n, err)
	}
}

// TestSQLiteTwoStoresOneFile shares one file between two stores, as two
// server processes would: their writes interleave without errors and
// version IDs stay distinct and consecutive.
func TestSQLiteTwoStoresOneFile(t *testing.T) {
	ctx := testCtx(t)
	path := filepath.Join(t.TempDir(), "registry.db")
	var stores [2]registry.Store
	for i := range stores {
		s, err := registry.Open(ctx, path, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	if err := stores[0].CreateModel(ctx, registry.Model{Namespace: "ns", Name: "m"}); err != nil {
		t.Fatal(err)
	}
	const each = 10
	errs := make([]error, len(stores))
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() {
			for range each {
				if _, err := s.AddVersion(ctx, registry.Version{Namespace: "ns", Model: "m"}); err != nil {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("AddVersion from two stores: %v", err)
		}
	}
	vs, err := stores[1].ListVersions(ctx, "ns", "m")
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vs {
		if v.ID != int64(i+1) {
			t.Fatalf("version %d has ID %d", i, v.ID)
		}
	}
	if len(vs) != 2*each {
		t.Fatalf("%d versions, want %d", len(vs), 2*each)
	}
}
