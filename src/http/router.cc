// router.cc: segment matching with literal precedence, 404/405, HandleNow,
// and the HttpRequest helpers.
#include "http/router.h"

#include <array>
#include <condition_variable>
#include <mutex>
#include <stdexcept>

#include "http/error_mapping.h"

namespace keyward::http {
namespace {

// A path's segments; no route has more than kMaxSegments.
constexpr std::size_t kMaxSegments = 16;
struct Segments {
  std::array<std::string_view, kMaxSegments> at;
  std::size_t size = 0;
  bool too_many = false;
};

Segments Split(std::string_view path) {
  Segments out;
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (out.size == kMaxSegments) {
      out.too_many = true;
      break;
    }
    out.at[out.size++] = path.substr(start, slash - start);
    start = slash + 1;
  }
  return out;
}

// How many literal segments of `r` match `segs`, or -1 if `r` does not match.
int Match(const Route& r, const Segments& segs) {
  if (segs.too_many || r.segments.size() != segs.size) return -1;
  int literals = 0;
  for (std::size_t i = 0; i < segs.size; ++i) {
    const std::string& p = r.segments[i];
    if (!p.empty() && p.front() == '{') {
      if (segs.at[i].empty()) return -1;
    } else if (p != segs.at[i]) {
      return -1;
    } else {
      ++literals;
    }
  }
  return literals;
}

bool IsCapture(const std::string& segment) { return !segment.empty() && segment.front() == '{'; }

}  // namespace

void Router::Add(std::string method, std::string pattern, std::string operation_id,
                 HandlerPtr handler) {
  Route r{std::move(method), std::move(pattern), std::move(operation_id), std::move(handler), {},
          routes_.size()};
  Segments segs = Split(r.pattern);
  if (segs.too_many) throw std::logic_error("route pattern has too many segments: " + r.pattern);
  for (std::size_t i = 0; i < segs.size; ++i) r.segments.emplace_back(segs.at[i]);
  routes_.push_back(std::move(r));
}

std::variant<RouteMatch, HttpResponse> Router::Find(std::string_view method,
                                                    std::string_view path) const {
  if (path.empty() || path.front() != '/') {
    HttpResponse res = ErrorResponse(400, "BAD_REQUEST", "request target must be an absolute path");
    res.route = "(rejected)";
    return res;
  }
  Segments segs = Split(path);
  // The most literal patterns that match the path make the path's resource.
  int best = -1;
  for (const Route& r : routes_) best = std::max(best, Match(r, segs));
  if (best < 0) {
    HttpResponse res = ErrorResponse(404, "NOT_FOUND", "no such route");
    res.route = "(unmatched)";
    return res;
  }
  std::string allow;
  for (const Route& r : routes_) {
    if (Match(r, segs) != best) continue;
    if (r.method == method || (method == "HEAD" && r.method == "GET")) {
      RouteMatch m{&r, {}};
      for (std::size_t i = 0; i < segs.size; ++i) {
        if (IsCapture(r.segments[i])) m.params.emplace_back(segs.at[i]);
      }
      return m;
    }
    if (!allow.empty()) allow += ", ";
    allow += r.method;
  }
  HttpResponse res = ErrorResponse(405, "METHOD_NOT_ALLOWED",
                                   "method " + std::string(method).substr(0, 32) + " is not allowed here");
  res.SetHeader("Allow", allow);
  res.route = "(405)";
  return res;
}

namespace {

class WaitingReply final : public Reply {
 public:
  void Send(HttpResponse response) override {
    std::lock_guard lock(mu_);
    response_ = std::move(response);
    cv_.notify_all();
  }
  HttpResponse Wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return response_.has_value(); });
    return std::move(*response_);
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<HttpResponse> response_;
};

}  // namespace

HttpResponse HandleNow(const Router& router, HttpRequest request) {
  std::variant<RouteMatch, HttpResponse> found = router.Find(request.method, request.path);
  if (auto* res = std::get_if<HttpResponse>(&found)) return std::move(*res);
  RouteMatch& m = std::get<RouteMatch>(found);
  std::string body = std::move(request.body);
  request.body.clear();
  Exchange ex{std::move(request), std::move(m.params), m.route->pattern, std::nullopt};
  HttpResponse res;
  if (std::optional<HttpResponse> early = m.route->handler->Head(ex)) {
    res = std::move(*early);
  } else {
    ex.request.body = std::move(body);
    WaitingReply reply;
    m.route->handler->Body(ex, reply);
    res = reply.Wait();
  }
  res.route = m.route->pattern;
  return res;
}

}  // namespace keyward::http
