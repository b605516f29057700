// job_queue.cc: enqueue with a sealed credential.
#include "queue/job_queue.h"

#include <openssl/crypto.h>

#include <future>

#include "auth/scopes.h"
#include "core/ids.h"

namespace keyward::queue {

JobQueue::JobQueue(QueueStore& store, const Clock& clock, const core::Sealer& sealer,
                   const compute::TaskRegistry& tasks, auth::Accounts& accounts, QueueOptions options,
                   compute::Executor* answers)
    : store_(store), clock_(clock), sealer_(sealer), tasks_(tasks), accounts_(accounts),
      options_(options),
      committer_(
          [this](std::vector<QueueEntry>& batch) {
            return store_.EnqueueMany(batch, options_.max_unfinished_per_user);
          },
          UnavailableError("the job queue is stopping"), options.group_commit, "kw-queue-commit",
          answers ? Committer::Deliver([answers](std::function<void()> give) {
            return answers->Post(std::move(give));
          })
                  : Committer::Deliver()) {}

StatusOr<QueueEntry> JobQueue::NewEntry(const std::string& user_id, Environment env,
                                        const compute::JobRequest& request,
                                        std::string_view api_key) {
  QueueEntry e;
  e.created_at = e.updated_at = e.available_at = clock_.Now();
  KW_ASSIGN_OR_RETURN(e.id, core::NewTimeOrderedId("qen", e.created_at));
  e.user_id = user_id;
  e.environment = env;
  e.job_id = request.job_id;
  e.task = request.task;
  e.payload = request.PayloadText();
  KW_ASSIGN_OR_RETURN(e.sealed_key, sealer_.Seal(api_key, e.id));
  e.seal_key = sealer_.fingerprint();
  e.max_attempts = options_.max_attempts;
  return e;
}

StatusOr<std::optional<EnqueueResult>> JobQueue::Replay(const std::string& user_id, Environment env,
                                                        const compute::JobRequest& request) {
  StatusOr<QueueEntry> found = store_.FindQueueEntry(user_id, env, request.job_id);
  if (!found.ok()) {
    if (found.status().code() == StatusCode::kNotFound) return std::optional<EnqueueResult>();
    return found.status();
  }
  EnqueueResult r;
  const bool same = found->task == request.task && found->payload == request.PayloadText();
  r.kind = same ? EnqueueResult::Kind::kExisting : EnqueueResult::Kind::kConflict;
  found->sealed_key.reset();
  r.entry = std::move(found).value();
  return std::optional<EnqueueResult>(std::move(r));
}

StatusOr<EnqueueResult> JobQueue::Insert(QueueEntry e) {
  Status st = store_.Enqueue(e, options_.max_unfinished_per_user);
  return Outcome(std::move(e), st);
}

StatusOr<EnqueueResult> JobQueue::Outcome(QueueEntry e, const Status& st) {
  if (st.ok()) {
    e.sealed_key.reset();
    return EnqueueResult{EnqueueResult::Kind::kCreated, std::move(e)};
  }
  if (st.code() != StatusCode::kAlreadyExists && st.code() != StatusCode::kResourceExhausted) return st;
  // A repeat is answered even when the user is at the bound.
  StatusOr<QueueEntry> found = store_.FindQueueEntry(e.user_id, e.environment, e.job_id);
  if (!found.ok()) {
    if (found.status().code() != StatusCode::kNotFound) return found.status();
    if (st.code() == StatusCode::kResourceExhausted) return EnqueueResult{EnqueueResult::Kind::kUserBusy, {}};
    return InternalError("job_id '" + e.job_id + "' clashed but cannot be found");
  }
  const bool same = found->task == e.task && found->payload == e.payload;
  found->sealed_key.reset();
  return EnqueueResult{same ? EnqueueResult::Kind::kExisting : EnqueueResult::Kind::kConflict,
                       std::move(found).value()};
}

void JobQueue::EnqueueWithKeyAsync(const Principal& principal, std::string_view api_key,
                                   const compute::JobRequest& request, EnqueueDone done) {
  if (Status st = compute::ValidateJobRequest(request, tasks_); !st.ok()) return done(st);
  StatusOr<QueueEntry> e = NewEntry(principal.user_id, principal.environment, request, api_key);
  if (!e.ok()) return done(e.status());
  QueueEntry copy = *e;
  copy.sealed_key.reset();  // the callback needs no credential
  committer_.Submit(std::move(e).value(),
                    [this, copy = std::move(copy), done = std::move(done)](Status st) mutable {
                      done(Outcome(std::move(copy), st));
                    });
}

StatusOr<EnqueueResult> JobQueue::EnqueueWithKey(const Principal& principal, std::string_view api_key,
                                                 const compute::JobRequest& request) {
  std::promise<StatusOr<EnqueueResult>> promise;
  std::future<StatusOr<EnqueueResult>> outcome = promise.get_future();
  EnqueueWithKeyAsync(principal, api_key, request,
                      [&promise](StatusOr<EnqueueResult> r) { promise.set_value(std::move(r)); });
  return outcome.get();
}

StatusOr<EnqueueResult> JobQueue::EnqueueForUser(const std::string& user_id, Environment env,
                                                 compute::JobRequest request, bool require_signature) {
  if (request.job_id.empty()) {
    KW_ASSIGN_OR_RETURN(request.job_id, core::NewId("auto"));
  }
  KW_RETURN_IF_ERROR(compute::ValidateJobRequest(request, tasks_));
  // A repeat needs no new key.
  KW_ASSIGN_OR_RETURN(std::optional<EnqueueResult> replay, Replay(user_id, env, request));
  if (replay) return std::move(*replay);
  auth::IssueKeyRequest req;
  req.user_id = user_id;
  req.environment = env;
  req.name = "job " + request.job_id.substr(0, 150);
  req.scopes = {auth::JobSubmitScope(request.job_id)};  // this job and no other
  req.ttl_ms = options_.scoped_key_ttl_ms;
  req.require_signature = require_signature;
  KW_ASSIGN_OR_RETURN(auth::IssuedKey key, accounts_.IssueKey(req));
  StatusOr<QueueEntry> e = NewEntry(user_id, env, request, key.secret);
  OPENSSL_cleanse(key.secret.data(), key.secret.size());
  StatusOr<EnqueueResult> r = e.ok() ? [&] {
    e->scoped_key_id = key.record.id;
    return Insert(std::move(e).value());
  }() : StatusOr<EnqueueResult>(e.status());
  if (!r.ok() || r->kind != EnqueueResult::Kind::kCreated) {
    // The key was made for this entry alone: do not leave it behind.
    accounts_.RevokeKey(key.record.id).status().IgnoreError();
  }
  return r;
}

}  // namespace keyward::queue
