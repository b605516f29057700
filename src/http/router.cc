// router.cc: segment matching, 404/405, and HttpRequest helpers.
#include "http/router.h"

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

bool Match(const Route& r, const std::vector<std::string_view>& segs, PathParams* params) {
  if (r.segments.size() != segs.size()) return false;
  params->clear();
  for (std::size_t i = 0; i < segs.size(); ++i) {
    const std::string& p = r.segments[i];
    if (!p.empty() && p.front() == '{') {
      if (segs[i].empty()) return false;
      params->emplace_back(segs[i]);
    } else if (p != segs[i]) {
      return false;
    }
  }
  return true;
}

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

void Router::Add(std::string method, std::string pattern, Handler handler) {
  Route r{std::move(method), std::move(pattern), std::move(handler), {}};
  for (auto s : Split(r.pattern)) r.segments.emplace_back(s);
  routes_.push_back(std::move(r));
}

HttpResponse Router::Handle(const HttpRequest& request) const {
  if (request.path.empty() || request.path.front() != '/') {
    return ErrorResponse(400, "BAD_REQUEST", "request target must be an absolute path");
  }
  std::vector<std::string_view> segs = Split(request.path);
  PathParams params;
  std::string allow;
  for (const Route& r : routes_) {
    if (!Match(r, segs, &params)) continue;
    if (r.method == request.method || (request.method == "HEAD" && r.method == "GET")) {
      HttpResponse res = r.handler(request, params);
      res.route = r.pattern;
      return res;
    }
    if (!allow.empty()) allow += ", ";
    allow += r.method;
  }
  if (!allow.empty()) {
    HttpResponse res = ErrorResponse(405, "METHOD_NOT_ALLOWED",
                                     "method " + request.method + " is not allowed here");
    res.SetHeader("Allow", allow);
    res.route = "(405)";
    return res;
  }
  HttpResponse res = ErrorResponse(404, "NOT_FOUND", "no such route");
  res.route = "(unmatched)";
  return res;
}

}  // namespace keyward::http
