// queue.cc: enqueue with a sealed credential.
#include "jobs/queue.h"

#include <openssl/crypto.h>

#include <nlohmann/json.hpp>

#include "auth/scopes.h"
#include "core/ids.h"
#include "jobs/compute.h"

namespace keyward::jobs {

Status JobQueue::Validate(const std::string& job_id, const std::string& task_name,
                          const nlohmann::json& payload) const {
  KW_RETURN_IF_ERROR(ValidateJobId(job_id));
  const Task* task = tasks_.Find(task_name);
  if (!task) return InvalidArgumentError("unknown task '" + task_name + "'");
  if (!payload.is_object()) return InvalidArgumentError("payload must be a JSON object");
  return task->validate(payload);
}

StatusOr<QueueEntry> JobQueue::NewEntry(const std::string& user_id, Environment env,
                                        const std::string& job_id, const std::string& task,
                                        const nlohmann::json& payload, std::string_view api_key) {
  QueueEntry e;
  KW_ASSIGN_OR_RETURN(e.id, core::NewId("qen"));
  e.user_id = user_id;
  e.environment = env;
  e.job_id = job_id;
  e.task = task;
  e.payload = payload.dump();
  KW_ASSIGN_OR_RETURN(e.sealed_key, sealer_.Seal(api_key, e.id));
  e.max_attempts = options_.max_attempts;
  e.created_at = e.updated_at = e.available_at = clock_.Now();
  return e;
}

StatusOr<EnqueueResult> JobQueue::EnqueueWithKey(const Principal& principal, std::string_view api_key,
                                                 const std::string& job_id, const std::string& task,
                                                 const nlohmann::json& payload) {
  KW_RETURN_IF_ERROR(Validate(job_id, task, payload));
  KW_ASSIGN_OR_RETURN(QueueEntry e, NewEntry(principal.user_id, principal.environment, job_id,
                                             task, payload, api_key));
  Status st = store_.Enqueue(e);
  if (st.code() == StatusCode::kAlreadyExists) {
    KW_ASSIGN_OR_RETURN(QueueEntry existing,
                        store_.FindQueueEntry(principal.user_id, principal.environment, job_id));
    return EnqueueResult{std::move(existing), false};
  }
  KW_RETURN_IF_ERROR(st);
  return EnqueueResult{std::move(e), true};
}

StatusOr<EnqueueResult> JobQueue::EnqueueForUser(const std::string& user_id, Environment env,
                                                 std::string job_id, const std::string& task,
                                                 const nlohmann::json& payload) {
  if (job_id.empty()) {
    KW_ASSIGN_OR_RETURN(job_id, core::NewId("auto"));
  }
  KW_RETURN_IF_ERROR(Validate(job_id, task, payload));
  StatusOr<QueueEntry> existing = store_.FindQueueEntry(user_id, env, job_id);
  if (existing.ok()) return EnqueueResult{std::move(existing).value(), false};
  auth::IssueKeyRequest req;
  req.user_id = user_id;
  req.environment = env;
  req.name = "job " + job_id.substr(0, 150);
  req.scopes = {auth::JobSubmitScope(job_id)};  // this job and no other
  req.ttl_ms = options_.scoped_key_ttl_ms;
  KW_ASSIGN_OR_RETURN(auth::IssuedKey key, keys_.IssueKey(req));
  StatusOr<QueueEntry> e = NewEntry(user_id, env, job_id, task, payload, key.secret);
  OPENSSL_cleanse(key.secret.data(), key.secret.size());
  Status st = e.ok() ? OkStatus() : e.status();
  if (st.ok()) {
    e->scoped_key_id = key.record.id;
    st = store_.Enqueue(*e);
  }
  if (!st.ok()) {
    // The key was made for this entry alone: do not leave it behind.
    keys_.RevokeKey(key.record.id).status().IgnoreError();
    if (st.code() == StatusCode::kAlreadyExists) {
      KW_ASSIGN_OR_RETURN(QueueEntry raced, store_.FindQueueEntry(user_id, env, job_id));
      return EnqueueResult{std::move(raced), false};
    }
    return st;
  }
  return EnqueueResult{std::move(e).value(), true};
}

}  // namespace keyward::jobs
