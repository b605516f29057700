// router.h: maps method + path to a handler. Patterns are literal segments
// and "{name}" captures, e.g. "/v1/users/{id}/keys". An unknown path is 404;
// a known path with another method is 405 with an Allow header.
// Immutable after setup; Handle() is thread-safe.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "http/types.h"

namespace keyward::http {

using PathParams = std::vector<std::string>;
using Handler = std::function<HttpResponse(const HttpRequest&, const PathParams&)>;

struct Route {
  std::string method;
  std::string pattern;
  Handler handler;
  std::vector<std::string> segments;  // pattern split at '/'
};

class Router {
 public:
  void Add(std::string method, std::string pattern, Handler handler);
  HttpResponse Handle(const HttpRequest& request) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace keyward::http
