// admin_keys.cc: the operator's key routes — read, revoke, rotate, delete.
#include "api/wire.h"
#include "core/ids.h"
#include "http/error_mapping.h"
#include "http/handlers/route.h"
#include "http/router.h"

namespace keyward::http {
namespace {

using nlohmann::json;

// A route on one key: the operator token, and an id of the right shape.
RouteSpec KeyRoute(BodyKind body,
                   std::function<HttpResponse(const std::string& id, const json& body)> fn) {
  RouteSpec spec;
  spec.access = Access::kAdmin;
  spec.body = body;
  spec.respond = [fn = std::move(fn)](Exchange& ex, const json& b) {
    const std::string& id = ex.params[0];
    if (!core::IsValidId(id, "key")) {
      return ErrorResponse(404, "NOT_FOUND", "key " + id.substr(0, 64) + " does not exist");
    }
    return fn(id, b);
  };
  return spec;
}

HttpResponse Rotate(ServiceContext& ctx, const std::string& id, const json& body) {
  std::optional<std::int64_t> grace_seconds, grace_ms;
  Status st = OnlyFields(body, {"grace", "grace_seconds"});
  if (st.ok()) st = OptionalInt(body, "grace_seconds", &grace_seconds);
  if (st.ok()) st = OptionalDuration(body, "grace", auth::kMaxGraceMs, &grace_ms);
  if (st.ok() && grace_seconds && grace_ms) st = InvalidArgumentError("give \"grace\" or \"grace_seconds\", not both");
  if (st.ok() && grace_seconds && (*grace_seconds < 0 || *grace_seconds > auth::kMaxGraceMs / 1000)) {
    st = InvalidArgumentError("\"grace_seconds\" must be between 0 and " +
                              std::to_string(auth::kMaxGraceMs / 1000) + " (one year)");
  }
  if (!st.ok()) return StatusResponse(st);
  if (grace_seconds) grace_ms = *grace_seconds * 1000;
  StatusOr<auth::RotatedKey> r =
      ctx.service.accounts().RotateKey(id, grace_ms.value_or(auth::kDefaultGraceMs));
  if (!r.ok()) return StatusResponse(r.status());
  HttpResponse res = JsonResponse(201, api::RotatedKeyJson(*r, ctx.clock().Now()));
  res.SetHeader("Location", "/v1/keys/" + r->new_key.record.id);
  res.SetHeader("Cache-Control", "no-store");
  return res;
}

}  // namespace

void AddKeyRoutes(Router& router, ServiceContext& ctx) {
  auto key_json = [&ctx](const StatusOr<ApiKey>& key) {
    return key.ok() ? JsonResponse(200, {{"key", api::KeyJson(*key, ctx.clock().Now())}})
                    : StatusResponse(key.status());
  };
  router.Add("GET", "/v1/keys/{id}", "getKey",
             MakeRoute(ctx, KeyRoute(BodyKind::kNone, [&ctx, key_json](const std::string& id, const json&) {
               return key_json(ctx.service.backend().keys().GetKey(id));
             })));
  router.Add("POST", "/v1/keys/{id}/revoke", "revokeKey",
             MakeRoute(ctx, KeyRoute(BodyKind::kNone, [&ctx, key_json](const std::string& id, const json&) {
               return key_json(ctx.service.accounts().RevokeKey(id));
             })));
  router.Add("DELETE", "/v1/keys/{id}", "deleteKey",
             MakeRoute(ctx, KeyRoute(BodyKind::kNone, [&ctx](const std::string& id, const json&) {
               Status st = ctx.service.accounts().DeleteKey(id);
               return st.ok() ? JsonResponse(200, api::DeletedJson(id)) : StatusResponse(st);
             })));
  router.Add("POST", "/v1/keys/{id}/rotate", "rotateKey",
             MakeRoute(ctx, KeyRoute(BodyKind::kOptionalJson, [&ctx](const std::string& id, const json& b) {
               return Rotate(ctx, id, b);
             })));
}

}  // namespace keyward::http
