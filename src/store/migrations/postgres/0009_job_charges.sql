-- 0009_job_charges: see the SQLite migration 0011 of the same name. A job's
-- charge is kept on its row (charged: its cost was charged to its user, in
-- its environment, at created_at); jobs written before have charged false
-- and their charge in the ledger. During a rolling upgrade, nodes one
-- version behind still write ledger rows (counted once: their jobs are not
-- charged on the row) and leave the upgraded nodes' job charges out of the
-- usage reports they serve; the credit counts hold either way.

ALTER TABLE jobs ADD COLUMN charged boolean NOT NULL DEFAULT false;

-- As keyward_charge_credits (0005) for ledger rows: once per statement over
-- the rows it added, one upsert per user and month in key order, one check.
CREATE FUNCTION keyward_charge_job_credits() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO credit_months AS c (user_id, month, used)
    SELECT user_id, keyward_month(created_at), sum(cost) FROM added
    WHERE environment = 'live' AND charged GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (user_id, month) DO UPDATE SET used = c.used + excluded.used;
  IF EXISTS (
    SELECT 1
    FROM (SELECT DISTINCT user_id, keyward_month(created_at) AS month FROM added
          WHERE environment = 'live' AND charged AND cost > 0) a
    JOIN credit_months c ON c.user_id = a.user_id AND c.month = a.month
    JOIN users u ON u.id = a.user_id
    WHERE u.monthly_credits IS NOT NULL AND c.used > u.monthly_credits) THEN
    RAISE EXCEPTION 'keyward: monthly credits exhausted' USING ERRCODE = 'KW001';
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER credit_months_job_charge AFTER INSERT ON jobs
REFERENCING NEW TABLE AS added
FOR EACH STATEMENT EXECUTE FUNCTION keyward_charge_job_credits();
