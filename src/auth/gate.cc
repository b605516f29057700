// gate.cc: verify -> rate limit -> credits -> durable charge.
#include "auth/gate.h"

#include "keyward/store.h"

namespace keyward::auth {

StatusOr<GateResult> Gate::Check(const GateRequest& request) {
  GateResult out;
  KW_ASSIGN_OR_RETURN(out.verification,
                      verifier_.Verify({request.key, request.scopes, request.environment,
                                        request.defer_job_scope}));
  if (!out.verification.valid()) return out;
  const KeyWithUser& rec = *out.verification.record;
  const Plan& plan = rec.user.plan;
  const Environment env = rec.key.environment;
  const UnixMillis now = clock_.Now();

  if (plan.rate_limit) {
    out.rate = limiter_.Take(rec.user.id, env, *plan.rate_limit, now);
    if (!out.rate->allowed) {
      out.verification.outcome = VerifyOutcome::kRateLimited;
      out.verification.principal.reset();
      out.retry_after_ms = out.rate->retry_after_ms;
      return out;
    }
  }

  const bool live = env == Environment::kLive;
  const int month = MonthIndex(now);
  if (live && request.cost > 0) {
    bool granted = false;
    KW_ASSIGN_OR_RETURN(out.credits,
                        quota_.Reserve(rec.user.id, plan.monthly_credits, request.cost, &granted));
    if (!granted) {
      out.verification.outcome = VerifyOutcome::kQuotaExceeded;
      out.verification.principal.reset();
      out.retry_after_ms = MonthBounds(now).second - now;
      return out;
    }
  } else if (live && request.check_quota && plan.monthly_credits) {
    KW_ASSIGN_OR_RETURN(out.credits, quota_.Peek(rec.user.id, plan.monthly_credits));
    if (out.credits->remaining() == 0) {
      out.verification.outcome = VerifyOutcome::kQuotaExceeded;
      out.verification.principal.reset();
      out.retry_after_ms = MonthBounds(now).second - now;
      return out;
    }
  }

  if (request.cost > 0) {
    Status st = ledger_.Record(
        UsageEntry{rec.user.id, rec.key.id, env, request.cost, request.reason, now});
    if (!st.ok()) {
      if (live) quota_.Refund(rec.user.id, request.cost, month);
      return st;
    }
  }
  return out;
}

}  // namespace keyward::auth
