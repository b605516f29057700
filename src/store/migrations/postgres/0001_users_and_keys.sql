-- 0001_users_and_keys: users with their plan, and API keys, as the SQLite
-- schema holds them today (times: bigint milliseconds since the Unix epoch,
-- UTC; scope lists: space-separated text; key hashes: 32 bytes).

CREATE TABLE users (
  id              text PRIMARY KEY,
  external_id     text UNIQUE,
  name            text NOT NULL,
  email           text,
  disabled        boolean NOT NULL DEFAULT false,
  created_at      bigint NOT NULL,
  rate_limit      double precision CHECK (rate_limit IS NULL OR rate_limit > 0),
  test_rate_limit double precision CHECK (test_rate_limit IS NULL OR test_rate_limit > 0),
  monthly_credits bigint CHECK (monthly_credits IS NULL OR monthly_credits >= 0),
  allowed_scopes  text NOT NULL DEFAULT '*'
);
CREATE INDEX users_by_time ON users (created_at, id);

CREATE TABLE api_keys (
  id           text PRIMARY KEY,
  user_id      text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name         text NOT NULL,
  environment  text NOT NULL CHECK (environment IN ('live', 'test')),
  scopes       text NOT NULL DEFAULT '',
  display      text NOT NULL,
  hash         bytea NOT NULL UNIQUE CHECK (length(hash) = 32),
  created_at   bigint NOT NULL,
  expires_at   bigint,
  revoked_at   bigint,
  last_used_at bigint,
  rotated_from text
);
CREATE INDEX api_keys_by_user ON api_keys (user_id, created_at, id);
