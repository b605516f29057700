// key_check.cc: the pure decision about a known key record.
#include "auth/key_check.h"

#include "auth/scopes.h"

namespace keyward {
namespace auth {

KeyState StateOf(const KeyWithUser& record) {
  return KeyState{record.key.expires_at.value_or(INT64_MAX), record.key.revoked_at.has_value(),
                  record.user.disabled, IsJobBound(record.key.scopes),
                  record.key.require_signature || record.user.plan.require_signature, record.key.environment};
}

VerifyOutcome CheckKeyState(const KeyState& state, const VerifyRequest& request, UnixMillis now) {
  if (state.revoked) return VerifyOutcome::kRevoked;
  if (state.expires_at <= now) return VerifyOutcome::kExpired;
  if (state.user_disabled) return VerifyOutcome::kUserDisabled;
  if (state.require_signature && !request.signed_request) return VerifyOutcome::kSignatureRequired;
  if (request.required_environment && *request.required_environment != state.environment) {
    return VerifyOutcome::kWrongEnvironment;
  }
  if (state.job_bound && request.required_scopes.empty() && !request.defer_job_scope) {
    return VerifyOutcome::kInsufficientScope;
  }
  return VerifyOutcome::kValid;
}

VerifyOutcome CheckKeyRecord(const KeyWithUser& record, const VerifyRequest& request,
                             UnixMillis now) {
  const ApiKey& key = record.key;
  VerifyOutcome outcome = CheckKeyState(StateOf(record), request, now);
  if (outcome != VerifyOutcome::kValid) return outcome;
  for (const auto& scope : request.required_scopes) {
    if (!Grants(key.scopes, record.user.plan.allowed_scopes, scope)) {
      return VerifyOutcome::kInsufficientScope;
    }
  }
  return VerifyOutcome::kValid;
}

Principal MakePrincipal(const KeyWithUser& record) {
  Principal p;
  p.user_id = record.user.id;
  p.external_id = record.user.external_id;
  p.key_id = record.key.id;
  p.key_display = record.key.display;
  p.environment = record.key.environment;
  p.scopes = record.key.scopes;
  return p;
}

}  // namespace auth

}  // namespace keyward
