// verifier.cc: shape/checksum, hash, store lookup, then the record check.
#include "keyward/verifier.h"

#include "auth/key_check.h"
#include "keyward/store.h"

namespace keyward {

std::string_view VerifyOutcomeName(VerifyOutcome outcome) {
  switch (outcome) {
    case VerifyOutcome::kValid: return "VALID";
    case VerifyOutcome::kMissing: return "MISSING";
    case VerifyOutcome::kMalformed: return "MALFORMED";
    case VerifyOutcome::kNotFound: return "NOT_FOUND";
    case VerifyOutcome::kExpired: return "EXPIRED";
    case VerifyOutcome::kRevoked: return "REVOKED";
    case VerifyOutcome::kUserDisabled: return "USER_DISABLED";
    case VerifyOutcome::kInsufficientScope: return "INSUFFICIENT_SCOPE";
    case VerifyOutcome::kWrongEnvironment: return "WRONG_ENVIRONMENT";
    case VerifyOutcome::kRateLimited: return "RATE_LIMITED";
    case VerifyOutcome::kQuotaExceeded: return "QUOTA_EXCEEDED";
  }
  return "UNKNOWN";
}


Verifier::Verifier(Store& store, const Clock& clock) : store_(store), clock_(clock) {}
Verifier::~Verifier() = default;

StatusOr<Verification> Verifier::Verify(const VerifyRequest& request) {
  Verification v;
  if (request.key.empty()) {
    v.outcome = VerifyOutcome::kMissing;
    return v;
  }
  if (!ParseKey(request.key)) {
    v.outcome = VerifyOutcome::kMalformed;
    return v;
  }
  KeyHash hash = HashKey(request.key);
  StatusOr<KeyWithUser> record = store_.LookupKey(hash);
  if (!record.ok()) {
    if (record.status().code() != StatusCode::kNotFound) return record.status();
    v.outcome = VerifyOutcome::kNotFound;
    return v;
  }
  if (!KeyHashEqual(record->key.hash, hash)) {
    v.outcome = VerifyOutcome::kNotFound;
    return v;
  }
  v.outcome = auth::CheckKeyRecord(*record, request, clock_.Now());
  if (v.valid()) v.principal = auth::MakePrincipal(*record);
  return v;
}

}  // namespace keyward
