// error_mapping.cc: Status/outcome -> HTTP.
#include "http/error_mapping.h"

#include <nlohmann/json.hpp>

namespace keyward::http {

HttpResponse JsonResponse(int status, const nlohmann::json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

HttpResponse ErrorResponse(int status, std::string_view code, std::string_view message) {
  HttpResponse r = JsonResponse(status, {{"error", {{"code", code}, {"message", message}}}});
  r.SetHeader("X-Keyward-Error", std::string(code));
  return r;
}

HttpResponse RetryLaterResponse(int status, std::string_view code, std::string_view message,
                                std::int64_t retry_after_ms) {
  HttpResponse r = ErrorResponse(status, code, message);
  r.SetHeader("Retry-After", std::to_string(std::max<std::int64_t>(1, (retry_after_ms + 999) / 1000)));
  return r;
}

HttpResponse StatusResponse(const Status& s) {
  int status = 500;
  switch (s.code()) {
    case StatusCode::kOk: status = 200; break;
    case StatusCode::kInvalidArgument: status = 400; break;
    case StatusCode::kNotFound: status = 404; break;
    case StatusCode::kAlreadyExists: status = 409; break;
    case StatusCode::kFailedPrecondition: status = 409; break;
    case StatusCode::kPermissionDenied: status = 403; break;
    case StatusCode::kUnauthenticated: status = 401; break;
    case StatusCode::kResourceExhausted: status = 429; break;
    case StatusCode::kUnavailable: status = 503; break;
    case StatusCode::kInternal: status = 500; break;
  }
  // Storage busy, or a bound reached: trying again soon may work.
  if (status == 429 || status == 503) {
    return RetryLaterResponse(status, StatusCodeName(s.code()), s.message(), 1000);
  }
  return ErrorResponse(status, StatusCodeName(s.code()), s.message());
}

int OutcomeHttpStatus(VerifyOutcome outcome) {
  switch (outcome) {
    case VerifyOutcome::kValid: return 200;
    case VerifyOutcome::kInsufficientScope:
    case VerifyOutcome::kWrongEnvironment: return 403;
    case VerifyOutcome::kRateLimited:
    case VerifyOutcome::kQuotaExceeded: return 429;
    default: return 401;
  }
}

std::string_view OutcomeMessage(VerifyOutcome outcome) {
  switch (outcome) {
    case VerifyOutcome::kValid: return "the key is valid";
    case VerifyOutcome::kMissing: return "no API key: send 'Authorization: Api-Key <key>'";
    case VerifyOutcome::kMalformed: return "the API key is malformed (wrong shape or checksum)";
    case VerifyOutcome::kNotFound: return "unknown API key";
    case VerifyOutcome::kExpired: return "the API key has expired";
    case VerifyOutcome::kRevoked: return "the API key has been revoked";
    case VerifyOutcome::kUserDisabled: return "the key's user is disabled";
    case VerifyOutcome::kInsufficientScope: return "the API key lacks a required scope";
    case VerifyOutcome::kWrongEnvironment: return "the API key is for another environment";
    case VerifyOutcome::kRateLimited: return "rate limit exceeded for this user";
    case VerifyOutcome::kQuotaExceeded: return "monthly credits exhausted for this user";
    case VerifyOutcome::kSignatureInvalid: return "the request signature is invalid";
    case VerifyOutcome::kSignatureRequired:
      return "this key must sign its requests (RFC 9421, hmac-sha256): it is refused as a bearer Api-Key";
    case VerifyOutcome::kReplayed: return "this signed request was seen before (its nonce was used)";
    case VerifyOutcome::kSigningSecretUnknown:
      return "keyward does not know this key's signing secret yet: make one call with "
             "'Authorization: Api-Key <key>', or use a key issued since signing was enabled";
  }
  return "refused";
}

HttpResponse OutcomeResponse(VerifyOutcome outcome, std::int64_t retry_after_ms, std::string_view detail) {
  int status = OutcomeHttpStatus(outcome);
  std::string with_detail;  // built only when there is a detail to add
  if (!detail.empty()) with_detail.append(OutcomeMessage(outcome)).append(": ").append(detail);
  const std::string_view message = detail.empty() ? OutcomeMessage(outcome) : std::string_view(with_detail);
  HttpResponse r = status == 429 ? RetryLaterResponse(status, VerifyOutcomeName(outcome), message, retry_after_ms)
                                 : ErrorResponse(status, VerifyOutcomeName(outcome), message);
  if (status == 401) r.SetHeader("WWW-Authenticate", "Api-Key");
  r.log_outcome = VerifyOutcomeName(outcome);
  return r;
}

}  // namespace keyward::http
