// queue_store.cc: the durable job queue on SQLite.
#include "store/cursor.h"
#include "store/sqlite/parts.h"

namespace keyward::store::sqlite {
namespace {

#define KW_QUEUE_COLUMNS \
  "id, user_id, environment, job_id, task, sealed_key, scoped_key_id, status, attempts, " \
  "max_attempts, lease_owner, lease_expires_at, available_at, last_error, result_job_id, " \
  "created_at, updated_at, coalesce(seal_key, '')"

// Reads KW_QUEUE_COLUMNS, then the payload when `full`.
QueueEntry ReadEntry(const Stmt& s, bool full) {
  QueueEntry e;
  e.id = s.Text(0);
  e.user_id = s.Text(1);
  e.environment = ReadEnv(s, 2);
  e.job_id = s.Text(3);
  e.task = s.Text(4);
  if (!s.IsNull(5)) e.sealed_key = s.Blob(5);
  e.scoped_key_id = s.OptText(6);
  e.status = ParseQueueStatus(s.Text(7)).value_or(QueueStatus::kDead);
  e.attempts = static_cast<int>(s.Int(8));
  e.max_attempts = static_cast<int>(s.Int(9));
  e.lease_owner = s.OptText(10);
  e.lease_expires_at = s.OptInt(11);
  e.available_at = s.Int(12);
  e.last_error = s.OptText(13);
  e.result_job_id = s.OptText(14);
  e.created_at = s.Int(15);
  e.updated_at = s.Int(16);
  e.seal_key = s.Text(17);
  if (full) e.payload = s.Text(18);
  return e;
}

QueueEntry ReadFullEntry(const Stmt& s) { return ReadEntry(s, true); }
QueueEntry ReadEntrySummary(const Stmt& s) {
  QueueEntry e = ReadEntry(s, false);
  e.sealed_key.reset();  // listings never carry credentials
  return e;
}

}  // namespace

namespace {

// The recorded seal key's fingerprint, or "" if none. REQUIRES: mu held.
StatusOr<std::string> RecordedSealKey(Db& db) {
  KW_ASSIGN_OR_RETURN(Stmt s, db.Prepare("SELECT value FROM meta WHERE name = 'seal_key'"));
  StatusOr<std::string> v = One(s, [](const Stmt& r) { return r.Text(0); }, "");
  if (!v.ok() && v.status().code() == StatusCode::kNotFound) return std::string();
  return v;
}

Status RecordSealKey(Db& db, const std::string& fingerprint) {
  KW_ASSIGN_OR_RETURN(Stmt s, db.Prepare(
      "INSERT INTO meta (name, value) VALUES ('seal_key', ?1) "
      "ON CONFLICT (name) DO UPDATE SET value = ?1"));
  s.Bind(1, fingerprint);
  return s.Run();
}

// Revokes the key issued for entry `entry_id` alone, if any. REQUIRES: mu held.
Status RevokeScopedKey(Db& db, const std::string& entry_id, UnixMillis now) {
  KW_ASSIGN_OR_RETURN(Stmt r, db.Prepare(
      "UPDATE api_keys SET revoked_at = ?1 WHERE revoked_at IS NULL "
      "AND id = (SELECT scoped_key_id FROM queue WHERE id = ?2)"));
  r.Bind(1, now).Bind(2, entry_id);
  return r.Run();
}

Status SealKeyDiffers(const std::string& recorded, const std::string& mine) {
  return FailedPreconditionError("the queue's credentials are sealed under seal key " + recorded +
                                 ", not this process's key " + mine +
                                 " (the key was rotated, or processes sharing the database use "
                                 "different keys)");
}

// EachUnderSavepoint (store/rows.h) on the writer connection. REQUIRES: mu held.
template <typename Item, typename One>
std::vector<Status> EachInOneTransaction(Db& db, const std::vector<Item>& items, One one) {
  Transaction tx(db);
  auto run = [&db](const char* sql) -> Status {
    KW_ASSIGN_OR_RETURN(Stmt s, db.Prepare(sql));  // prepared once, cached
    return s.Run();
  };
  return EachUnderSavepoint(tx, run, items, one);
}

}  // namespace

std::vector<Status> SqliteQueueStore::EnqueueMany(const std::vector<QueueEntry>& entries,
                                                  int max_unfinished_per_user) {
  std::lock_guard lock(shared_.mu);
  std::string recorded;
  bool read_seal_key = false;
  return EachInOneTransaction(db(), entries, [&](const QueueEntry& e) -> Status {
    if (!read_seal_key) {
      KW_ASSIGN_OR_RETURN(recorded, RecordedSealKey(db()));
      read_seal_key = true;
    }
    if (recorded.empty() && e.sealed_key) {
      KW_RETURN_IF_ERROR(RecordSealKey(db(), e.seal_key));
      recorded = e.seal_key;
    }
    return EnqueueOne(e, max_unfinished_per_user, recorded);
  });
}

Status SqliteQueueStore::EnqueueOne(const QueueEntry& e, int max_unfinished_per_user,
                                    const std::string& recorded) {
  if (!e.sealed_key) return InvalidArgumentError("a queue entry needs a sealed credential");
  if (recorded != e.seal_key) return SealKeyDiffers(recorded, e.seal_key);
  KW_ASSIGN_OR_RETURN(Stmt c, db().Prepare("SELECT n FROM queue_unfinished WHERE user_id = ?"));
  c.Bind(1, e.user_id);
  Status counted;
  std::int64_t unfinished = c.Step(&counted) ? c.Int(0) : 0;
  KW_RETURN_IF_ERROR(counted);
  if (unfinished >= max_unfinished_per_user) {
    return ResourceExhaustedError("the user has " + std::to_string(unfinished) +
                                  " unfinished queue entries, the most allowed");
  }
  KW_ASSIGN_OR_RETURN(Stmt s, db().Prepare(
      "INSERT INTO queue (id, user_id, environment, job_id, task, sealed_key, scoped_key_id, "
      "status, attempts, max_attempts, lease_owner, lease_expires_at, available_at, last_error, "
      "result_job_id, created_at, updated_at, seal_key, payload) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  s.Bind(1, e.id).Bind(2, e.user_id).Bind(3, EnvText(e.environment)).Bind(4, e.job_id);
  s.Bind(5, e.task).BindBlob(6, e.sealed_key->data(), e.sealed_key->size());
  s.Bind(7, e.scoped_key_id).Bind(8, QueueStatusName(e.status));
  s.Bind(9, static_cast<std::int64_t>(e.attempts)).Bind(10, static_cast<std::int64_t>(e.max_attempts));
  s.Bind(11, e.lease_owner).Bind(12, e.lease_expires_at).Bind(13, e.available_at);
  s.Bind(14, e.last_error).Bind(15, e.result_job_id).Bind(16, e.created_at).Bind(17, e.updated_at);
  s.Bind(18, e.seal_key).Bind(19, e.payload);
  Status st = s.Run();
  if (st.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("job_id '" + e.job_id + "' is already queued for this user");
  }
  if (st.code() == StatusCode::kNotFound) return NotFoundError("user " + e.user_id + " does not exist");
  return st;
}

StatusOr<QueueEntry> SqliteQueueStore::GetQueueEntry(const std::string& id) {
  Reader r = ForRead();
  KW_ASSIGN_OR_RETURN(Stmt s, r.db().Prepare(
      "SELECT " KW_QUEUE_COLUMNS ", payload FROM queue WHERE id = ?"));
  s.Bind(1, id);
  return One(s, ReadFullEntry, "queue entry " + id + " does not exist");
}

StatusOr<QueueEntry> SqliteQueueStore::FindQueueEntry(const std::string& user_id, Environment env,
                                                      const std::string& job_id) {
  Reader r = ForRead();
  KW_ASSIGN_OR_RETURN(Stmt s, r.db().Prepare(
      "SELECT " KW_QUEUE_COLUMNS ", payload FROM queue "
      "WHERE user_id = ? AND environment = ? AND job_id = ?"));
  s.Bind(1, user_id).Bind(2, EnvText(env)).Bind(3, job_id);
  return One(s, ReadFullEntry, "job_id '" + job_id + "' is not queued");
}

StatusOr<Page<QueueEntry>> SqliteQueueStore::ListQueue(const QueueFilter& filter,
                                                       const PageRequest& page) {
  KW_ASSIGN_OR_RETURN(std::optional<CursorPosition> after, CheckPage(page));
  Reader r = ForRead();
  KW_ASSIGN_OR_RETURN(Stmt s, r.db().Prepare(
      after ? "SELECT " KW_QUEUE_COLUMNS " FROM queue WHERE (?4 = '' OR user_id = ?4) "
              "AND (?5 = '' OR status = ?5) AND (?6 = '' OR environment = ?6) "
              "AND (created_at, id) < (?1, ?2) ORDER BY created_at DESC, id DESC LIMIT ?3"
            : "SELECT " KW_QUEUE_COLUMNS " FROM queue WHERE (?4 = '' OR user_id = ?4) "
              "AND (?5 = '' OR status = ?5) AND (?6 = '' OR environment = ?6) "
              "ORDER BY created_at DESC, id DESC LIMIT ?3"));
  if (after) s.Bind(1, after->at).Bind(2, after->id);
  s.Bind(3, static_cast<std::int64_t>(page.limit) + 1).Bind(4, filter.user_id);
  // "" (not a null pointer, which SQLite would bind as NULL) means "any".
  s.Bind(5, filter.status ? QueueStatusName(*filter.status) : std::string_view(""));
  s.Bind(6, filter.environment ? EnvText(*filter.environment) : std::string_view(""));
  KW_ASSIGN_OR_RETURN(std::vector<QueueEntry> rows, All(s, ReadEntrySummary));
  return MakePage(std::move(rows), page.limit,
                  [](const QueueEntry& e) { return EncodeCursor(e.created_at, e.id); });
}

StatusOr<std::vector<QueueEntry>> SqliteQueueStore::ClaimQueue(const std::string& worker,
                                                               const std::string& seal_key,
                                                               UnixMillis now,
                                                               std::int64_t lease_ms, int limit) {
  std::lock_guard lock(shared_.mu);
  Transaction tx(db());
  KW_RETURN_IF_ERROR(tx.Begin());
  KW_ASSIGN_OR_RETURN(Stmt s, db().Prepare(
      // Expired leases first (a crashed worker's entries), then the
      // oldest available entries; each part reads its own partial index
      // in order and stops at the limit.
      "UPDATE queue SET status = 'claimed', lease_owner = ?1, lease_expires_at = ?2 + ?3, "
      "attempts = attempts + 1, updated_at = ?2 WHERE id IN ("
      "  SELECT id FROM (SELECT id FROM queue WHERE status = 'claimed' AND lease_expires_at <= ?2 "
      "    AND (seal_key IS NULL OR seal_key = ?5) ORDER BY lease_expires_at LIMIT ?4) "
      "  UNION ALL "
      "  SELECT id FROM (SELECT id FROM queue WHERE status = 'queued' AND available_at <= ?2 "
      "    AND (seal_key IS NULL OR seal_key = ?5) ORDER BY available_at, created_at LIMIT ?4) "
      "  LIMIT ?4) "
      "RETURNING " KW_QUEUE_COLUMNS ", payload"));
  s.Bind(1, worker).Bind(2, now).Bind(3, lease_ms).Bind(4, static_cast<std::int64_t>(limit));
  s.Bind(5, seal_key);
  KW_ASSIGN_OR_RETURN(std::vector<QueueEntry> out, All(s, ReadFullEntry));
  KW_RETURN_IF_ERROR(tx.Commit());
  return out;
}

std::vector<Status> SqliteQueueStore::FinishClaims(const std::vector<QueueEntry>& entries,
                                                   const std::string& worker, UnixMillis now) {
  std::lock_guard lock(shared_.mu);
  return EachInOneTransaction(db(), entries,
                              [&](const QueueEntry& e) { return FinishOne(e, worker, now); });
}

Status SqliteQueueStore::FinishOne(const QueueEntry& e, const std::string& worker, UnixMillis now) {
  const bool final = IsFinal(e.status);
  KW_ASSIGN_OR_RETURN(Stmt s, db().Prepare(
      "UPDATE queue SET status = ?1, attempts = ?2, available_at = ?3, last_error = ?4, "
      "result_job_id = ?5, lease_owner = NULL, lease_expires_at = NULL, updated_at = ?6, "
      "sealed_key = CASE WHEN ?9 THEN NULL ELSE sealed_key END "
      "WHERE id = ?7 AND status = 'claimed' AND lease_owner = ?8"));
  s.Bind(1, QueueStatusName(e.status)).Bind(2, static_cast<std::int64_t>(e.attempts));
  s.Bind(3, e.available_at).Bind(4, e.last_error).Bind(5, e.result_job_id).Bind(6, now);
  s.Bind(7, e.id).Bind(8, worker).Bind(9, static_cast<std::int64_t>(final ? 1 : 0));
  KW_RETURN_IF_ERROR(s.Run());
  if (db().Changes() == 0) {
    return FailedPreconditionError("lease on " + e.id + " was lost (expired and claimed again)");
  }
  if (final) {
    // The key issued for this entry alone dies with it, in the same commit:
    // no crash can leave it valid after its work is done.
    KW_RETURN_IF_ERROR(RevokeScopedKey(db(), e.id, now));
  }
  return OkStatus();
}

StatusOr<std::int64_t> SqliteQueueStore::CountUnfinished(const std::string& user_id) {
  Reader r = ForRead();
  KW_ASSIGN_OR_RETURN(Stmt s, r.db().Prepare(
      "SELECT coalesce(sum(n), 0) FROM queue_unfinished WHERE ?1 = '' OR user_id = ?1"));
  s.Bind(1, user_id);
  return One(s, [](const Stmt& r) { return r.Int(0); }, "no row");
}

StatusOr<std::string> SqliteQueueStore::AdoptSealKey(const std::string& fingerprint) {
  std::lock_guard lock(shared_.mu);
  Transaction tx(db());
  KW_RETURN_IF_ERROR(tx.Begin());
  KW_ASSIGN_OR_RETURN(std::string recorded, RecordedSealKey(db()));
  if (!recorded.empty() || fingerprint.empty()) return recorded;
  KW_RETURN_IF_ERROR(RecordSealKey(db(), fingerprint));
  KW_RETURN_IF_ERROR(tx.Commit());
  return fingerprint;
}

StatusOr<std::vector<QueueEntry>> SqliteQueueStore::ListInFlight() {
  Reader r = ForRead();
  KW_ASSIGN_OR_RETURN(Stmt s, r.db().Prepare(
      "SELECT " KW_QUEUE_COLUMNS ", payload FROM queue WHERE status IN ('queued', 'claimed') "
      "ORDER BY created_at, id"));
  return All(s, ReadFullEntry);
}

Status SqliteQueueStore::ReplaceSealKey(const std::string& old_key, const std::string& new_key,
                                        const std::vector<std::pair<std::string, std::string>>& resealed,
                                        const std::vector<std::string>& abandoned,
                                        const std::vector<std::pair<std::string, std::string>>& signing_secrets,
                                        UnixMillis now) {
  std::lock_guard lock(shared_.mu);
  Transaction tx(db());
  KW_RETURN_IF_ERROR(tx.Begin());
  KW_ASSIGN_OR_RETURN(std::string recorded, RecordedSealKey(db()));
  if (!recorded.empty() && recorded != old_key) return SealKeyDiffers(recorded, old_key);
  for (const auto& [id, sealed] : resealed) {
    KW_ASSIGN_OR_RETURN(Stmt s, db().Prepare(
        "UPDATE queue SET sealed_key = ?1, seal_key = ?2, updated_at = ?3 "
        "WHERE id = ?4 AND status IN ('queued', 'claimed')"));
    s.BindBlob(1, sealed.data(), sealed.size()).Bind(2, new_key).Bind(3, now).Bind(4, id);
    KW_RETURN_IF_ERROR(s.Run());
  }
  for (const std::string& id : abandoned) {
    KW_RETURN_IF_ERROR(RevokeScopedKey(db(), id, now));
    KW_ASSIGN_OR_RETURN(Stmt s, db().Prepare(
        "UPDATE queue SET status = 'dead', sealed_key = NULL, lease_owner = NULL, "
        "lease_expires_at = NULL, updated_at = ?1, "
        "last_error = 'its credential was sealed under a seal key that was lost' "
        "WHERE id = ?2 AND status IN ('queued', 'claimed')"));
    s.Bind(1, now).Bind(2, id);
    KW_RETURN_IF_ERROR(s.Run());
  }
  for (const auto& [key_id, sealed] : signing_secrets) {
    KW_ASSIGN_OR_RETURN(Stmt s, db().Prepare("UPDATE api_keys SET signing_secret = ?1 WHERE id = ?2"));
    s.BindBlobOrNull(1, sealed).Bind(2, key_id);
    KW_RETURN_IF_ERROR(s.Run());
  }
  KW_ASSIGN_OR_RETURN(Stmt n, db().Prepare("SELECT count(*) FROM api_keys WHERE signing_secret IS NOT NULL"));
  KW_ASSIGN_OR_RETURN(std::int64_t sealed_now, One(n, [](const Stmt& r) { return r.Int(0); }, "count"));
  if (sealed_now != CountSealed(signing_secrets)) return SecretsChangedMeanwhile();
  KW_RETURN_IF_ERROR(RecordSealKey(db(), new_key));
  return tx.Commit();
}

}  // namespace keyward::store::sqlite
