-- 0008_legacy_keys: keys imported from another system (djangorestframework-
-- api-key) whose plaintext keyward has never seen. The api_keys row holds a
-- random placeholder hash until the key's first successful use, when the
-- key's SHA-256 replaces it and legacy_hash is cleared: from then on the key
-- is an ordinary keyward key. The prefix (the part before the dot) finds the
-- row; it stays, so that a re-run of the import does not add the key again.

CREATE TABLE legacy_keys (
  key_id      TEXT PRIMARY KEY REFERENCES api_keys(id) ON DELETE CASCADE,
  prefix      TEXT NOT NULL UNIQUE CHECK (length(prefix) BETWEEN 1 AND 64),
  legacy_hash TEXT CHECK (legacy_hash IS NULL OR length(legacy_hash) BETWEEN 1 AND 512),
  source      TEXT NOT NULL                      -- e.g. "drf:app_customapikey"
) STRICT;
