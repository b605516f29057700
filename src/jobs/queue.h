// queue.h: the durable job queue's front door — puts a user's job in the
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
//    deadline and the worker revokes it when the entry finishes — so no
//    long-lived key is handed around.
// The sealed form is AES-256-GCM with the entry id as associated data
// (jobs/sealing.h); the plaintext never reaches the database.
// Enqueueing is idempotent per (user, environment, job_id): a repeat returns
// the existing entry. Task and payload are checked here, before anything is
// stored, so a bad job fails at the caller, not in a worker.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "auth/key_service.h"
#include "jobs/sealing.h"
#include "jobs/task_registry.h"
#include "keyward/principal.h"
#include "keyward/store.h"

namespace keyward::jobs {

struct EnqueueResult {
  QueueEntry entry;
  bool created = true;  // false: that job_id was queued already
};

struct QueueOptions {
  int max_attempts = 5;                          // claims before an entry is dead
  std::int64_t scoped_key_ttl_ms = 24 * 3'600'000LL;  // deadline of a job-scoped key
};

// Thread-safe; borrows everything it is given.
class JobQueue {
 public:
  JobQueue(Store& store, const Clock& clock, const Sealer& sealer, const TaskRegistry& tasks,
           auth::KeyService& keys, QueueOptions options = {})
      : store_(store), clock_(clock), sealer_(sealer), tasks_(tasks), keys_(keys), options_(options) {}

  // Seals `api_key` (the caller's own, already verified as `principal`).
  // kInvalidArgument for a bad job_id, task or payload.
  StatusOr<EnqueueResult> EnqueueWithKey(const Principal& principal, std::string_view api_key,
                                         const std::string& job_id, const std::string& task,
                                         const nlohmann::json& payload);

  // Issues a job-scoped key for `user_id` and seals it. An empty job_id gets
  // a generated one. kNotFound (user), kInvalidArgument, and the key
  // service's errors (e.g. the plan does not allow jobs:write).
  StatusOr<EnqueueResult> EnqueueForUser(const std::string& user_id, Environment env,
                                         std::string job_id, const std::string& task,
                                         const nlohmann::json& payload);

 private:
  Status Validate(const std::string& job_id, const std::string& task, const nlohmann::json& payload) const;
  StatusOr<QueueEntry> NewEntry(const std::string& user_id, Environment env,
                                const std::string& job_id, const std::string& task,
                                const nlohmann::json& payload, std::string_view api_key);

  Store& store_;
  const Clock& clock_;
  const Sealer& sealer_;
  const TaskRegistry& tasks_;
  auth::KeyService& keys_;
  const QueueOptions options_;
};

}  // namespace keyward::jobs
