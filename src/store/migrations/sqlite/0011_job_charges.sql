-- 0011_job_charges: a job's charge is kept on the job's own row (charged = 1:
-- its cost was charged to its user, in its environment, at created_at)
-- instead of a ledger row of its own. The job row is written anyway; a
-- ledger row added a table row, an entry in usage_by_user_time (a page of
-- each user's range, rewritten by nearly every commit) and a credit trigger
-- per submission.
-- Usage reports add the jobs' charges to the ledger's entries. Jobs written
-- before this version have charged = 0: their charge is a ledger row, and
-- stays one (counted once either way). The ledger keeps every other use.

ALTER TABLE jobs ADD COLUMN charged INTEGER NOT NULL DEFAULT 0 CHECK (charged IN (0, 1));

-- The monthly credits, as 0007 for ledger rows: the same count, the same
-- refusal, in the transaction that writes the job.
CREATE TRIGGER credit_months_job_charge AFTER INSERT ON jobs
WHEN NEW.charged = 1 AND NEW.environment = 'live'
BEGIN
  INSERT INTO credit_months (user_id, month, used)
    VALUES (NEW.user_id,
            CAST(strftime('%Y', NEW.created_at / 1000, 'unixepoch') AS INTEGER) * 12 +
              CAST(strftime('%m', NEW.created_at / 1000, 'unixepoch') AS INTEGER) - 1,
            NEW.cost)
    ON CONFLICT (user_id, month) DO UPDATE SET used = used + excluded.used;
  SELECT RAISE(ABORT, 'keyward: monthly credits exhausted')
  WHERE NEW.cost > 0 AND
        (SELECT used FROM credit_months
         WHERE user_id = NEW.user_id AND
               month = CAST(strftime('%Y', NEW.created_at / 1000, 'unixepoch') AS INTEGER) * 12 +
                       CAST(strftime('%m', NEW.created_at / 1000, 'unixepoch') AS INTEGER) - 1) >
        (SELECT monthly_credits FROM users WHERE id = NEW.user_id);
END;
