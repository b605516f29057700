-- 0005_credit_months: each user's live units per calendar month (UTC), kept
-- by a trigger in the transaction that appends to the ledger, and the
-- monthly credit limit enforced there: a live charge that would take the
-- month past the user's monthly_credits raises KW001 and aborts its
-- transaction. The upsert locks the user's month row until commit, so
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

CREATE FUNCTION keyward_charge_credits() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  total bigint;
  cap   bigint;
BEGIN
  INSERT INTO credit_months AS c (user_id, month, used)
    VALUES (NEW.user_id, keyward_month(NEW.at), NEW.units)
    ON CONFLICT (user_id, month) DO UPDATE SET used = c.used + excluded.used
    RETURNING c.used INTO total;
  IF NEW.units > 0 THEN
    SELECT monthly_credits INTO cap FROM users WHERE id = NEW.user_id;
    IF cap IS NOT NULL AND total > cap THEN
      RAISE EXCEPTION 'keyward: monthly credits exhausted' USING ERRCODE = 'KW001';
    END IF;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER credit_months_charge AFTER INSERT ON usage
FOR EACH ROW WHEN (NEW.environment = 'live') EXECUTE FUNCTION keyward_charge_credits();
