// Package registry owns Spate's control-plane metadata: API keys (stored
// hashed), datasets (schema, key, registered timestamp columns), feature
// definitions, deployed models, their immutable versions and the aliases
// used to promote them. Every row belongs to a namespace, and no call made
// for one namespace can see or change another namespace's rows.
//
// Two back ends implement Store with the same semantics: SQLite (embedded,
// one file, the default) and PostgreSQL (for several server nodes). Open
// picks one from a URL. Both apply their versioned, embedded migrations when
// opened, and both pass the conformance suite in package registrytest.
package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/spate-ml/spate/core/schema"
)

var (
	// ErrNotFound is when the named row (or the row it refers to, such as
	// the dataset of a feature or the model of a version) does not exist in
	// the namespace.
	ErrNotFound = errors.New("not found")
	// ErrExists is when a row with the same identity already exists in the
	// namespace.
	ErrExists = errors.New("already exists")
	// ErrInvalid is when an argument breaks a rule of the registry: an
	// empty namespace or name, a nil schema, malformed JSON, a key hash
	// that is not a SHA-256 digest.
	ErrInvalid = errors.New("invalid argument")
	// ErrThinned is when a version exists but its snapshot was removed by
	// thinning (ThinVersions). It wraps ErrNotFound.
	ErrThinned = fmt.Errorf("%w: its snapshot was removed by the thinning of automatic versions", ErrNotFound)
)

// Retention bounds the derived logs of a dataset (its feature values) or a
// model (its outputs and evaluations). The registry stores it as given; the
// runtime reads zero as "the server's default" and a negative value as "no
// bound".
type Retention struct {
	MaxAge   time.Duration // stored with millisecond precision
	MaxBytes int64
}

// Model states and stages the server uses. The registry stores State and
// Stage as given; CreateModel fills in StateRunning and StageDev when they
// are empty.
const (
	StateRunning = "running"
	StatePaused  = "paused"
	StageDev     = "dev"
	StageProd    = "prod"
)

// APIKey is one API key of a namespace. The secret itself is never stored:
// Hash is its SHA-256 digest and ID a short public identifier (the prefix
// of the key shown to users). IDs and hashes are unique across namespaces.
type APIKey struct {
	ID        string
	Namespace string
	Label     string
	Hash      []byte
	CreatedAt time.Time
	// RevokedAt is nil while the key is valid.
	RevokedAt *time.Time
}

// Dataset is a registered dataset: its schema (which names the key field),
// the timestamp columns registered on it (column name → format, e.g.
// "epoch_seconds") and the version of its feature definitions.
type Dataset struct {
	Namespace      string
	ID             string
	Schema         *schema.Schema
	Timestamps     map[string]string
	FeatureVersion int64
	Retention      Retention
	CreatedAt      time.Time
}

// Feature is one feature definition on a dataset. Spec is opaque to the
// registry (it must be valid JSON, or empty).
type Feature struct {
	Namespace    string
	Dataset      string
	Name         string
	Spec         json.RawMessage
	Materialized bool
	CreatedAt    time.Time
}

