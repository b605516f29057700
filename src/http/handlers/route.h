// route.h: most routes are declarative — who may call (nobody in
// particular, the operator, or an API key with given requirements), which
// query parameters they take, whether they take a JSON body — plus a
// function that answers. MakeRoute() turns that into a Handler whose head
// step enforces it all before the body is read.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "http/handler.h"
#include "http/handlers/context.h"

namespace keyward::http {

enum class Access {
  kPublic,  // anyone (health, the spec, verify: the key is in the body)
  kAdmin,   // the operator token
  kApiKey,  // Authorization: Api-Key, through the gate
};

enum class BodyKind {
  kNone,          // no body is read; one sent anyway is ignored
  kJson,          // a JSON object is required
  kOptionalJson,  // a JSON object, or nothing (read as {})
};

struct RouteSpec {
  Access access = Access::kPublic;
  // kApiKey: what the key must pass in the head step.
  metering::GateRequest gate;
  // kApiKey, when the requirements come from the request itself (authz).
  std::function<StatusOr<metering::GateRequest>(const HttpRequest&)> gate_from_request;
  // kApiKey: a signed request covers the request a front forwarded
  // (X-Keyward-Original-Method/-Uri), not this one (authz).
  bool forwarded_target = false;
  std::vector<std::string> query;  // accepted query parameters; any other is 400
  BodyKind body = BodyKind::kNone;
  // The answer reads or writes the store: it is computed on the service's
  // request pool, never on an I/O thread. Off for answers that need memory
  // only (health, metrics, the spec) or the key cache first (authz).
  bool uses_store = true;
  // For a route that uses the store: true for a request whose answer only
  // hands its write to a group commit (respond_later). That answer runs on
  // the I/O thread after all — it parses, reserves in memory and queues; it
  // reads the store only on rare paths (a repeated job_id, a user's first
  // charge of the month), as authz does on a cache miss. No request-pool
  // thread is woken to start it.
  std::function<bool(const Exchange&)> queues_its_write;
  // The answer, given the parsed body ({} for kNone). One of these two:
  std::function<HttpResponse(Exchange&, const nlohmann::json&)> respond;
  // … or an answer that comes later, through the Reply.
  std::function<void(Exchange&, nlohmann::json, Reply&)> respond_later;
};

HandlerPtr MakeRoute(ServiceContext& ctx, RouteSpec spec);

// Route registration, one function per handler file.
class Router;
void AddOpsRoutes(Router& router, ServiceContext& ctx, const std::string& openapi_json);
void AddUserRoutes(Router& router, ServiceContext& ctx);
void AddKeyRoutes(Router& router, ServiceContext& ctx);
void AddVerifyRoutes(Router& router, ServiceContext& ctx);
void AddComputeRoutes(Router& router, ServiceContext& ctx);
void AddQueueRoutes(Router& router, ServiceContext& ctx);

}  // namespace keyward::http
