// store.h: keyward's data model and the Store interface that persists it.
//
// One interface, several backends: SQLite (embedded default, one file, WAL)
// now; PostgreSQL behind the same interface later. No backend type or SQL
// dialect appears here. All timestamps are UnixMillis (UTC).
//
// Implementations are thread-safe. Errors: kNotFound for a missing id,
// kAlreadyExists for a taken unique field, kInvalidArgument for a value the
// schema refuses, kUnavailable when storage is busy or unreachable (retrying
// may help), kFailedPrecondition for a database this build cannot use.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "keyward/clock.h"
#include "keyward/key_format.h"
#include "keyward/status.h"

namespace keyward {

// What a user may consume. Charged to the user, never to a key.
struct Plan {
  // Requests per second (token bucket, per user, live and test separately).
  // nullopt = unlimited.
  std::optional<double> rate_limit;
  // Live credits per calendar month (UTC). nullopt = unlimited. Test usage is
  // recorded but never charged.
  std::optional<std::int64_t> monthly_credits;
  // Scopes this user's keys may hold; "*" allows any scope.
  std::vector<std::string> allowed_scopes = {"*"};
};

struct User {
  std::string id;                          // "usr_…"
  std::optional<std::string> external_id;  // unique when set
  std::string name;
  std::optional<std::string> email;
  bool disabled = false;
  UnixMillis created_at = 0;
  Plan plan;
};

// An API key's record. The plaintext is never part of it.
struct ApiKey {
  std::string id;       // "key_…"
  std::string user_id;  // owner; deleting the user deletes the key
  std::string name;
  Environment environment = Environment::kLive;
  std::vector<std::string> scopes;
  std::string display;  // non-secret start of the key, e.g. "kw_live_AbCd…"
  KeyHash hash{};       // SHA-256 of the full key
  UnixMillis created_at = 0;
  std::optional<UnixMillis> expires_at;
  std::optional<UnixMillis> revoked_at;
  std::optional<UnixMillis> last_used_at;  // coarse; may lag
  std::optional<std::string> rotated_from;  // id of the key this one replaced
};

// A key together with its owner, as verification needs them.
struct KeyWithUser {
  ApiKey key;
  User user;
};

// A compute job, owned by one user in one environment.
struct Job {
  std::string id;       // "job_…"
  std::string user_id;
  Environment environment = Environment::kLive;
  std::string job_id;   // caller's idempotency key, unique per user+environment
  std::string key_id;   // the key that submitted it
  std::string task;
  std::string payload;  // JSON text
  std::string status;   // queued | running | succeeded | failed
  std::optional<std::string> result;  // JSON text
  std::optional<std::string> error;
  std::int64_t cost = 0;  // credits charged (live) or recorded (test)
  UnixMillis created_at = 0;
  std::optional<UnixMillis> started_at;
  std::optional<UnixMillis> finished_at;
};

// One line of the append-only usage ledger.
struct UsageEntry {
  std::string user_id;
  std::string key_id;
  Environment environment = Environment::kLive;
  std::int64_t units = 0;
  std::string reason;  // "job:<task>", "verify", ...
  UnixMillis at = 0;
};

// Usage of one key in one environment over a period.
struct UsageByKey {
  std::string key_id;
  Environment environment = Environment::kLive;
  std::int64_t units = 0;
  std::int64_t entries = 0;
};

// An entry of the durable job queue: a user's job waiting for a worker.
struct QueueEntry {
  std::string id;  // "qen_…"
  std::string user_id;
  Environment environment = Environment::kLive;
  std::string job_id;  // the idempotency key the worker submits with
  std::string task;
  std::string payload;     // JSON text
  std::string sealed_key;  // the API key to present, sealed (AES-256-GCM)
  std::optional<std::string> scoped_key_id;  // a key issued for this entry alone
  std::string status = "queued";  // queued | claimed | done | failed | dead
  int attempts = 0;               // claims so far
  int max_attempts = 5;
  std::optional<std::string> lease_owner;
  std::optional<UnixMillis> lease_expires_at;
  UnixMillis available_at = 0;  // not claimable before (retry backoff)
  std::optional<std::string> last_error;
  std::optional<std::string> result_job_id;  // the compute job's id
  UnixMillis created_at = 0;
  UnixMillis updated_at = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // --- users ---------------------------------------------------------------
  // Inserts `user` and, if `first_key` is not null, that key, atomically.
  // kAlreadyExists if user.id or user.external_id is taken.
  virtual Status CreateUser(const User& user, const ApiKey* first_key) = 0;
  // kNotFound if there is no such user.
  virtual StatusOr<User> GetUser(const std::string& id) = 0;
  virtual StatusOr<User> FindUserByExternalId(const std::string& external_id) = 0;
  // All users, oldest first.
  virtual StatusOr<std::vector<User>> ListUsers() = 0;
  // Replaces name, email, disabled and plan of user.id. kNotFound, kAlreadyExists.
  virtual Status UpdateUser(const User& user) = 0;
  // Deletes the user and, by cascade, its keys, jobs and usage. kNotFound.
  virtual Status DeleteUser(const std::string& id) = 0;

