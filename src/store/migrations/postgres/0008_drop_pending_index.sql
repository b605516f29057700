-- 0008_drop_pending_index: see the SQLite migration 0010 of the same name.
-- Nodes one version behind never read the index either.

DROP INDEX IF EXISTS jobs_pending_by_user;
