package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// sqliteParams configure every connection: wait up to 10 s for a lock
// instead of failing with SQLITE_BUSY, enforce foreign keys, write-ahead log
// with full sync (a committed change survives a power cut), and begin
// transactions with the write lock so that read-then-write transactions
// never deadlock.
const sqliteParams = "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate"

// sqliteMaxConns bounds the connections to one database file. Readers run
// concurrently under WAL; writers queue on the file's lock.
const sqliteMaxConns = 8

// sqlitePath returns the file path a SQLite registry URL names.
func sqlitePath(url string) (string, error) {
	p := url
	switch {
	case strings.HasPrefix(p, "sqlite://"):
		p = strings.TrimPrefix(p, "sqlite://")
	case strings.HasPrefix(p, "sqlite:"):
		p = strings.TrimPrefix(p, "sqlite:")
	}
	switch {
	case p == "":
		return "", fmt.Errorf("%w: SQLite URL %q names no file", ErrInvalid, url)
	case strings.ContainsRune(p, '?'):
		return "", fmt.Errorf("%w: SQLite URL %q: query options are not supported", ErrInvalid, url)
	case p == ":memory:" || strings.HasPrefix(p, "file:"):
		return "", fmt.Errorf("%w: SQLite URL %q: give a file path", ErrInvalid, url)
	}
	return filepath.Clean(p), nil
}

func openSQLite(ctx context.Context, path string, logger *slog.Logger) (Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("registry: open sqlite %s: %w", path, err)
	}
	db, err := sql.Open("sqlite", path+"?"+sqliteParams)
	if err != nil {
		return nil, fmt.Errorf("registry: open sqlite %s: %w", path, err)
	}
	db.SetMaxOpenConns(sqliteMaxConns)
	db.SetMaxIdleConns(sqliteMaxConns)
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		db.Close()
		return nil, fmt.Errorf("registry: open sqlite %s: %w", path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		db.Close()
		return nil, fmt.Errorf("registry: open sqlite %s: journal mode is %q, want wal (is the file on a filesystem without shared memory?)", path, mode)
	}
	if err := migrate(ctx, db, "sqlite", "", logger); err != nil {
		db.Close()
		return nil, fmt.Errorf("registry: open sqlite %s: %w", path, err)
	}
	logger.Debug("registry opened", "backend", "sqlite", "path", path)
	return &sqlStore{db: db, d: dialect{name: "sqlite", classify: classifySQLite}}, nil
}

func classifySQLite(err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return nil
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return ErrExists
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return ErrNotFound
	}
	return nil
}
