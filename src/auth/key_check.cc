// key_check.cc: the pure decision about a known key record.
#include "auth/key_check.h"

#include "auth/scopes.h"

namespace keyward {
namespace auth {

VerifyOutcome CheckKeyRecord(const KeyWithUser& record, const VerifyRequest& request,
                             UnixMillis now) {
  const ApiKey& key = record.key;
  if (key.revoked_at) return VerifyOutcome::kRevoked;
  if (key.expires_at && *key.expires_at <= now) return VerifyOutcome::kExpired;
  if (record.user.disabled) return VerifyOutcome::kUserDisabled;
  if (request.required_environment && *request.required_environment != key.environment) {
    return VerifyOutcome::kWrongEnvironment;
  }
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
