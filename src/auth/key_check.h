// key_check.h: the pure decision about a known key record — revoked, expired,
// owner disabled, environment, scopes — with no I/O, so it is shared by every
// verification path and tested on its own.
#pragma once

#include "keyward/store.h"
#include "keyward/verifier.h"

namespace keyward::auth {

// Checks in this order: REVOKED, EXPIRED (expires_at <= now), USER_DISABLED,
// WRONG_ENVIRONMENT, INSUFFICIENT_SCOPE; kValid if none applies.
VerifyOutcome CheckKeyRecord(const KeyWithUser& record, const VerifyRequest& request,
                             UnixMillis now);

// The Principal a valid record yields.
Principal MakePrincipal(const KeyWithUser& record);

}  // namespace keyward::auth
