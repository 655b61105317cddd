package registry

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spate-ml/spate/core/schema"
)

// dialect is what differs between the back ends; the statements below are
// written in the SQL that both SQLite and PostgreSQL accept ($n parameters,
// ON CONFLICT, RETURNING), and each back end's table definitions live in its
// migration files.
type dialect struct {
	name string
	// classify maps a back-end error to ErrExists (unique violation) or
	// ErrNotFound (foreign-key violation), or returns nil.
	classify func(error) error
}

// sqlStore implements Store over database/sql.
type sqlStore struct {
	db      *sql.DB
	d       dialect
	closeFn func() error
}

func (s *sqlStore) Close() error {
	err := s.db.Close()
	if s.closeFn != nil {
		if cerr := s.closeFn(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("registry: close %s: %w", s.d.name, err)
	}
	return nil
}

// Times are stored as microseconds since the Unix epoch in a 64-bit integer.
func toMicros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func createdAt(t time.Time) int64 {
	if t.IsZero() {
		return toMicros(time.Now())
	}
	return toMicros(t)
}

// fail wraps err with the operation's context, turning constraint errors
// into the registry's sentinels.
func (s *sqlStore) fail(op string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("registry: %s: %w", op, ErrNotFound)
	}
	if sentinel := s.d.classify(err); sentinel != nil {
		return fmt.Errorf("registry: %s: %w", op, sentinel)
	}
	return fmt.Errorf("registry: %s: %w", op, err)
}

func invalid(op, format string, args ...any) error {
	return fmt.Errorf("registry: %s: %w: %s", op, ErrInvalid, fmt.Sprintf(format, args...))
}

func need(op string, names ...string) error {
	for i := 0; i < len(names); i += 2 {
		if names[i+1] == "" {
			return invalid(op, "%s is empty", names[i])
		}
	}
	return nil
}

// jsonArg turns optional JSON into a nullable text argument.
func jsonArg(op, what string, raw json.RawMessage) (sql.NullString, error) {
	if len(raw) == 0 {
		return sql.NullString{}, nil
	}
	if !json.Valid(raw) {
		return sql.NullString{}, invalid(op, "%s is not valid JSON", what)
	}
	return sql.NullString{String: string(raw), Valid: true}, nil
}

func jsonResult(ns sql.NullString) json.RawMessage {
	if !ns.Valid {
		return nil
	}
	return json.RawMessage(ns.String)
}

