// admin_users.cc: the operator's user routes — create, list, read, update,
// delete — and a user's keys and usage.
#include "api/wire.h"
#include "core/ids.h"
#include "core/time_format.h"
#include "http/error_mapping.h"
#include "http/handlers/route.h"
#include "http/router.h"

namespace keyward::http {
namespace {

using nlohmann::json;

// Reads the "plan" object of `body` into `update` (only the fields present).
Status ReadPlan(const json& body, auth::UserUpdate* update) {
  auto it = body.find("plan");
  if (it == body.end() || it->is_null()) return OkStatus();
  if (!it->is_object()) return InvalidArgumentError("\"plan\" must be an object");
  KW_RETURN_IF_ERROR(
      OnlyFields(*it, {"rate_limit", "test_rate_limit", "monthly_credits", "allowed_scopes", "require_signature"}));
  for (auto [name, field] : {std::pair{"rate_limit", &update->rate_limit},
                             std::pair{"test_rate_limit", &update->test_rate_limit}}) {
    if (!it->contains(name)) continue;
    const json& r = (*it)[name];
    if (!r.is_null() && !r.is_number()) {
      return InvalidArgumentError(std::string("\"plan.") + name + "\" must be a number or null");
    }
    *field = r.is_null() ? std::nullopt : std::optional<double>(r.get<double>());
  }
  if (it->contains("monthly_credits")) {
    const json& c = (*it)["monthly_credits"];
    if (!c.is_null() && !c.is_number_integer()) {
      return InvalidArgumentError("\"plan.monthly_credits\" must be an integer or null");
    }
    update->monthly_credits =
        c.is_null() ? std::nullopt : std::optional<std::int64_t>(c.get<std::int64_t>());
  }
  std::optional<std::vector<std::string>> scopes;
  KW_RETURN_IF_ERROR(OptionalStringList(*it, "allowed_scopes", &scopes));
  if (scopes) update->allowed_scopes = *scopes;
  std::optional<bool> require_signature;
  KW_RETURN_IF_ERROR(OptionalBool(*it, "require_signature", &require_signature));
  if (require_signature) update->require_signature = *require_signature;
  return OkStatus();
}

Plan PlanFrom(const auth::UserUpdate& u) {
  Plan p;
  if (u.rate_limit) p.rate_limit = *u.rate_limit;
  if (u.test_rate_limit) p.test_rate_limit = *u.test_rate_limit;
  if (u.monthly_credits) p.monthly_credits = *u.monthly_credits;
  if (u.allowed_scopes) p.allowed_scopes = *u.allowed_scopes;
  if (u.require_signature) p.require_signature = *u.require_signature;
  return p;
}

HttpResponse CreateUser(ServiceContext& ctx, const json& body) {
  Status st = OnlyFields(body, {"name", "external_id", "email", "plan", "issue_key", "key_name"});
  auth::CreateUserRequest r;
  std::optional<std::string> name, key_name;
  std::optional<bool> issue_key;
  auth::UserUpdate plan;
  if (st.ok()) st = OptionalString(body, "name", &name);
  if (st.ok()) st = OptionalString(body, "external_id", &r.external_id);
  if (st.ok()) st = OptionalString(body, "email", &r.email);
  if (st.ok()) st = OptionalString(body, "key_name", &key_name);
  if (st.ok()) st = OptionalBool(body, "issue_key", &issue_key);
  if (st.ok()) st = ReadPlan(body, &plan);
  if (st.ok() && !name) st = InvalidArgumentError("\"name\" is required");
  if (!st.ok()) return StatusResponse(st);
  r.name = *name;
  r.plan = PlanFrom(plan);
  r.issue_key = issue_key.value_or(true);
  if (key_name) r.key_name = *key_name;
  StatusOr<auth::CreatedUser> created = ctx.service.accounts().CreateUser(r);
  if (!created.ok()) return StatusResponse(created.status());
  HttpResponse res = JsonResponse(201, api::CreatedUserJson(*created, ctx.clock().Now()));
  res.SetHeader("Location", "/v1/users/" + created->user.id);
  res.SetHeader("Cache-Control", "no-store");
  return res;
}

HttpResponse UpdateUser(ServiceContext& ctx, const std::string& id, const json& body) {
  Status st = OnlyFields(body, {"name", "external_id", "email", "plan", "disabled"});
  auth::UserUpdate u;
  std::optional<std::string> s;
  std::optional<bool> disabled;
  if (st.ok()) st = OptionalString(body, "name", &s);
  if (st.ok() && s) u.name = s;
  for (auto [field, target] : {std::pair{"email", &u.email}, std::pair{"external_id", &u.external_id}}) {
    if (!st.ok() || !body.contains(field)) continue;
    s.reset();
    if ((st = OptionalString(body, field, &s)).ok()) *target = s;  // null clears
  }
  if (st.ok()) st = OptionalBool(body, "disabled", &disabled);
  if (st.ok()) st = ReadPlan(body, &u);
  if (!st.ok()) return StatusResponse(st);
  u.disabled = disabled;
  StatusOr<User> updated = ctx.service.accounts().UpdateUser(id, u);
  if (!updated.ok()) return StatusResponse(updated.status());
  return JsonResponse(200, {{"user", api::UserJson(*updated)}});
}

HttpResponse IssueKey(ServiceContext& ctx, const std::string& id, const json& body) {
  auth::IssueKeyRequest r;
  r.user_id = id;
  std::optional<std::string> name, env, expires;
  std::optional<std::int64_t> ttl_seconds, ttl_ms;
  std::optional<std::vector<std::string>> scopes;
  std::optional<bool> require_signature;
  Status st = OnlyFields(body, {"name", "environment", "scopes", "expires_at", "ttl", "ttl_seconds",
                                "require_signature"});
  if (st.ok()) st = OptionalBool(body, "require_signature", &require_signature);
  if (st.ok()) st = OptionalString(body, "name", &name);
  if (st.ok()) st = OptionalString(body, "environment", &env);
  if (st.ok()) st = OptionalString(body, "expires_at", &expires);
  if (st.ok()) st = OptionalInt(body, "ttl_seconds", &ttl_seconds);
  if (st.ok()) st = OptionalDuration(body, "ttl", auth::kMaxTtlMs, &ttl_ms);
  if (st.ok()) st = OptionalStringList(body, "scopes", &scopes);
  if (st.ok() && env && !ParseEnvironment(*env)) st = InvalidArgumentError("\"environment\" must be \"live\" or \"test\"");
  if (st.ok() && expires && !core::ParseRfc3339(*expires)) st = InvalidArgumentError("\"expires_at\" must be an RFC 3339 time");
  if (st.ok() && ttl_seconds && ttl_ms) st = InvalidArgumentError("give \"ttl\" or \"ttl_seconds\", not both");
  if (st.ok() && ttl_seconds && (*ttl_seconds <= 0 || *ttl_seconds > auth::kMaxTtlMs / 1000)) {
    st = InvalidArgumentError("\"ttl_seconds\" must be positive and at most " +
                              std::to_string(auth::kMaxTtlMs / 1000) + " (10 years)");
  }
  if (!st.ok()) return StatusResponse(st);
  if (name) r.name = *name;
  if (env) r.environment = *ParseEnvironment(*env);
  if (scopes) r.scopes = *scopes;
  if (expires) r.expires_at = core::ParseRfc3339(*expires);
  if (ttl_seconds) ttl_ms = *ttl_seconds * 1000;
  r.ttl_ms = ttl_ms;
  r.require_signature = require_signature.value_or(false);
  StatusOr<auth::IssuedKey> k = ctx.service.accounts().IssueKey(r);
  if (!k.ok()) return StatusResponse(k.status());
  HttpResponse res = JsonResponse(201, {{"key", api::IssuedKeyJson(*k, ctx.clock().Now())}});
  res.SetHeader("Location", "/v1/keys/" + k->record.id);
  res.SetHeader("Cache-Control", "no-store");
  return res;
}

HttpResponse Usage(ServiceContext& ctx, const HttpRequest& req, const std::string& id) {
  UnixMillis now = ctx.clock().Now();
  auto [from, to] = metering::MonthBounds(now);
  for (auto [name, target] : {std::pair{"from", &from}, std::pair{"to", &to}}) {
    StatusOr<std::optional<std::string>> v = req.QueryParam(name);
    if (!v.ok()) return StatusResponse(v.status());
    if (!*v) continue;
    std::optional<UnixMillis> t = core::ParseRfc3339(**v);
    if (!t) return ErrorResponse(400, "INVALID_ARGUMENT", std::string(name) + " must be an RFC 3339 time");
    *target = *t;
  }
  if (to <= from) return ErrorResponse(400, "INVALID_ARGUMENT", "to must be after from");
  StatusOr<User> user = ctx.service.backend().keys().GetUser(id);
  if (!user.ok()) return StatusResponse(user.status());
  StatusOr<std::vector<UsageByKey>> rows = ctx.service.backend().usage().UsageReport(id, from, to);
  if (!rows.ok()) return StatusResponse(rows.status());
  // This month's credits from the ledger itself, not this node's count:
  // exact whichever node (or process) made the charges.
  auto [month_start, month_end] = metering::MonthBounds(now);
  StatusOr<std::int64_t> used =
      ctx.service.backend().usage().SumUsage(id, Environment::kLive, month_start, month_end);
  if (!used.ok()) return StatusResponse(used.status());
  return JsonResponse(200, api::UsageJson(id, from, to, *rows, user->plan,
                                          metering::CreditState{user->plan.monthly_credits, *used}));
}

HttpResponse ListUsers(ServiceContext& ctx, const HttpRequest& req) {
  StatusOr<std::optional<std::string>> ext = req.QueryParam("external_id");
  if (!ext.ok()) return StatusResponse(ext.status());
  if (*ext) {
    // At most one user has an external id: a one-item (or empty) page.
    json users = json::array();
    StatusOr<User> u = ctx.service.backend().keys().FindUserByExternalId(**ext);
    if (u.ok()) users.push_back(api::UserJson(*u));
    else if (u.status().code() != StatusCode::kNotFound) return StatusResponse(u.status());
    return JsonResponse(200, api::PageJson("users", std::move(users), std::nullopt));
  }
  StatusOr<PageRequest> page = ReadPage(req);
  if (!page.ok()) return StatusResponse(page.status());
  StatusOr<Page<User>> all = ctx.service.backend().keys().ListUsers(*page);
  if (!all.ok()) return StatusResponse(all.status());
  json users = json::array();
  for (const User& u : all->items) users.push_back(api::UserJson(u));
  return JsonResponse(200, api::PageJson("users", std::move(users), all->next));
}

HttpResponse ListKeys(ServiceContext& ctx, const HttpRequest& req, const std::string& id) {
  StatusOr<PageRequest> page = ReadPage(req);
  if (!page.ok()) return StatusResponse(page.status());
  StatusOr<Page<ApiKey>> keys = ctx.service.backend().keys().ListKeys(id, *page);
  if (!keys.ok()) return StatusResponse(keys.status());
  json arr = json::array();
  UnixMillis now = ctx.clock().Now();
  for (const ApiKey& k : keys->items) arr.push_back(api::KeyJson(k, now));
  return JsonResponse(200, api::PageJson("keys", std::move(arr), keys->next));
}

// A route on one user: the operator token, and an id of the right shape
// (anything else is a plain 404 before any lookup).
RouteSpec UserRoute(BodyKind body, std::vector<std::string> query,
                    std::function<HttpResponse(const Exchange&, const std::string&, const json&)> fn) {
  RouteSpec spec;
  spec.access = Access::kAdmin;
  spec.body = body;
  spec.query = std::move(query);
  spec.respond = [fn = std::move(fn)](Exchange& ex, const json& b) {
    const std::string& id = ex.params[0];
    if (!core::IsValidId(id, "usr")) {
      return ErrorResponse(404, "NOT_FOUND", "user " + id.substr(0, 64) + " does not exist");
    }
    return fn(ex, id, b);
  };
  return spec;
}

}  // namespace

void AddUserRoutes(Router& router, ServiceContext& ctx) {
  RouteSpec create;
  create.access = Access::kAdmin;
  create.body = BodyKind::kJson;
  create.respond = [&ctx](Exchange&, const json& b) { return CreateUser(ctx, b); };
  router.Add("POST", "/v1/users", "createUser", MakeRoute(ctx, std::move(create)));

  RouteSpec list;
  list.access = Access::kAdmin;
  list.query = {"external_id", "limit", "after"};
  list.respond = [&ctx](Exchange& ex, const json&) { return ListUsers(ctx, ex.request); };
  router.Add("GET", "/v1/users", "listUsers", MakeRoute(ctx, std::move(list)));

  router.Add("GET", "/v1/users/{id}", "getUser",
             MakeRoute(ctx, UserRoute(BodyKind::kNone, {}, [&ctx](const Exchange&, const std::string& id, const json&) {
               StatusOr<User> u = ctx.service.backend().keys().GetUser(id);
               return u.ok() ? JsonResponse(200, {{"user", api::UserJson(*u)}}) : StatusResponse(u.status());
             })));
  router.Add("PATCH", "/v1/users/{id}", "updateUser",
             MakeRoute(ctx, UserRoute(BodyKind::kJson, {}, [&ctx](const Exchange&, const std::string& id, const json& b) {
               return UpdateUser(ctx, id, b);
             })));
  router.Add("DELETE", "/v1/users/{id}", "deleteUser",
             MakeRoute(ctx, UserRoute(BodyKind::kNone, {}, [&ctx](const Exchange&, const std::string& id, const json&) {
               Status st = ctx.service.accounts().DeleteUser(id);
               if (!st.ok()) return StatusResponse(st);
               ctx.service.credits().Forget(id);
               return JsonResponse(200, api::DeletedJson(id));
             })));
  router.Add("POST", "/v1/users/{id}/keys", "issueKey",
             MakeRoute(ctx, UserRoute(BodyKind::kOptionalJson, {}, [&ctx](const Exchange&, const std::string& id, const json& b) {
               return IssueKey(ctx, id, b);
             })));
  router.Add("GET", "/v1/users/{id}/keys", "listUserKeys",
             MakeRoute(ctx, UserRoute(BodyKind::kNone, {"limit", "after"}, [&ctx](const Exchange& ex, const std::string& id, const json&) {
               return ListKeys(ctx, ex.request, id);
             })));
  router.Add("POST", "/v1/users/{id}/keys/revoke", "revokeAllUserKeys",
             MakeRoute(ctx, UserRoute(BodyKind::kNone, {}, [&ctx](const Exchange&, const std::string& id, const json&) {
               StatusOr<std::int64_t> n = ctx.service.accounts().RevokeAllKeys(id);
               return n.ok() ? JsonResponse(200, api::RevokedAllJson(id, *n)) : StatusResponse(n.status());
             })));
  router.Add("GET", "/v1/users/{id}/usage", "getUserUsage",
             MakeRoute(ctx, UserRoute(BodyKind::kNone, {"from", "to"}, [&ctx](const Exchange& ex, const std::string& id, const json&) {
               return Usage(ctx, ex.request, id);
             })));
}

}  // namespace keyward::http
