-- Registry tables for PostgreSQL. Times are microseconds since the Unix
-- epoch (as in the SQLite back end); JSON values are stored as text, byte for
-- byte as given.

CREATE TABLE api_keys (
    id         TEXT   NOT NULL PRIMARY KEY,
    namespace  TEXT   NOT NULL,
    label      TEXT   NOT NULL,
    hash       BYTEA  NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE INDEX api_keys_by_namespace ON api_keys (namespace, created_at);

CREATE TABLE datasets (
    namespace       TEXT   NOT NULL,
    id              TEXT   NOT NULL,
    schema          TEXT   NOT NULL,
    timestamps      TEXT   NOT NULL,
    feature_version BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (namespace, id)
);

CREATE TABLE features (
    namespace    TEXT    NOT NULL,
    dataset      TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    spec         TEXT,
    materialized BOOLEAN NOT NULL,
    created_at   BIGINT  NOT NULL,
    PRIMARY KEY (namespace, dataset, name),
    FOREIGN KEY (namespace, dataset) REFERENCES datasets (namespace, id) ON DELETE CASCADE
);

CREATE TABLE models (
    namespace       TEXT   NOT NULL,
    name            TEXT   NOT NULL,
    config          TEXT,
    state           TEXT   NOT NULL,
    stage           TEXT   NOT NULL,
    current_version BIGINT NOT NULL,
    last_version    BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (namespace, name)
);

CREATE TABLE model_versions (
    namespace    TEXT   NOT NULL,
    model        TEXT   NOT NULL,
    id           BIGINT NOT NULL,
    snapshot     BYTEA  NOT NULL,
    offsets      TEXT,
    meta         TEXT,
    samples_seen BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (namespace, model, id),
    FOREIGN KEY (namespace, model) REFERENCES models (namespace, name) ON DELETE CASCADE
);

CREATE TABLE model_aliases (
    namespace TEXT NOT NULL,
    alias     TEXT NOT NULL,
    model     TEXT NOT NULL,
    PRIMARY KEY (namespace, alias),
    FOREIGN KEY (namespace, model) REFERENCES models (namespace, name) ON DELETE CASCADE
);

CREATE INDEX model_aliases_by_model ON model_aliases (namespace, model);
