// compute.cc: idempotent, quota-charged job submission and execution.
#include "jobs/compute.h"

#include <nlohmann/json.hpp>

#include "core/ids.h"

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
  StatusOr<Job> existing = store_.GetJob(principal.user_id, principal.environment, job_id);
  if (existing.ok() && existing->job_id == job_id) {
    out.kind = SubmitResult::Kind::kExisting;
    out.job = std::move(existing).value();
    return out;
  }
  if (!existing.ok() && existing.status().code() != StatusCode::kNotFound) return existing.status();

  const bool live = principal.environment == Environment::kLive;
  const UnixMillis now = clock_.Now();
  const int month = auth::MonthIndex(now);
  if (live) {
    bool granted = false;
    KW_ASSIGN_OR_RETURN(out.credits, quota_.Reserve(principal.user_id, plan.monthly_credits,
                                                    task->cost, &granted));
    if (!granted) {
      out.kind = SubmitResult::Kind::kQuotaExceeded;
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
    // A concurrent submission of the same job_id won: return its job.
    KW_ASSIGN_OR_RETURN(out.job, store_.GetJob(principal.user_id, principal.environment, job_id));
    out.kind = SubmitResult::Kind::kExisting;
    return out;
  }
  out.job = job;
  if (!executor_.Post([this, job] { Run(job); })) {
    // Shutting down: the job stays queued in the store.
  }
  return out;
}

void ComputeService::Run(Job job) {
  const Task* task = tasks_.Find(job.task);
  job.status = "running";
  job.started_at = clock_.Now();
  store_.UpdateJob(job).IgnoreError();
  nlohmann::json payload = nlohmann::json::parse(job.payload, nullptr, false);
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
  // A failure here leaves the job "running"; it is visible to the caller.
  store_.UpdateJob(job).IgnoreError();
}

StatusOr<Job> ComputeService::Get(const Principal& principal, const std::string& id) {
  return store_.GetJob(principal.user_id, principal.environment, id);
}

StatusOr<std::vector<Job>> ComputeService::List(const Principal& principal, int limit) {
  return store_.ListJobs(principal.user_id, principal.environment, limit);
}

}  // namespace keyward::jobs
