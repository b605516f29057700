// types.h: plain HTTP request/response structs. Handlers see only these, so
// Boost.Beast stays inside server.cc and most files compile fast.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace keyward::http {

struct HttpRequest {
  std::string method;  // "GET", ...
  std::string path;    // target before '?', not decoded
  std::string query;   // after '?', not decoded
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string body;
  std::string remote;  // peer address

  // The first value of header `name` (lower-case), or null.
  const std::string* Header(std::string_view name) const;
  int HeaderCount(std::string_view name) const;
  // The percent-decoded value of query parameter `name`, if present.
  std::optional<std::string> QueryParam(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // For the access log and metrics; never sent.
  std::string route;           // the matched pattern, e.g. "/v1/keys/{id}"
  std::string log_user_id;
  std::string log_key_display;
  std::string log_environment;
  std::string log_outcome;

  void SetHeader(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
};

// Percent-decodes `s` ('+' as space). nullopt on a bad escape or a NUL byte.
std::optional<std::string> PercentDecode(std::string_view s);

}  // namespace keyward::http
