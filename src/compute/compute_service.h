// compute_service.h: the reference compute service behind POST /v1/ai/jobs —
// runs a user's job on that user's data, stores the result under that user
// and environment, and charges that user's credits exactly once per job_id.
//
// DESIGN
// Submit() is idempotent per (user, environment, job_id): a repeat with the
// same task and payload returns the existing job and charges nothing, also
// under concurrent repeats; a repeat with another task or payload is a
// conflict. A live job's credits are reserved (metering::Credits), the job
// and its charge are written in one transaction, and the reservation is
// settled with the write's outcome.
//
// Submissions are group-committed: SubmitAsync() returns at once and hears
// its outcome once the transaction that carries it has committed; every job
// that arrived while a commit ran joins the next one (core::GroupCommitter).
// So the answer to a submission always follows the commit of its job and
// charge, and a commit costs the same for one job or a thousand.
//
// Accepted jobs wait in memory for the executor, which takes all that are
// waiting at once, runs each task and stores every result (one
// transaction). "running" is known in memory only (Get and List show it):
// the store keeps a job queued until its outcome is written, so a job whose
// server died while running it is resumed like any other. Waiting work is bounded
// per user and in total (a submission beyond either bound is refused before
// anything is written), results are bounded in size, and jobs left
// unfinished by a previous server are resumed in pages, never all at once.
// Thread-safe; borrows what it is given.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "compute/executor.h"
#include "core/group_commit.h"
#include "compute/job_request.h"
#include "compute/task_registry.h"
#include "keyward/principal.h"
#include "metering/credits.h"
#include "store/job_store.h"

namespace keyward::compute {

struct ComputeOptions {
  // Jobs of one user accepted but not finished; more are refused (429).
  int max_pending_per_user = 100;
  // Jobs of all users accepted but not finished; more are refused (503).
  int max_pending_total = 10'000;
  // Commit submissions on a committer thread (group commit); false commits
  // each on the submitting thread (deterministic, for fuzzing).
  bool group_commit = true;
  // A result larger than this (as JSON text) fails the job instead.
  std::size_t max_result_bytes = 256 * 1024;
  // Unfinished jobs loaded per page when resuming after a restart.
  int resume_page = 1'000;
};

struct SubmitResult {
  enum class Kind {
    kCreated,        // new job, charged
    kExisting,       // this job_id exists with the same task and payload: nothing charged
    kConflict,       // this job_id exists with another task or payload: nothing written
    kQuotaExceeded,  // the user's monthly credits are used up
    kUserBusy,       // the user has max_pending_per_user jobs waiting
    kOverloaded,     // max_pending_total jobs are waiting
  };
  Kind kind = Kind::kCreated;
  Job job;                          // kCreated, kExisting, kConflict (the existing job)
  metering::CreditState credits;    // live jobs
  std::int64_t retry_after_ms = 0;  // kQuotaExceeded, kUserBusy, kOverloaded
};

class ComputeService {
 public:
  // `answers` (optional) runs the submitters' callbacks after each commit, so
  // the committer thread only commits; without it they run on the committer.
  ComputeService(JobStore& jobs, metering::Credits& credits, const TaskRegistry& tasks,
                 Executor& executor, const Clock& clock, ComputeOptions options = {},
                 Executor* answers = nullptr);

  using SubmitDone = std::function<void(StatusOr<SubmitResult>)>;
  // REQUIRES: ValidateJobRequest(request) is OK. `done` hears the outcome
  // exactly once, from any thread, after the job and its charge are
  // committed: kUnavailable if storage failed (nothing charged); decisions
  // are SubmitResult kinds.
  void SubmitAsync(const Principal& principal, const Plan& plan, const JobRequest& request,
                   SubmitDone done);
  // SubmitAsync(), waiting for the outcome.
  StatusOr<SubmitResult> Submit(const Principal& principal, const Plan& plan,
                                const JobRequest& request);
  // Commits the submissions already made and refuses further ones
  // (kUnavailable). Idempotent.
  void StopAccepting();

  // Schedules the jobs a previous server accepted (queued or running) but
  // did not finish, e.g. after a crash: the first page now, the following
  // pages whenever the executor has run out of work. Call once at start,
  // before serving. Returns how many were found in the first page.
  StatusOr<std::size_t> ResumeUnfinished();

  // Jobs of one user in one environment only; another's is kNotFound.
  StatusOr<Job> Get(const Principal& principal, const std::string& id);
  // Summaries (no payload or result), newest first.
  StatusOr<Page<Job>> List(const Principal& principal, const PageRequest& page);

  // Jobs accepted and not yet finished, in total.
  std::int64_t pending() const;

 private:
  // The existing job with `wanted`'s user, environment and job_id,
  // classified as kExisting or kConflict against its task and payload;
  // nullopt if there is none.
  StatusOr<std::optional<SubmitResult>> Replay(const Job& wanted);
  // Counts a job as pending; false (nothing counted) if a bound is reached.
  SubmitResult::Kind Admit(const std::string& user_id);
  // The outcome of a submission whose insert found its job_id taken.
  StatusOr<SubmitResult> Clashed(const Job& wanted, const metering::CreditState& credits);
  // Commits a batch of new jobs; one result per job (inserted or not).
  std::vector<StatusOr<bool>> CommitBatch(std::vector<JobStore::NewJob>& batch);
  void Release(const std::vector<Job>& finished);
  // Jobs whose outcome is now in the store: no longer running or pending.
  void Written(const std::vector<Job>& finished);
  // Writes these outcomes in a transaction of their own, then Written().
  void WriteOutcomes(const std::vector<Job>& finished);
  // WriteOutcomes(finished_) (when the committer has stopped).
  void WriteFinished();
  void Schedule(std::vector<Job> jobs);
  void Drain();                   // runs everything waiting (executor thread)
  void Run(std::vector<Job>& batch);
  void ResumeNextPage();          // executor thread
  // Shows a job this process is running as running.
  void ShowRunning(Job& job) const;
  void TakeResumed(Page<Job>& page);  // REQUIRES: mu_ held

  JobStore& jobs_;
  metering::Credits& credits_;
  const TaskRegistry& tasks_;
  Executor& executor_;
  const Clock& clock_;
  const ComputeOptions options_;

  mutable std::mutex mu_;
  std::vector<Job> waiting_;                                 // guarded by mu_
  bool draining_ = false;                                    // guarded by mu_
  std::unordered_map<std::string, int> pending_by_user_;    // guarded by mu_
  std::int64_t pending_total_ = 0;                           // guarded by mu_
  std::unordered_map<std::string, UnixMillis> running_;     // id -> started_at; guarded by mu_
  std::vector<Job> finished_;  // run, outcome not yet written; guarded by mu_
  std::optional<std::string> resume_after_;                  // next page's cursor; guarded by mu_
  UnixMillis resume_before_ = 0;  // jobs created from then on are this process's; guarded by mu_

  using Committer = core::GroupCommitter<JobStore::NewJob, StatusOr<bool>>;
  Committer committer_;  // last: stopped first
};

}  // namespace keyward::compute
