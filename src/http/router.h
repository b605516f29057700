// router.h: maps method + path to a route's Handler. Patterns are literal
// segments and "{name}" captures, e.g. "/v1/users/{id}/keys"; where both a
// literal and a capture match a segment, the literal wins (so
// "/v1/keys/verify" is never read as a key id). An unknown path is 404; a
// known path with another method is 405 with an Allow header; HEAD is served
// by GET routes. Immutable after setup; Find() is thread-safe.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "http/handler.h"

namespace keyward::http {

struct Route {
  std::string method;
  std::string pattern;
  std::string operation_id;  // the OpenAPI operationId
  HandlerPtr handler;
  std::vector<std::string> segments;  // pattern split at '/'
  std::size_t index = 0;              // position in Router::routes()
};

struct RouteMatch {
  const Route* route = nullptr;
  PathParams params;
};

class Router {
 public:
  void Add(std::string method, std::string pattern, std::string operation_id, HandlerPtr handler);
  // The route for `method` and `path`, or the 400/404/405 response to send.
  std::variant<RouteMatch, HttpResponse> Find(std::string_view method, std::string_view path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

// Runs a whole request (body included) through router and handler — Find,
// Head, Body — and blocks until the handler has answered; for tests and
// fuzzers. The response's route is set.
HttpResponse HandleNow(const Router& router, HttpRequest request);

}  // namespace keyward::http
