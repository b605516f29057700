// verify.cc: POST /v1/keys/verify (a query: always 200) and GET /v1/authz
// (for nginx auth_request / Envoy ext_authz: 200 with identity headers, or
// 401/403/429).
#include <charconv>

#include "api/wire.h"
#include "auth/scopes.h"
#include "http/error_mapping.h"
#include "http/handlers/route.h"
#include "http/router.h"

namespace keyward::http {
namespace {

using nlohmann::json;

constexpr std::int64_t kMaxVerifyCost = 1'000'000'000;

HttpResponse Verify(ServiceContext& ctx, const json& body) {
  std::optional<std::string> key, env;
  std::optional<std::vector<std::string>> scopes;
  std::optional<std::int64_t> cost;
  Status st = OnlyFields(body, {"key", "scopes", "environment", "cost"});
  if (st.ok()) st = OptionalString(body, "key", &key);
  if (st.ok()) st = OptionalStringList(body, "scopes", &scopes);
  if (st.ok()) st = OptionalString(body, "environment", &env);
  if (st.ok()) st = OptionalInt(body, "cost", &cost);
  if (st.ok() && env && !ParseEnvironment(*env)) st = InvalidArgumentError("\"environment\" must be \"live\" or \"test\"");
  if (st.ok() && cost && (*cost < 0 || *cost > kMaxVerifyCost)) {
    st = InvalidArgumentError("\"cost\" must be an integer from 0 to 1000000000");
  }
  if (st.ok() && scopes) {
    for (const std::string& s : *scopes) {
      if (!auth::IsValidScope(s) || s == auth::kAnyScope) {
        st = InvalidArgumentError("\"scopes\" holds an invalid scope name");
        break;
      }
    }
  }
  if (!st.ok()) return StatusResponse(st);
  metering::GateRequest g;
  g.key = key ? std::string_view(*key) : std::string_view();
  if (scopes) g.required_scopes = *scopes;
  if (env) g.environment = ParseEnvironment(*env);
  g.cost = cost.value_or(0);
  g.reason = "verify";
  StatusOr<metering::GateResult> r = ctx.service.gate().Check(g);
  if (!r.ok()) return StatusResponse(r.status());
  ctx.metrics.ObserveOutcome(r->verification.outcome);
  HttpResponse res = JsonResponse(200, api::GateResultJson(*r));
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

// True if the request names any requirement (most name none: the common
// case costs no allocation).
bool NamesRequirements(const HttpRequest& req) {
  if (!req.query.empty()) return true;
  for (const auto& [name, value] : req.headers) {
    if (std::string_view(name).starts_with("x-keyward-required-")) return true;
  }
  return false;
}

StatusOr<AuthzRequirements> ReadRequirements(const HttpRequest& req) {
  AuthzRequirements out;
  if (!NamesRequirements(req)) return out;
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

// True if the requirements name both environments (nothing can pass).
bool HasConflictingEnvironments(const HttpRequest& req) {
  StatusOr<AuthzRequirements> wanted = ReadRequirements(req);
  return wanted.ok() && wanted->conflicting_environments;
}

// The body of an authz answer; the identity travels in headers.
constexpr std::string_view kAuthzBody = R"({"valid":true})";

HttpResponse Authz(ServiceContext& ctx, Exchange& ex) {
  const metering::GateResult& result = *ex.caller;
  if (HasConflictingEnvironments(ex.request)) {
    ctx.metrics.ObserveOutcome(VerifyOutcome::kWrongEnvironment);
    return OutcomeResponse(VerifyOutcome::kWrongEnvironment, 0);
  }
  const Principal& p = *result.verification.principal;
  HttpResponse res;
  res.status = 200;
  res.body = kAuthzBody;
  res.SetHeader("X-Keyward-User-Id", p.user_id);
  if (p.external_id) res.SetHeader("X-Keyward-External-Id", *p.external_id);
  res.SetHeader("X-Keyward-Key-Id", p.key_id);
  res.SetHeader("X-Keyward-Environment", EnvironmentName(p.environment));
  std::string scopes;
  for (const std::string& s : p.scopes) {
    if (!scopes.empty()) scopes += ' ';
    scopes += s;
  }
  res.SetHeader("X-Keyward-Scopes", scopes);
  if (result.credits && result.credits->remaining()) {
    char buf[24];
    auto end = std::to_chars(buf, buf + sizeof buf, *result.credits->remaining()).ptr;
    res.SetHeader("X-Keyward-Credits-Remaining", std::string_view(buf, static_cast<std::size_t>(end - buf)));
  }
  res.log_outcome = "VALID";
  return res;
}

}  // namespace

void AddVerifyRoutes(Router& router, ServiceContext& ctx) {
  RouteSpec verify;
  verify.body = BodyKind::kJson;
  // A verification with a cost waits for its charge to commit: not on an
  // I/O thread (uses_store stays on).
  verify.respond = [&ctx](Exchange&, const json& b) { return Verify(ctx, b); };
  router.Add("POST", "/v1/keys/verify", "verifyKey", MakeRoute(ctx, std::move(verify)));

  RouteSpec authz;
  authz.access = Access::kApiKey;
  authz.query = {"scope", "environment"};
  authz.uses_store = false;  // the key cache first; a miss is one indexed read
  authz.forwarded_target = true;
  authz.gate_from_request = [](const HttpRequest& req) -> StatusOr<metering::GateRequest> {
    KW_ASSIGN_OR_RETURN(AuthzRequirements wanted, ReadRequirements(req));
    metering::GateRequest g;
    g.required_scopes = std::move(wanted.scopes);
    g.environment = wanted.environment;
    return g;
  };
  authz.respond = [&ctx](Exchange& ex, const json&) { return Authz(ctx, ex); };
  router.Add("GET", "/v1/authz", "authorize", MakeRoute(ctx, std::move(authz)));
}

}  // namespace keyward::http
