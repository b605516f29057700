-- 0007_request_signing: signed requests; see the SQLite migration 0009 of
-- the same name.

ALTER TABLE api_keys ADD COLUMN signing_secret bytea
  CHECK (signing_secret IS NULL OR length(signing_secret) BETWEEN 1 AND 256);
ALTER TABLE api_keys ADD COLUMN require_signature boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN require_signature boolean NOT NULL DEFAULT false;

DROP TRIGGER api_keys_lock_changes ON api_keys;
DROP TRIGGER api_keys_changed ON api_keys;
CREATE TRIGGER api_keys_lock_changes
  BEFORE UPDATE OF user_id, environment, scopes, hash, expires_at, revoked_at, signing_secret, require_signature
  OR DELETE ON api_keys
  FOR EACH STATEMENT EXECUTE FUNCTION keyward_lock_changes();
CREATE TRIGGER api_keys_changed
  AFTER UPDATE OF user_id, environment, scopes, hash, expires_at, revoked_at, signing_secret, require_signature
  OR DELETE ON api_keys
  FOR EACH ROW EXECUTE FUNCTION keyward_row_changed('user_id');
