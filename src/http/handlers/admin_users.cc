// admin_users.cc: POST/GET/PATCH/DELETE /v1/users…, user keys and usage.
#include "api/wire.h"
#include "core/ids.h"
#include "core/time_format.h"
#include "http/error_mapping.h"
#include "http/handlers/context.h"

namespace keyward::http {
namespace {

using nlohmann::json;

HttpResponse UserNotFound(const std::string& id) {
  return ErrorResponse(404, "NOT_FOUND", "user " + id + " does not exist");
}

// Reads a "plan" object into `plan` (only the fields present).
Status ReadPlan(const json& body, Plan* plan, bool* changed_rate, bool* changed_credits) {
  auto it = body.find("plan");
  if (it == body.end() || it->is_null()) return OkStatus();
  if (!it->is_object()) return InvalidArgumentError("\"plan\" must be an object");
  KW_RETURN_IF_ERROR(OnlyFields(*it, {"rate_limit", "monthly_credits", "allowed_scopes"}));
  if (it->contains("rate_limit")) {
    const json& r = (*it)["rate_limit"];
    if (!r.is_null() && !r.is_number()) return InvalidArgumentError("\"plan.rate_limit\" must be a number or null");
    plan->rate_limit = r.is_null() ? std::nullopt : std::optional<double>(r.get<double>());
    *changed_rate = true;
  }
  if (it->contains("monthly_credits")) {
    const json& c = (*it)["monthly_credits"];
    if (!c.is_null() && !c.is_number_integer()) {
      return InvalidArgumentError("\"plan.monthly_credits\" must be an integer or null");
    }
    plan->monthly_credits = c.is_null() ? std::nullopt : std::optional<std::int64_t>(c.get<std::int64_t>());
    *changed_credits = true;
  }
  std::optional<std::vector<std::string>> scopes;
  KW_RETURN_IF_ERROR(OptionalStringList(*it, "allowed_scopes", &scopes));
  if (scopes) plan->allowed_scopes = *scopes;
  return OkStatus();
}

HttpResponse CreateUser(ServiceContext& ctx, const HttpRequest& req) {
  json body;
  if (auto bad = ParseJsonObject(req, &body)) return *bad;
  Status st = OnlyFields(body, {"name", "external_id", "email", "plan", "issue_key", "key_name"});
  auth::CreateUserRequest r;
  std::optional<std::string> name, key_name;
  if (st.ok()) st = OptionalString(body, "name", &name);
  if (st.ok()) st = OptionalString(body, "external_id", &r.external_id);
  if (st.ok()) st = OptionalString(body, "email", &r.email);
  if (st.ok()) st = OptionalString(body, "key_name", &key_name);
  bool unused_a = false, unused_b = false;
  if (st.ok()) st = ReadPlan(body, &r.plan, &unused_a, &unused_b);
  if (st.ok() && body.contains("issue_key")) {
    if (!body["issue_key"].is_boolean()) st = InvalidArgumentError("\"issue_key\" must be a boolean");
    else r.issue_key = body["issue_key"].get<bool>();
  }
  if (st.ok() && !name) st = InvalidArgumentError("\"name\" is required");
  if (!st.ok()) return StatusResponse(st);
  r.name = *name;
  if (key_name) r.key_name = *key_name;
  StatusOr<auth::CreatedUser> created = ctx.keys.CreateUser(r);
  if (!created.ok()) return StatusResponse(created.status());
  json out{{"user", api::UserJson(created->user)}, {"key", nullptr}};
  if (created->key) out["key"] = api::IssuedKeyJson(created->key->record, created->key->secret, ctx.clock.Now());
  HttpResponse res = JsonResponse(201, out);
  res.SetHeader("Location", "/v1/users/" + created->user.id);
  res.SetHeader("Cache-Control", "no-store");
  return res;
}

HttpResponse UpdateUser(ServiceContext& ctx, const HttpRequest& req, const std::string& id) {
  json body;
  if (auto bad = ParseJsonObject(req, &body)) return *bad;
  Status st = OnlyFields(body, {"name", "external_id", "email", "plan", "disabled"});
  if (!st.ok()) return StatusResponse(st);
  StatusOr<User> current = ctx.store.GetUser(id);
  if (!current.ok()) return StatusResponse(current.status());
  auth::UserUpdate u;
  std::optional<std::string> s;
  if (st.ok() && (st = OptionalString(body, "name", &s)).ok() && s) u.name = s;
  if (st.ok() && body.contains("email")) {
    s.reset();
    if ((st = OptionalString(body, "email", &s)).ok()) u.email = s;
  }
  if (st.ok() && body.contains("external_id")) {
    s.reset();
    if ((st = OptionalString(body, "external_id", &s)).ok()) u.external_id = s;
  }
  if (st.ok() && body.contains("disabled")) {
    if (!body["disabled"].is_boolean()) st = InvalidArgumentError("\"disabled\" must be a boolean");
    else u.disabled = body["disabled"].get<bool>();
  }
  Plan plan = current->plan;
  bool rate = false, credits = false;
  if (st.ok()) st = ReadPlan(body, &plan, &rate, &credits);
  if (!st.ok()) return StatusResponse(st);
  if (rate) u.rate_limit = plan.rate_limit;
  if (credits) u.monthly_credits = plan.monthly_credits;
  if (plan.allowed_scopes != current->plan.allowed_scopes) u.allowed_scopes = plan.allowed_scopes;
  StatusOr<User> updated = ctx.keys.UpdateUser(id, u);
  if (!updated.ok()) return StatusResponse(updated.status());
  return JsonResponse(200, {{"user", api::UserJson(*updated)}});
}

HttpResponse Usage(ServiceContext& ctx, const HttpRequest& req, const std::string& id) {
  UnixMillis now = ctx.clock.Now();
  auto [month_start, month_end] = auth::MonthBounds(now);
  UnixMillis from = month_start, to = month_end;
  for (auto [name, target] : {std::pair{"from", &from}, std::pair{"to", &to}}) {
    StatusOr<std::optional<std::string>> v = req.QueryParam(name);
    if (!v.ok()) return StatusResponse(v.status());
    if (*v) {
      std::optional<UnixMillis> t = core::ParseRfc3339(**v);
      if (!t) return ErrorResponse(400, "INVALID_ARGUMENT", std::string(name) + " must be an RFC 3339 time");
      *target = *t;
    }
  }
  if (to <= from) return ErrorResponse(400, "INVALID_ARGUMENT", "to must be after from");
  StatusOr<User> user = ctx.store.GetUser(id);
  if (!user.ok()) return StatusResponse(user.status());
  StatusOr<std::vector<UsageByKey>> rows = ctx.store.UsageReport(id, from, to);
  if (!rows.ok()) return StatusResponse(rows.status());
  json envs{{"live", {{"units", 0}, {"entries", 0}, {"charged", 0}}},
            {"test", {{"units", 0}, {"entries", 0}, {"charged", 0}}}};
  json keys = json::array();
  for (const auto& r : *rows) {
    const char* env = r.environment == Environment::kLive ? "live" : "test";
    envs[env]["units"] = envs[env]["units"].get<std::int64_t>() + r.units;
    envs[env]["entries"] = envs[env]["entries"].get<std::int64_t>() + r.entries;
    if (r.environment == Environment::kLive) envs[env]["charged"] = envs[env]["units"];
    keys.push_back({{"key_id", r.key_id}, {"environment", env}, {"units", r.units}, {"entries", r.entries}});
  }
  json credits = nullptr;
  StatusOr<auth::CreditState> c = ctx.quota.Peek(id, user->plan.monthly_credits);
  if (c.ok()) {
    credits = {{"monthly", user->plan.monthly_credits ? json(*user->plan.monthly_credits) : json(nullptr)},
               {"used_this_month", c->used},
               {"remaining", c->remaining() ? json(*c->remaining()) : json(nullptr)}};
  }
  return JsonResponse(200, {{"user_id", id}, {"from", core::FormatRfc3339(from)},
                            {"to", core::FormatRfc3339(to)}, {"environments", envs},
                            {"keys", keys}, {"credits", credits}});
}

// Wraps a handler taking the user id: admin check and id shape check first.
template <typename Fn>
Handler UserRoute(ServiceContext& ctx, Fn fn) {
  return [&ctx, fn](const HttpRequest& req, const PathParams& p) {
    if (auto denied = RequireAdmin(ctx, req)) return *denied;
    if (!core::IsValidId(p[0], "usr")) return UserNotFound(p[0]);
    return fn(ctx, req, p[0]);
  };
}

}  // namespace

void AddUserRoutes(Router& router, ServiceContext& ctx) {
  router.Add("POST", "/v1/users", [&ctx](const HttpRequest& req, const PathParams&) {
    if (auto denied = RequireAdmin(ctx, req)) return *denied;
    return CreateUser(ctx, req);
  });
  router.Add("GET", "/v1/users", [&ctx](const HttpRequest& req, const PathParams&) {
    if (auto denied = RequireAdmin(ctx, req)) return *denied;
    json users = json::array();
    StatusOr<std::optional<std::string>> ext = req.QueryParam("external_id");
    if (!ext.ok()) return StatusResponse(ext.status());
    if (*ext) {
      StatusOr<User> u = ctx.store.FindUserByExternalId(**ext);
      if (u.ok()) users.push_back(api::UserJson(*u));
      else if (u.status().code() != StatusCode::kNotFound) return StatusResponse(u.status());
    } else {
      StatusOr<std::vector<User>> all = ctx.store.ListUsers();
      if (!all.ok()) return StatusResponse(all.status());
      for (const auto& u : *all) users.push_back(api::UserJson(u));
    }
    return JsonResponse(200, {{"users", users}});
  });
  router.Add("GET", "/v1/users/{id}", UserRoute(ctx, [](ServiceContext& c, const HttpRequest&, const std::string& id) {
    StatusOr<User> u = c.store.GetUser(id);
    return u.ok() ? JsonResponse(200, {{"user", api::UserJson(*u)}}) : StatusResponse(u.status());
  }));
  router.Add("PATCH", "/v1/users/{id}", UserRoute(ctx, UpdateUser));
  router.Add("DELETE", "/v1/users/{id}", UserRoute(ctx, [](ServiceContext& c, const HttpRequest&, const std::string& id) {
    Status st = c.keys.DeleteUser(id);
    if (!st.ok()) return StatusResponse(st);
    c.quota.Forget(id);
    return JsonResponse(200, {{"deleted", id}});
  }));
  router.Add("POST", "/v1/users/{id}/keys", UserRoute(ctx, [](ServiceContext& c, const HttpRequest& req, const std::string& id) {
    json body;
    if (req.body.empty()) body = json::object();
    else if (auto bad = ParseJsonObject(req, &body)) return *bad;
    auth::IssueKeyRequest r;
    r.user_id = id;
    std::optional<std::string> name, env, expires;
    std::optional<std::int64_t> ttl;
    std::optional<std::vector<std::string>> scopes;
    Status st = OnlyFields(body, {"name", "environment", "scopes", "expires_at", "ttl_seconds"});
    if (st.ok()) st = OptionalString(body, "name", &name);
    if (st.ok()) st = OptionalString(body, "environment", &env);
    if (st.ok()) st = OptionalString(body, "expires_at", &expires);
    if (st.ok()) st = OptionalInt(body, "ttl_seconds", &ttl);
    if (st.ok()) st = OptionalStringList(body, "scopes", &scopes);
    if (st.ok() && env && !ParseEnvironment(*env)) st = InvalidArgumentError("\"environment\" must be \"live\" or \"test\"");
    if (st.ok() && expires && !core::ParseRfc3339(*expires)) st = InvalidArgumentError("\"expires_at\" must be an RFC 3339 time");
    if (st.ok() && ttl && (*ttl <= 0 || *ttl > 100LL * 366 * 86400)) st = InvalidArgumentError("\"ttl_seconds\" must be positive (at most 100 years)");
    if (!st.ok()) return StatusResponse(st);
    if (name) r.name = *name;
    if (env) r.environment = *ParseEnvironment(*env);
    if (scopes) r.scopes = *scopes;
    if (expires) r.expires_at = core::ParseRfc3339(*expires);
    if (ttl) r.ttl_ms = *ttl * 1000;
    StatusOr<auth::IssuedKey> k = c.keys.IssueKey(r);
    if (!k.ok()) return StatusResponse(k.status());
    HttpResponse res = JsonResponse(201, {{"key", api::IssuedKeyJson(k->record, k->secret, c.clock.Now())}});
    res.SetHeader("Location", "/v1/keys/" + k->record.id);
    res.SetHeader("Cache-Control", "no-store");
    return res;
  }));
  router.Add("GET", "/v1/users/{id}/keys", UserRoute(ctx, [](ServiceContext& c, const HttpRequest&, const std::string& id) {
    StatusOr<std::vector<ApiKey>> keys = c.store.ListKeys(id);
    if (!keys.ok()) return StatusResponse(keys.status());
    json arr = json::array();
    UnixMillis now = c.clock.Now();
    for (const auto& k : *keys) arr.push_back(api::KeyJson(k, now));
    return JsonResponse(200, {{"keys", arr}});
  }));
  router.Add("POST", "/v1/users/{id}/keys/revoke", UserRoute(ctx, [](ServiceContext& c, const HttpRequest&, const std::string& id) {
    StatusOr<std::int64_t> n = c.keys.RevokeAllKeys(id);
    return n.ok() ? JsonResponse(200, {{"user_id", id}, {"revoked", *n}}) : StatusResponse(n.status());
  }));
  router.Add("GET", "/v1/users/{id}/usage", UserRoute(ctx, Usage));
}

}  // namespace keyward::http
