// compute.cc: the reference compute API — POST/GET /v1/ai/jobs — which
// resolves the caller's user from the API key and works only on that user's
// jobs in the key's environment.
#include "api/wire.h"
#include "auth/scopes.h"
#include "http/error_mapping.h"
#include "http/handlers/route.h"
#include "http/router.h"

namespace keyward::http {
namespace {

using nlohmann::json;

HttpResponse Refuse(ServiceContext& ctx, VerifyOutcome outcome, std::int64_t retry_after_ms = 0) {
  ctx.metrics.ObserveOutcome(outcome);
  return OutcomeResponse(outcome, retry_after_ms);
}

// The answer to a submission, once its outcome is known.
HttpResponse SubmitAnswer(ServiceContext& ctx, const std::string& job_id,
                          const StatusOr<compute::SubmitResult>& r) {
  if (!r.ok()) return StatusResponse(r.status());
  using Kind = compute::SubmitResult::Kind;
  switch (r->kind) {
    case Kind::kQuotaExceeded:
      return Refuse(ctx, VerifyOutcome::kQuotaExceeded, r->retry_after_ms);
    case Kind::kUserBusy:
      return RetryLaterResponse(429, "TOO_MANY_PENDING",
                                "this user has too many jobs waiting to run; retry later",
                                r->retry_after_ms);
    case Kind::kOverloaded:
      return RetryLaterResponse(503, "OVERLOADED", "the compute service is at capacity; retry later",
                                r->retry_after_ms);
    case Kind::kConflict:
      return ErrorResponse(409, "JOB_ID_CONFLICT",
                           "job_id '" + job_id + "' was submitted before with another task "
                           "or payload; use a new job_id for a different job");
    case Kind::kCreated:
    case Kind::kExisting:
      break;
  }
  const bool created = r->kind == Kind::kCreated;
  (created ? ctx.metrics.jobs_created_total : ctx.metrics.jobs_idempotent_replays_total)++;
  HttpResponse res = JsonResponse(created ? 201 : 200, {{"job", api::JobJson(r->job)}});
  res.SetHeader("Location", "/v1/ai/jobs/" + r->job.id);
  return res;
}

// Answers through `reply` once the job and its charge are committed (group
// commit: the request waits without holding a thread).
void Submit(ServiceContext& ctx, Exchange& ex, const json& body, Reply& reply) {
  auto answer = IdentifiedSender(ex, reply);
  StatusOr<compute::JobRequest> request = compute::ReadJobRequest(body, ctx.service.tasks());
  if (!request.ok()) return answer(StatusResponse(request.status()));
  const KeyWithUser& rec = *ex.caller->verification.record;
  // A job-scoped key may submit its own job only: checked now that the
  // job_id is known (the head step deferred it).
  if (!auth::MaySubmitJob(rec.key.scopes, rec.user.plan.allowed_scopes, request->job_id)) {
    return answer(Refuse(ctx, VerifyOutcome::kInsufficientScope));
  }
  ctx.service.compute().SubmitAsync(
      *ex.caller->verification.principal, rec.user.plan, *request,
      [&ctx, answer, job_id = request->job_id](StatusOr<compute::SubmitResult> r) {
        answer(SubmitAnswer(ctx, job_id, r));
      });
}

HttpResponse Get(ServiceContext& ctx, Exchange& ex) {
  const KeyWithUser& rec = *ex.caller->verification.record;
  const bool job_bound = auth::IsJobBound(rec.key.scopes);
  if (!job_bound && !auth::Grants(rec.key.scopes, rec.user.plan.allowed_scopes, "jobs:read")) {
    return Refuse(ctx, VerifyOutcome::kInsufficientScope);
  }
  StatusOr<Job> job = ctx.service.compute().Get(*ex.caller->verification.principal, ex.params[0]);
  if (!job.ok() && job.status().code() != StatusCode::kNotFound) return StatusResponse(job.status());
  // A job-bound key learns nothing about other jobs, not even whether they exist.
  if (job_bound &&
      (!job.ok() || !auth::MayReadJob(rec.key.scopes, rec.user.plan.allowed_scopes, job->job_id))) {
    return Refuse(ctx, VerifyOutcome::kInsufficientScope);
  }
  return job.ok() ? JsonResponse(200, {{"job", api::JobJson(*job)}}) : StatusResponse(job.status());
}

HttpResponse List(ServiceContext& ctx, Exchange& ex) {
  StatusOr<PageRequest> page = ReadPage(ex.request);
  if (!page.ok()) return StatusResponse(page.status());
  StatusOr<Page<Job>> jobs = ctx.service.compute().List(*ex.caller->verification.principal, *page);
  if (!jobs.ok()) return StatusResponse(jobs.status());
  json arr = json::array();
  for (const Job& j : jobs->items) arr.push_back(api::JobJson(j, /*full=*/false));
  return JsonResponse(200, api::PageJson("jobs", std::move(arr), jobs->next));
}

}  // namespace

void AddComputeRoutes(Router& router, ServiceContext& ctx) {
  RouteSpec submit;
  submit.access = Access::kApiKey;
  submit.gate.defer_job_scope = true;   // MaySubmitJob, once the job_id is known
  submit.gate.require_credit = false;   // charged with the task's cost on submission
  submit.body = BodyKind::kJson;
  submit.respond_later = [&ctx](Exchange& ex, json b, Reply& reply) { Submit(ctx, ex, b, reply); };
  submit.queues_its_write = [](const Exchange&) { return true; };
  router.Add("POST", "/v1/ai/jobs", "submitJob", MakeRoute(ctx, std::move(submit)));

  RouteSpec list;
  list.access = Access::kApiKey;
  list.gate.required_scopes = {"jobs:read"};
  list.gate.require_credit = false;  // reading one's own results is never refused for credit
  list.query = {"limit", "after"};
  list.respond = [&ctx](Exchange& ex, const json&) { return List(ctx, ex); };
  router.Add("GET", "/v1/ai/jobs", "listJobs", MakeRoute(ctx, std::move(list)));

  RouteSpec get;
  get.access = Access::kApiKey;
  get.gate.defer_job_scope = true;  // a job's own key may read it: checked after the lookup
  get.gate.require_credit = false;
  get.respond = [&ctx](Exchange& ex, const json&) { return Get(ctx, ex); };
  router.Add("GET", "/v1/ai/jobs/{id}", "getJob", MakeRoute(ctx, std::move(get)));
}

}  // namespace keyward::http
