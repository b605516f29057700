-- 0005_change_feed: every change that can make a cached verification wrong is
-- recorded by triggers, in the same transaction as the change, whoever makes
-- it. Servers follow the feed to drop what they cache about that user. Only
-- columns that decisions read count: last_used_at updates are not changes.

CREATE TABLE changes (
  seq     INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id TEXT NOT NULL,
  at      INTEGER NOT NULL
) STRICT;
CREATE INDEX changes_by_time ON changes(at);

CREATE TRIGGER api_keys_changed
AFTER UPDATE OF user_id, environment, scopes, hash, expires_at, revoked_at ON api_keys
BEGIN
  INSERT INTO changes (user_id, at) VALUES (NEW.user_id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER api_keys_deleted AFTER DELETE ON api_keys
BEGIN
  INSERT INTO changes (user_id, at) VALUES (OLD.user_id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER users_changed AFTER UPDATE ON users
BEGIN
  INSERT INTO changes (user_id, at) VALUES (NEW.id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER users_deleted AFTER DELETE ON users
BEGIN
  INSERT INTO changes (user_id, at) VALUES (OLD.id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
