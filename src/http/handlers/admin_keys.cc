// admin_keys.cc: GET/DELETE /v1/keys/{id}, revoke and rotate.
#include "api/wire.h"
#include "core/ids.h"
#include "http/error_mapping.h"
#include "http/handlers/context.h"

namespace keyward::http {
namespace {

using nlohmann::json;

template <typename Fn>
Handler KeyRoute(ServiceContext& ctx, Fn fn) {
  return [&ctx, fn](const HttpRequest& req, const PathParams& p) {
    if (auto denied = RequireAdmin(ctx, req)) return *denied;
    if (!core::IsValidId(p[0], "key")) {
      return ErrorResponse(404, "NOT_FOUND", "key " + p[0] + " does not exist");
    }
    return fn(ctx, req, p[0]);
  };
}

HttpResponse KeyResponse(ServiceContext& ctx, const StatusOr<ApiKey>& key) {
  if (!key.ok()) return StatusResponse(key.status());
  return JsonResponse(200, {{"key", api::KeyJson(*key, ctx.clock.Now())}});
}

}  // namespace

void AddKeyRoutes(Router& router, ServiceContext& ctx) {
  router.Add("GET", "/v1/keys/{id}", KeyRoute(ctx, [](ServiceContext& c, const HttpRequest&, const std::string& id) {
    return KeyResponse(c, c.store.GetKey(id));
  }));
  router.Add("POST", "/v1/keys/{id}/revoke", KeyRoute(ctx, [](ServiceContext& c, const HttpRequest&, const std::string& id) {
    return KeyResponse(c, c.keys.RevokeKey(id));
  }));
  router.Add("DELETE", "/v1/keys/{id}", KeyRoute(ctx, [](ServiceContext& c, const HttpRequest&, const std::string& id) {
    Status st = c.keys.DeleteKey(id);
    return st.ok() ? JsonResponse(200, {{"deleted", id}}) : StatusResponse(st);
  }));
  router.Add("POST", "/v1/keys/{id}/rotate", KeyRoute(ctx, [](ServiceContext& c, const HttpRequest& req, const std::string& id) {
    json body = json::object();
    if (!req.body.empty()) {
      if (auto bad = ParseJsonObject(req, &body)) return *bad;
    }
    std::optional<std::int64_t> grace;
    Status st = OnlyFields(body, {"grace_seconds"});
    if (st.ok()) st = OptionalInt(body, "grace_seconds", &grace);
    if (st.ok() && grace && (*grace < 0 || *grace > 366LL * 86400)) {
      st = InvalidArgumentError("\"grace_seconds\" must be between 0 and one year");
    }
    if (!st.ok()) return StatusResponse(st);
    StatusOr<auth::RotatedKey> r = c.keys.RotateKey(id, grace.value_or(86400) * 1000);
    if (!r.ok()) return StatusResponse(r.status());
    UnixMillis now = c.clock.Now();
    HttpResponse res = JsonResponse(201, {{"key", api::IssuedKeyJson(r->new_key.record, r->new_key.secret, now)},
                                          {"old_key", api::KeyJson(r->old_key, now)}});
    res.SetHeader("Cache-Control", "no-store");
    return res;
  }));
}

}  // namespace keyward::http
