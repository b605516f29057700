-- 0002_queue: the durable job queue the workers drain. The credential a worker
-- will present is stored sealed (AES-256-GCM), never in plaintext.

CREATE TABLE queue (
  id               TEXT PRIMARY KEY,
  user_id          TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  environment      TEXT NOT NULL CHECK (environment IN ('live', 'test')),
  job_id           TEXT NOT NULL,
  task             TEXT NOT NULL,
  payload          TEXT NOT NULL,                 -- JSON
  sealed_key       BLOB NOT NULL,
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
  UNIQUE (user_id, environment, job_id)
) STRICT;
CREATE INDEX queue_claimable ON queue(status, available_at);
CREATE INDEX queue_by_user ON queue(user_id, created_at);
