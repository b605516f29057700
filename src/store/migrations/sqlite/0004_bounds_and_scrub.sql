-- 0004_bounds_and_scrub: a plan field for test traffic's own rate limit; queue
-- entries keep their sealed credential only while in flight (the column
-- becomes nullable, finished entries are scrubbed and their job-scoped keys
-- revoked); a table for facts about the database itself (the seal key's
-- fingerprint); indexes for cursor pagination.

ALTER TABLE users ADD COLUMN test_rate_limit REAL
  CHECK (test_rate_limit IS NULL OR test_rate_limit > 0);

CREATE TABLE queue_new (
  id               TEXT PRIMARY KEY,
  user_id          TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  environment      TEXT NOT NULL CHECK (environment IN ('live', 'test')),
  job_id           TEXT NOT NULL,
  task             TEXT NOT NULL,
  payload          TEXT NOT NULL,                 -- JSON
  sealed_key       BLOB,                          -- NULL once the entry is final
  seal_key         TEXT,                          -- fingerprint of the key it is sealed under
  scoped_key_id    TEXT,                          -- a key issued for this entry alone
  status           TEXT NOT NULL CHECK (status IN ('queued', 'claimed', 'done', 'failed', 'dead')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  max_attempts     INTEGER NOT NULL,
  lease_owner      TEXT,
  lease_expires_at INTEGER,
  available_at     INTEGER NOT NULL,
  last_error       TEXT,
  result_job_id    TEXT,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  UNIQUE (user_id, environment, job_id),
  CHECK (sealed_key IS NOT NULL OR status IN ('done', 'failed', 'dead'))
) STRICT;
INSERT INTO queue_new
  SELECT id, user_id, environment, job_id, task, payload,
         CASE WHEN status IN ('done', 'failed', 'dead') THEN NULL ELSE sealed_key END, NULL,
         scoped_key_id, status, attempts, max_attempts, lease_owner, lease_expires_at,
         available_at, last_error, result_job_id, created_at, updated_at
  FROM queue;
DROP TABLE queue;
ALTER TABLE queue_new RENAME TO queue;
CREATE INDEX queue_claimable ON queue(status, available_at);
CREATE INDEX queue_by_user ON queue(user_id, created_at, id);
CREATE INDEX queue_by_time ON queue(created_at, id);

UPDATE api_keys SET revoked_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000
WHERE revoked_at IS NULL
  AND id IN (SELECT scoped_key_id FROM queue
             WHERE scoped_key_id IS NOT NULL AND status IN ('done', 'failed', 'dead'));

CREATE TABLE meta (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE INDEX users_by_time ON users(created_at, id);
DROP INDEX api_keys_by_user;
CREATE INDEX api_keys_by_user ON api_keys(user_id, created_at, id);
CREATE INDEX jobs_by_user_time ON jobs(user_id, environment, created_at, id);
CREATE INDEX jobs_unfinished ON jobs(created_at, id) WHERE status IN ('queued', 'running');
CREATE INDEX jobs_pending_by_user ON jobs(user_id) WHERE status IN ('queued', 'running');
