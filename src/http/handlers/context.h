// context.h: what request handlers share — the services they call — and
// small helpers for reading JSON bodies and authenticating callers.
// Handlers are plain functions HttpRequest -> HttpResponse: no sockets.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "auth/gate.h"
#include "auth/key_service.h"
#include "http/metrics.h"
#include "http/router.h"
#include "jobs/compute.h"

namespace keyward::jobs {
class JobQueue;
}

namespace keyward::http {

struct ServiceContext {
  Store& store;
  auth::KeyService& keys;
  Verifier& verifier;
  auth::Gate& gate;
  auth::Quota& quota;
  jobs::ComputeService& compute;
  jobs::JobQueue& queue;
  const jobs::TaskRegistry& tasks;
  Metrics& metrics;
  const Clock& clock;
  // Empty: the admin API is disabled.
  std::string admin_token;
};

// Parses the body as a JSON object into *out; otherwise returns the 400.
std::optional<HttpResponse> ParseJsonObject(const HttpRequest& req, nlohmann::json* out);

// Checks `Authorization: Bearer <admin token>` in constant time. Returns the
// 401 response when it fails (or when no token is configured).
std::optional<HttpResponse> RequireAdmin(const ServiceContext& ctx, const HttpRequest& req);

// Extracts the key from `Authorization: Api-Key <key>` (scheme matched
// case-insensitively). Sets *malformed when the header is present but
// unusable (duplicate, other scheme, empty key). Returns "" when absent.
std::string_view ApiKeyFromHeader(const HttpRequest& req, bool* malformed);

// Runs the gate for an API-key-authenticated route; on refusal returns the
// response (401/403/429/503) with log fields set. On success fills *result.
std::optional<HttpResponse> Authenticate(ServiceContext& ctx, const HttpRequest& req,
                                         auth::GateRequest gate_request,
                                         auth::GateResult* result);

// Copies the principal's identity into the response's log fields.
void SetLogIdentity(HttpResponse& res, const auth::GateResult& result);

// Typed field access on a JSON object body. Each returns kInvalidArgument
// naming the field when it has the wrong type.
Status OptionalString(const nlohmann::json& body, const char* field, std::optional<std::string>* out);
Status OptionalInt(const nlohmann::json& body, const char* field, std::optional<std::int64_t>* out);
Status OptionalStringList(const nlohmann::json& body, const char* field,
                          std::optional<std::vector<std::string>>* out);
// Only these keys may appear in `body`.
Status OnlyFields(const nlohmann::json& body, std::initializer_list<const char*> allowed);

// Route registration, one function per handler file.
void AddOpsRoutes(Router& router, ServiceContext& ctx, const std::string& openapi_json);
void AddUserRoutes(Router& router, ServiceContext& ctx);
void AddKeyRoutes(Router& router, ServiceContext& ctx);
void AddVerifyRoutes(Router& router, ServiceContext& ctx);
void AddComputeRoutes(Router& router, ServiceContext& ctx);
void AddQueueRoutes(Router& router, ServiceContext& ctx);

}  // namespace keyward::http
