// ops.cc: /healthz, /readyz, /metrics, /openapi.json.
#include "http/error_mapping.h"
#include "http/handlers/route.h"
#include "http/router.h"

namespace keyward::http {

void AddOpsRoutes(Router& router, ServiceContext& ctx, const std::string& openapi_json) {
  auto add = [&](const char* path, const char* operation_id,
                 std::function<HttpResponse(Exchange&, const nlohmann::json&)> fn,
                 bool uses_store = false) {
    RouteSpec spec;
    spec.respond = std::move(fn);
    spec.uses_store = uses_store;
    router.Add("GET", path, operation_id, MakeRoute(ctx, std::move(spec)));
  };
  add("/healthz", "getHealth", [](Exchange&, const nlohmann::json&) {
    HttpResponse r;
    r.body = R"({"status":"ok"})";
    return r;
  });
  add("/readyz", "getReadiness", [&ctx](Exchange&, const nlohmann::json&) {
    Status st = ctx.service.backend().Ping();
    if (!st.ok()) return RetryLaterResponse(503, "UNAVAILABLE", "store not ready: " + st.message(), 1000);
    const store::SchemaInfo schema = ctx.service.backend().schema();
    nlohmann::json s = {{"version", schema.version}, {"supported", schema.supported}};
    if (schema.ahead()) s["ahead"] = true;
    return JsonResponse(200, {{"status", "ready"}, {"schema", s}});
  }, /*uses_store=*/true);
  add("/metrics", "getMetrics", [&ctx](Exchange&, const nlohmann::json&) {
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = ctx.metrics.Render(ctx.service.verifier().stats());
    return r;
  });
  add("/openapi.json", "getOpenApi", [openapi_json](Exchange&, const nlohmann::json&) {
    HttpResponse r;
    r.body = openapi_json;
    return r;
  });
}

}  // namespace keyward::http
