// job_store.h: compute jobs — one user's job in one environment — and the
// JobStore that persists them with the charge for each.
// Implementations are thread-safe; errors as in keyward/store.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keyward/store.h"
#include "store/usage_store.h"

namespace keyward {

enum class JobStatus { kQueued, kRunning, kSucceeded, kFailed };

// "queued", "running", "succeeded", "failed".
std::string_view JobStatusName(JobStatus status);
std::optional<JobStatus> ParseJobStatus(std::string_view name);

struct Job {
  std::string id;       // "job_…"
  std::string user_id;
  Environment environment = Environment::kLive;
  std::string job_id;   // caller's idempotency key, unique per user+environment
  std::string key_id;   // the key that submitted it
  std::string task;
  std::string payload;  // JSON text; empty in listings
  JobStatus status = JobStatus::kQueued;
  std::optional<std::string> result;  // JSON text; unset in listings
  std::optional<std::string> error;
  std::int64_t cost = 0;  // credits charged (live) or recorded (test)
  UnixMillis created_at = 0;
  std::optional<UnixMillis> started_at;
  std::optional<UnixMillis> finished_at;
};

class JobStore {
 public:
  virtual ~JobStore() = default;

  struct NewJob {
    Job job;
    // Charge job.cost to the job's user (live) or record it (test), at
    // job.created_at with job.key_id: kept on the job's row, written with the
    // job or not at all, and counted by UsageStore's sums and reports as a
    // ledger entry would be.
    bool charge = false;
  };
  // Inserts the jobs, each with its charge, in one transaction. Returns, per
  // job, true if it was inserted, or false if its (user_id, environment,
  // job_id) was taken already — then neither it nor its charge is written.
  // An error means nothing at all was written (e.g. kNotFound: a user is gone;
  // kResourceExhausted: a live charge would take its user's month past the
  // plan's monthly_credits — checked by the store itself, against every
  // writer's charges, so the limit holds across processes and nodes).
  virtual StatusOr<std::vector<bool>> InsertJobs(const std::vector<NewJob>& jobs) = 0;
  // The job with internal id `id`, or failing that caller job_id `id`, owned
  // by user_id in `env`. kNotFound otherwise, also for another user's job.
  virtual StatusOr<Job> GetJob(const std::string& user_id, Environment env,
                               const std::string& id) = 0;
  // A user's jobs in one environment, newest first, without payload or result.
  virtual StatusOr<Page<Job>> ListJobs(const std::string& user_id, Environment env,
                                       const PageRequest& page) = 0;
  // Jobs not finished (queued or running), oldest first, full: work a server
  // accepted but had not completed when it stopped.
  virtual StatusOr<Page<Job>> ListUnfinishedJobs(const PageRequest& page) = 0;
  // Writes status, result, error, started_at and finished_at of each job, in
  // one transaction (jobs that no longer exist are skipped).
  virtual Status UpdateJobs(const std::vector<Job>& jobs) = 0;
  // InsertJobs(inserts) and UpdateJobs(finished) together, in one
  // transaction (one commit instead of two). On an error neither was
  // written.
  virtual StatusOr<std::vector<bool>> CommitJobs(const std::vector<NewJob>& inserts,
                                                 const std::vector<Job>& finished) = 0;
};

}  // namespace keyward
