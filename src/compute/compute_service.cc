// compute_service.cc: idempotent, credit-charged job submission and execution.
#include "compute/compute_service.h"

#include <future>

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

StatusOr<std::optional<SubmitResult>> ComputeService::Replay(const Job& wanted) {
  StatusOr<Job> found = jobs_.GetJob(wanted.user_id, wanted.environment, wanted.job_id);
  if (!found.ok()) {
    if (found.status().code() == StatusCode::kNotFound) return std::optional<SubmitResult>();
    return found.status();
  }
  if (found->job_id != wanted.job_id) return std::optional<SubmitResult>();  // matched an internal id
  SubmitResult out;
  const bool same = found->task == wanted.task && found->payload == wanted.payload;
  out.kind = same ? SubmitResult::Kind::kExisting : SubmitResult::Kind::kConflict;
  out.job = std::move(found).value();
  return std::optional<SubmitResult>(std::move(out));
}

ComputeService::ComputeService(JobStore& jobs, metering::Credits& credits, const TaskRegistry& tasks,
                               Executor& executor, const Clock& clock, ComputeOptions options,
                               Executor* answers)
    : jobs_(jobs), credits_(credits), tasks_(tasks), executor_(executor), clock_(clock),
      options_(options),
      committer_([this](std::vector<JobStore::NewJob>& batch) { return CommitBatch(batch); },
                 StatusOr<bool>(UnavailableError("the compute service is stopping")),
                 options.group_commit, "kw-job-commit",
                 answers ? Committer::Deliver([answers](std::function<void()> give) {
                   return answers->Post(std::move(give));
                 })
                         : Committer::Deliver()) {}

std::vector<StatusOr<bool>> ComputeService::CommitBatch(std::vector<JobStore::NewJob>& batch) {
  // The outcomes of jobs that ran since the last commit go in the same
  // transaction as the new jobs (one write for both).
  std::vector<Job> finished;
  {
    std::lock_guard lock(mu_);
    finished.swap(finished_);
  }
  std::vector<StatusOr<bool>> out;
  out.reserve(batch.size());
  StatusOr<std::vector<bool>> inserted = jobs_.CommitJobs(batch, finished);
  if (inserted.ok()) {
    Written(finished);
    for (bool b : *inserted) out.emplace_back(b);
    return out;
  }
  // The outcomes alone, then (the batch failed as a whole: a user deleted
  // meanwhile, say) the jobs one by one, to find which the failure concerns.
  WriteOutcomes(finished);
  if (batch.size() == 1) {
    out.emplace_back(inserted.status());
    return out;
  }
  for (JobStore::NewJob& job : batch) {
    StatusOr<std::vector<bool>> one = jobs_.InsertJobs({job});
    out.push_back(one.ok() ? StatusOr<bool>((*one)[0]) : StatusOr<bool>(one.status()));
  }
  return out;
}

void ComputeService::Written(const std::vector<Job>& finished) {
  if (finished.empty()) return;
  {
    std::lock_guard lock(mu_);
    for (const Job& job : finished) running_.erase(job.id);
  }
  Release(finished);
}

void ComputeService::WriteOutcomes(const std::vector<Job>& finished) {
  if (finished.empty()) return;
  jobs_.UpdateJobs(finished).IgnoreError();  // if not, resumed at the next start
  Written(finished);
}

void ComputeService::WriteFinished() {
  std::vector<Job> finished;
  {
    std::lock_guard lock(mu_);
    finished.swap(finished_);
  }
  WriteOutcomes(finished);
}

void ComputeService::StopAccepting() { committer_.Stop(); }

StatusOr<SubmitResult> ComputeService::Clashed(const Job& wanted, const metering::CreditState& credits) {
  // That job_id exists (an earlier or concurrent submission).
  KW_ASSIGN_OR_RETURN(std::optional<SubmitResult> replay, Replay(wanted));
  if (!replay) return InternalError("job_id '" + wanted.job_id + "' clashed but cannot be found");
  replay->credits = credits;
  return std::move(*replay);
}

StatusOr<SubmitResult> ComputeService::Submit(const Principal& principal, const Plan& plan,
                                              const JobRequest& request) {
  std::promise<StatusOr<SubmitResult>> promise;
  std::future<StatusOr<SubmitResult>> outcome = promise.get_future();
  SubmitAsync(principal, plan, request,
              [&promise](StatusOr<SubmitResult> r) { promise.set_value(std::move(r)); });
  return outcome.get();
}

