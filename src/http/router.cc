// router.cc: segment matching with literal precedence, 404/405, HandleNow,
// and the HttpRequest helpers.
#include "http/router.h"

#include <condition_variable>
#include <mutex>

#include "core/crypto.h"
#include "http/error_mapping.h"

namespace keyward::http {
namespace {

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

// How many literal segments of `r` match `segs`, or -1 if `r` does not match.
int Match(const Route& r, const std::vector<std::string_view>& segs) {
  if (r.segments.size() != segs.size()) return -1;
  int literals = 0;
  for (std::size_t i = 0; i < segs.size(); ++i) {
    const std::string& p = r.segments[i];
    if (!p.empty() && p.front() == '{') {
      if (segs[i].empty()) return -1;
    } else if (p != segs[i]) {
      return -1;
    } else {
      ++literals;
    }
  }
  return literals;
}

bool IsCapture(const std::string& segment) { return !segment.empty() && segment.front() == '{'; }

}  // namespace

const std::string* HttpRequest::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return &v;
  }
  return nullptr;
}

int HttpRequest::HeaderCount(std::string_view name) const {
  int n = 0;
  for (const auto& [k, v] : headers) n += k == name;
  return n;
}

std::vector<std::string_view> HttpRequest::HeaderValues(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& [k, v] : headers) {
    if (k == name) out.emplace_back(v);
  }
  return out;
}

bool HttpRequest::QueryValues(std::string_view name, std::vector<std::string>* out) const {
  out->clear();
  std::string_view q = query;
  while (!q.empty()) {
    std::size_t amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    std::size_t eq = pair.find('=');
    std::optional<std::string> key = PercentDecode(pair.substr(0, eq));
    if (!key) return false;
    if (*key == name) {
      std::optional<std::string> value =
          PercentDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
      if (!value) return false;
      out->push_back(std::move(*value));
    }
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return true;
}

StatusOr<std::optional<std::string>> HttpRequest::QueryParam(std::string_view name) const {
  std::vector<std::string> values;
  if (!QueryValues(name, &values)) {
    return InvalidArgumentError("the query string is not correctly percent-encoded");
  }
  if (values.size() > 1) {
    return InvalidArgumentError("query parameter " + std::string(name) + " is given more than once");
  }
  if (values.empty()) return std::optional<std::string>();
  return std::optional<std::string>(std::move(values[0]));
}

Status HttpRequest::OnlyQueryParams(const std::vector<std::string>& allowed) const {
  std::string_view q = query;
  while (!q.empty()) {
    std::size_t amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    std::optional<std::string> key = PercentDecode(pair.substr(0, pair.find('=')));
    if (!key) return InvalidArgumentError("the query string is not correctly percent-encoded");
    bool known = false;
    for (const std::string& a : allowed) known = known || *key == a;
    if (!known && !(key->empty() && pair.empty())) {
      return InvalidArgumentError("unknown query parameter '" + key->substr(0, 64) + "'");
    }
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return OkStatus();
}

std::optional<std::string> PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = core::HexDigitValue(s[i + 1]), lo = core::HexDigitValue(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      char d = static_cast<char>(hi * 16 + lo);
      if (d == '\0') return std::nullopt;
      out += d;
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

void Router::Add(std::string method, std::string pattern, std::string operation_id,
                 HandlerPtr handler) {
  Route r{std::move(method), std::move(pattern), std::move(operation_id), std::move(handler), {}};
  for (auto s : Split(r.pattern)) r.segments.emplace_back(s);
  routes_.push_back(std::move(r));
}

std::variant<RouteMatch, HttpResponse> Router::Find(std::string_view method,
                                                    std::string_view path) const {
  if (path.empty() || path.front() != '/') {
    HttpResponse res = ErrorResponse(400, "BAD_REQUEST", "request target must be an absolute path");
    res.route = "(rejected)";
    return res;
  }
  std::vector<std::string_view> segs = Split(path);
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
      for (std::size_t i = 0; i < segs.size(); ++i) {
        if (IsCapture(r.segments[i])) m.params.emplace_back(segs[i]);
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
