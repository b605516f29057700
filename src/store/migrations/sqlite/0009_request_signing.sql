-- 0009_request_signing: signed requests (RFC 9421). Each key's signing
-- secret (HKDF of the key, derived when keyward sees the plaintext: at issue,
-- or at the key's first bearer use) is kept sealed under the seal key, never
-- in the clear; a stored hash alone cannot sign. require_signature on a key
-- or on the user's plan refuses the key as a bearer credential. Both change
-- what a cached verification decides, so the change feed records them.

ALTER TABLE api_keys ADD COLUMN signing_secret BLOB
  CHECK (signing_secret IS NULL OR length(signing_secret) BETWEEN 1 AND 256);
ALTER TABLE api_keys ADD COLUMN require_signature INTEGER NOT NULL DEFAULT 0
  CHECK (require_signature IN (0, 1));
ALTER TABLE users ADD COLUMN require_signature INTEGER NOT NULL DEFAULT 0
  CHECK (require_signature IN (0, 1));

DROP TRIGGER api_keys_changed;
CREATE TRIGGER api_keys_changed
AFTER UPDATE OF user_id, environment, scopes, hash, expires_at, revoked_at, signing_secret, require_signature
ON api_keys
BEGIN
  INSERT INTO changes (user_id, at) VALUES (NEW.user_id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
