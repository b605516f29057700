// handler.h: the one interface every route implements, in two steps around
// the request body, with no I/O types:
//  1. Head(): the request line and headers are in, nothing of the body has
//     been read. Route-level decisions happen here — query parameters,
//     authentication, rate limits — so a request can be refused before its
//     body costs anything. A response returned here is sent at once and the
//     body is never read.
//  2. Body(): the whole request is in. The handler answers through Reply,
//     either before returning or later from any thread (after a shared group
//     commit, say); the connection waits for it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/types.h"
#include "metering/gate.h"

namespace keyward::http {

using PathParams = std::vector<std::string>;

// One request and what the head step learned about it.
struct Exchange {
  HttpRequest request;  // body empty in Head(), filled for Body()
  PathParams params;    // the route's {captures}, in order, not decoded
  std::string_view route;  // the matched pattern, e.g. "/v1/keys/{id}"
  // The caller, once an API-key route's head step has let it through.
  std::optional<metering::GateResult> caller;
  // A signed request that covers Content-Digest: the body must match it
  // before the route sees it.
  bool check_content_digest = false;
};

// Delivers a handler's response. Send() exactly once, from any thread.
class Reply {
 public:
  virtual ~Reply() = default;
  virtual void Send(HttpResponse response) = 0;
};

class Handler {
 public:
  virtual ~Handler() = default;
  // nullopt: read the body and call Body().
  virtual std::optional<HttpResponse> Head(Exchange& exchange) = 0;
  // `reply` stays valid until it has been sent.
  virtual void Body(Exchange& exchange, Reply& reply) = 0;
};

using HandlerPtr = std::unique_ptr<Handler>;

}  // namespace keyward::http
