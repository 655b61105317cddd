-- Registry tables for SQLite. Times are microseconds since the Unix epoch;
-- JSON values are stored as text, byte for byte as given.

CREATE TABLE api_keys (
    id         TEXT    NOT NULL PRIMARY KEY,
    namespace  TEXT    NOT NULL,
    label      TEXT    NOT NULL,
    hash       BLOB    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;

CREATE INDEX api_keys_by_namespace ON api_keys (namespace, created_at);

CREATE TABLE datasets (
    namespace       TEXT    NOT NULL,
    id              TEXT    NOT NULL,
    schema          TEXT    NOT NULL,
    timestamps      TEXT    NOT NULL,
    feature_version INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (namespace, id)
) STRICT;

CREATE TABLE features (
    namespace    TEXT    NOT NULL,
    dataset      TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    spec         TEXT,
    materialized INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (namespace, dataset, name),
    FOREIGN KEY (namespace, dataset) REFERENCES datasets (namespace, id) ON DELETE CASCADE
) STRICT;

CREATE TABLE models (
    namespace       TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    config          TEXT,
    state           TEXT    NOT NULL,
    stage           TEXT    NOT NULL,
    current_version INTEGER NOT NULL,
    last_version    INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (namespace, name)
) STRICT;

CREATE TABLE model_versions (
    namespace    TEXT    NOT NULL,
    model        TEXT    NOT NULL,
    id           INTEGER NOT NULL,
    snapshot     BLOB    NOT NULL,
    offsets      TEXT,
    meta         TEXT,
    samples_seen INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (namespace, model, id),
    FOREIGN KEY (namespace, model) REFERENCES models (namespace, name) ON DELETE CASCADE
) STRICT;

CREATE TABLE model_aliases (
    namespace TEXT NOT NULL,
    alias     TEXT NOT NULL,
    model     TEXT NOT NULL,
    PRIMARY KEY (namespace, alias),
    FOREIGN KEY (namespace, model) REFERENCES models (namespace, name) ON DELETE CASCADE
) STRICT;

CREATE INDEX model_aliases_by_model ON model_aliases (namespace, model);
