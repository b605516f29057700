-- 0005_credit_months: each user's live units per calendar month (UTC), kept
-- by a trigger in the transaction that appends to the ledger, and the
-- monthly credit limit enforced there: a live charge that would take the
-- month past the user's monthly_credits raises KW001 and aborts its
-- statement's transaction. The upsert locks the user's month row until commit, so
-- concurrent charges of one user on any number of nodes queue on that row
-- and each sees the sum the others committed: the limit holds exactly.
-- Months are numbered year * 12 + month - 1, as metering::MonthIndex.

CREATE FUNCTION keyward_month(at bigint) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (extract(year FROM t) * 12 + extract(month FROM t) - 1)::integer
  FROM (SELECT to_timestamp(at / 1000.0) AT TIME ZONE 'UTC' AS t) s
$$;

CREATE TABLE credit_months (
  user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  month   integer NOT NULL,
  used    bigint NOT NULL,
  PRIMARY KEY (user_id, month)
);

INSERT INTO credit_months (user_id, month, used)
  SELECT user_id, keyward_month(at), sum(units)
  FROM usage WHERE environment = 'live' GROUP BY 1, 2;

-- Once per statement over the rows it added (a group commit's whole batch):
-- one upsert per user and month, in key order so that concurrent batches
-- lock the rows in one order, then one check. A batch that takes any user
-- past the limit is refused as a whole; the caller retries its entries one
-- by one, so only the charge too many fails.
CREATE FUNCTION keyward_charge_credits() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO credit_months AS c (user_id, month, used)
    SELECT user_id, keyward_month(at), sum(units) FROM added
    WHERE environment = 'live' GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (user_id, month) DO UPDATE SET used = c.used + excluded.used;
  IF EXISTS (
    SELECT 1
    FROM (SELECT DISTINCT user_id, keyward_month(at) AS month FROM added
          WHERE environment = 'live' AND units > 0) a
    JOIN credit_months c ON c.user_id = a.user_id AND c.month = a.month
    JOIN users u ON u.id = a.user_id
    WHERE u.monthly_credits IS NOT NULL AND c.used > u.monthly_credits) THEN
    RAISE EXCEPTION 'keyward: monthly credits exhausted' USING ERRCODE = 'KW001';
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER credit_months_charge AFTER INSERT ON usage
REFERENCING NEW TABLE AS added
FOR EACH STATEMENT EXECUTE FUNCTION keyward_charge_credits();
