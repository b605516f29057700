-- 0006_legacy_keys: keys imported from another system (djangorestframework-
-- api-key); see the SQLite migration 0008 of the same name.

CREATE TABLE legacy_keys (
  key_id      text PRIMARY KEY REFERENCES api_keys (id) ON DELETE CASCADE,
  prefix      text NOT NULL UNIQUE CHECK (length(prefix) BETWEEN 1 AND 64),
  legacy_hash text CHECK (legacy_hash IS NULL OR length(legacy_hash) BETWEEN 1 AND 512),
  source      text NOT NULL
);