// mustAffect reports ErrNotFound when an UPDATE or DELETE touched no row.
func (s *sqlStore) mustAffect(op string, res sql.Result, err error) error {
	if err != nil {
		return s.fail(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.fail(op, err)
	}
	if n == 0 {
		return fmt.Errorf("registry: %s: %w", op, ErrNotFound)
	}
	return nil
}

// ---- keys

const keyColumns = `id, namespace, label, hash, created_at, revoked_at`

func scanKey(sc interface{ Scan(...any) error }) (APIKey, error) {
	var k APIKey
	var created int64
	var revoked sql.NullInt64
	if err := sc.Scan(&k.ID, &k.Namespace, &k.Label, &k.Hash, &created, &revoked); err != nil {
		return APIKey{}, err
	}
	k.CreatedAt = fromMicros(created)
	if revoked.Valid {
		t := fromMicros(revoked.Int64)
		k.RevokedAt = &t
	}
	return k, nil
}

func (s *sqlStore) CreateKey(ctx context.Context, k APIKey) error {
	op := fmt.Sprintf("create key %s/%s", k.Namespace, k.ID)
	if err := need(op, "namespace", k.Namespace, "key id", k.ID); err != nil {
		return err
	}
	if len(k.Hash) != sha256.Size {
		return invalid(op, "hash has %d bytes, want a %d-byte SHA-256 digest", len(k.Hash), sha256.Size)
	}
	var revoked sql.NullInt64
	if k.RevokedAt != nil {
		revoked = sql.NullInt64{Int64: toMicros(*k.RevokedAt), Valid: true}
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO api_keys (`+keyColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		k.ID, k.Namespace, k.Label, k.Hash, createdAt(k.CreatedAt), revoked)
	if err != nil {
		return s.fail(op, err)
	}
	return nil
}

func (s *sqlStore) KeyByHash(ctx context.Context, hash []byte) (APIKey, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE hash = $1 AND revoked_at IS NULL`, hash)
	k, err := scanKey(row)
	if err != nil {
		return APIKey{}, s.fail("look up key by hash", err)
	}
	return k, nil
}

func (s *sqlStore) ListKeys(ctx context.Context, ns string) ([]APIKey, error) {
	op := "list keys of " + ns
	rows, err := s.db.QueryContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE namespace = $1 ORDER BY created_at, id`, ns)
	if err != nil {
		return nil, s.fail(op, err)
	}
	return collect(rows, scanKey, func(err error) error { return s.fail(op, err) })
}

func (s *sqlStore) RevokeKey(ctx context.Context, ns, id string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3) WHERE namespace = $1 AND id = $2`,
		ns, id, toMicros(time.Now()))
	return s.mustAffect(fmt.Sprintf("revoke key %s/%s", ns, id), res, err)
}

func (s *sqlStore) CountKeys(ctx context.Context) (int, error) {
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM api_keys`).Scan(&n); err != nil {
		return 0, s.fail("count keys", err)
	}
	return int(n), nil
}

// ---- datasets

const datasetColumns = `namespace, id, schema, timestamps, feature_version, created_at, retention_max_age_ms, retention_max_bytes`

func scanDataset(sc interface{ Scan(...any) error }) (Dataset, error) {
	var d Dataset
	var schemaJSON, tsJSON string
	var created, ageMS int64
	if err := sc.Scan(&d.Namespace, &d.ID, &schemaJSON, &tsJSON, &d.FeatureVersion, &created, &ageMS, &d.Retention.MaxBytes); err != nil {
		return Dataset{}, err
	}
	d.CreatedAt = fromMicros(created)
	d.Retention.MaxAge = time.Duration(ageMS) * time.Millisecond
	d.Schema = new(schema.Schema)
	if err := json.Unmarshal([]byte(schemaJSON), d.Schema); err != nil {
		return Dataset{}, fmt.Errorf("stored schema of dataset %s/%s: %w", d.Namespace, d.ID, err)
	}
	if err := json.Unmarshal([]byte(tsJSON), &d.Timestamps); err != nil {
		return Dataset{}, fmt.Errorf("stored timestamps of dataset %s/%s: %w", d.Namespace, d.ID, err)
	}
	return d, nil
}

func datasetArgs(op string, d Dataset) (schemaJSON, tsJSON string, err error) {
	if err := need(op, "namespace", d.Namespace, "dataset id", d.ID); err != nil {
		return "", "", err
	}
	if d.Schema == nil {
		return "", "", invalid(op, "schema is nil")
	}
	sb, err := json.Marshal(d.Schema)
	if err != nil {
		return "", "", fmt.Errorf("registry: %s: encode schema: %w", op, err)
	}
	tb, err := json.Marshal(d.Timestamps)
	if err != nil {
		return "", "", fmt.Errorf("registry: %s: encode timestamps: %w", op, err)
	}
	return string(sb), string(tb), nil
}

func (s *sqlStore) CreateDataset(ctx context.Context, d Dataset) error {
	op := fmt.Sprintf("create dataset %s/%s", d.Namespace, d.ID)
	sj, tj, err := datasetArgs(op, d)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO datasets (`+datasetColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		d.Namespace, d.ID, sj, tj, d.FeatureVersion, createdAt(d.CreatedAt), d.Retention.MaxAge.Milliseconds(), d.Retention.MaxBytes)
	if err != nil {
		return s.fail(op, err)
	}
	return nil
}

