// types.h: plain HTTP request/response structs. Handlers see only these, so
// Boost.Beast stays inside server.cc and most files compile fast.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "keyward/status.h"

namespace keyward {
struct KeyWithUser;
}

namespace keyward::http {

struct HttpRequest {
  std::string method;  // "GET", ...
  std::string path;    // target before '?', not decoded
  std::string query;   // after '?', not decoded
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string body;
  std::string remote;  // peer address
  bool tls = false;    // arrived over TLS (the scheme a signature covers)

  // The first value of header `name` (lower-case), or null.
  const std::string* Header(std::string_view name) const;
  int HeaderCount(std::string_view name) const;
  // Every value of header `name` (lower-case), in order.
  std::vector<std::string_view> HeaderValues(std::string_view name) const;
  // Every percent-decoded value of query parameter `name`, in order. False
  // (and *out unspecified) if any part of the query is badly escaped.
  bool QueryValues(std::string_view name, std::vector<std::string>* out) const;
  // The one value of query parameter `name` (nullopt when absent).
  // kInvalidArgument if it is given more than once or the query is badly
  // escaped: a parameter that takes one value is never read "first wins".
  StatusOr<std::optional<std::string>> QueryParam(std::string_view name) const;
  // kInvalidArgument naming the first query parameter not in `allowed`
  // (or a badly escaped query).
  Status OnlyQueryParams(const std::vector<std::string>& allowed) const;
};

struct HttpResponse {
  int status = 200;
  std::string_view content_type = "application/json";  // a literal
  std::string body;
  // For the access log and metrics; never sent.
  // The matched pattern, e.g. "/v1/keys/{id}"; points into the Router (or a
  // string literal), which outlives every response.
  std::string_view route;
  // The key and owner the request acted as (user id, key display form and
  // environment are logged from it; never the key itself).
  std::shared_ptr<const KeyWithUser> identity;
  std::string_view log_outcome;  // a VerifyOutcomeName() literal

  // Adds a header. `name` is a token chosen by the code; CR, LF and NUL in
  // `value` become spaces, so no value can end the header block early.
  void SetHeader(std::string_view name, std::string_view value);
  // The first value of header `name` (ASCII case-insensitive), if set.
  std::optional<std::string_view> Header(std::string_view name) const;
  // The headers set so far, as "Name: value\r\n" lines in order.
  const std::string& header_lines() const { return header_lines_; }

 private:
  std::string header_lines_;
};

// Percent-decodes `s` ('+' as space). nullopt on a bad escape or a NUL byte.
std::optional<std::string> PercentDecode(std::string_view s);

}  // namespace keyward::http
