// job_store.h: compute jobs and the usage ledger on PostgreSQL — the
// JobStore and UsageStore interfaces over a connection pool. A job and its
// charge are written in one statement, with the outcomes of jobs that ran. Thread-safe.
#pragma once

#include "store/job_store.h"
#include "store/usage_store.h"

namespace keyward::store::postgres {

class Pool;

class PgJobStore final : public JobStore {
 public:
  explicit PgJobStore(Pool& pool) : pool_(pool) {}
  StatusOr<std::vector<bool>> InsertJobs(const std::vector<NewJob>& jobs) override;
  StatusOr<Job> GetJob(const std::string& user_id, Environment env, const std::string& id) override;
  StatusOr<Page<Job>> ListJobs(const std::string& user_id, Environment env,
                               const PageRequest& page) override;
  StatusOr<Page<Job>> ListUnfinishedJobs(const PageRequest& page) override;
  Status UpdateJobs(const std::vector<Job>& jobs) override;
  StatusOr<std::vector<bool>> CommitJobs(const std::vector<NewJob>& inserts,
                                         const std::vector<Job>& finished) override;

 private:
  Pool& pool_;
};

class PgUsageStore final : public UsageStore {
 public:
  explicit PgUsageStore(Pool& pool) : pool_(pool) {}
  Status AppendUsage(const std::vector<UsageEntry>& entries) override;
  StatusOr<std::int64_t> SumUsage(const std::string& user_id, Environment env, UnixMillis from,
                                  UnixMillis to) override;
  StatusOr<std::vector<UsageByKey>> UsageReport(const std::string& user_id, UnixMillis from,
                                                UnixMillis to) override;

 private:
  Pool& pool_;
};

}  // namespace keyward::store::postgres
