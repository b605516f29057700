// job_queue.h: the durable job queue's front door — puts a user's job in the
// store for a worker, with the credential the worker will present sealed.
//
// DESIGN
// A queue entry is a row in the same store as users and keys, so it is as
// durable as they are and needs no second system. Two ways in:
//  - with the user's own key (POST /v1/queue/jobs): that key is sealed into
//    the entry, so the worker acts with exactly the caller's credential;
//  - for a back end that holds a user id, not a key (`keyward job enqueue`):
//    keyward issues a key for that entry alone — its only scope lets it
//    submit this one job_id (auth::JobSubmitScope), it expires at the entry's
//    deadline and is revoked when the entry finishes — so no long-lived key
//    is handed around.
// The sealed form is AES-256-GCM with the entry id as associated data
// (core/sealing.h); the plaintext never reaches the database, and the store
// erases the sealed form once the entry is final.
// A job_id names one job forever: enqueueing it again with the same task and
// payload returns the existing entry, whatever its status; with another task
// or payload it is a conflict. The request is validated here (the same
// validator as the compute API), before anything is stored, so a bad job
// fails at the caller, not in a worker. Each user may have a bounded number
// of unfinished entries.
#pragma once

#include <functional>
#include <string>

#include "auth/accounts.h"
#include "compute/executor.h"
#include "compute/job_request.h"
#include "core/group_commit.h"
#include "keyward/principal.h"
#include "core/sealing.h"
#include "store/queue_store.h"

namespace keyward::queue {

struct EnqueueResult {
  enum class Kind {
    kCreated,   // a new entry
    kExisting,  // this job_id was queued before with the same task and payload
    kConflict,  // this job_id was queued before with another task or payload
    kUserBusy,  // the user has max_unfinished_per_user entries unfinished
  };
  Kind kind = Kind::kCreated;
  QueueEntry entry;  // kCreated, kExisting, kConflict (the existing entry)
};

struct QueueOptions {
  int max_attempts = 5;                               // claims before an entry is dead
  // Commit enqueued entries on a committer thread (group commit); false
  // commits each on the calling thread (deterministic, for fuzzing).
  bool group_commit = true;
  std::int64_t scoped_key_ttl_ms = 24 * 3'600'000LL;  // lifetime of a job-scoped key
  int max_unfinished_per_user = 1'000;                // queued or in flight, per user
};

// Thread-safe; borrows everything it is given.
class JobQueue {
 public:
  // `answers`, if given, runs the callbacks of each committed batch (the
  // commit thread goes on to the next batch meanwhile).
  JobQueue(QueueStore& store, const Clock& clock, const core::Sealer& sealer,
           const compute::TaskRegistry& tasks, auth::Accounts& accounts, QueueOptions options = {},
           compute::Executor* answers = nullptr);

  // Seals `api_key` (the caller's own, already verified as `principal`).
  // kInvalidArgument for a bad request; kFailedPrecondition if the queue is
  // sealed under another seal key. Group-committed: `done` hears the
  // outcome once, from any thread, after the entry is committed (entries
  // that arrive while a commit runs share the next one).
  using EnqueueDone = std::function<void(StatusOr<EnqueueResult>)>;
  void EnqueueWithKeyAsync(const Principal& principal, std::string_view api_key,
                           const compute::JobRequest& request, EnqueueDone done);
  // EnqueueWithKeyAsync(), waiting for the outcome.
  StatusOr<EnqueueResult> EnqueueWithKey(const Principal& principal, std::string_view api_key,
                                         const compute::JobRequest& request);
  // Commits what is already enqueued and refuses more (kUnavailable).
  void StopAccepting() { committer_.Stop(); }

  // Issues a job-scoped key for `user_id` and seals it. An empty job_id gets
  // a generated one. `require_signature`: the job key is refused as a bearer
  // credential (the worker signs with it). kNotFound (user),
  // kInvalidArgument, and the accounts' errors (e.g. the plan does not allow
  // jobs:write).
  StatusOr<EnqueueResult> EnqueueForUser(const std::string& user_id, Environment env,
                                         compute::JobRequest request, bool require_signature = false);

 private:
  StatusOr<QueueEntry> NewEntry(const std::string& user_id, Environment env,
                                const compute::JobRequest& request, std::string_view api_key);
  // Inserts `e`; on a clash or at the user's bound, classifies against the
  // existing entry for the same job_id.
  StatusOr<EnqueueResult> Insert(QueueEntry e);
  // The outcome of inserting `e` with status `st`.
  StatusOr<EnqueueResult> Outcome(QueueEntry e, const Status& st);
  // The existing entry for user+env+job_id as kExisting/kConflict, or nullopt.
  StatusOr<std::optional<EnqueueResult>> Replay(const std::string& user_id, Environment env,
                                                const compute::JobRequest& request);

  QueueStore& store_;
  const Clock& clock_;
  const core::Sealer& sealer_;
  const compute::TaskRegistry& tasks_;
  auth::Accounts& accounts_;
  const QueueOptions options_;
  using Committer = core::GroupCommitter<QueueEntry, Status>;
  Committer committer_;  // last: stopped first
};

}  // namespace keyward::queue
