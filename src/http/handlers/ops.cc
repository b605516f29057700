// ops.cc: /healthz, /readyz, /metrics, /openapi.json.
#include "http/error_mapping.h"
#include "http/handlers/context.h"

namespace keyward::http {

void AddOpsRoutes(Router& router, ServiceContext& ctx, const std::string& openapi_json) {
  router.Add("GET", "/healthz", [](const HttpRequest&, const PathParams&) {
    return JsonResponse(200, {{"status", "ok"}});
  });
  router.Add("GET", "/readyz", [&ctx](const HttpRequest&, const PathParams&) {
    Status st = ctx.store.Ping();
    if (!st.ok()) return ErrorResponse(503, "UNAVAILABLE", "store not ready: " + st.message());
    return JsonResponse(200, {{"status", "ready"}});
  });
  router.Add("GET", "/metrics", [&ctx](const HttpRequest&, const PathParams&) {
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = ctx.metrics.Render(ctx.verifier.stats());
    return r;
  });
  router.Add("GET", "/openapi.json", [openapi_json](const HttpRequest&, const PathParams&) {
    HttpResponse r;
    r.body = openapi_json;
    return r;
  });
}

}  // namespace keyward::http