func (s *sqlStore) GetDataset(ctx context.Context, ns, id string) (Dataset, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+datasetColumns+` FROM datasets WHERE namespace = $1 AND id = $2`, ns, id)
	d, err := scanDataset(row)
	if err != nil {
		return Dataset{}, s.fail(fmt.Sprintf("get dataset %s/%s", ns, id), err)
	}
	return d, nil
}

func (s *sqlStore) ListDatasets(ctx context.Context, ns string) ([]Dataset, error) {
	op := "list datasets of " + ns
	rows, err := s.db.QueryContext(ctx, `SELECT `+datasetColumns+` FROM datasets WHERE namespace = $1 ORDER BY id`, ns)
	if err != nil {
		return nil, s.fail(op, err)
	}
	return collect(rows, scanDataset, func(err error) error { return s.fail(op, err) })
}

func (s *sqlStore) UpdateDataset(ctx context.Context, d Dataset) error {
	op := fmt.Sprintf("update dataset %s/%s", d.Namespace, d.ID)
	sj, tj, err := datasetArgs(op, d)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE datasets SET schema = $3, timestamps = $4, feature_version = $5,
		retention_max_age_ms = $6, retention_max_bytes = $7
		WHERE namespace = $1 AND id = $2`, d.Namespace, d.ID, sj, tj, d.FeatureVersion, d.Retention.MaxAge.Milliseconds(), d.Retention.MaxBytes)
	return s.mustAffect(op, res, err)
}

func (s *sqlStore) DeleteDataset(ctx context.Context, ns, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM datasets WHERE namespace = $1 AND id = $2`, ns, id)
	return s.mustAffect(fmt.Sprintf("delete dataset %s/%s", ns, id), res, err)
}

// ---- features

const featureColumns = `namespace, dataset, name, spec, materialized, created_at`

func scanFeature(sc interface{ Scan(...any) error }) (Feature, error) {
	var f Feature
	var spec sql.NullString
	var created int64
	if err := sc.Scan(&f.Namespace, &f.Dataset, &f.Name, &spec, &f.Materialized, &created); err != nil {
		return Feature{}, err
	}
	f.Spec = jsonResult(spec)
	f.CreatedAt = fromMicros(created)
	return f, nil
}

func (s *sqlStore) PutFeature(ctx context.Context, f Feature) error {
	op := fmt.Sprintf("put feature %s/%s/%s", f.Namespace, f.Dataset, f.Name)
	if err := need(op, "namespace", f.Namespace, "dataset", f.Dataset, "feature name", f.Name); err != nil {
		return err
	}
	spec, err := jsonArg(op, "spec", f.Spec)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO features (`+featureColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		f.Namespace, f.Dataset, f.Name, spec, f.Materialized, createdAt(f.CreatedAt))
	if err != nil {
		return s.fail(op, err)
	}
	return nil
}

func (s *sqlStore) ListFeatures(ctx context.Context, ns, dataset string) ([]Feature, error) {
	op := fmt.Sprintf("list features of %s/%s", ns, dataset)
	rows, err := s.db.QueryContext(ctx, `SELECT `+featureColumns+` FROM features
		WHERE namespace = $1 AND dataset = $2 ORDER BY created_at, name`, ns, dataset)
	if err != nil {
		return nil, s.fail(op, err)
	}
	fs, err := collect(rows, scanFeature, func(err error) error { return s.fail(op, err) })
	if err != nil || len(fs) > 0 {
		return fs, err
	}
	if err := s.exists(ctx, op, `SELECT 1 FROM datasets WHERE namespace = $1 AND id = $2`, ns, dataset); err != nil {
		return nil, err
	}
	return fs, nil
}

func (s *sqlStore) UpdateFeature(ctx context.Context, f Feature) error {
	op := fmt.Sprintf("update feature %s/%s/%s", f.Namespace, f.Dataset, f.Name)
	spec, err := jsonArg(op, "spec", f.Spec)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE features SET spec = $4, materialized = $5
		WHERE namespace = $1 AND dataset = $2 AND name = $3`, f.Namespace, f.Dataset, f.Name, spec, f.Materialized)
	return s.mustAffect(op, res, err)
}