void ComputeService::SubmitAsync(const Principal& principal, const Plan& plan,
                                 const JobRequest& request, SubmitDone done) {
  const Task* task = tasks_.Find(request.task);
  if (!task) return done(InvalidArgumentError("unknown task '" + request.task + "'"));
  const bool live = principal.environment == Environment::kLive;
  const UnixMillis now = clock_.Now();

  SubmitResult out;
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
  auto unadmit = [this](const Job& j) { Release({j}); };

  // Credits first, then a pending slot: a submission the credits refuse
  // never holds a slot, so it is answered QUOTA_EXCEEDED, not
  // TOO_MANY_PENDING, however many of them arrive at once.
  auto held = std::make_shared<metering::Reservation>();
  if (live) {
    StatusOr<metering::Reservation> r = credits_.Reserve(principal.user_id, plan.monthly_credits, task->cost);
    if (!r.ok()) return done(r.status());
    *held = std::move(r).value();
    out.credits = held->state();
    if (!held->granted()) {
      // A repeat of an accepted job is answered even when credits ran out.
      StatusOr<std::optional<SubmitResult>> replay = Replay(job);
      if (!replay.ok()) return done(replay.status());
      if (*replay) return done(std::move(**replay));
      out.kind = SubmitResult::Kind::kQuotaExceeded;
      out.retry_after_ms = metering::MonthBounds(now).second - now;
      return done(std::move(out));
    }
  }
  out.kind = Admit(principal.user_id);
  if (out.kind != SubmitResult::Kind::kCreated) {
    held->Settle(UnavailableError("not admitted"));  // the credits go back
    // A repeat of an accepted job is answered even when the user is busy.
    StatusOr<std::optional<SubmitResult>> replay = Replay(job);
    if (!replay.ok()) return done(replay.status());
    if (*replay) return done(std::move(**replay));
    out.credits = {};
    out.retry_after_ms = 1000;
    return done(std::move(out));
  }
  StatusOr<std::string> id = core::NewTimeOrderedId("job", now);
  if (!id.ok()) {
    unadmit(job);
    return done(id.status());
  }
  job.id = *id;
  JobStore::NewJob row{job, /*charge=*/true};
  // The callback keeps only what its answer needs (the job holds the
  // request's identity, task and payload): a small capture, no copy of the
  // caller's principal or of the parsed payload.
  committer_.Submit(std::move(row), [this, held, out = std::move(out), job = std::move(job),
                                     done = std::move(done)](StatusOr<bool> inserted) mutable {
    held->Settle(!inserted.ok() ? inserted.status()
                                : *inserted ? OkStatus() : AlreadyExistsError("not inserted"));
    if (!inserted.ok() || !*inserted) {
      Release({job});
      if (inserted.status().code() == StatusCode::kResourceExhausted) {
        // The store refused the charge: writers elsewhere (other nodes, the
        // CLI) spent what this process had not counted.
        out.kind = SubmitResult::Kind::kQuotaExceeded;
        out.credits = metering::CreditState{out.credits.limit, out.credits.limit.value_or(0)};
        out.retry_after_ms = metering::MonthBounds(job.created_at).second - job.created_at;
        return done(std::move(out));
      }
      if (!inserted.ok()) return done(inserted.status());
      return done(Clashed(job, out.credits));
    }
    out.job = job;
    Schedule({std::move(job)});
    done(std::move(out));
  });
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
  }
}

void ComputeService::Run(std::vector<Job>& batch) {
  const UnixMillis started = clock_.Now();
  {
    // "running" lives in memory only: the store holds a job as queued until
    // its outcome is written, which is what a restart needs to resume it.
    std::lock_guard lock(mu_);
    for (Job& job : batch) {
      job.status = JobStatus::kRunning;
      job.started_at = started;
      running_.emplace(job.id, started);
    }
  }
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
  // Written with the next commit of submissions (or alone, if none comes);
  // until then they show as running. A failure leaves them queued in the
  // store; they are resumed at the next start.
  {
    std::lock_guard lock(mu_);
    for (Job& job : batch) finished_.push_back(std::move(job));
  }
  if (!committer_.Kick()) WriteFinished();  // stopped: no commit will come
}

void ComputeService::ShowRunning(Job& job) const {
  if (job.status != JobStatus::kQueued) return;
  std::lock_guard lock(mu_);
  auto it = running_.find(job.id);
  if (it == running_.end()) return;
  job.status = JobStatus::kRunning;
  job.started_at = it->second;
}

StatusOr<Job> ComputeService::Get(const Principal& principal, const std::string& id) {
  KW_ASSIGN_OR_RETURN(Job job, jobs_.GetJob(principal.user_id, principal.environment, id));
  ShowRunning(job);
  return job;
}

StatusOr<Page<Job>> ComputeService::List(const Principal& principal, const PageRequest& page) {
  KW_ASSIGN_OR_RETURN(Page<Job> jobs, jobs_.ListJobs(principal.user_id, principal.environment, page));
  for (Job& job : jobs.items) ShowRunning(job);
  return jobs;
}

}  // namespace keyward::compute
