// routes.h: the full route table of `keyward serve`, in one place, so the
// server and the OpenAPI conformance tests build exactly the same router.
#pragma once

#include "http/handlers/context.h"
#include "http/router.h"

namespace keyward::http {

// The embedded OpenAPI 3.1 document (src/http/openapi.json).
const char* OpenApiDocument();

// Registers every route on `router`. `ctx` must outlive the router.
void AddAllRoutes(Router& router, ServiceContext& ctx);

}  // namespace keyward::http
