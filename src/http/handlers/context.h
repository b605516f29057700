// context.h: what route handlers share — the service they call, the
// metrics they count into, the operator's token — and the helpers every
// handler uses: the JSON body, the two kinds of credential, typed fields.
// Handlers see HttpRequest/HttpResponse only: no sockets.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "http/handler.h"
#include "http/metrics.h"
#include "http/types.h"
#include "service/service.h"

namespace keyward::http {

struct ServiceContext {
  service::Service& service;
  Metrics& metrics;
  // Empty: the admin API is disabled.
  std::string admin_token;

  const Clock& clock() const { return service.clock(); }
};

// Parses the body as a JSON object into *out (depth- and size-bounded);
// otherwise returns the 400/413.
std::optional<HttpResponse> ParseJsonObject(const HttpRequest& req, nlohmann::json* out);

// Checks `Authorization: Bearer <admin token>` in constant time. Returns the
// 401 response when it fails (or when no token is configured).
std::optional<HttpResponse> RequireAdmin(const ServiceContext& ctx, const HttpRequest& req);

// Extracts the key from `Authorization: Api-Key <key>` (scheme matched
// case-insensitively). Sets *malformed when the header is present but
// unusable (duplicate, other scheme, empty key). Returns "" when absent.
std::string_view ApiKeyFromHeader(const HttpRequest& req, bool* malformed);

// Runs the gate for a key-authenticated request — a bearer `Authorization:
// Api-Key`, or a signed request (RFC 9421) — and on refusal returns the
// response (401/403/429/503) with log fields set. On success fills *result.
// `forwarded_target`: a signature covers the request a front forwarded in
// X-Keyward-Original-Method/-Uri (/v1/authz), not this one. A signed
// request that covers Content-Digest sets ex.check_content_digest.
std::optional<HttpResponse> Authenticate(ServiceContext& ctx, Exchange& ex, metering::GateRequest gate_request,
                                         bool forwarded_target, metering::GateResult* result);

// When ex.check_content_digest is set: the 401 SIGNATURE_INVALID if the body
// does not match the Content-Digest the signature covered.
std::optional<HttpResponse> CheckContentDigest(const Exchange& ex);

// Copies the caller's identity into the response's log fields.
void SetLogIdentity(HttpResponse& res, const metering::GateResult& result);

// For routes that answer later: sends through `reply` with the identified
// caller's log fields set. `ex` and `reply` must outlive the call.
std::function<void(HttpResponse)> IdentifiedSender(Exchange& ex, Reply& reply);

// Typed field access on a JSON object body. Each returns kInvalidArgument
// naming the field when it has the wrong type.
Status OptionalString(const nlohmann::json& body, const char* field, std::optional<std::string>* out);
Status OptionalInt(const nlohmann::json& body, const char* field, std::optional<std::int64_t>* out);
Status OptionalBool(const nlohmann::json& body, const char* field, std::optional<bool>* out);
Status OptionalStringList(const nlohmann::json& body, const char* field,
                          std::optional<std::vector<std::string>>* out);
// A duration field: a string in the one duration syntax ("24h", "0s").
Status OptionalDuration(const nlohmann::json& body, const char* field, std::int64_t max_ms,
                        std::optional<std::int64_t>* out_ms);
// Only these keys may appear in `body`.
Status OnlyFields(const nlohmann::json& body, std::initializer_list<const char*> allowed);

// The page a list route was asked for: ?limit= (1..1000, default 100) and
// ?after= (a cursor from the previous page).
StatusOr<PageRequest> ReadPage(const HttpRequest& req);

}  // namespace keyward::http
