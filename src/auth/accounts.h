// accounts.h: users and their keys over their whole life — create, update,
// delete users; issue, revoke, rotate, delete keys — as one service used by
// the CLI and the HTTP admin API alike.
//
// Validates input (kInvalidArgument with a message fit for an end user),
// generates keys and ids, and writes through the KeyStore. The plaintext of
// a key exists only inside the IssuedKey returned to the caller.
// Thread-safe; borrows a KeyStore and a Clock that must outlive it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "keyward/store.h"

namespace keyward::core {
class Sealer;
}

namespace keyward::auth {

// Lifetimes, each stated once for the CLI and the HTTP API.
inline constexpr std::int64_t kDayMs = 86'400'000;
inline constexpr std::int64_t kDefaultGraceMs = kDayMs;     // rotation: the old key's grace
inline constexpr std::int64_t kMaxGraceMs = 366 * kDayMs;   // at most one year
inline constexpr std::int64_t kMaxTtlMs = 3660 * kDayMs;    // a key lives at most ten years

struct IssuedKey {
  ApiKey record;
  std::string secret;  // the plaintext; show once, never store or log
};

struct CreateUserRequest {
  std::string name;
  std::optional<std::string> external_id;
  std::optional<std::string> email;
  Plan plan;
  bool issue_key = true;        // issue a first live key
  std::string key_name = "default";
};

struct CreatedUser {
  User user;
  std::optional<IssuedKey> key;
};

struct IssueKeyRequest {
  std::string user_id;
  std::string name = "default";
  Environment environment = Environment::kLive;
  // Empty: the user's allowed scopes (all of them).
  std::vector<std::string> scopes;
  // At most one of these; neither means the key never expires. Either way
  // the expiry lies in the future and at most kMaxTtlMs ahead.
  std::optional<UnixMillis> expires_at;
  std::optional<std::int64_t> ttl_ms;
  // Refuse the key as a bearer credential: signed requests only.
  bool require_signature = false;
};

struct RotatedKey {
  IssuedKey new_key;
  ApiKey old_key;  // as stored afterwards, with its new expires_at
};

// Changes to user fields; unset members stay as they are.
struct UserUpdate {
  std::optional<std::string> name;
  std::optional<std::optional<std::string>> email;
  std::optional<std::optional<std::string>> external_id;
  std::optional<bool> disabled;
  std::optional<std::optional<double>> rate_limit;
  std::optional<std::optional<double>> test_rate_limit;
  std::optional<std::optional<std::int64_t>> monthly_credits;
  std::optional<std::vector<std::string>> allowed_scopes;
  std::optional<bool> require_signature;
};

class Accounts {
 public:
  // Called with a user id after any change that can alter a verification of
  // that user's keys (revoke, rotate, delete, disable, plan change).
  using ChangeListener = std::function<void(const std::string& user_id)>;

  Accounts(KeyStore& store, const Clock& clock) : store_(store), clock_(clock) {}

  void set_change_listener(ChangeListener listener) { listener_ = std::move(listener); }
  // With a sealer, every key issued gets its request-signing secret sealed
  // under it at once (else the secret is learned at the key's first bearer
  // use). Borrowed.
  void set_sealer(const core::Sealer* sealer) { sealer_ = sealer; }

  // kInvalidArgument (bad name/email/external_id/plan), kAlreadyExists
  // (external_id taken).
  StatusOr<CreatedUser> CreateUser(const CreateUserRequest& request);
  StatusOr<User> UpdateUser(const std::string& user_id, const UserUpdate& update);
  Status DeleteUser(const std::string& user_id);

  // kNotFound (user), kInvalidArgument (scopes, expiry in the past or more
  // than kMaxTtlMs ahead, both expires_at and ttl_ms).
  StatusOr<IssuedKey> IssueKey(const IssueKeyRequest& request);
  // Final; revoking a revoked key returns it unchanged. kNotFound.
  StatusOr<ApiKey> RevokeKey(const std::string& key_id);
  StatusOr<std::int64_t> RevokeAllKeys(const std::string& user_id);
  // Issues a replacement (same user, environment, name, scopes, signature
  // requirement) that works at
  // once; the old key keeps working until now + grace_ms (or its own earlier
  // expiry). kInvalidArgument unless 0 <= grace_ms <= kMaxGraceMs;
  // kFailedPrecondition if the old key is revoked or expired.
  StatusOr<RotatedKey> RotateKey(const std::string& key_id, std::int64_t grace_ms = kDefaultGraceMs);
  Status DeleteKey(const std::string& key_id);

 private:
  StatusOr<IssuedKey> NewKey(const User& user, const std::string& name, Environment env,
                             std::vector<std::string> scopes,
                             std::optional<UnixMillis> expires_at, UnixMillis now);
  void Changed(const std::string& user_id) const {
    if (listener_) listener_(user_id);
  }

  KeyStore& store_;
  const Clock& clock_;
  ChangeListener listener_;
  const core::Sealer* sealer_ = nullptr;
};

// Field validation shared with the HTTP layer.
Status ValidateName(std::string_view what, std::string_view name);
Status ValidateExternalId(std::string_view external_id);
Status ValidateEmail(std::string_view email);
Status ValidatePlan(const Plan& plan);

}  // namespace keyward::auth
