-- 0002_change_feed: every change that can make a cached verification wrong
-- is recorded by triggers in the same transaction as the change, whoever
-- makes it, and announced with NOTIFY keyward_changes.
--
-- Sequence numbers follow commit order: a change takes the next number from
-- one counter row, whose lock it holds until its transaction ends, so a
-- later number cannot become visible before an earlier one. (A sequence
-- would not do: two transactions can commit in the other order, and a
-- reader past the later number would never see the earlier one.) Statements
-- that may record changes lock the counter before their first row, so that
-- two of them never hold row locks in opposite orders. Only columns that
-- decisions read count: last_used_at updates record nothing.

CREATE TABLE change_counter (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  seq bigint NOT NULL
);
INSERT INTO change_counter (one, seq) VALUES (true, 0);

CREATE TABLE changes (
  seq     bigint PRIMARY KEY,
  user_id text NOT NULL,
  at      bigint NOT NULL
);
CREATE INDEX changes_by_time ON changes (at);

CREATE FUNCTION keyward_lock_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM change_counter FOR UPDATE;
  RETURN NULL;
END $$;

CREATE FUNCTION keyward_record_change(uid text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  n bigint;
BEGIN
  UPDATE change_counter SET seq = seq + 1 RETURNING seq INTO n;
  INSERT INTO changes (seq, user_id, at)
    VALUES (n, uid, (extract(epoch FROM clock_timestamp()) * 1000)::bigint);
  PERFORM pg_notify('keyward_changes', n::text);
END $$;

-- A row trigger; its argument names the column that holds the user's id
-- ('user_id' on api_keys, 'id' on users).
CREATE FUNCTION keyward_row_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  old_user text := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) ->> TG_ARGV[0] END;
  new_user text := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) ->> TG_ARGV[0] END;
BEGIN
  IF new_user IS NOT NULL THEN
    PERFORM keyward_record_change(new_user);
  END IF;
  IF old_user IS NOT NULL AND old_user IS DISTINCT FROM new_user THEN
    PERFORM keyward_record_change(old_user);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER api_keys_lock_changes
  BEFORE UPDATE OF user_id, environment, scopes, hash, expires_at, revoked_at OR DELETE ON api_keys
  FOR EACH STATEMENT EXECUTE FUNCTION keyward_lock_changes();
CREATE TRIGGER api_keys_changed
  AFTER UPDATE OF user_id, environment, scopes, hash, expires_at, revoked_at OR DELETE ON api_keys
  FOR EACH ROW EXECUTE FUNCTION keyward_row_changed('user_id');
CREATE TRIGGER users_lock_changes
  BEFORE UPDATE OR DELETE ON users
  FOR EACH STATEMENT EXECUTE FUNCTION keyward_lock_changes();
CREATE TRIGGER users_changed
  AFTER UPDATE OR DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION keyward_row_changed('id');
