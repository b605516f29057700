// wire.cc: JSON encoders for the data model.
#include "api/wire.h"

#include <nlohmann/json.hpp>

#include "core/time_format.h"

namespace keyward::api {
namespace {

using nlohmann::json;

json OptTime(const std::optional<UnixMillis>& t) {
  return t ? json(core::FormatRfc3339(*t)) : json(nullptr);
}

template <typename T>
json Opt(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

}  // namespace

std::string KeyState(const ApiKey& key, UnixMillis now) {
  if (key.revoked_at) return "revoked";
  if (key.expires_at && *key.expires_at <= now) return "expired";
  if (key.expires_at) return "expiring";
  return "active";
}

json UserJson(const User& u) {
  return json{{"id", u.id},
              {"external_id", Opt(u.external_id)},
              {"name", u.name},
              {"email", Opt(u.email)},
              {"disabled", u.disabled},
              {"created_at", core::FormatRfc3339(u.created_at)},
              {"plan",
               {{"rate_limit", Opt(u.plan.rate_limit)},
                {"monthly_credits", Opt(u.plan.monthly_credits)},
                {"allowed_scopes", u.plan.allowed_scopes}}}};
}

json KeyJson(const ApiKey& k, UnixMillis now) {
  return json{{"id", k.id},
              {"user_id", k.user_id},
              {"name", k.name},
              {"environment", EnvironmentName(k.environment)},
              {"scopes", k.scopes},
              {"display", k.display},
              {"state", KeyState(k, now)},
              {"created_at", core::FormatRfc3339(k.created_at)},
              {"expires_at", OptTime(k.expires_at)},
              {"revoked_at", OptTime(k.revoked_at)},
              {"last_used_at", OptTime(k.last_used_at)},
              {"rotated_from", Opt(k.rotated_from)}};
}

json IssuedKeyJson(const ApiKey& key, const std::string& secret, UnixMillis now) {
  json j = KeyJson(key, now);
  j["secret"] = secret;
  return j;
}

json PrincipalJson(const Principal& p) {
  return json{{"user_id", p.user_id},
              {"external_id", Opt(p.external_id)},
              {"key_id", p.key_id},
              {"environment", EnvironmentName(p.environment)},
              {"scopes", p.scopes}};
}

json VerificationJson(const Verification& v) {
  return json{{"valid", v.valid()},
              {"code", VerifyOutcomeName(v.outcome)},
              {"principal", v.principal ? PrincipalJson(*v.principal) : json(nullptr)}};
}

}  // namespace keyward::api
