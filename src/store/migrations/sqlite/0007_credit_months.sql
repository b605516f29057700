-- 0007_credit_months: each user's live units per calendar month (UTC), kept
-- by a trigger in the transaction that appends to the ledger, and the
-- monthly credit limit enforced there: a live charge that would take the
-- month past the user's monthly_credits aborts its transaction. The
-- database, not a process, has the last word, so every writer (several
-- processes on one file, the CLI) is held to the limit exactly.
-- Months are numbered year * 12 + month - 1, as metering::MonthIndex.

CREATE TABLE credit_months (
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  month   INTEGER NOT NULL,
  used    INTEGER NOT NULL,
  PRIMARY KEY (user_id, month)
) STRICT, WITHOUT ROWID;

INSERT INTO credit_months (user_id, month, used)
  SELECT user_id,
         CAST(strftime('%Y', at / 1000, 'unixepoch') AS INTEGER) * 12 +
           CAST(strftime('%m', at / 1000, 'unixepoch') AS INTEGER) - 1,
         sum(units)
  FROM usage WHERE environment = 'live' GROUP BY 1, 2;

CREATE TRIGGER credit_months_charge AFTER INSERT ON usage
WHEN NEW.environment = 'live'
BEGIN
  INSERT INTO credit_months (user_id, month, used)
    VALUES (NEW.user_id,
            CAST(strftime('%Y', NEW.at / 1000, 'unixepoch') AS INTEGER) * 12 +
              CAST(strftime('%m', NEW.at / 1000, 'unixepoch') AS INTEGER) - 1,
            NEW.units)
    ON CONFLICT (user_id, month) DO UPDATE SET used = used + excluded.used;
  SELECT RAISE(ABORT, 'keyward: monthly credits exhausted')
  WHERE NEW.units > 0 AND
        (SELECT used FROM credit_months
         WHERE user_id = NEW.user_id AND
               month = CAST(strftime('%Y', NEW.at / 1000, 'unixepoch') AS INTEGER) * 12 +
                       CAST(strftime('%m', NEW.at / 1000, 'unixepoch') AS INTEGER) - 1) >
        (SELECT monthly_credits FROM users WHERE id = NEW.user_id);
END;
