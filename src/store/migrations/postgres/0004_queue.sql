-- 0004_queue: the durable job queue the workers drain, as the SQLite schema
-- holds it today: the credential a worker will present is stored sealed
-- (AES-256-GCM) while the entry is in flight and erased when it is final;
-- each user's unfinished entries are counted by triggers; facts about the
-- database itself (the seal key's fingerprint) live in meta.

CREATE TABLE queue (
  id               text PRIMARY KEY,
  user_id          text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  environment      text NOT NULL CHECK (environment IN ('live', 'test')),
  job_id           text NOT NULL,
  task             text NOT NULL,
  payload          text NOT NULL,
  sealed_key       bytea,
  seal_key         text,
  scoped_key_id    text,
  status           text NOT NULL CHECK (status IN ('queued', 'claimed', 'done', 'failed', 'dead')),
  attempts         integer NOT NULL DEFAULT 0,
  max_attempts     integer NOT NULL,
  lease_owner      text,
  lease_expires_at bigint,
  available_at     bigint NOT NULL,
  last_error       text,
  result_job_id    text,
  created_at       bigint NOT NULL,
  updated_at       bigint NOT NULL,
  UNIQUE (user_id, environment, job_id),
  CHECK (sealed_key IS NOT NULL OR status IN ('done', 'failed', 'dead'))
);
CREATE INDEX queue_by_user ON queue (user_id, created_at, id);
CREATE INDEX queue_by_time ON queue (created_at, id);
CREATE INDEX queue_ready ON queue (available_at, created_at) WHERE status = 'queued';
CREATE INDEX queue_leases ON queue (lease_expires_at) WHERE status = 'claimed';

CREATE TABLE meta (
  name  text PRIMARY KEY,
  value text NOT NULL
);

CREATE TABLE queue_unfinished (
  user_id text PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  n       bigint NOT NULL CHECK (n >= 0)
);

CREATE FUNCTION keyward_queue_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  was boolean := TG_OP <> 'INSERT' AND OLD.status IN ('queued', 'claimed');
  now_open boolean := TG_OP <> 'DELETE' AND NEW.status IN ('queued', 'claimed');
BEGIN
  IF now_open AND NOT was THEN
    INSERT INTO queue_unfinished (user_id, n) VALUES (NEW.user_id, 1)
      ON CONFLICT (user_id) DO UPDATE SET n = queue_unfinished.n + 1;
  ELSIF was AND NOT now_open THEN
    UPDATE queue_unfinished SET n = greatest(0, n - 1) WHERE user_id = OLD.user_id;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER queue_counted AFTER INSERT OR UPDATE OF status OR DELETE ON queue
  FOR EACH ROW EXECUTE FUNCTION keyward_queue_count();
