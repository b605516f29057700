// accounts.cc: user and key lifecycle over the KeyStore.
#include "auth/accounts.h"

#include <cmath>

#include "auth/scopes.h"
#include "core/http_signature.h"
#include "core/ids.h"
#include "core/utf8.h"

namespace keyward::auth {
namespace {

// Printable text: valid UTF-8 without C0 control characters or DEL.
bool IsPrintableText(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return core::IsValidUtf8(s);
}

constexpr std::int64_t kMaxCredits = 1'000'000'000'000'000LL;

}  // namespace

Status ValidateName(std::string_view what, std::string_view name) {
  if (name.empty()) return InvalidArgumentError(std::string(what) + " must not be empty");
  if (name.size() > 200) return InvalidArgumentError(std::string(what) + " is longer than 200 bytes");
  if (!IsPrintableText(name)) {
    return InvalidArgumentError(std::string(what) + " must be UTF-8 text without control characters");
  }
  return OkStatus();
}

Status ValidateExternalId(std::string_view external_id) {
  return ValidateName("external_id", external_id);
}

Status ValidateEmail(std::string_view email) {
  auto at = email.find('@');
  if (email.size() > 320 || at == std::string_view::npos || at == 0 || at + 1 == email.size() ||
      email.find('@', at + 1) != std::string_view::npos || !IsPrintableText(email) ||
      email.find(' ') != std::string_view::npos) {
    return InvalidArgumentError("email is not a valid address");
  }
  return OkStatus();
}

Status ValidatePlan(const Plan& plan) {
  for (auto [name, rate] : {std::pair{"rate_limit", plan.rate_limit},
                            std::pair{"test_rate_limit", plan.test_rate_limit}}) {
    if (rate && (!std::isfinite(*rate) || *rate <= 0 || *rate > 1e9)) {
      return InvalidArgumentError(std::string(name) +
                                  " must be a positive number of requests per second (at most 10^9)");
    }
  }
  if (plan.monthly_credits && (*plan.monthly_credits < 0 || *plan.monthly_credits > kMaxCredits)) {
    return InvalidArgumentError("monthly_credits must be between 0 and 10^18");
  }
  for (const auto& s : plan.allowed_scopes) {
    if (!IsValidScope(s)) return InvalidArgumentError("invalid allowed scope '" + s + "'");
  }
  return OkStatus();
}

StatusOr<CreatedUser> Accounts::CreateUser(const CreateUserRequest& request) {
  KW_RETURN_IF_ERROR(ValidateName("name", request.name));
  if (request.external_id) KW_RETURN_IF_ERROR(ValidateExternalId(*request.external_id));
  if (request.email) KW_RETURN_IF_ERROR(ValidateEmail(*request.email));
  KW_RETURN_IF_ERROR(ValidatePlan(request.plan));
  CreatedUser out;
  KW_ASSIGN_OR_RETURN(out.user.id, core::NewId("usr"));
  out.user.name = request.name;
  out.user.external_id = request.external_id;
  out.user.email = request.email;
  UnixMillis now = clock_.Now();
  out.user.created_at = now;
  out.user.plan = request.plan;
  out.user.plan.allowed_scopes = NormalizeScopes(out.user.plan.allowed_scopes);
  if (request.issue_key) {
    KW_ASSIGN_OR_RETURN(IssuedKey key, NewKey(out.user, request.key_name, Environment::kLive, {},
                                              std::nullopt, now));
    out.key = std::move(key);
  }
  KW_RETURN_IF_ERROR(store_.CreateUser(out.user, out.key ? &out.key->record : nullptr));
  return out;
}

StatusOr<User> Accounts::UpdateUser(const std::string& user_id, const UserUpdate& update) {
  KW_ASSIGN_OR_RETURN(User user, store_.GetUser(user_id));
  if (update.name) {
    KW_RETURN_IF_ERROR(ValidateName("name", *update.name));
    user.name = *update.name;
  }
  if (update.email) {
    if (*update.email) KW_RETURN_IF_ERROR(ValidateEmail(**update.email));
    user.email = *update.email;
  }
  if (update.external_id) {
    if (*update.external_id) KW_RETURN_IF_ERROR(ValidateExternalId(**update.external_id));
    user.external_id = *update.external_id;
  }
  if (update.disabled) user.disabled = *update.disabled;
  if (update.rate_limit) user.plan.rate_limit = *update.rate_limit;
  if (update.test_rate_limit) user.plan.test_rate_limit = *update.test_rate_limit;
  if (update.monthly_credits) user.plan.monthly_credits = *update.monthly_credits;
  if (update.allowed_scopes) user.plan.allowed_scopes = NormalizeScopes(*update.allowed_scopes);
  if (update.require_signature) user.plan.require_signature = *update.require_signature;
  KW_RETURN_IF_ERROR(ValidatePlan(user.plan));
  KW_RETURN_IF_ERROR(store_.UpdateUser(user));
  Changed(user.id);
  return user;
}

Status Accounts::DeleteUser(const std::string& user_id) {
  KW_RETURN_IF_ERROR(store_.DeleteUser(user_id));
  Changed(user_id);
  return OkStatus();
}

StatusOr<IssuedKey> Accounts::NewKey(const User& user, const std::string& name,
                                       Environment env, std::vector<std::string> scopes,
                                       std::optional<UnixMillis> expires_at,
                                       UnixMillis now) {
  KW_RETURN_IF_ERROR(ValidateName("key name", name));
  if (scopes.empty()) scopes = user.plan.allowed_scopes;
  scopes = NormalizeScopes(std::move(scopes));
  KW_RETURN_IF_ERROR(CheckScopesAllowed(scopes, user.plan.allowed_scopes));
  IssuedKey out;
  KW_ASSIGN_OR_RETURN(out.secret, GenerateKey(env));
  KW_ASSIGN_OR_RETURN(out.record.id, core::NewId("key"));
  out.record.user_id = user.id;
  out.record.name = name;
  out.record.environment = env;
  out.record.scopes = std::move(scopes);
  out.record.display = KeyDisplay(out.secret);
  out.record.hash = HashKey(out.secret);
  out.record.created_at = now;
  out.record.expires_at = expires_at;
  if (sealer_) {
    KW_ASSIGN_OR_RETURN(out.record.signing_secret,
                        core::httpsig::SealSigningSecret(*sealer_, out.secret, out.record.id));
  }
  return out;
}

StatusOr<IssuedKey> Accounts::IssueKey(const IssueKeyRequest& request) {
  if (request.expires_at && request.ttl_ms) {
    return InvalidArgumentError("give either expires_at or a ttl, not both");
  }
  UnixMillis now = clock_.Now();
  std::optional<UnixMillis> expires_at = request.expires_at;
  if (request.ttl_ms) {
    if (*request.ttl_ms <= 0 || *request.ttl_ms > kMaxTtlMs) {
      return InvalidArgumentError("ttl must be positive and at most 10 years (3660d)");
    }
    expires_at = now + *request.ttl_ms;
  }
  if (expires_at && *expires_at <= now) return InvalidArgumentError("expires_at is in the past");
  if (expires_at && *expires_at - now > kMaxTtlMs) {
    return InvalidArgumentError("expires_at is more than 10 years (3660d) ahead");
  }
  KW_ASSIGN_OR_RETURN(User user, store_.GetUser(request.user_id));
  KW_ASSIGN_OR_RETURN(IssuedKey key, NewKey(user, request.name, request.environment,
                                            request.scopes, expires_at, now));
  key.record.require_signature = request.require_signature;
  KW_RETURN_IF_ERROR(store_.InsertKey(key.record));
  return key;
}

StatusOr<ApiKey> Accounts::RevokeKey(const std::string& key_id) {
  KW_ASSIGN_OR_RETURN(ApiKey key, store_.RevokeKey(key_id, clock_.Now()));
  Changed(key.user_id);
  return key;
}

StatusOr<std::int64_t> Accounts::RevokeAllKeys(const std::string& user_id) {
  KW_ASSIGN_OR_RETURN(std::int64_t n, store_.RevokeAllKeys(user_id, clock_.Now()));
  Changed(user_id);
  return n;
}

StatusOr<RotatedKey> Accounts::RotateKey(const std::string& key_id, std::int64_t grace_ms) {
  if (grace_ms < 0 || grace_ms > kMaxGraceMs) {
    return InvalidArgumentError("grace must be between 0 and one year (366d)");
  }
  UnixMillis now = clock_.Now();
  KW_ASSIGN_OR_RETURN(ApiKey old_key, store_.GetKey(key_id));
  if (old_key.revoked_at) {
    return FailedPreconditionError("key " + key_id + " is revoked; a revoked key cannot be rotated");
  }
  if (old_key.expires_at && *old_key.expires_at <= now) {
    return FailedPreconditionError("key " + key_id + " has expired; issue a new key instead");
  }
  KW_ASSIGN_OR_RETURN(User user, store_.GetUser(old_key.user_id));
  std::optional<UnixMillis> new_expiry;
  if (old_key.expires_at) new_expiry = now + (*old_key.expires_at - old_key.created_at);
  KW_ASSIGN_OR_RETURN(IssuedKey fresh, NewKey(user, old_key.name, old_key.environment,
                                              old_key.scopes, new_expiry, now));
  fresh.record.rotated_from = old_key.id;
  fresh.record.require_signature = old_key.require_signature;
  UnixMillis old_expires = now + grace_ms;
  if (old_key.expires_at && *old_key.expires_at < old_expires) old_expires = *old_key.expires_at;
  KW_RETURN_IF_ERROR(store_.RotateKey(fresh.record, old_expires));
  old_key.expires_at = old_expires;
  Changed(user.id);
  return RotatedKey{std::move(fresh), std::move(old_key)};
}

Status Accounts::DeleteKey(const std::string& key_id) {
  KW_ASSIGN_OR_RETURN(ApiKey key, store_.GetKey(key_id));
  KW_RETURN_IF_ERROR(store_.DeleteKey(key_id));
  Changed(key.user_id);
  return OkStatus();
}

}  // namespace keyward::auth
