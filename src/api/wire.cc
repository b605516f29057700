// wire.cc: JSON encoders for the data model.
#include "api/wire.h"

#include <nlohmann/json.hpp>

#include "core/time_format.h"
#include "json/parse.h"

namespace keyward::api {
namespace {

using nlohmann::json;

// The one "value or null" helper.
template <typename T>
json Opt(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

json OptTime(const std::optional<UnixMillis>& t) {
  return t ? json(core::FormatRfc3339(*t)) : json(nullptr);
}

json Time(UnixMillis t) { return core::FormatRfc3339(t); }

}  // namespace

std::string KeyStateName(const ApiKey& key, UnixMillis now) {
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
              {"created_at", Time(u.created_at)},
              {"plan",
               {{"rate_limit", Opt(u.plan.rate_limit)},
                {"test_rate_limit", Opt(u.plan.test_rate_limit)},
                {"monthly_credits", Opt(u.plan.monthly_credits)},
                {"allowed_scopes", u.plan.allowed_scopes},
                {"require_signature", u.plan.require_signature}}}};
}

json KeyJson(const ApiKey& k, UnixMillis now) {
  return json{{"id", k.id},
              {"user_id", k.user_id},
              {"name", k.name},
              {"environment", EnvironmentName(k.environment)},
              {"scopes", k.scopes},
              {"display", k.display},
              {"state", KeyStateName(k, now)},
              {"created_at", Time(k.created_at)},
              {"expires_at", OptTime(k.expires_at)},
              {"revoked_at", OptTime(k.revoked_at)},
              {"last_used_at", OptTime(k.last_used_at)},
              {"rotated_from", Opt(k.rotated_from)},
              {"require_signature", k.require_signature},
              {"signing_ready", !k.signing_secret.empty()}};
}

json IssuedKeyJson(const auth::IssuedKey& key, UnixMillis now) {
  json j = KeyJson(key.record, now);
  j["secret"] = key.secret;
  return j;
}

json CreatedUserJson(const auth::CreatedUser& created, UnixMillis now) {
  return json{{"user", UserJson(created.user)},
              {"key", created.key ? IssuedKeyJson(*created.key, now) : json(nullptr)}};
}

json RotatedKeyJson(const auth::RotatedKey& rotated, UnixMillis now) {
  return json{{"key", IssuedKeyJson(rotated.new_key, now)}, {"old_key", KeyJson(rotated.old_key, now)}};
}

json RevokedAllJson(const std::string& user_id, std::int64_t revoked) {
  return json{{"user_id", user_id}, {"revoked", revoked}};
}

json DeletedJson(const std::string& id) { return json{{"deleted", id}}; }

json PageJson(const char* items_name, json items, const std::optional<std::string>& next) {
  return json{{items_name, std::move(items)}, {"next", Opt(next)}};
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

json GateResultJson(const metering::GateResult& g) {
  json out = VerificationJson(g.verification);
  out["credits"] = g.credits ? json{{"limit", Opt(g.credits->limit)},
                                    {"used", g.credits->used},
                                    {"remaining", Opt(g.credits->remaining())}}
                             : json(nullptr);
  out["rate_limit"] = g.rate ? json{{"limit", g.rate->limit},
                                    {"remaining", static_cast<std::int64_t>(g.rate->remaining)}}
                             : json(nullptr);
  if (g.retry_after_ms > 0) out["retry_after_seconds"] = (g.retry_after_ms + 999) / 1000;
  return out;
}

json JobJson(const Job& j, bool full) {
  json out{{"id", j.id},
           {"job_id", j.job_id},
           {"user_id", j.user_id},
           {"environment", EnvironmentName(j.environment)},
           {"task", j.task},
           {"status", JobStatusName(j.status)},
           {"error", Opt(j.error)},
           {"cost", j.cost},
           {"charged", j.environment == Environment::kLive},
           {"key_id", j.key_id},
           {"created_at", Time(j.created_at)},
           {"started_at", OptTime(j.started_at)},
           {"finished_at", OptTime(j.finished_at)}};
  if (full) {
    out["payload"] = jsonio::ParseStoredJson(j.payload);
    out["result"] = j.result ? jsonio::ParseStoredJson(*j.result) : json(nullptr);
  }
  return out;
}

json QueueEntryJson(const QueueEntry& e, EntryView view) {
  json out{{"id", e.id},
           {"job_id", e.job_id},
           {"user_id", e.user_id},
           {"environment", EnvironmentName(e.environment)},
           {"task", e.task},
           {"status", QueueStatusName(e.status)},
           {"attempts", e.attempts},
           {"last_error", Opt(e.last_error)},
           {"result_job_id", Opt(e.result_job_id)},
           {"created_at", Time(e.created_at)},
           {"updated_at", Time(e.updated_at)}};
  if (view == EntryView::kOperator) {
    out["max_attempts"] = e.max_attempts;
    out["available_at"] = Time(e.available_at);
    out["scoped_key_id"] = Opt(e.scoped_key_id);
    out["lease_owner"] = Opt(e.lease_owner);
    out["lease_expires_at"] = OptTime(e.lease_expires_at);
    if (!e.payload.empty()) out["payload"] = jsonio::ParseStoredJson(e.payload);
  }
  return out;
}

json UsageJson(const std::string& user_id, UnixMillis from, UnixMillis to,
               const std::vector<UsageByKey>& rows, const Plan& plan,
               const std::optional<metering::CreditState>& credits) {
  struct Totals {
    std::int64_t units = 0, entries = 0;
  } live, test;
  json keys = json::array();
  for (const UsageByKey& r : rows) {
    Totals& t = r.environment == Environment::kLive ? live : test;
    t.units += r.units;
    t.entries += r.entries;
    keys.push_back({{"key_id", r.key_id}, {"environment", EnvironmentName(r.environment)},
                    {"units", r.units}, {"entries", r.entries}});
  }
  json envs{{"live", {{"units", live.units}, {"entries", live.entries}, {"charged", live.units}}},
            {"test", {{"units", test.units}, {"entries", test.entries}, {"charged", 0}}}};
  json c = nullptr;
  if (credits) {
    c = {{"monthly", Opt(plan.monthly_credits)},
         {"used_this_month", credits->used},
         {"remaining", Opt(credits->remaining())}};
  }
  return json{{"user_id", user_id}, {"from", Time(from)}, {"to", Time(to)},
              {"environments", envs}, {"keys", keys}, {"credits", c}};
}

}  // namespace keyward::api
