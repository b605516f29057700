// gate.h: everything a request authenticated by an API key must pass, in
// order — verification, the user's rate limit (live and test separately),
// the user's monthly credits — and, when the request costs credits, the
// charge itself, committed to the ledger before the caller answers.
// Thread-safe; borrows its parts.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "keyward/verifier.h"
#include "metering/credits.h"
#include "metering/rate_limiter.h"
#include "metering/usage_ledger.h"

namespace keyward::metering {

struct GateOptions {
  // Requests per second for a user's test traffic when their plan sets no
  // test_rate_limit: test traffic is never unlimited.
  double default_test_rate_limit = 50;
};

struct GateRequest {
  std::string_view key;
  // A signed request instead of `key` (see VerifyRequest).
  const SignedRequest* signed_request = nullptr;
  std::vector<std::string> required_scopes;
  std::optional<Environment> environment;
  // See VerifyRequest::defer_job_scope.
  bool defer_job_scope = false;
  // Credits to charge (live) or record (test) when the key is accepted.
  std::int64_t cost = 0;
  std::string reason = "verify";
  // At cost 0: refuse a live user whose credits are used up (QUOTA_EXCEEDED),
  // so a proxy in front of a paid API stops traffic. Off where the request
  // is charged later with its real cost (job submission) or is free by
  // design (reading one's own jobs).
  bool require_credit = true;
};

struct GateResult {
  Verification verification;           // outcome may be RATE_LIMITED / QUOTA_EXCEEDED
  std::optional<RateDecision> rate;    // set when the key's environment has a limit
  std::optional<CreditState> credits;  // set for live keys when credits were checked
  std::int64_t retry_after_ms = 0;
};

class Gate {
 public:
  Gate(Verifier& verifier, RateLimiter& limiter, Credits& credits, UsageLedger& ledger,
       const Clock& clock, GateOptions options = {})
      : verifier_(verifier), limiter_(limiter), credits_(credits), ledger_(ledger), clock_(clock),
        options_(options) {}

  // A decision for any input. kUnavailable if storage failed (no decision,
  // nothing charged).
  StatusOr<GateResult> Check(const GateRequest& request);

  // The rate (requests per second) that applies to `plan`'s traffic in
  // `env`, or nullopt for unlimited.
  std::optional<double> RateFor(const Plan& plan, Environment env) const;

 private:
  void Refuse(GateResult& out, VerifyOutcome outcome, std::int64_t retry_after_ms) const;

  Verifier& verifier_;
  RateLimiter& limiter_;
  Credits& credits_;
  UsageLedger& ledger_;
  const Clock& clock_;
  const GateOptions options_;
};

}  // namespace keyward::metering
