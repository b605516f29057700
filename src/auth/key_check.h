// key_check.h: the pure decision about a known key record — revoked, expired,
// owner disabled, environment, scopes — with no I/O, so it is shared by every
// verification path and tested on its own.
#pragma once

#include <climits>

#include "keyward/store.h"
#include "keyward/verifier.h"

namespace keyward::auth {

// The few fields every decision reads, kept compact so a cached decision
// touches one cache line instead of the whole record.
struct KeyState {
  UnixMillis expires_at = INT64_MAX;  // INT64_MAX: never
  bool revoked = false;
  bool user_disabled = false;
  bool job_bound = false;  // every scope is a job-submit scope
  bool require_signature = false;  // the key's or its user's plan's setting
  Environment environment = Environment::kLive;
};

KeyState StateOf(const KeyWithUser& record);

// REVOKED, EXPIRED (expires_at <= now), USER_DISABLED, SIGNATURE_REQUIRED (a
// bearer use of a key that must sign), WRONG_ENVIRONMENT, and
// INSUFFICIENT_SCOPE for a job-bound key when no scope is required (unless the
// request defers that check) — everything but the required scopes; kValid if
// none applies.
VerifyOutcome CheckKeyState(const KeyState& state, const VerifyRequest& request, UnixMillis now);

// Checks in this order: REVOKED, EXPIRED (expires_at <= now), USER_DISABLED,
// SIGNATURE_REQUIRED, WRONG_ENVIRONMENT, INSUFFICIENT_SCOPE (a required scope not granted, or a
// job-bound key with nothing required); kValid if none applies.
VerifyOutcome CheckKeyRecord(const KeyWithUser& record, const VerifyRequest& request,
                             UnixMillis now);

// The Principal a valid record yields.
Principal MakePrincipal(const KeyWithUser& record);

}  // namespace keyward::auth
