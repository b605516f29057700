// compute.cc: idempotent, quota-charged job submission and execution.
#include "jobs/compute.h"

#include <nlohmann/json.hpp>

#include "core/ids.h"
#include "json/parse.h"

namespace keyward::jobs {

Status ValidateJobId(const std::string& job_id) {
  if (job_id.empty() || job_id.size() > 128) {
    return InvalidArgumentError("job_id must be 1 to 128 characters");
  }
  for (unsigned char c : job_id) {
    if (c < 0x21 || c > 0x7e) return InvalidArgumentError("job_id must be printable ASCII without spaces");
  }
  return OkStatus();
}

StatusOr<SubmitResult> ComputeService::Submit(const Principal& principal, const Plan& plan,
                                              const std::string& job_id,
                                              const std::string& task_name,
                                              const nlohmann::json& payload) {
  KW_RETURN_IF_ERROR(ValidateJobId(job_id));
  const Task* task = tasks_.Find(task_name);
  if (!task) return InvalidArgumentError("unknown task '" + task_name + "'");
  KW_RETURN_IF_ERROR(task->validate(payload));

  SubmitResult out;
  const bool live = principal.environment == Environment::kLive;
  const UnixMillis now = clock_.Now();
  const int month = auth::MonthIndex(now);
  // New job_ids are the common case: insert first, and only look for an
  // existing job when the insert (or the quota) says no.
  auto existing = [&]() -> StatusOr<bool> {
    StatusOr<Job> found = store_.GetJob(principal.user_id, principal.environment, job_id);
    if (found.ok() && found->job_id == job_id) {
      out.kind = SubmitResult::Kind::kExisting;
      out.job = std::move(found).value();
      return true;
    }
    if (!found.ok() && found.status().code() != StatusCode::kNotFound) return found.status();
    return false;
  };
  if (live) {
    bool granted = false;
    KW_ASSIGN_OR_RETURN(out.credits, quota_.Reserve(principal.user_id, plan.monthly_credits,
                                                    task->cost, &granted));
    if (!granted) {
      // A repeat of an accepted job is answered even when credits ran out.
      KW_ASSIGN_OR_RETURN(bool repeat, existing());
      if (!repeat) out.kind = SubmitResult::Kind::kQuotaExceeded;
      return out;
    }
  }
  Job job;
  KW_ASSIGN_OR_RETURN(job.id, core::NewId("job"));
  job.user_id = principal.user_id;
  job.environment = principal.environment;
  job.job_id = job_id;
  job.key_id = principal.key_id;
  job.task = task->name;
  job.payload = payload.dump();
  job.status = "queued";
  job.cost = task->cost;
  job.created_at = now;
  UsageEntry charge{principal.user_id, principal.key_id, principal.environment, task->cost,
                    "job:" + task->name, now};
  Status st = store_.InsertJob(job, &charge);
  if (!st.ok()) {
    if (live) quota_.Refund(principal.user_id, task->cost, month);
    if (st.code() != StatusCode::kAlreadyExists) return st;
    // That job_id exists (an earlier or concurrent submission): return it.
    KW_ASSIGN_OR_RETURN(bool repeat, existing());
    if (!repeat) return InternalError("job_id '" + job_id + "' clashed but cannot be found");
    return out;
  }
  out.job = job;
  Schedule({std::move(job)});
  return out;
}

void ComputeService::Schedule(std::vector<Job> jobs) {
  bool post = false;
  {
    std::lock_guard lock(mu_);
    for (Job& j : jobs) waiting_.push_back(std::move(j));
    post = !draining_;
    draining_ = true;
  }
  // If the executor is shutting down the jobs stay queued in the store and
  // ResumeUnfinished() picks them up at the next start.
  if (post && !executor_.Post([this] { Drain(); })) {
    std::lock_guard lock(mu_);
    draining_ = false;
  }
}

StatusOr<std::size_t> ComputeService::ResumeUnfinished() {
  // One read at start; Drain() marks them running and stores the results.
  KW_ASSIGN_OR_RETURN(std::vector<Job> jobs, store_.ListUnfinishedJobs(kMaxResumed));
  std::size_t n = jobs.size();
  if (n > 0) Schedule(std::move(jobs));
  return n;
}

void ComputeService::Drain() {
  for (;;) {
    std::vector<Job> batch;
    {
      std::lock_guard lock(mu_);
      if (waiting_.empty()) {
        draining_ = false;
        return;
      }
      batch.swap(waiting_);
    }
    const UnixMillis started = clock_.Now();
    for (Job& job : batch) {
      job.status = "running";
      job.started_at = started;
    }
    store_.UpdateJobs(batch).IgnoreError();
    for (Job& job : batch) {
      const Task* task = tasks_.Find(job.task);
      nlohmann::json payload = jsonio::ParseStoredJson(job.payload);
      StatusOr<nlohmann::json> result =
          task ? task->run(payload) : StatusOr<nlohmann::json>(InternalError("task vanished"));
      job.finished_at = clock_.Now();
      if (result.ok()) {
        job.status = "succeeded";
        job.result = result->dump();
      } else {
        job.status = "failed";
        job.error = result.status().message();
      }
    }
    // A failure here leaves the batch "running"; it is visible to callers.
    store_.UpdateJobs(batch).IgnoreError();
  }
}

StatusOr<Job> ComputeService::Get(const Principal& principal, const std::string& id) {
  return store_.GetJob(principal.user_id, principal.environment, id);
}

StatusOr<std::vector<Job>> ComputeService::List(const Principal& principal, int limit) {
  return store_.ListJobs(principal.user_id, principal.environment, limit);
}

}  // namespace keyward::jobs
