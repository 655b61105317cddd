package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// pgMigrationLock is the advisory-lock key that serializes the migrations
// of registries opened at the same time on one database.
const pgMigrationLock = 0x5370617465526567 // "SpateReg"

// pgConnectTimeout applies when the URL sets no connect_timeout.
const pgConnectTimeout = 10 * time.Second

func openPostgres(ctx context.Context, url string, logger *slog.Logger) (Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("registry: open postgres: %w: %w", ErrInvalid, err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = pgConnectTimeout
	}
	where := fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("registry: open postgres %s: %w", where, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("registry: open postgres %s: %w", where, err)
	}
	db := stdlib.OpenDBFromPool(pool)
	lock := fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", int64(pgMigrationLock))
	if err := migrate(ctx, db, "postgres", lock, logger); err != nil {
		db.Close()
		pool.Close()
		return nil, fmt.Errorf("registry: open postgres %s: %w", where, err)
	}
	logger.Debug("registry opened", "backend", "postgres", "at", where)
	return &sqlStore{
		db: db,
		d:  dialect{name: "postgres", classify: classifyPostgres},
		closeFn: func() error {
			pool.Close()
			return nil
		},
	}, nil
}

// PostgreSQL error codes (SQLSTATE) the registry maps to its sentinels.
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
)

func classifyPostgres(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return nil
	}
	switch pe.Code {
	case pgUniqueViolation:
		return ErrExists
	case pgForeignKeyViolation:
		return ErrNotFound
	}
	return nil
}
