// verify.cc: POST /v1/keys/verify (a query: always 200) and GET /v1/authz
// (for nginx auth_request / Envoy ext_authz: 200 with identity headers, or
// 401/403/429).
#include <fmt/format.h>

#include "api/wire.h"
#include "http/error_mapping.h"
#include "auth/scopes.h"
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

// Splits a requirement value at commas and whitespace ("a,b", "a b").
void SplitList(std::string_view value, std::vector<std::string>* out) {
  std::size_t i = 0;
  while (i < value.size()) {
    std::size_t j = value.find_first_of(", \t", i);
    if (j == std::string_view::npos) j = value.size();
    if (j > i) out->emplace_back(value.substr(i, j - i));
    i = j + 1;
  }
}

// What /v1/authz must check, gathered from every source: each `scope` and
// `environment` query parameter (set in the proxy's subrequest URI) and each
// X-Keyward-Required-* header. Requirements only accumulate — every scope
// named anywhere must be held, every environment named anywhere must match —
// so nothing a client adds can make the check looser.
struct AuthzRequirements {
  std::vector<std::string> scopes;
  std::optional<Environment> environment;
  bool conflicting_environments = false;  // live and test both required: nothing passes
};

StatusOr<AuthzRequirements> ReadRequirements(const HttpRequest& req) {
  AuthzRequirements out;
  std::vector<std::string> scope_values, env_values;
  if (!req.QueryValues("scope", &scope_values) || !req.QueryValues("environment", &env_values)) {
    return InvalidArgumentError("the query string is not correctly percent-encoded");
  }
  for (std::string_view h : req.HeaderValues("x-keyward-required-scope")) scope_values.emplace_back(h);
  for (std::string_view h : req.HeaderValues("x-keyward-required-environment")) env_values.emplace_back(h);
  for (const std::string& v : scope_values) {
    std::size_t before = out.scopes.size();
    SplitList(v, &out.scopes);
    if (out.scopes.size() == before) return InvalidArgumentError("a required scope is empty");
  }
  for (const std::string& s : out.scopes) {
    if (!auth::IsValidScope(s) || s == auth::kAnyScope) {
      return InvalidArgumentError("required scope '" + s.substr(0, 64) + "' is not a valid scope name");
    }
  }
  for (const std::string& v : env_values) {
    std::optional<Environment> e = ParseEnvironment(v);
    if (!e) return InvalidArgumentError("a required environment must be live or test");
    if (out.environment && *out.environment != *e) out.conflicting_environments = true;
    out.environment = e;
  }
  return out;
}

HttpResponse WithErrorHeader(HttpResponse r, std::string_view code) {
  // Proxies that replace the body (nginx auth_request) can still say why.
  r.SetHeader("X-Keyward-Error", std::string(code));
  return r;
}

HttpResponse Authz(ServiceContext& ctx, const HttpRequest& req) {
  StatusOr<AuthzRequirements> wanted = ReadRequirements(req);
  if (!wanted.ok()) return WithErrorHeader(StatusResponse(wanted.status()), "INVALID_ARGUMENT");
  auth::GateRequest g;
  g.scopes = wanted->scopes;
  g.environment = wanted->environment;
  auth::GateResult result;
  if (auto refused = Authenticate(ctx, req, g, &result)) {
    if (refused->log_outcome.empty()) return *refused;
    std::string_view code = refused->log_outcome;
    return WithErrorHeader(std::move(*refused), code);
  }
  if (wanted->conflicting_environments) {
    ctx.metrics.ObserveOutcome(VerifyOutcome::kWrongEnvironment);
    HttpResponse r = OutcomeResponse(VerifyOutcome::kWrongEnvironment, 0);
    SetLogIdentity(r, result);
    std::string_view code = r.log_outcome;
    return WithErrorHeader(std::move(r), code);
  }
  const Principal& p = *result.verification.principal;
  HttpResponse res;
  res.status = 200;
  res.body = R"({"valid":true})";
  res.SetHeader("X-Keyward-User-Id", p.user_id);
  if (p.external_id) res.SetHeader("X-Keyward-External-Id", *p.external_id);
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
