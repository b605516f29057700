// compute_service.cc: idempotent, credit-charged job submission and execution.
#include "compute/compute_service.h"

#include "core/ids.h"
#include "json/parse.h"

namespace keyward::compute {

std::int64_t ComputeService::pending() const {
  std::lock_guard lock(mu_);
  return pending_total_;
}

SubmitResult::Kind ComputeService::Admit(const std::string& user_id) {
  std::lock_guard lock(mu_);
  if (pending_total_ >= options_.max_pending_total) return SubmitResult::Kind::kOverloaded;
  int& mine = pending_by_user_[user_id];
  if (mine >= options_.max_pending_per_user) return SubmitResult::Kind::kUserBusy;
  ++mine;
  ++pending_total_;
  return SubmitResult::Kind::kCreated;
}

void ComputeService::Release(const std::vector<Job>& finished) {
  std::lock_guard lock(mu_);
  for (const Job& j : finished) {
    auto it = pending_by_user_.find(j.user_id);
    if (it != pending_by_user_.end() && --it->second <= 0) pending_by_user_.erase(it);
    --pending_total_;
  }
}

StatusOr<std::optional<SubmitResult>> ComputeService::Replay(const Principal& principal,
                                                             const JobRequest& request) {
  StatusOr<Job> found = jobs_.GetJob(principal.user_id, principal.environment, request.job_id);
  if (!found.ok()) {
    if (found.status().code() == StatusCode::kNotFound) return std::optional<SubmitResult>();
    return found.status();
  }
  if (found->job_id != request.job_id) return std::optional<SubmitResult>();  // matched an internal id
  SubmitResult out;
  const bool same = found->task == request.task && found->payload == request.PayloadText();
  out.kind = same ? SubmitResult::Kind::kExisting : SubmitResult::Kind::kConflict;
  out.job = std::move(found).value();
  return std::optional<SubmitResult>(std::move(out));
}

StatusOr<SubmitResult> ComputeService::Submit(const Principal& principal, const Plan& plan,
                                              const JobRequest& request) {
  const Task* task = tasks_.Find(request.task);
  if (!task) return InvalidArgumentError("unknown task '" + request.task + "'");
  const bool live = principal.environment == Environment::kLive;
  const UnixMillis now = clock_.Now();

  SubmitResult out;
  out.kind = Admit(principal.user_id);
  if (out.kind != SubmitResult::Kind::kCreated) {
    // A repeat of an accepted job is answered even when the user is busy.
    KW_ASSIGN_OR_RETURN(std::optional<SubmitResult> replay, Replay(principal, request));
    if (replay) return std::move(*replay);
    out.retry_after_ms = 1000;
    return out;
  }
  auto unadmit = [&](const Job& j) { Release({j}); };

  Job job;
  job.user_id = principal.user_id;
  job.environment = principal.environment;
  job.job_id = request.job_id;
  job.key_id = principal.key_id;
  job.task = task->name;
  job.payload = request.PayloadText();
  job.status = JobStatus::kQueued;
  job.cost = task->cost;
  job.created_at = now;

  metering::Reservation held;
  if (live) {
    StatusOr<metering::Reservation> r = credits_.Reserve(principal.user_id, plan.monthly_credits, task->cost);
    if (!r.ok()) {
      unadmit(job);
      return r.status();
    }
    held = std::move(r).value();
    out.credits = held.state();
    if (!held.granted()) {
      unadmit(job);
      // A repeat of an accepted job is answered even when credits ran out.
      KW_ASSIGN_OR_RETURN(std::optional<SubmitResult> replay, Replay(principal, request));
      if (replay) return std::move(*replay);
      out.kind = SubmitResult::Kind::kQuotaExceeded;
      out.retry_after_ms = metering::MonthBounds(now).second - now;
      return out;
    }
  }
  StatusOr<std::string> id = core::NewId("job");
  if (!id.ok()) {
    unadmit(job);
    return id.status();
  }
  job.id = *id;
  JobStore::NewJob row{job, UsageEntry{principal.user_id, principal.key_id, principal.environment,
                                       task->cost, "job:" + task->name, now}};
  StatusOr<std::vector<bool>> inserted = jobs_.InsertJobs({row});
  held.Settle(inserted.ok() && (*inserted)[0] ? OkStatus() : AlreadyExistsError("not inserted"));
  if (!inserted.ok() || !(*inserted)[0]) {
    unadmit(job);
    if (!inserted.ok()) return inserted.status();
    // That job_id exists (an earlier or concurrent submission).
    KW_ASSIGN_OR_RETURN(std::optional<SubmitResult> replay, Replay(principal, request));
    if (!replay) return InternalError("job_id '" + request.job_id + "' clashed but cannot be found");
    replay->credits = out.credits;
    return std::move(*replay);
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
    if (waiting_.empty() && !resume_after_) return;
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
  {
    std::lock_guard lock(mu_);
    resume_before_ = clock_.Now();
  }
  KW_ASSIGN_OR_RETURN(Page<Job> page, jobs_.ListUnfinishedJobs({options_.resume_page, ""}));
  std::size_t n = page.items.size();
  {
    std::lock_guard lock(mu_);
    TakeResumed(page);
  }
  Schedule({});
  return n;
}

void ComputeService::TakeResumed(Page<Job>& page) {
  resume_after_ = page.next;
  for (Job& j : page.items) {
    // Jobs accepted by this process are scheduled already; pages are in
    // creation order, so the first of them ends the resumption.
    if (j.created_at >= resume_before_) {
      resume_after_.reset();
      break;
    }
    ++pending_by_user_[j.user_id];
    ++pending_total_;
    waiting_.push_back(std::move(j));
  }
}

void ComputeService::ResumeNextPage() {
  std::string after;
  {
    std::lock_guard lock(mu_);
    if (!resume_after_) return;
    after = std::exchange(resume_after_, std::nullopt).value();
  }
  StatusOr<Page<Job>> page = jobs_.ListUnfinishedJobs({options_.resume_page, after});
  if (!page.ok()) return;  // they stay unfinished in the store for the next start
  std::lock_guard lock(mu_);
  TakeResumed(*page);
}

void ComputeService::Drain() {
  for (;;) {
    std::vector<Job> batch;
    {
      std::lock_guard lock(mu_);
      if (waiting_.empty() && !resume_after_) {
        draining_ = false;
        return;
      }
      batch.swap(waiting_);
    }
    if (batch.empty()) {
      ResumeNextPage();
      continue;
    }
    Run(batch);
    Release(batch);
  }
}

void ComputeService::Run(std::vector<Job>& batch) {
  const UnixMillis started = clock_.Now();
  for (Job& job : batch) {
    job.status = JobStatus::kRunning;
    job.started_at = started;
  }
  jobs_.UpdateJobs(batch).IgnoreError();
  for (Job& job : batch) {
    const Task* task = tasks_.Find(job.task);
    nlohmann::json payload = jsonio::ParseStoredJson(job.payload);
    StatusOr<nlohmann::json> result =
        task ? task->run(payload) : StatusOr<nlohmann::json>(InternalError("task vanished"));
    job.finished_at = clock_.Now();
    std::string text = result.ok() ? result->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) : "";
    if (result.ok() && text.size() <= options_.max_result_bytes) {
      job.status = JobStatus::kSucceeded;
      job.result = std::move(text);
    } else {
      job.status = JobStatus::kFailed;
      job.error = result.ok() ? "the result is larger than " + std::to_string(options_.max_result_bytes) + " bytes"
                              : result.status().message();
    }
  }
  // A failure here leaves the batch "running"; it is visible to callers and
  // resumed at the next start.
  jobs_.UpdateJobs(batch).IgnoreError();
}

StatusOr<Job> ComputeService::Get(const Principal& principal, const std::string& id) {
  return jobs_.GetJob(principal.user_id, principal.environment, id);
}

StatusOr<Page<Job>> ComputeService::List(const Principal& principal, const PageRequest& page) {
  return jobs_.ListJobs(principal.user_id, principal.environment, page);
}

}  // namespace keyward::compute
