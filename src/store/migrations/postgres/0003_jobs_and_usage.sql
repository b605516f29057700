-- 0003_jobs_and_usage: compute jobs (one user's job in one environment,
-- unique by the caller's job_id) and the append-only usage ledger.

CREATE TABLE jobs (
  id          text PRIMARY KEY,
  user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  environment text NOT NULL CHECK (environment IN ('live', 'test')),
  job_id      text NOT NULL,
  key_id      text,
  task        text NOT NULL,
  payload     text NOT NULL,
  status      text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
  result      text,
  error       text,
  cost        bigint NOT NULL DEFAULT 0,
  created_at  bigint NOT NULL,
  started_at  bigint,
  finished_at bigint,
  UNIQUE (user_id, environment, job_id)
);
CREATE INDEX jobs_by_user_time ON jobs (user_id, environment, created_at, id);
CREATE INDEX jobs_unfinished ON jobs (created_at, id) WHERE status IN ('queued', 'running');
CREATE INDEX jobs_pending_by_user ON jobs (user_id) WHERE status IN ('queued', 'running');

CREATE TABLE usage (
  seq         bigserial PRIMARY KEY,
  user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  key_id      text,
  environment text NOT NULL CHECK (environment IN ('live', 'test')),
  units       bigint NOT NULL,
  reason      text NOT NULL,
  at          bigint NOT NULL
);
CREATE INDEX usage_by_user_time ON usage (user_id, at);
