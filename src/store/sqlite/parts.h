// parts.h: the SQLite backend's parts, one class per concern, all over the
// Shared connections: users and keys, compute jobs, the usage ledger, the
// job queue, the change feed. A writing method holds the writer's mutex for
// its whole transaction; a reading method uses the reader connection.
#pragma once

#include "store/backend.h"
#include "store/sqlite/shared.h"

namespace keyward::store::sqlite {

class Part {
 protected:
  explicit Part(Shared& shared) : shared_(shared) {}
  Db& db() { return shared_.db; }  // REQUIRES: shared_.mu held

  // A connection for one read-only call, locked while the Reader lives: the
  // reader connection, so that reads never wait for a write transaction
  // (WAL), or the writer's for an in-memory database.
  class Reader {
   public:
    explicit Reader(Shared& s)
        : lock_(s.has_reader ? s.read_mu : s.mu), db_(s.has_reader ? s.reader : s.db) {}
    Db& db() { return db_; }

   private:
    std::unique_lock<std::mutex> lock_;
    Db& db_;
  };
  Reader ForRead() { return Reader(shared_); }

  Shared& shared_;
};

class SqliteKeyStore final : public KeyStore, Part {
 public:
  explicit SqliteKeyStore(Shared& shared) : Part(shared) {}
  Status CreateUser(const User& user, const ApiKey* first_key) override;
  StatusOr<User> GetUser(const std::string& id) override;
  StatusOr<User> FindUserByExternalId(const std::string& external_id) override;
  StatusOr<Page<User>> ListUsers(const PageRequest& page) override;
  Status UpdateUser(const User& user) override;
  Status DeleteUser(const std::string& id) override;
  Status InsertKey(const ApiKey& key) override;
  StatusOr<ApiKey> GetKey(const std::string& id) override;
  StatusOr<KeyWithUser> LookupKey(const KeyHash& hash) override;
  StatusOr<KeyWithUser> LookupKeyById(const std::string& id) override;
  Status SetSigningSecrets(const std::vector<std::pair<std::string, std::string>>& sealed) override;
  StatusOr<std::vector<std::pair<std::string, std::string>>> ListSigningSecrets() override;
  StatusOr<Page<ApiKey>> ListKeys(const std::string& user_id, const PageRequest& page) override;
  StatusOr<ApiKey> RevokeKey(const std::string& id, UnixMillis now) override;
  StatusOr<std::int64_t> RevokeAllKeys(const std::string& user_id, UnixMillis now) override;
  Status RotateKey(const ApiKey& new_key, UnixMillis old_expires_at) override;
  Status DeleteKey(const std::string& id) override;
  Status TouchKeys(const std::vector<std::pair<std::string, UnixMillis>>& uses) override;
  using KeyStore::ImportLegacyKeys;
  Status ImportLegacyKeys(const std::vector<LegacyImport>& batch, const LegacyKeyUpdates& updates) override;
  StatusOr<std::vector<std::pair<std::string, bool>>> ListLegacyPrefixes() override;
  StatusOr<std::pair<KeyWithUser, LegacyKey>> LookupLegacyKey(const std::string& prefix) override;
  Status CompleteLegacyKey(const std::string& key_id, const KeyHash& hash) override;

 private:
  Status UserExistsLocked(const std::string& user_id);
  Status InsertUserLocked(const User& user);
  Status InsertKeyLocked(const ApiKey& key);
  static Status RevokeKeyLocked(Db& db, const std::string& id, UnixMillis at);
  static StatusOr<ApiKey> GetKeyLocked(Db& db, const std::string& id);
};

class SqliteJobStore final : public JobStore, Part {
 public:
  explicit SqliteJobStore(Shared& shared) : Part(shared) {}
  StatusOr<std::vector<bool>> InsertJobs(const std::vector<NewJob>& jobs) override;
  StatusOr<Job> GetJob(const std::string& user_id, Environment env, const std::string& id) override;
  StatusOr<Page<Job>> ListJobs(const std::string& user_id, Environment env,
                               const PageRequest& page) override;
  StatusOr<Page<Job>> ListUnfinishedJobs(const PageRequest& page) override;
  Status UpdateJobs(const std::vector<Job>& jobs) override;
  StatusOr<std::vector<bool>> CommitJobs(const std::vector<NewJob>& inserts,
                                         const std::vector<Job>& finished) override;
};

class SqliteUsageStore final : public UsageStore, Part {
 public:
  explicit SqliteUsageStore(Shared& shared) : Part(shared) {}
  Status AppendUsage(const std::vector<UsageEntry>& entries) override;
  StatusOr<std::int64_t> SumUsage(const std::string& user_id, Environment env, UnixMillis from,
                                  UnixMillis to) override;
  StatusOr<std::vector<UsageByKey>> UsageReport(const std::string& user_id, UnixMillis from,
                                                UnixMillis to) override;
};

class SqliteQueueStore final : public QueueStore, Part {
 public:
  explicit SqliteQueueStore(Shared& shared) : Part(shared) {}
  std::vector<Status> EnqueueMany(const std::vector<QueueEntry>& entries,
                                  int max_unfinished_per_user) override;
  StatusOr<QueueEntry> GetQueueEntry(const std::string& id) override;
  StatusOr<QueueEntry> FindQueueEntry(const std::string& user_id, Environment env,
                                      const std::string& job_id) override;
  StatusOr<Page<QueueEntry>> ListQueue(const QueueFilter& filter, const PageRequest& page) override;
  StatusOr<std::vector<QueueEntry>> ClaimQueue(const std::string& worker, const std::string& seal_key,
                                               UnixMillis now, std::int64_t lease_ms, int limit) override;
  std::vector<Status> FinishClaims(const std::vector<QueueEntry>& entries, const std::string& worker,
                                   UnixMillis now) override;
  using QueueStore::Enqueue;
  using QueueStore::FinishClaim;

 private:
  Status EnqueueOne(const QueueEntry& e, int max_unfinished_per_user, const std::string& recorded);
  Status FinishOne(const QueueEntry& e, const std::string& worker, UnixMillis now);
  StatusOr<std::int64_t> CountUnfinished(const std::string& user_id) override;
  StatusOr<std::string> AdoptSealKey(const std::string& fingerprint) override;
  StatusOr<std::vector<QueueEntry>> ListInFlight() override;
  Status ReplaceSealKey(const std::string& old_key, const std::string& new_key,
                        const std::vector<std::pair<std::string, std::string>>& resealed,
                        const std::vector<std::string>& abandoned,
                        const std::vector<std::pair<std::string, std::string>>& signing_secrets,
                        UnixMillis now) override;
};

class SqliteChangeFeed final : public ChangeFeed, Part {
 public:
  explicit SqliteChangeFeed(Shared& shared) : Part(shared) {}
  StatusOr<std::int64_t> LatestChange() override;
  StatusOr<bool> MaybeChanged() override;
  StatusOr<ChangeBatch> ReadChanges(std::int64_t after, int limit) override;
  StatusOr<std::int64_t> PruneChanges(UnixMillis before) override;

 private:
  std::int64_t data_version_ = -1;  // guarded by shared_.watch_mu
};

}  // namespace keyward::store::sqlite
