// verifier.h: decides whether a presented API key may act, and for whom.
//
// A decision is a value (VerifyOutcome); a non-OK Status means no decision
// could be made (storage unavailable). Callers choose fail-open or
// fail-closed for that case explicitly.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keyward/clock.h"
#include "keyward/principal.h"
#include "keyward/status.h"

namespace keyward {

class Store;

enum class VerifyOutcome {
  kValid,
  kMissing,            // no key presented
  kMalformed,          // wrong shape or checksum; storage not touched
  kNotFound,           // well-formed but unknown (or deleted)
  kExpired,
  kRevoked,
  kUserDisabled,
  kInsufficientScope,  // key lacks a required scope, or the user's plan no longer allows it
  kWrongEnvironment,   // live key where test is required, or the reverse
  kRateLimited,
  kQuotaExceeded,
};

// "VALID", "MISSING", "MALFORMED", "NOT_FOUND", "EXPIRED", "REVOKED",
// "USER_DISABLED", "INSUFFICIENT_SCOPE", "WRONG_ENVIRONMENT", "RATE_LIMITED",
// "QUOTA_EXCEEDED".
std::string_view VerifyOutcomeName(VerifyOutcome outcome);

struct VerifyRequest {
  std::string_view key;                        // the presented key; never stored or logged
  std::vector<std::string> required_scopes;    // all must be held
  std::optional<Environment> required_environment;
};

struct Verification {
  VerifyOutcome outcome = VerifyOutcome::kMissing;
  // Set only when outcome == kValid.
  std::optional<Principal> principal;
  bool valid() const { return outcome == VerifyOutcome::kValid; }
};

// Thread-safe. Borrows `store` and `clock`, which must outlive it.
class Verifier {
 public:
  Verifier(Store& store, const Clock& clock);
  ~Verifier();
  Verifier(const Verifier&) = delete;
  Verifier& operator=(const Verifier&) = delete;

  // Returns a Verification for any input, well-formed or not; outcome kValid
  // carries the Principal. Returns kUnavailable only if no decision could be
  // made. Never logs or returns the presented key.
  StatusOr<Verification> Verify(const VerifyRequest& request);

 private:
  Store& store_;
  const Clock& clock_;
};

}  // namespace keyward
