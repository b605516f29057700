// verify.cc: POST /v1/keys/verify (a query: always 200) and GET /v1/authz
// (for nginx auth_request / Envoy ext_authz: 200 with identity headers, or
// 401/403/429).
#include <fmt/format.h>

#include "api/wire.h"
#include "http/error_mapping.h"
#include "http/handlers/context.h"

namespace keyward::http {
namespace {

using nlohmann::json;

json RateJson(const auth::GateResult& g) {
  if (!g.rate) return nullptr;
  return {{"limit", g.rate->limit}, {"remaining", static_cast<std::int64_t>(g.rate->remaining)}};
}

json CreditsJson(const auth::GateResult& g) {
  if (!g.credits) return nullptr;
  return {{"limit", g.credits->limit ? json(*g.credits->limit) : json(nullptr)},
          {"used", g.credits->used},
          {"remaining", g.credits->remaining() ? json(*g.credits->remaining()) : json(nullptr)}};
}

HttpResponse Verify(ServiceContext& ctx, const HttpRequest& req) {
  json body;
  if (auto bad = ParseJsonObject(req, &body)) return *bad;
  std::optional<std::string> key, env;
  std::optional<std::vector<std::string>> scopes;
  std::optional<std::int64_t> cost;
  Status st = OnlyFields(body, {"key", "scopes", "environment", "cost"});
  if (st.ok()) st = OptionalString(body, "key", &key);
  if (st.ok()) st = OptionalStringList(body, "scopes", &scopes);
  if (st.ok()) st = OptionalString(body, "environment", &env);
  if (st.ok()) st = OptionalInt(body, "cost", &cost);
  if (st.ok() && env && !ParseEnvironment(*env)) st = InvalidArgumentError("\"environment\" must be \"live\" or \"test\"");
  if (st.ok() && cost && (*cost < 0 || *cost > 1'000'000'000)) st = InvalidArgumentError("\"cost\" must be between 0 and 10^9");
  if (!st.ok()) return StatusResponse(st);
  auth::GateRequest g;
  g.key = key ? std::string_view(*key) : std::string_view();
  if (scopes) g.scopes = *scopes;
  if (env) g.environment = ParseEnvironment(*env);
  g.cost = cost.value_or(0);
  g.reason = "verify";
  StatusOr<auth::GateResult> r = ctx.gate.Check(g);
  if (!r.ok()) return StatusResponse(r.status());
  ctx.metrics.ObserveOutcome(r->verification.outcome);
  json out = api::VerificationJson(r->verification);
  out["credits"] = CreditsJson(*r);
  out["rate_limit"] = RateJson(*r);
  if (r->retry_after_ms > 0) out["retry_after_seconds"] = (r->retry_after_ms + 999) / 1000;
  HttpResponse res = JsonResponse(200, out);
  SetLogIdentity(res, *r);
  res.log_outcome = VerifyOutcomeName(r->verification.outcome);
  return res;
}

HttpResponse Authz(ServiceContext& ctx, const HttpRequest& req) {
  auth::GateRequest g;
  if (std::optional<std::string> s = req.QueryParam("scope")) g.scopes.push_back(*s);
  if (const std::string* s = req.Header("x-keyward-required-scope")) g.scopes.push_back(*s);
  std::optional<std::string> env = req.QueryParam("environment");
  if (const std::string* e = req.Header("x-keyward-required-environment")) env = *e;
  if (env) {
    g.environment = ParseEnvironment(*env);
    if (!g.environment) return ErrorResponse(400, "INVALID_ARGUMENT", "environment must be live or test");
  }
  auth::GateResult result;
  if (auto refused = Authenticate(ctx, req, g, &result)) {
    // Proxies that replace the body (nginx auth_request) can still say why.
    if (!refused->log_outcome.empty()) refused->SetHeader("X-Keyward-Error", std::string(refused->log_outcome));
    return *refused;
  }
  const Principal& p = *result.verification.principal;
  HttpResponse res;
  res.status = 200;
  res.body = R"({"valid":true})";
  res.SetHeader("X-Keyward-User-Id", p.user_id);
  res.SetHeader("X-Keyward-External-Id", p.external_id.value_or(""));
  res.SetHeader("X-Keyward-Key-Id", p.key_id);
  res.SetHeader("X-Keyward-Environment", std::string(EnvironmentName(p.environment)));
  res.SetHeader("X-Keyward-Scopes", fmt::format("{}", fmt::join(p.scopes, " ")));
  if (result.credits && result.credits->remaining()) {
    res.SetHeader("X-Keyward-Credits-Remaining", std::to_string(*result.credits->remaining()));
  }
  SetLogIdentity(res, result);
  res.log_outcome = "VALID";
  return res;
}

}  // namespace

void AddVerifyRoutes(Router& router, ServiceContext& ctx) {
  router.Add("POST", "/v1/keys/verify",
             [&ctx](const HttpRequest& req, const PathParams&) { return Verify(ctx, req); });
  router.Add("GET", "/v1/authz",
             [&ctx](const HttpRequest& req, const PathParams&) { return Authz(ctx, req); });
}

}  // namespace keyward::http