func (s *sqlStore) DeleteFeature(ctx context.Context, ns, dataset, name string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM features WHERE namespace = $1 AND dataset = $2 AND name = $3`, ns, dataset, name)
	return s.mustAffect(fmt.Sprintf("delete feature %s/%s/%s", ns, dataset, name), res, err)
}

// ---- models

const modelColumns = `namespace, name, config, state, stage, current_version, created_at, updated_at, retention_max_age_ms, retention_max_bytes`

func scanModel(sc interface{ Scan(...any) error }) (Model, error) {
	var m Model
	var cfg sql.NullString
	var created, updated, ageMS int64
	if err := sc.Scan(&m.Namespace, &m.Name, &cfg, &m.State, &m.Stage, &m.CurrentVersion, &created, &updated, &ageMS, &m.Retention.MaxBytes); err != nil {
		return Model{}, err
	}
	m.Retention.MaxAge = time.Duration(ageMS) * time.Millisecond
	m.Config = jsonResult(cfg)
	m.CreatedAt = fromMicros(created)
	m.UpdatedAt = fromMicros(updated)
	return m, nil
}

func (s *sqlStore) CreateModel(ctx context.Context, m Model) error {
	op := fmt.Sprintf("create model %s/%s", m.Namespace, m.Name)
	if err := need(op, "namespace", m.Namespace, "model name", m.Name); err != nil {
		return err
	}
	cfg, err := jsonArg(op, "config", m.Config)
	if err != nil {
		return err
	}
	if m.State == "" {
		m.State = StateRunning
	}
	if m.Stage == "" {
		m.Stage = StageDev
	}
	created := createdAt(m.CreatedAt)
	_, err = s.db.ExecContext(ctx, `INSERT INTO models (`+modelColumns+`, last_version)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0)`,
		m.Namespace, m.Name, cfg, m.State, m.Stage, m.CurrentVersion, created, created, m.Retention.MaxAge.Milliseconds(), m.Retention.MaxBytes)
	if err != nil {
		return s.fail(op, err)
	}
	return nil
}

func (s *sqlStore) GetModel(ctx context.Context, ns, name string) (Model, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+modelColumns+` FROM models WHERE namespace = $1 AND name = $2`, ns, name)
	m, err := scanModel(row)
	if err != nil {
		return Model{}, s.fail(fmt.Sprintf("get model %s/%s", ns, name), err)
	}
	return m, nil
}

func (s *sqlStore) ListModels(ctx context.Context, ns string) ([]Model, error) {
	op := "list models of " + ns
	rows, err := s.db.QueryContext(ctx, `SELECT `+modelColumns+` FROM models WHERE namespace = $1 ORDER BY name`, ns)
	if err != nil {
		return nil, s.fail(op, err)
	}
	return collect(rows, scanModel, func(err error) error { return s.fail(op, err) })
}

func (s *sqlStore) AllModels(ctx context.Context) ([]Model, error) {
	op := "list models of all namespaces"
	rows, err := s.db.QueryContext(ctx, `SELECT `+modelColumns+` FROM models ORDER BY namespace, name`)
	if err != nil {
		return nil, s.fail(op, err)
	}
	return collect(rows, scanModel, func(err error) error { return s.fail(op, err) })
}

func (s *sqlStore) UpdateModel(ctx context.Context, m Model) error {
	op := fmt.Sprintf("update model %s/%s", m.Namespace, m.Name)
	cfg, err := jsonArg(op, "config", m.Config)
	if err != nil {
		return err
	}
	if err := need(op, "state", m.State, "stage", m.Stage); err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE models SET config = $3, state = $4, stage = $5, current_version = $6, updated_at = $7,
		retention_max_age_ms = $8, retention_max_bytes = $9
		WHERE namespace = $1 AND name = $2`, m.Namespace, m.Name, cfg, m.State, m.Stage, m.CurrentVersion, toMicros(time.Now()),
		m.Retention.MaxAge.Milliseconds(), m.Retention.MaxBytes)
	return s.mustAffect(op, res, err)
}

