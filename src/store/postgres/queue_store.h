// queue_store.h: the durable job queue on PostgreSQL — the QueueStore
// interface over a connection pool. Claims skip rows another worker holds
// locked (FOR UPDATE SKIP LOCKED), so workers on several machines drain one
// queue without waiting on each other. Thread-safe.
#pragma once

#include "store/queue_store.h"

namespace keyward::store::postgres {

class Conn;
class Pool;

class PgQueueStore final : public QueueStore {
 public:
  explicit PgQueueStore(Pool& pool) : pool_(pool) {}
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
  StatusOr<std::int64_t> CountUnfinished(const std::string& user_id) override;
  StatusOr<std::string> AdoptSealKey(const std::string& fingerprint) override;
  StatusOr<std::vector<QueueEntry>> ListInFlight() override;
  Status ReplaceSealKey(const std::string& old_key, const std::string& new_key,
                        const std::vector<std::pair<std::string, std::string>>& resealed,
                        const std::vector<std::string>& abandoned,
                        const std::vector<std::pair<std::string, std::string>>& signing_secrets,
                        UnixMillis now) override;

 private:
  Pool& pool_;
};

}  // namespace keyward::store::postgres
