-- 0010_drop_pending_index: a server counts each user's unfinished jobs in
-- memory (rebuilt from jobs_unfinished at start), so the per-user partial
-- index was maintained on every submission and every outcome and read by
-- nothing: one B-tree write fewer on each side of a job's life.

DROP INDEX IF EXISTS jobs_pending_by_user;
