// verifier.h: decides whether a presented API key may act, and for whom.
//
// A decision is a value (VerifyOutcome); a non-OK Status means no decision
// could be made (storage unavailable). Callers choose fail-open or
// fail-closed for that case explicitly.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keyward/clock.h"
#include "keyward/principal.h"
#include "keyward/status.h"

namespace keyward {

class KeyStore;

// Every verification outcome with its code, declared once: the enum, the
// names and the metrics' outcome list are all generated from it.
//   kMissing           no key presented
//   kMalformed         wrong shape or checksum; storage not touched
//   kNotFound          well-formed but unknown (or deleted)
//   kInsufficientScope key lacks a required scope, or the user's plan no
//                      longer allows it, or a job-bound key is used for
//                      anything but its job
//   kWrongEnvironment  live key where test is required, or the reverse
#define KEYWARD_VERIFY_OUTCOMES(X)                                                      \
  X(kValid, "VALID") X(kMissing, "MISSING") X(kMalformed, "MALFORMED")                  \
  X(kNotFound, "NOT_FOUND") X(kExpired, "EXPIRED") X(kRevoked, "REVOKED")               \
  X(kUserDisabled, "USER_DISABLED") X(kInsufficientScope, "INSUFFICIENT_SCOPE")         \
  X(kWrongEnvironment, "WRONG_ENVIRONMENT") X(kRateLimited, "RATE_LIMITED")             \
  X(kQuotaExceeded, "QUOTA_EXCEEDED")

enum class VerifyOutcome {
#define KW_OUTCOME_ENUMERATOR(name, code) name,
  KEYWARD_VERIFY_OUTCOMES(KW_OUTCOME_ENUMERATOR)
#undef KW_OUTCOME_ENUMERATOR
};

#define KW_OUTCOME_COUNT(name, code) +1
inline constexpr std::size_t kVerifyOutcomeCount = 0 KEYWARD_VERIFY_OUTCOMES(KW_OUTCOME_COUNT);
#undef KW_OUTCOME_COUNT

// The outcome's code: "VALID", "MISSING", … as in KEYWARD_VERIFY_OUTCOMES.
std::string_view VerifyOutcomeName(VerifyOutcome outcome);

struct VerifyRequest {
  std::string_view key{};                        // the presented key; never stored or logged
  std::vector<std::string> required_scopes{};    // all must be held
  std::optional<Environment> required_environment{};
  // A key whose only scopes are job-submit scopes (issued for one queued job)
  // is refused with kInsufficientScope unless one of those scopes is required.
  // A caller that checks the job's own scope itself, once it knows the job
  // (the compute API reads the job_id from the body), sets this so that such
  // a key is not refused before that check.
  bool defer_job_scope = false;
};

struct KeyWithUser;

struct Verification {
  VerifyOutcome outcome = VerifyOutcome::kMissing;
  // Set only when outcome == kValid. Shared and immutable: verifications
  // served from the cache hand out the same Principal without copying.
  std::shared_ptr<const Principal> principal;
  // The stored key and owner behind the decision, when the key was found
  // (the owner's plan drives rate limits and quota). Null otherwise.
  std::shared_ptr<const KeyWithUser> record;
  bool valid() const { return outcome == VerifyOutcome::kValid; }
};

struct VerifierOptions {
  // Cache key records in memory (positive and negative). Off: every call
  // reads the store.
  bool cache = false;
  std::size_t cache_capacity = 100'000;
  // How long a cached record is trusted without re-reading the store: the
  // last safety net for changes nobody reported through InvalidateUser().
  std::int64_t cache_ttl_ms = 5'000;
  std::size_t negative_cache_capacity = 100'000;
  std::int64_t negative_cache_ttl_ms = 60'000;
  // Remember each key's last use for FlushLastUsed(), noting a key at most
  // once per last_used_resolution_ms (last_used_at is coarse by design).
  bool track_last_used = false;
  std::int64_t last_used_resolution_ms = 1'000;
  // Keys imported from djangorestframework-api-key ("<prefix>.<secret>"):
  // accepted when the store holds them (keyward import drf). A key not used
  // since its import costs one check of its imported hash (PBKDF2), at most
  // legacy_checks_per_second of them in all, and a prefix whose secret was
  // wrong waits legacy_failure_backoff_ms; the list of imported prefixes is
  // re-read at most every legacy_refresh_ms. See docs/security.md.
  bool legacy_keys = true;
  double legacy_checks_per_second = 10;
  std::int64_t legacy_failure_backoff_ms = 1'000;
  std::int64_t legacy_refresh_ms = 10'000;
};

struct VerifierStats {
  std::uint64_t cache_hits = 0;
  std::uint64_t cache_misses = 0;
  std::uint64_t negative_hits = 0;
  std::uint64_t cached_keys = 0;  // positive entries held now
};

// Thread-safe. Borrows `store` and `clock`, which must outlive it.
class Verifier {
 public:
  Verifier(KeyStore& store, const Clock& clock, VerifierOptions options = {});
  ~Verifier();
  Verifier(const Verifier&) = delete;
  Verifier& operator=(const Verifier&) = delete;

  // Returns a Verification for any input, well-formed or not; outcome kValid
  // carries the Principal. Returns kUnavailable only if no decision could be
  // made. Never logs or returns the presented key.
  StatusOr<Verification> Verify(const VerifyRequest& request);

  // Forgets cached records of `user_id` (call after any change to the user
  // or their keys). A lookup that was reading the store while this ran does
  // not put its possibly stale record into the cache.
  void InvalidateUser(const std::string& user_id);
  // Forgets every cached record, positive and negative.
  void InvalidateAll();

  // Writes the remembered last-use times to the store (one transaction) and
  // forgets them. Called periodically and at shutdown; last_used_at lags by
  // at most that period.
  Status FlushLastUsed();

  VerifierStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace keyward
