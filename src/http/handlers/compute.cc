// compute.cc: the reference compute API — POST/GET /v1/ai/jobs — which
// resolves the caller's user from the API key and works only on that user's
// jobs in the key's environment.
#include "core/time_format.h"
#include "auth/scopes.h"
#include "http/error_mapping.h"
#include "http/handlers/context.h"
#include "json/parse.h"

namespace keyward::http {
namespace {

using nlohmann::json;

// `payload`, when given, is the already-parsed j.payload (saves a re-parse).
json JobJson(const Job& j, const json* payload = nullptr) {
  auto parse = [](const std::optional<std::string>& s) {
    return s ? jsonio::ParseStoredJson(*s) : json(nullptr);
  };
  auto time = [](const std::optional<UnixMillis>& t) {
    return t ? json(core::FormatRfc3339(*t)) : json(nullptr);
  };
  return {{"id", j.id}, {"job_id", j.job_id}, {"user_id", j.user_id},
          {"environment", EnvironmentName(j.environment)}, {"task", j.task},
          {"status", j.status},
          {"payload", payload ? *payload : jsonio::ParseStoredJson(j.payload)},
          {"result", parse(j.result)}, {"error", j.error ? json(*j.error) : json(nullptr)},
          {"cost", j.cost}, {"charged", j.environment == Environment::kLive},
          {"key_id", j.key_id}, {"created_at", core::FormatRfc3339(j.created_at)},
          {"started_at", time(j.started_at)}, {"finished_at", time(j.finished_at)}};
}

HttpResponse Submit(ServiceContext& ctx, const HttpRequest& req) {
  // The scope check needs the job_id (a job-scoped key may submit one job
  // only), so it comes after the body is read: see MaySubmitJob below.
  auth::GateRequest g;
  g.check_quota = false;  // charged below, after the idempotency check
  g.defer_job_scope = true;  // MaySubmitJob below, once the job_id is known
  auth::GateResult auth;
  if (auto refused = Authenticate(ctx, req, g, &auth)) return *refused;
  json body;
  std::optional<HttpResponse> bad = ParseJsonObject(req, &body);
  std::optional<std::string> job_id, task;
  Status st = OnlyFields(body, {"job_id", "task", "payload"});
  if (!bad && st.ok()) st = OptionalString(body, "job_id", &job_id);
  if (!bad && st.ok()) st = OptionalString(body, "task", &task);
  if (!bad && st.ok() && !job_id) st = InvalidArgumentError("\"job_id\" is required");
  if (!bad && st.ok() && !task) st = InvalidArgumentError("\"task\" is required");
  HttpResponse res;
  if (bad) {
    res = *bad;
  } else if (!st.ok()) {
    res = StatusResponse(st);
  } else if (!auth::MaySubmitJob(auth.verification.record->key.scopes,
                                 auth.verification.record->user.plan.allowed_scopes, *job_id)) {
    ctx.metrics.ObserveOutcome(VerifyOutcome::kInsufficientScope);
    res = OutcomeResponse(VerifyOutcome::kInsufficientScope, 0);
  } else {
    json payload = body.contains("payload") ? body["payload"] : json::object();
    const Principal& p = *auth.verification.principal;
    StatusOr<jobs::SubmitResult> r =
        ctx.compute.Submit(p, auth.verification.record->user.plan, *job_id, *task, payload);
    if (!r.ok()) {
      res = StatusResponse(r.status());
    } else if (r->kind == jobs::SubmitResult::Kind::kQuotaExceeded) {
      ctx.metrics.ObserveOutcome(VerifyOutcome::kQuotaExceeded);
      auto [start, end] = auth::MonthBounds(ctx.clock.Now());
      res = OutcomeResponse(VerifyOutcome::kQuotaExceeded, end - ctx.clock.Now());
    } else {
      bool created = r->kind == jobs::SubmitResult::Kind::kCreated;
      (created ? ctx.metrics.jobs_created_total : ctx.metrics.jobs_idempotent_replays_total)++;
      res = JsonResponse(created ? 201 : 200, {{"job", JobJson(r->job, created ? &payload : nullptr)}});
      res.SetHeader("Location", "/v1/ai/jobs/" + r->job.id);
    }
  }
  SetLogIdentity(res, auth);
  return res;
}

HttpResponse Get(ServiceContext& ctx, const HttpRequest& req, const std::string& id) {
  auth::GateRequest g;
  g.check_quota = false;
  // A key issued for one job may read that job: the scope check needs the
  // job's job_id, so it follows the lookup.
  g.defer_job_scope = true;
  auth::GateResult auth;
  if (auto refused = Authenticate(ctx, req, g, &auth)) return *refused;
  const KeyWithUser& rec = *auth.verification.record;
  const bool job_bound = auth::IsJobBound(rec.key.scopes);
  auto refuse = [&] {
    ctx.metrics.ObserveOutcome(VerifyOutcome::kInsufficientScope);
    HttpResponse r = OutcomeResponse(VerifyOutcome::kInsufficientScope, 0);
    SetLogIdentity(r, auth);
    return r;
  };
  if (!job_bound && !auth::Grants(rec.key.scopes, rec.user.plan.allowed_scopes, "jobs:read")) {
    return refuse();
  }
  StatusOr<Job> job = ctx.compute.Get(*auth.verification.principal, id);
  if (!job.ok() && job.status().code() != StatusCode::kNotFound) return StatusResponse(job.status());
  // A job-bound key learns nothing about other jobs, not even whether they exist.
  if (job_bound && (!job.ok() || !auth::MayReadJob(rec.key.scopes, rec.user.plan.allowed_scopes,
                                                    job->job_id))) {
    return refuse();
  }
  HttpResponse res = job.ok() ? JsonResponse(200, {{"job", JobJson(*job)}})
                              : StatusResponse(job.status());
  SetLogIdentity(res, auth);
  return res;
}

HttpResponse List(ServiceContext& ctx, const HttpRequest& req) {
  auth::GateRequest g;
  g.scopes = {"jobs:read"};
  g.check_quota = false;
  auth::GateResult auth;
  if (auto refused = Authenticate(ctx, req, g, &auth)) return *refused;
  int limit = 100;
  StatusOr<std::optional<std::string>> limit_param = req.QueryParam("limit");
  if (!limit_param.ok()) return StatusResponse(limit_param.status());
  if (const std::optional<std::string>& l = *limit_param) {
    char* end = nullptr;
    long v = std::strtol(l->c_str(), &end, 10);
    if (l->empty() || *end != '\0' || v < 1 || v > 1000) {
      return ErrorResponse(400, "INVALID_ARGUMENT", "limit must be an integer from 1 to 1000");
    }
    limit = static_cast<int>(v);
  }
  StatusOr<std::vector<Job>> jobs = ctx.compute.List(*auth.verification.principal, limit);
  if (!jobs.ok()) return StatusResponse(jobs.status());
  json arr = json::array();
  for (const auto& j : *jobs) arr.push_back(JobJson(j));
  HttpResponse res = JsonResponse(200, {{"jobs", arr}});
  SetLogIdentity(res, auth);
  return res;
}

}  // namespace

void AddComputeRoutes(Router& router, ServiceContext& ctx) {
  router.Add("POST", "/v1/ai/jobs",
             [&ctx](const HttpRequest& req, const PathParams&) { return Submit(ctx, req); });
  router.Add("GET", "/v1/ai/jobs",
             [&ctx](const HttpRequest& req, const PathParams&) { return List(ctx, req); });
  router.Add("GET", "/v1/ai/jobs/{id}",
             [&ctx](const HttpRequest& req, const PathParams& p) { return Get(ctx, req, p[0]); });
}

}  // namespace keyward::http
