-- 0003_job_scope_full_hash: a key issued for one queued job now carries the
-- whole SHA-256 of its job_id (64 hex digits) in its jobs:submit: scope, not
-- the first 16. Keys of entries still in flight are upgraded so that their
-- workers' submissions keep passing; kw_sha256_hex() is registered by keyward
-- on every connection.
UPDATE api_keys SET scopes = 'jobs:submit:' || kw_sha256_hex(q.job_id)
FROM queue q
WHERE q.scoped_key_id = api_keys.id
  AND q.status IN ('queued', 'claimed')
  AND api_keys.scopes = 'jobs:submit:' || substr(kw_sha256_hex(q.job_id), 1, 16);
