// queue_store.cc: the durable job queue on PostgreSQL.
#include "store/postgres/queue_store.h"

#include "store/cursor.h"
#include "store/postgres/connection.h"
#include "store/rows.h"

namespace keyward::store::postgres {
namespace {

#define KW_QUEUE_COLUMNS \
  "id, user_id, environment, job_id, task, encode(sealed_key, 'hex'), scoped_key_id, status, " \
  "attempts, max_attempts, lease_owner, lease_expires_at, available_at, last_error, " \
  "result_job_id, created_at, updated_at, coalesce(seal_key, '')"


// Reads KW_QUEUE_COLUMNS, then the payload when `full`.
QueueEntry ReadEntry(const Result& r, int row, bool full) {
  QueueEntry e;
  e.id = r.Text(row, 0);
  e.user_id = r.Text(row, 1);
  e.environment = ReadEnv(r.Text(row, 2));
  e.job_id = r.Text(row, 3);
  e.task = r.Text(row, 4);
  if (!r.IsNull(row, 5)) e.sealed_key = FromHex(r.Text(row, 5));
  e.scoped_key_id = r.OptText(row, 6);
  e.status = ParseQueueStatus(r.Text(row, 7)).value_or(QueueStatus::kDead);
  e.attempts = static_cast<int>(r.Int(row, 8));
  e.max_attempts = static_cast<int>(r.Int(row, 9));
  e.lease_owner = r.OptText(row, 10);
  e.lease_expires_at = r.OptInt(row, 11);
  e.available_at = r.Int(row, 12);
  e.last_error = r.OptText(row, 13);
  e.result_job_id = r.OptText(row, 14);
  e.created_at = r.Int(row, 15);
  e.updated_at = r.Int(row, 16);
  e.seal_key = r.Text(row, 17);
  if (full) e.payload = r.Text(row, 18);
  return e;
}

std::vector<QueueEntry> ReadAll(const Result& r, bool full) {
  std::vector<QueueEntry> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(ReadEntry(r, i, full));
  return out;
}

StatusOr<QueueEntry> OneEntry(StatusOr<Result> r, std::string not_found) {
  KW_RETURN_IF_ERROR(r.status());
  if (r->rows() == 0) return NotFoundError(std::move(not_found));
  return ReadEntry(*r, 0, true);
}

// The recorded seal key's fingerprint, or "" if none.
StatusOr<std::string> RecordedSealKey(Conn& c) {
  KW_ASSIGN_OR_RETURN(Result r, c.Exec("SELECT value FROM meta WHERE name = 'seal_key'"));
  return r.rows() == 0 ? std::string() : r.Text(0, 0);
}

Status RecordSealKey(Conn& c, const std::string& fingerprint) {
  return c.Exec("INSERT INTO meta (name, value) VALUES ('seal_key', $1) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                {fingerprint}).status();
}

// Revokes the key issued for entry `entry_id` alone, if any.
Status RevokeScopedKey(Conn& c, const std::string& entry_id, UnixMillis now) {
  return c.Exec("UPDATE api_keys SET revoked_at = $1 WHERE revoked_at IS NULL "
                "AND id = (SELECT scoped_key_id FROM queue WHERE id = $2)",
                {Num(now), entry_id}).status();
}

Status SealKeyDiffers(const std::string& recorded, const std::string& mine) {
  return FailedPreconditionError("the queue's credentials are sealed under seal key " + recorded +
                                 ", not this process's key " + mine +
                                 " (the key was rotated, or processes sharing the database use "
                                 "different keys)");
}

Status EnqueueOne(Conn& c, const QueueEntry& e, int max_unfinished_per_user,
                  const std::string& recorded) {
  if (!e.sealed_key) return InvalidArgumentError("a queue entry needs a sealed credential");
  if (recorded != e.seal_key) return SealKeyDiffers(recorded, e.seal_key);
  // The user's count row, locked until commit: enqueues for one user on
  // several nodes take turns, so the bound holds across them.
  StatusOr<Result> counted = c.Exec(
      "INSERT INTO queue_unfinished (user_id, n) VALUES ($1, 0) "
      "ON CONFLICT (user_id) DO UPDATE SET n = queue_unfinished.n RETURNING n",
      {e.user_id});
  if (counted.status().code() == StatusCode::kNotFound) {
    return NotFoundError("user " + e.user_id + " does not exist");
  }
  KW_RETURN_IF_ERROR(counted.status());
  const std::int64_t unfinished = counted->Int(0, 0);
  if (unfinished >= max_unfinished_per_user) {
    return ResourceExhaustedError("the user has " + std::to_string(unfinished) +
                                  " unfinished queue entries, the most allowed");
  }
  Status st = c.Exec(
      "INSERT INTO queue (id, user_id, environment, job_id, task, sealed_key, scoped_key_id, "
      "status, attempts, max_attempts, lease_owner, lease_expires_at, available_at, last_error, "
      "result_job_id, created_at, updated_at, seal_key, payload) "
      "VALUES ($1, $2, $3, $4, $5, $6::bytea, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
      {e.id, e.user_id, Env(e.environment), e.job_id, e.task, ByteaParam(*e.sealed_key), e.scoped_key_id,
       std::string(QueueStatusName(e.status)), Num(e.attempts), Num(e.max_attempts), e.lease_owner,
       Num(e.lease_expires_at), Num(e.available_at), e.last_error, e.result_job_id, Num(e.created_at),
       Num(e.updated_at), e.seal_key, e.payload}).status();
  if (st.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("job_id '" + e.job_id + "' is already queued for this user");
  }
  if (st.code() == StatusCode::kNotFound) return NotFoundError("user " + e.user_id + " does not exist");
  return st;
}

Status FinishOne(Conn& c, const QueueEntry& e, const std::string& worker, UnixMillis now) {
  const bool final = IsFinal(e.status);
  KW_ASSIGN_OR_RETURN(Result r, c.Exec(
      "UPDATE queue SET status = $1, attempts = $2, available_at = $3, last_error = $4, "
      "result_job_id = $5, lease_owner = NULL, lease_expires_at = NULL, updated_at = $6, "
      "sealed_key = CASE WHEN $9::boolean THEN NULL ELSE sealed_key END "
      "WHERE id = $7 AND status = 'claimed' AND lease_owner = $8",
      {std::string(QueueStatusName(e.status)), Num(e.attempts), Num(e.available_at), e.last_error,
       e.result_job_id, Num(now), e.id, worker, final ? "true" : "false"}));
  if (r.affected() == 0) {
    return FailedPreconditionError("lease on " + e.id + " was lost (expired and claimed again)");
  }
  // The key issued for this entry alone dies with it, in the same commit.
  if (final) KW_RETURN_IF_ERROR(RevokeScopedKey(c, e.id, now));
  return OkStatus();
}

// EachUnderSavepoint (store/rows.h) on a pooled connection.
template <typename Item, typename One>
std::vector<Status> EachInOneTransaction(Pool& pool, const std::vector<Item>& items, One one) {
  StatusOr<Pool::Lease> c = pool.Acquire();
  if (!c.ok()) return std::vector<Status>(items.size(), c.status());
  Conn& conn = **c;
  Transaction tx(conn);
  auto run = [&conn](const char* sql) { return conn.Run(sql); };
  return EachUnderSavepoint(tx, run, items, [&](const Item& item) { return one(conn, item); });
}

}  // namespace

std::vector<Status> PgQueueStore::EnqueueMany(const std::vector<QueueEntry>& entries,
                                              int max_unfinished_per_user) {
  std::string recorded;
  bool read_seal_key = false;
  return EachInOneTransaction(pool_, entries, [&](Conn& c, const QueueEntry& e) -> Status {
    if (!read_seal_key) {
      KW_ASSIGN_OR_RETURN(recorded, RecordedSealKey(c));
      read_seal_key = true;
    }
    if (recorded.empty() && e.sealed_key) {
      KW_RETURN_IF_ERROR(RecordSealKey(c, e.seal_key));
      recorded = e.seal_key;
    }
    return EnqueueOne(c, e, max_unfinished_per_user, recorded);
  });
}

StatusOr<QueueEntry> PgQueueStore::GetQueueEntry(const std::string& id) {
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  return OneEntry(c->Exec("SELECT " KW_QUEUE_COLUMNS ", payload FROM queue WHERE id = $1", {id}),
                  "queue entry " + id + " does not exist");
}

StatusOr<QueueEntry> PgQueueStore::FindQueueEntry(const std::string& user_id, Environment env,
                                                  const std::string& job_id) {
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  return OneEntry(c->Exec("SELECT " KW_QUEUE_COLUMNS ", payload FROM queue "
                          "WHERE user_id = $1 AND environment = $2 AND job_id = $3",
                          {user_id, Env(env), job_id}),
                  "job_id '" + job_id + "' is not queued");
}

StatusOr<Page<QueueEntry>> PgQueueStore::ListQueue(const QueueFilter& filter, const PageRequest& page) {
  KW_ASSIGN_OR_RETURN(std::optional<CursorPosition> after, CheckPage(page));
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  // "" means "any" for each filter.
  KW_ASSIGN_OR_RETURN(Result r, ExecPage(*c, page.limit, after,
      "SELECT " KW_QUEUE_COLUMNS " FROM queue WHERE ($2 = '' OR user_id = $2) "
      "AND ($3 = '' OR status = $3) AND ($4 = '' OR environment = $4) "
      "ORDER BY created_at DESC, id DESC LIMIT $1",
      "SELECT " KW_QUEUE_COLUMNS " FROM queue WHERE ($2 = '' OR user_id = $2) "
      "AND ($3 = '' OR status = $3) AND ($4 = '' OR environment = $4) "
      "AND (created_at, id) < ($5, $6) ORDER BY created_at DESC, id DESC LIMIT $1",
      {filter.user_id, filter.status ? std::string(QueueStatusName(*filter.status)) : std::string(),
       filter.environment ? Env(*filter.environment) : std::string()}));
  std::vector<QueueEntry> rows = ReadAll(r, false);
  for (QueueEntry& e : rows) e.sealed_key.reset();  // listings never carry credentials
  return MakePage(std::move(rows), page.limit,
                  [](const QueueEntry& e) { return EncodeCursor(e.created_at, e.id); });
}

StatusOr<std::vector<QueueEntry>> PgQueueStore::ClaimQueue(const std::string& worker,
                                                           const std::string& seal_key, UnixMillis now,
                                                           std::int64_t lease_ms, int limit) {
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  // Expired leases first (a crashed worker's entries), then the oldest
  // available entries; rows another worker is claiming right now are
  // skipped, not waited for. One statement: its own transaction.
  KW_ASSIGN_OR_RETURN(Result r, c->Exec(
      "WITH expired AS (SELECT id FROM queue "
      "    WHERE status = 'claimed' AND lease_expires_at <= $2 "
      "    AND (seal_key IS NULL OR seal_key = $5) ORDER BY lease_expires_at LIMIT $4 "
      "    FOR UPDATE SKIP LOCKED), "
      "  ready AS (SELECT id FROM queue WHERE status = 'queued' AND available_at <= $2 "
      "    AND (seal_key IS NULL OR seal_key = $5) ORDER BY available_at, created_at LIMIT $4 "
      "    FOR UPDATE SKIP LOCKED), "
      "  picked AS (SELECT id FROM expired UNION ALL SELECT id FROM ready LIMIT $4) "
      "UPDATE queue SET status = 'claimed', lease_owner = $1, lease_expires_at = $2 + $3, "
      "attempts = attempts + 1, updated_at = $2 WHERE id IN (SELECT id FROM picked) "
      "RETURNING " KW_QUEUE_COLUMNS ", payload",
      {worker, Num(now), Num(lease_ms), Num(limit), seal_key}));
  return ReadAll(r, true);
}

std::vector<Status> PgQueueStore::FinishClaims(const std::vector<QueueEntry>& entries,
                                               const std::string& worker, UnixMillis now) {
  return EachInOneTransaction(pool_, entries, [&](Conn& c, const QueueEntry& e) {
    return FinishOne(c, e, worker, now);
  });
}

StatusOr<std::int64_t> PgQueueStore::CountUnfinished(const std::string& user_id) {
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  KW_ASSIGN_OR_RETURN(Result r, c->Exec("SELECT coalesce(sum(n), 0) FROM queue_unfinished "
                                        "WHERE $1 = '' OR user_id = $1",
                                        {user_id}));
  return r.Int(0, 0);
}

StatusOr<std::string> PgQueueStore::AdoptSealKey(const std::string& fingerprint) {
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  if (!fingerprint.empty()) {
    // Only the first fingerprint is ever recorded, whoever races for it.
    KW_RETURN_IF_ERROR(c->Exec("INSERT INTO meta (name, value) VALUES ('seal_key', $1) "
                               "ON CONFLICT (name) DO NOTHING",
                               {fingerprint}).status());
  }
  return RecordedSealKey(*c);
}

StatusOr<std::vector<QueueEntry>> PgQueueStore::ListInFlight() {
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  KW_ASSIGN_OR_RETURN(Result r, c->Exec("SELECT " KW_QUEUE_COLUMNS ", payload FROM queue "
                                        "WHERE status IN ('queued', 'claimed') ORDER BY created_at, id"));
  return ReadAll(r, true);
}

Status PgQueueStore::ReplaceSealKey(const std::string& old_key, const std::string& new_key,
                                    const std::vector<std::pair<std::string, std::string>>& resealed,
                                    const std::vector<std::string>& abandoned,
                                    const std::vector<std::pair<std::string, std::string>>& signing_secrets,
                                    UnixMillis now) {
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  Transaction tx(*c);
  KW_RETURN_IF_ERROR(tx.Begin());
  KW_ASSIGN_OR_RETURN(Result locked, c->Exec("SELECT value FROM meta WHERE name = 'seal_key' FOR UPDATE"));
  const std::string recorded = locked.rows() == 0 ? std::string() : locked.Text(0, 0);
  if (!recorded.empty() && recorded != old_key) return SealKeyDiffers(recorded, old_key);
  for (const auto& [id, sealed] : resealed) {
    KW_RETURN_IF_ERROR(c->Exec("UPDATE queue SET sealed_key = $1::bytea, seal_key = $2, updated_at = $3 "
                               "WHERE id = $4 AND status IN ('queued', 'claimed')",
                               {ByteaParam(sealed), new_key, Num(now), id}).status());
  }
  for (const std::string& id : abandoned) {
    KW_RETURN_IF_ERROR(RevokeScopedKey(*c, id, now));
    KW_RETURN_IF_ERROR(c->Exec("UPDATE queue SET status = 'dead', sealed_key = NULL, lease_owner = NULL, "
                               "lease_expires_at = NULL, updated_at = $1, "
                               "last_error = 'its credential was sealed under a seal key that was lost' "
                               "WHERE id = $2 AND status IN ('queued', 'claimed')",
                               {Num(now), id}).status());
  }
  for (const auto& [key_id, sealed] : signing_secrets) {
    std::optional<std::string> value;
    if (!sealed.empty()) value = ByteaParam(sealed);
    KW_RETURN_IF_ERROR(c->Exec("UPDATE api_keys SET signing_secret = $1::bytea WHERE id = $2",
                               {value, key_id}).status());
  }
  KW_ASSIGN_OR_RETURN(Result n, c->Exec("SELECT count(*) FROM api_keys WHERE signing_secret IS NOT NULL"));
  if (n.Int(0, 0) != CountSealed(signing_secrets)) return SecretsChangedMeanwhile();
  KW_RETURN_IF_ERROR(RecordSealKey(*c, new_key));
  return tx.Commit();
}

}  // namespace keyward::store::postgres
