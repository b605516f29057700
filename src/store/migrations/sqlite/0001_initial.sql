-- 0001_initial: users with their plan, API keys, jobs and the usage ledger.
-- Times are integer milliseconds since the Unix epoch (UTC).

CREATE TABLE users (
  id              TEXT PRIMARY KEY,
  external_id     TEXT UNIQUE,
  name            TEXT NOT NULL,
  email           TEXT,
  disabled        INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
  created_at      INTEGER NOT NULL,
  rate_limit      REAL CHECK (rate_limit IS NULL OR rate_limit > 0),
  monthly_credits INTEGER CHECK (monthly_credits IS NULL OR monthly_credits >= 0),
  allowed_scopes  TEXT NOT NULL DEFAULT '*'      -- space-separated
) STRICT;

CREATE TABLE api_keys (
  id           TEXT PRIMARY KEY,
  user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name         TEXT NOT NULL,
  environment  TEXT NOT NULL CHECK (environment IN ('live', 'test')),
  scopes       TEXT NOT NULL DEFAULT '',          -- space-separated
  display      TEXT NOT NULL,
  hash         BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER,
  revoked_at   INTEGER,
  last_used_at INTEGER,
  rotated_from TEXT
) STRICT;
CREATE INDEX api_keys_by_user ON api_keys(user_id);

CREATE TABLE jobs (
  id          TEXT PRIMARY KEY,
  user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  environment TEXT NOT NULL CHECK (environment IN ('live', 'test')),
  job_id      TEXT NOT NULL,                      -- caller's idempotency key
  key_id      TEXT,
  task        TEXT NOT NULL,
  payload     TEXT NOT NULL,                      -- JSON
  status      TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
  result      TEXT,                               -- JSON
  error       TEXT,
  cost        INTEGER NOT NULL DEFAULT 0,
  created_at  INTEGER NOT NULL,
  started_at  INTEGER,
  finished_at INTEGER,
  UNIQUE (user_id, environment, job_id)
) STRICT;

CREATE TABLE usage (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  key_id      TEXT,
  environment TEXT NOT NULL CHECK (environment IN ('live', 'test')),
  units       INTEGER NOT NULL,
  reason      TEXT NOT NULL,
  at          INTEGER NOT NULL
) STRICT;
CREATE INDEX usage_by_user_time ON usage(user_id, at);
