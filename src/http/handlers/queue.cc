// queue.cc: POST /v1/queue/jobs — a back end hands a user's job to the
// durable queue with that user's own key; a worker will present the same key.
#include "core/time_format.h"
#include "http/error_mapping.h"
#include "http/handlers/context.h"
#include "jobs/queue.h"

namespace keyward::http {
namespace {

using nlohmann::json;

json EntryJson(const QueueEntry& e) {
  return {{"id", e.id}, {"job_id", e.job_id}, {"user_id", e.user_id},
          {"environment", EnvironmentName(e.environment)}, {"task", e.task}, {"status", e.status},
          {"attempts", e.attempts}, {"created_at", core::FormatRfc3339(e.created_at)}};
}

HttpResponse Enqueue(ServiceContext& ctx, const HttpRequest& req) {
  auth::GateRequest g;
  g.scopes = {"jobs:write"};
  g.check_quota = false;  // charged when the worker submits
  auth::GateResult auth;
  if (auto refused = Authenticate(ctx, req, g, &auth)) return *refused;
  json body;
  HttpResponse res;
  std::optional<std::string> job_id, task;
  if (auto bad = ParseJsonObject(req, &body)) {
    res = *bad;
  } else {
    Status st = OnlyFields(body, {"job_id", "task", "payload"});
    if (st.ok()) st = OptionalString(body, "job_id", &job_id);
    if (st.ok()) st = OptionalString(body, "task", &task);
    if (st.ok() && !job_id) st = InvalidArgumentError("\"job_id\" is required");
    if (st.ok() && !task) st = InvalidArgumentError("\"task\" is required");
    if (!st.ok()) {
      res = StatusResponse(st);
    } else {
      bool malformed = false;
      std::string_view key = ApiKeyFromHeader(req, &malformed);
      json payload = body.contains("payload") ? body["payload"] : json::object();
      StatusOr<jobs::EnqueueResult> r = ctx.queue.EnqueueWithKey(
          *auth.verification.principal, key, *job_id, *task, payload);
      res = r.ok() ? JsonResponse(r->created ? 201 : 200, {{"entry", EntryJson(r->entry)}})
                   : StatusResponse(r.status());
    }
  }
  SetLogIdentity(res, auth);
  return res;
}

}  // namespace

void AddQueueRoutes(Router& router, ServiceContext& ctx) {
  router.Add("POST", "/v1/queue/jobs",
             [&ctx](const HttpRequest& req, const PathParams&) { return Enqueue(ctx, req); });
}

}  // namespace keyward::http
