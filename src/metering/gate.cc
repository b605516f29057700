// gate.cc: verify -> rate limit -> credits -> durable charge.
#include "metering/gate.h"

namespace keyward::metering {

std::optional<double> Gate::RateFor(const Plan& plan, Environment env) const {
  if (env == Environment::kLive) return plan.rate_limit;
  return plan.test_rate_limit.value_or(options_.default_test_rate_limit);
}

void Gate::Refuse(GateResult& out, VerifyOutcome outcome, std::int64_t retry_after_ms) const {
  out.verification.outcome = outcome;
  out.verification.principal.reset();
  out.retry_after_ms = retry_after_ms;
}

StatusOr<GateResult> Gate::Check(const GateRequest& request) {
  GateResult out;
  KW_ASSIGN_OR_RETURN(out.verification,
                      verifier_.Verify({request.key, request.required_scopes, request.environment,
                                        request.defer_job_scope, request.signed_request}));
  if (!out.verification.valid()) return out;
  const KeyWithUser& rec = *out.verification.record;
  const Plan& plan = rec.user.plan;
  const Environment env = rec.key.environment;
  const UnixMillis now = clock_.Now();

  if (std::optional<double> rate = RateFor(plan, env)) {
    out.rate = limiter_.Take(rec.user.id, env, *rate, now);
    if (!out.rate->allowed) {
      Refuse(out, VerifyOutcome::kRateLimited, out.rate->retry_after_ms);
      return out;
    }
  }
  const std::int64_t until_next_month = MonthBounds(now).second - now;
  if (env != Environment::kLive) {
    // Test traffic is recorded, never charged.
    if (request.cost > 0) {
      KW_RETURN_IF_ERROR(ledger_.Record(
          UsageEntry{rec.user.id, rec.key.id, env, request.cost, request.reason, now}));
    }
    return out;
  }
  if (request.cost > 0) {
    KW_ASSIGN_OR_RETURN(Reservation held,
                        credits_.Reserve(rec.user.id, plan.monthly_credits, request.cost));
    out.credits = held.state();
    if (!held.granted()) {
      Refuse(out, VerifyOutcome::kQuotaExceeded, until_next_month);
      return out;
    }
    Status written = ledger_.Record(
        UsageEntry{rec.user.id, rec.key.id, env, request.cost, request.reason, now});
    held.Settle(written);
    if (written.code() == StatusCode::kResourceExhausted) {
      // Another writer spent the credits this process had not counted.
      out.credits = CreditState{plan.monthly_credits, plan.monthly_credits.value_or(0)};
      Refuse(out, VerifyOutcome::kQuotaExceeded, until_next_month);
      return out;
    }
    KW_RETURN_IF_ERROR(written);
  } else if (request.require_credit && plan.monthly_credits) {
    KW_ASSIGN_OR_RETURN(out.credits, credits_.Peek(rec.user.id, plan.monthly_credits));
    if (out.credits->remaining() == 0) Refuse(out, VerifyOutcome::kQuotaExceeded, until_next_month);
  }
  return out;
}

}  // namespace keyward::metering
