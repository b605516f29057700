-- 0012_checks_without_lists: the status checks of jobs and queue say the same
-- thing without a list. SQLite evaluates `x IN (a, b, c, …)` of three values
-- or more by building a temporary B-tree of the list, and a CHECK does so on
-- every row it checks: two of them per queue entry written, one per job —
-- about 0.9 µs each, on the thread that commits every submission. A chain of
-- equalities is compared in place and refuses exactly the same rows.
--
-- Only the constraints' text changes, not what any row on disk must be, so
-- the tables are not rebuilt: this is SQLite's documented way to change a
-- table's definition without touching its content (writable_schema, then a
-- schema reload here and a schema-cookie change for every other connection,
-- which the CREATE/DROP below makes). A definition that does not hold the
-- expected text (edited by hand) is left as it is: it still checks the same.

PRAGMA writable_schema = ON;

UPDATE sqlite_schema SET sql = replace(replace(sql,
    'CHECK (status IN (''queued'', ''claimed'', ''done'', ''failed'', ''dead''))',
    'CHECK (status = ''queued'' OR status = ''claimed'' OR status = ''done'' OR status = ''failed'' OR status = ''dead'')'),
    'CHECK (sealed_key IS NOT NULL OR status IN (''done'', ''failed'', ''dead''))',
    'CHECK (sealed_key IS NOT NULL OR status = ''done'' OR status = ''failed'' OR status = ''dead'')')
WHERE type = 'table' AND name = 'queue';

UPDATE sqlite_schema SET sql = replace(sql,
    'CHECK (status IN (''queued'', ''running'', ''succeeded'', ''failed''))',
    'CHECK (status = ''queued'' OR status = ''running'' OR status = ''succeeded'' OR status = ''failed'')')
WHERE type = 'table' AND name = 'jobs';

PRAGMA writable_schema = RESET;

CREATE TABLE schema_reload_0012 (x INTEGER) STRICT;
DROP TABLE schema_reload_0012;
