-- Retention of derived logs per dataset and per model (0: the server's
-- default), and kinds of model versions: a label, pinned versions (made by
-- a user, never thinned) and thinned versions (snapshot bytes removed).

ALTER TABLE datasets ADD COLUMN retention_max_age_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE datasets ADD COLUMN retention_max_bytes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE models ADD COLUMN retention_max_age_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE models ADD COLUMN retention_max_bytes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE model_versions ADD COLUMN label TEXT NOT NULL DEFAULT '';
ALTER TABLE model_versions ADD COLUMN pinned BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE model_versions ADD COLUMN thinned_at BIGINT;
