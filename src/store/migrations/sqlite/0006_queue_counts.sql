-- 0006_queue_counts: each user's unfinished queue entries (queued or
-- claimed), kept by triggers in the transaction that changes an entry, so
-- that the per-user bound is checked by reading one row instead of
-- counting entries (which grew with every entry the user ever queued);
-- and indexes that let a claim read only the entries it takes, in order
-- (the claim had to collect and sort every queued entry).

CREATE TABLE queue_unfinished (
  user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  n       INTEGER NOT NULL CHECK (n >= 0)
) STRICT, WITHOUT ROWID;

INSERT INTO queue_unfinished (user_id, n)
  SELECT user_id, count(*) FROM queue WHERE status IN ('queued', 'claimed') GROUP BY user_id;

CREATE TRIGGER queue_unfinished_insert AFTER INSERT ON queue
WHEN NEW.status IN ('queued', 'claimed')
BEGIN
  INSERT INTO queue_unfinished (user_id, n) VALUES (NEW.user_id, 1)
    ON CONFLICT (user_id) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER queue_unfinished_finished AFTER UPDATE OF status ON queue
WHEN OLD.status IN ('queued', 'claimed') AND NEW.status NOT IN ('queued', 'claimed')
BEGIN
  UPDATE queue_unfinished SET n = max(0, n - 1) WHERE user_id = NEW.user_id;
END;

CREATE TRIGGER queue_unfinished_reopened AFTER UPDATE OF status ON queue
WHEN OLD.status NOT IN ('queued', 'claimed') AND NEW.status IN ('queued', 'claimed')
BEGIN
  INSERT INTO queue_unfinished (user_id, n) VALUES (NEW.user_id, 1)
    ON CONFLICT (user_id) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER queue_unfinished_deleted AFTER DELETE ON queue
WHEN OLD.status IN ('queued', 'claimed')
BEGIN
  UPDATE queue_unfinished SET n = max(0, n - 1) WHERE user_id = OLD.user_id;
END;

DROP INDEX queue_claimable;
CREATE INDEX queue_ready ON queue(available_at, created_at) WHERE status = 'queued';
CREATE INDEX queue_leases ON queue(lease_expires_at) WHERE status = 'claimed';
