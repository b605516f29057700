// compute.h: the reference compute service behind POST /v1/ai/jobs — runs a
// user's job on that user's data, stores the result under that user and
// environment, and charges that user's credits exactly once per job_id.
//
// Submit() is idempotent per (user, environment, job_id): a repeat returns
// the existing job and charges nothing, also under concurrent repeats.
//
// Accepted jobs wait in memory for the executor, which takes all that are
// waiting at once: it marks the batch running (one transaction), runs each
// task, and stores every result (one transaction). Under load the cost of a
// write is shared by the whole batch. Thread-safe; borrows what it is given.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <mutex>
#include <string>
#include <vector>

#include "auth/quota.h"
#include "jobs/executor.h"
#include "jobs/task_registry.h"
#include "keyward/principal.h"
#include "keyward/store.h"

namespace keyward::jobs {

struct SubmitResult {
  enum class Kind { kCreated, kExisting, kQuotaExceeded };
  Kind kind = Kind::kCreated;
  Job job;                  // set unless kQuotaExceeded
  auth::CreditState credits;
};

class ComputeService {
 public:
  ComputeService(Store& store, const Clock& clock, auth::Quota& quota,
                 const TaskRegistry& tasks, Executor& executor)
      : store_(store), clock_(clock), quota_(quota), tasks_(tasks), executor_(executor) {}

  // kInvalidArgument: bad job_id, unknown task, payload the task cannot run.
  // kUnavailable: storage failed (nothing charged).
  StatusOr<SubmitResult> Submit(const Principal& principal, const Plan& plan,
                                const std::string& job_id, const std::string& task,
                                const nlohmann::json& payload);

  // Runs again the jobs a previous server accepted (queued or running) but
  // did not finish, e.g. after a crash — up to kMaxResumed, oldest first.
  // Call once at start, before serving. Returns how many were scheduled.
  static constexpr int kMaxResumed = 100'000;
  StatusOr<std::size_t> ResumeUnfinished();

  // Jobs of one user in one environment only; another's is kNotFound.
  StatusOr<Job> Get(const Principal& principal, const std::string& id);
  StatusOr<std::vector<Job>> List(const Principal& principal, int limit);

 private:
  // Runs everything waiting (on an executor thread).
  void Drain();
  // Hands accepted jobs to the executor.
  void Schedule(std::vector<Job> jobs);

  std::mutex mu_;
  std::vector<Job> waiting_;  // guarded by mu_
  bool draining_ = false;     // a Drain() is queued or running; guarded by mu_

  Store& store_;
  const Clock& clock_;
  auth::Quota& quota_;
  const TaskRegistry& tasks_;
  Executor& executor_;
};

// job_id: 1-128 bytes, printable ASCII.
Status ValidateJobId(const std::string& job_id);

}  // namespace keyward::jobs
