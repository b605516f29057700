// error_mapping.h: the one place where Status codes and verification
// outcomes become HTTP statuses, headers and {"error":{"code","message"}}.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string_view>

#include "http/types.h"
#include "keyward/status.h"
#include "keyward/verifier.h"

namespace keyward::http {

HttpResponse JsonResponse(int status, const nlohmann::json& body);
// {"error":{"code","message"}}, with X-Keyward-Error: <code> so that a proxy
// that replaces the body (nginx auth_request) can still tell why.
HttpResponse ErrorResponse(int status, std::string_view code, std::string_view message);
// An error that waiting cures: adds Retry-After (whole seconds, at least 1).
HttpResponse RetryLaterResponse(int status, std::string_view code, std::string_view message,
                                std::int64_t retry_after_ms);

// INVALID_ARGUMENT 400, NOT_FOUND 404, ALREADY_EXISTS 409, FAILED_PRECONDITION
// 409, PERMISSION_DENIED 403, UNAUTHENTICATED 401, RESOURCE_EXHAUSTED 429,
// UNAVAILABLE 503, INTERNAL 500.
HttpResponse StatusResponse(const Status& status);

// HTTP status for a refused outcome: 401 (MISSING, MALFORMED, NOT_FOUND,
// EXPIRED, REVOKED, USER_DISABLED, and the signature outcomes), 403 (INSUFFICIENT_SCOPE,
// WRONG_ENVIRONMENT), 429 (RATE_LIMITED, QUOTA_EXCEEDED); 200 for VALID.
int OutcomeHttpStatus(VerifyOutcome outcome);

// The refusal response: error body, plus WWW-Authenticate: Api-Key on 401
// and Retry-After (whole seconds, at least 1) on 429. `detail`, when given,
// is appended to the message (which signature check failed, say).
HttpResponse OutcomeResponse(VerifyOutcome outcome, std::int64_t retry_after_ms, std::string_view detail = {});

// A human sentence for each outcome.
std::string_view OutcomeMessage(VerifyOutcome outcome);

}  // namespace keyward::http