func (s *sqlStore) DeleteModel(ctx context.Context, ns, name string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM models WHERE namespace = $1 AND name = $2`, ns, name)
	return s.mustAffect(fmt.Sprintf("delete model %s/%s", ns, name), res, err)
}

// ---- versions

func (s *sqlStore) AddVersion(ctx context.Context, v Version) (Version, error) {
	op := fmt.Sprintf("add version to model %s/%s", v.Namespace, v.Model)
	offsets, err := jsonArg(op, "offsets", v.Offsets)
	if err != nil {
		return Version{}, err
	}
	meta, err := jsonArg(op, "meta", v.Meta)
	if err != nil {
		return Version{}, err
	}
	snap := v.Snapshot
	if snap == nil {
		snap = []byte{}
	}
	created := toMicros(time.Now())
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Version{}, s.fail(op, err)
	}
	defer tx.Rollback() //nolint:errcheck // A no-op after Commit.
	// Bumping the model's counter locks its row, which serializes
	// concurrent AddVersion calls on the same model in both back ends.
	var id int64
	err = tx.QueryRowContext(ctx, `UPDATE models SET last_version = last_version + 1
		WHERE namespace = $1 AND name = $2 RETURNING last_version`, v.Namespace, v.Model).Scan(&id)
	if err != nil {
		return Version{}, s.fail(op, err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO model_versions (namespace, model, id, snapshot, offsets, meta, samples_seen, created_at, label, pinned)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, v.Namespace, v.Model, id, snap, offsets, meta, v.SamplesSeen, created, v.Label, v.Pinned)
	if err != nil {
		return Version{}, s.fail(op, err)
	}
	if err := tx.Commit(); err != nil {
		return Version{}, s.fail(op, err)
	}
	v.ID = id
	v.CreatedAt = fromMicros(created)
	v.Snapshot = append([]byte(nil), snap...)
	v.Offsets = jsonResult(offsets)
	v.Meta = jsonResult(meta)
	v.ThinnedAt = nil
	return v, nil
}

const versionColumns = `namespace, model, id, offsets, meta, samples_seen, created_at, label, pinned, thinned_at`

// scanVersion scans versionColumns, then the extra destinations.
func scanVersion(sc interface{ Scan(...any) error }, extra ...any) (Version, error) {
	var v Version
	var offsets, meta sql.NullString
	var created int64
	var thinned sql.NullInt64
	dest := append([]any{&v.Namespace, &v.Model, &v.ID, &offsets, &meta, &v.SamplesSeen, &created, &v.Label, &v.Pinned, &thinned}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return Version{}, err
	}
	v.Offsets, v.Meta, v.CreatedAt = jsonResult(offsets), jsonResult(meta), fromMicros(created)
	if thinned.Valid {
		at := fromMicros(thinned.Int64)
		v.ThinnedAt = &at
	}
	return v, nil
}

func (s *sqlStore) ListVersions(ctx context.Context, ns, model string) ([]Version, error) {
	op := fmt.Sprintf("list versions of model %s/%s", ns, model)
	rows, err := s.db.QueryContext(ctx, `SELECT `+versionColumns+`
		FROM model_versions WHERE namespace = $1 AND model = $2 ORDER BY id`, ns, model)
	if err != nil {
		return nil, s.fail(op, err)
	}
	vs, err := collect(rows, func(sc interface{ Scan(...any) error }) (Version, error) { return scanVersion(sc) },
		func(err error) error { return s.fail(op, err) })
	if err != nil || len(vs) > 0 {
		return vs, err
	}
	if err := s.exists(ctx, op, `SELECT 1 FROM models WHERE namespace = $1 AND name = $2`, ns, model); err != nil {
		return nil, err
	}
	return vs, nil
}

func (s *sqlStore) GetVersion(ctx context.Context, ns, model string, id int64) (Version, error) {
	op := fmt.Sprintf("get version %d of model %s/%s", id, ns, model)
	var snap []byte
	v, err := scanVersion(s.db.QueryRowContext(ctx, `SELECT `+versionColumns+`, snapshot
		FROM model_versions WHERE namespace = $1 AND model = $2 AND id = $3`, ns, model, id), &snap)
	if err != nil {
		return Version{}, s.fail(op, err)
	}
	if v.Thinned() {
		return Version{}, fmt.Errorf("registry: %s: %w", op, ErrThinned)
	}
	if snap == nil {
		snap = []byte{}
	}
	v.Snapshot = snap
	return v, nil
}

func (s *sqlStore) ThinVersions(ctx context.Context, ns, model string, ids []int64) (int, error) {
	op := fmt.Sprintf("thin versions of model %s/%s", ns, model)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, s.fail(op, err)
	}
	defer tx.Rollback() //nolint:errcheck // A no-op after Commit.
	var current int64
	if err := tx.QueryRowContext(ctx, `SELECT current_version FROM models WHERE namespace = $1 AND name = $2`, ns, model).Scan(&current); err != nil {
		return 0, s.fail(op, err)
	}
	now := toMicros(time.Now())
	n := 0
	for _, id := range ids {
		if id == current {
			continue
		}
		res, err := tx.ExecContext(ctx, `UPDATE model_versions SET snapshot = $4, thinned_at = $5
			WHERE namespace = $1 AND model = $2 AND id = $3 AND NOT pinned AND thinned_at IS NULL`, ns, model, id, []byte{}, now)
		if err != nil {
			return 0, s.fail(op, err)
		}
		k, err := res.RowsAffected()
		if err != nil {
			return 0, s.fail(op, err)
		}
		n += int(k)
	}
	if err := tx.Commit(); err != nil {
		return 0, s.fail(op, err)
	}
	return n, nil
}

// ---- aliases

func (s *sqlStore) SetAlias(ctx context.Context, ns, alias, model string) error {
	op := fmt.Sprintf("set alias %s/%s to %s", ns, alias, model)
	if err := need(op, "namespace", ns, "alias", alias, "model name", model); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO model_aliases (namespace, alias, model) VALUES ($1, $2, $3)
		ON CONFLICT (namespace, alias) DO UPDATE SET model = excluded.model`, ns, alias, model)
	if err != nil {
		return s.fail(op, err)
	}
	return nil
}

func (s *sqlStore) GetAlias(ctx context.Context, ns, alias string) (string, error) {
	var model string
	err := s.db.QueryRowContext(ctx, `SELECT model FROM model_aliases WHERE namespace = $1 AND alias = $2`, ns, alias).Scan(&model)
	if err != nil {
		return "", s.fail(fmt.Sprintf("get alias %s/%s", ns, alias), err)
	}
	return model, nil
}

func (s *sqlStore) DeleteAlias(ctx context.Context, ns, alias string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM model_aliases WHERE namespace = $1 AND alias = $2`, ns, alias)
	return s.mustAffect(fmt.Sprintf("delete alias %s/%s", ns, alias), res, err)
}

// ---- helpers

// exists returns ErrNotFound (wrapped with op) when query yields no row.
func (s *sqlStore) exists(ctx context.Context, op, query string, args ...any) error {
	var one int
	if err := s.db.QueryRowContext(ctx, query, args...).Scan(&one); err != nil {
		return s.fail(op, err)
	}
	return nil
}

// collect scans every row and closes rows. It returns a non-nil slice.
func collect[T any](rows *sql.Rows, scan func(interface{ Scan(...any) error }) (T, error), fail func(error) error) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fail(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fail(err)
	}
	return out, nil
}