// Model is a deployed model. Config is opaque to the registry (valid JSON,
// or empty). CurrentVersion is the version the model serves from (0: none
// yet).
type Model struct {
	Namespace      string
	Name           string
	Config         json.RawMessage
	State          string
	Stage          string
	CurrentVersion int64
	Retention      Retention
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Version is an immutable snapshot of a model: the learner's bytes, the log
// offsets it had consumed (JSON), free-form metrics and metadata (JSON) and
// how many samples it had learned from. IDs count 1, 2, 3… per model.
//
// A pinned version (one a user asked for) is never thinned; Label is its
// optional name. A thinned version keeps its row (ID, offsets, metadata)
// but not its Snapshot: ThinnedAt says when the bytes were removed.
type Version struct {
	Namespace   string
	Model       string
	ID          int64
	Snapshot    []byte
	Offsets     json.RawMessage
	Meta        json.RawMessage
	SamplesSeen int64
	Label       string
	Pinned      bool
	ThinnedAt   *time.Time
	CreatedAt   time.Time
}

// Thinned reports whether the version's snapshot was removed.
func (v Version) Thinned() bool { return v.ThinnedAt != nil }

// Store is the registry. All methods are safe for concurrent use, from one
// process or from several processes sharing the same database; each method
// is atomic.
//
// Errors wrap ErrNotFound, ErrExists or ErrInvalid where the method says
// so; test them with errors.Is. Any other error is a failure of the back end
// (I/O, connection, cancelled context) and the call may be retried.
//
// Times are stored with microsecond precision and returned in UTC. A zero
// CreatedAt given to a Create method is replaced by the current time;
// UpdatedAt is always set by the store. Methods never keep references to
// the slices and maps passed in, and results share no memory with the
// store.
type Store interface {
	// CreateKey stores a key. k.Hash must be a SHA-256 digest (32 bytes).
	// ErrExists when k.ID or k.Hash is already used, in any namespace.
	CreateKey(ctx context.Context, k APIKey) error
	// KeyByHash returns the valid key whose secret hashes to hash, in any
	// namespace. ErrNotFound when there is none or the key was revoked.
	KeyByHash(ctx context.Context, hash []byte) (APIKey, error)
	// ListKeys returns the keys of a namespace, revoked ones included, by
	// creation time.
	ListKeys(ctx context.Context, ns string) ([]APIKey, error)
	// RevokeKey revokes a key of ns. Revoking a revoked key keeps its
	// first RevokedAt. ErrNotFound when ns has no key id.
	RevokeKey(ctx context.Context, ns, id string) error
	// CountKeys counts every key ever created, revoked ones included, in
	// all namespaces; zero means the registry was never bootstrapped.
	CountKeys(ctx context.Context) (int, error)

	// CreateDataset registers a dataset. ErrExists when (ns, id) exists.
	CreateDataset(ctx context.Context, d Dataset) error
	// GetDataset returns a dataset. ErrNotFound.
	GetDataset(ctx context.Context, ns, id string) (Dataset, error)
	// ListDatasets returns the datasets of ns ordered by id.
	ListDatasets(ctx context.Context, ns string) ([]Dataset, error)
	// UpdateDataset replaces the schema, timestamps, feature version and
	// retention of an existing dataset (CreatedAt is kept). ErrNotFound.
	UpdateDataset(ctx context.Context, d Dataset) error
	// DeleteDataset deletes a dataset and its features. ErrNotFound.
	DeleteDataset(ctx context.Context, ns, id string) error

	// PutFeature adds a feature definition to a dataset. ErrExists when
	// the dataset has a feature of that name; ErrNotFound when the
	// dataset does not exist.
	PutFeature(ctx context.Context, f Feature) error
	// ListFeatures returns the features of a dataset by creation time,
	// then name. ErrNotFound when the dataset does not exist.
	ListFeatures(ctx context.Context, ns, dataset string) ([]Feature, error)
	// UpdateFeature replaces the Spec and Materialized flag of a feature.
	// ErrNotFound.
	UpdateFeature(ctx context.Context, f Feature) error
	// DeleteFeature deletes a feature. ErrNotFound.
	DeleteFeature(ctx context.Context, ns, dataset, name string) error

	// CreateModel registers a model. ErrExists when (ns, name) exists.
	CreateModel(ctx context.Context, m Model) error
	// GetModel returns a model. ErrNotFound.
	GetModel(ctx context.Context, ns, name string) (Model, error)
	// ListModels returns the models of ns ordered by name.
	ListModels(ctx context.Context, ns string) ([]Model, error)
	// AllModels returns the models of every namespace ordered by
	// namespace, then name: the runtime resumes them all at start-up.
	AllModels(ctx context.Context) ([]Model, error)
	// UpdateModel replaces the Config, State, Stage, CurrentVersion and
	// Retention of a model and sets UpdatedAt. ErrNotFound.
	UpdateModel(ctx context.Context, m Model) error
	// DeleteModel deletes a model, its versions and the aliases naming
	// it. ErrNotFound.
	DeleteModel(ctx context.Context, ns, name string) error

	// AddVersion stores a new version of a model and returns it with its
	// ID (one more than the model's previous version; IDs are never
	// reused while the model exists) and CreatedAt set. Concurrent calls
	// get distinct consecutive IDs. ErrNotFound when the model does not
	// exist.
	AddVersion(ctx context.Context, v Version) (Version, error)
	// ListVersions returns the versions of a model ordered by ID, thinned
	// ones included, without their Snapshot bytes. ErrNotFound when the
	// model does not exist.
	ListVersions(ctx context.Context, ns, model string) ([]Version, error)
	// GetVersion returns one version with its Snapshot. ErrNotFound; for a
	// thinned version, ErrThinned (which wraps ErrNotFound).
	GetVersion(ctx context.Context, ns, model string, id int64) (Version, error)
	// ThinVersions removes the snapshot bytes of the listed versions of a
	// model and marks them thinned, in one transaction. Pinned versions,
	// the model's current version, versions already thinned and IDs that
	// do not exist are left alone. It returns how many versions it thinned.
	// ErrNotFound when the model does not exist.
	ThinVersions(ctx context.Context, ns, model string, ids []int64) (int, error)

	// SetAlias points alias at a model, creating the alias or swapping its
	// target atomically. ErrNotFound when the model does not exist.
	SetAlias(ctx context.Context, ns, alias, model string) error
	// GetAlias returns the model an alias points at. ErrNotFound.
	GetAlias(ctx context.Context, ns, alias string) (string, error)
	// DeleteAlias removes an alias. ErrNotFound.
	DeleteAlias(ctx context.Context, ns, alias string) error

	// Close releases the store's connections. Calls after Close fail.
	Close() error
}

// Open opens the registry named by url and applies its pending migrations:
//
//   - "sqlite:///abs/path/registry.db", "sqlite://rel/path.db",
//     "sqlite:path.db" or a plain file path: SQLite in that file (created,
//     with its directory, when missing), in WAL mode with foreign keys on.
//   - "postgres://…" or "postgresql://…": PostgreSQL, any URL that pgx
//     accepts (pool settings such as pool_max_conns included). The
//     database must exist; Open checks that it is reachable.
//
// A nil logger discards log records.
func Open(ctx context.Context, url string, logger *slog.Logger) (Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return openPostgres(ctx, url, logger)
	case url == "":
		return nil, fmt.Errorf("registry: open: %w: empty URL (want sqlite:///path/registry.db or postgres://…)", ErrInvalid)
	case strings.Contains(url, "://") && !strings.HasPrefix(url, "sqlite://"):
		return nil, fmt.Errorf("registry: open: %w: unsupported URL scheme in %q (want sqlite:// or postgres://)", ErrInvalid, redact(url))
	}
	path, err := sqlitePath(url)
	if err != nil {
		return nil, fmt.Errorf("registry: open: %w", err)
	}
	return openSQLite(ctx, path, logger)
}

// redact hides the password of a URL for error messages.
func redact(url string) string {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return url
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return url
	}
	userinfo := rest[:at]
	if user, _, hasPass := strings.Cut(userinfo, ":"); hasPass {
		return scheme + "://" + user + ":xxxxx" + rest[at:]
	}
	return url
}
