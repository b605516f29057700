// gate.h: everything a request authenticated by an API key must pass, in
// order — verification, the user's rate limit, the user's monthly credits —
// and the charge itself (written to the ledger before the caller answers).
// Thread-safe; borrows its parts.
#pragma once

#include <string>
#include <vector>

#include "auth/quota.h"
#include "auth/rate_limiter.h"
#include "auth/usage_ledger.h"
#include "keyward/verifier.h"

namespace keyward::auth {

struct GateRequest {
  std::string_view key;
  std::vector<std::string> scopes;
  std::optional<Environment> environment;
  // See VerifyRequest::defer_job_scope.
  bool defer_job_scope = false;
  // Credits to charge (live) or record (test) when the key is accepted.
  std::int64_t cost = 0;
  std::string reason = "verify";
  // Refuse with QUOTA_EXCEEDED when a live user has no credits left, even at
  // cost 0. Off for callers that charge on their own (the compute API).
  bool check_quota = true;
};

struct GateResult {
  Verification verification;     // outcome may be RATE_LIMITED / QUOTA_EXCEEDED
  std::optional<RateDecision> rate;  // set when the user has a rate limit
  std::optional<CreditState> credits;  // set for live keys of users with a quota checked
  std::int64_t retry_after_ms = 0;
};

class Gate {
 public:
  Gate(Verifier& verifier, RateLimiter& limiter, Quota& quota, UsageLedger& ledger,
       const Clock& clock)
      : verifier_(verifier), limiter_(limiter), quota_(quota), ledger_(ledger), clock_(clock) {}

  // kUnavailable if storage failed (no decision, nothing charged).
  StatusOr<GateResult> Check(const GateRequest& request);

 private:
  Verifier& verifier_;
  RateLimiter& limiter_;
  Quota& quota_;
  UsageLedger& ledger_;
  const Clock& clock_;
};

}  // namespace keyward::auth