  // --- keys ----------------------------------------------------------------
  // kNotFound if key.user_id does not exist; kAlreadyExists on an id/hash clash.
  virtual Status InsertKey(const ApiKey& key) = 0;
  virtual StatusOr<ApiKey> GetKey(const std::string& id) = 0;
  // The key with this hash and its owner; kNotFound if none.
  virtual StatusOr<KeyWithUser> LookupKey(const KeyHash& hash) = 0;
  // A user's keys, oldest first. kNotFound if the user does not exist.
  virtual StatusOr<std::vector<ApiKey>> ListKeys(const std::string& user_id) = 0;
  // Sets revoked_at = now unless already revoked (a revocation is final and
  // keeps its first time). Returns the key as stored afterwards. kNotFound.
  virtual StatusOr<ApiKey> RevokeKey(const std::string& id, UnixMillis now) = 0;
  // Revokes every unrevoked key of the user in one statement; returns how
  // many were revoked. kNotFound if the user does not exist.
  virtual StatusOr<std::int64_t> RevokeAllKeys(const std::string& user_id, UnixMillis now) = 0;
  // Atomically inserts `new_key` (whose rotated_from names the old key) and
  // sets the old key's expires_at to `old_expires_at`. kNotFound if the old
  // key is gone.
  virtual Status RotateKey(const ApiKey& new_key, UnixMillis old_expires_at) = 0;
  // kNotFound.
  virtual Status DeleteKey(const std::string& id) = 0;
  // Records last use times in one transaction (ids that no longer exist are
  // skipped). A later time never goes backwards.
  virtual Status TouchKeys(const std::vector<std::pair<std::string, UnixMillis>>& uses) = 0;

  // --- jobs ----------------------------------------------------------------
  // Inserts the job and, if `charge` is not null, its usage entry, atomically.
  // kAlreadyExists if (user_id, environment, job_id) is taken: nothing written.
  virtual Status InsertJob(const Job& job, const UsageEntry* charge) = 0;
  // The job with internal id `id` (or, failing that, caller job_id `id`) owned
  // by user_id in `env`. kNotFound otherwise, also for another user's job.
  virtual StatusOr<Job> GetJob(const std::string& user_id, Environment env,
                               const std::string& id) = 0;
  // Newest first, at most `limit`.
  virtual StatusOr<std::vector<Job>> ListJobs(const std::string& user_id, Environment env,
                                              int limit) = 0;
  // Jobs not finished (queued or running), oldest first, at most `limit`:
  // work a server accepted but had not completed when it stopped.
  virtual StatusOr<std::vector<Job>> ListUnfinishedJobs(int limit) = 0;
  // Writes status, result, error, started_at and finished_at of each job, in
  // one transaction (jobs that no longer exist are skipped).
  virtual Status UpdateJobs(const std::vector<Job>& jobs) = 0;

  // --- usage ledger ----------------------------------------------------------
  // Appends entries in one transaction (all or none).
  virtual Status AppendUsage(const std::vector<UsageEntry>& entries) = 0;
  // Sum of units for user+env with from <= at < to.
  virtual StatusOr<std::int64_t> SumUsage(const std::string& user_id, Environment env,
                                          UnixMillis from, UnixMillis to) = 0;
  // Per key and environment, from <= at < to.
  virtual StatusOr<std::vector<UsageByKey>> UsageReport(const std::string& user_id,
                                                        UnixMillis from, UnixMillis to) = 0;

  // --- job queue -------------------------------------------------------------
  // kAlreadyExists if (user_id, environment, job_id) is queued already.
  virtual Status Enqueue(const QueueEntry& entry) = 0;
  // kNotFound.
  virtual StatusOr<QueueEntry> GetQueueEntry(const std::string& id) = 0;
  virtual StatusOr<QueueEntry> FindQueueEntry(const std::string& user_id, Environment env,
                                              const std::string& job_id) = 0;
  // Newest first; empty filters match everything.
  virtual StatusOr<std::vector<QueueEntry>> ListQueue(const std::string& user_id,
                                                      const std::string& status, int limit) = 0;
  // Atomically claims up to `limit` entries that are queued and available, or
  // claimed under a lease that has expired (a crashed worker's): sets status
  // "claimed", the lease (owner, now + lease_ms) and attempts + 1.
  virtual StatusOr<std::vector<QueueEntry>> ClaimQueue(const std::string& worker, UnixMillis now,
                                                       std::int64_t lease_ms, int limit) = 0;
  // Writes the outcome of a claim (status, attempts, available_at,
  // last_error, result_job_id; the lease is cleared). kFailedPrecondition if
  // `worker` no longer holds the lease (it expired and was claimed again).
  virtual Status FinishClaim(const QueueEntry& entry, const std::string& worker,
                             UnixMillis now) = 0;
  // Entries still queued or claimed (waiting, backing off, or in flight).
  virtual StatusOr<std::int64_t> CountUnfinished() = 0;

  // OK if the store can serve requests (for readiness probes).
  virtual Status Ping() = 0;
};

using StorePtr = std::unique_ptr<Store>;

struct SqliteOptions {
  // Path of the database file; created if missing (with its folder's umask).
  std::string path;
  // How long a write waits for another process's lock before kUnavailable.
  int busy_timeout_ms = 5000;
};

// Opens (creating if needed) a SQLite database and applies pending schema
// migrations. kFailedPrecondition, with nothing modified, if the file was
// written by a newer keyward; kUnavailable if the file cannot be opened, is
// not a database, or stays locked.
StatusOr<StorePtr> OpenSqliteStore(const SqliteOptions& options);

}  // namespace keyward
