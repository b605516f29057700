// routes.cc: every route of the service.
#include "http/routes.h"

#include "http/handlers/route.h"

namespace keyward::generated {
const char* OpenApiJson();
}

namespace keyward::http {

const char* OpenApiDocument() { return generated::OpenApiJson(); }

void AddAllRoutes(Router& router, ServiceContext& ctx) {
  AddOpsRoutes(router, ctx, OpenApiDocument());
  AddUserRoutes(router, ctx);
  AddKeyRoutes(router, ctx);
  AddVerifyRoutes(router, ctx);
  AddComputeRoutes(router, ctx);
  AddQueueRoutes(router, ctx);
}

}  // namespace keyward::http
