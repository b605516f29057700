// types.cc: the HttpRequest and HttpResponse helpers.
#include "http/types.h"

#include <strings.h>

#include "core/crypto.h"

namespace keyward::http {

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

void HttpResponse::SetHeader(std::string_view name, std::string_view value) {
  if (header_lines_.empty()) header_lines_.reserve(256);
  header_lines_.append(name);
  header_lines_ += ": ";
  // CR, LF and NUL would end or break the header block: each becomes a
  // space. Values rarely hold one, so the runs between them are copied whole.
  for (;;) {
    std::size_t at = 0;
    while (at < value.size() && value[at] != '\r' && value[at] != '\n' && value[at] != '\0') ++at;
    header_lines_.append(value.data(), at);
    if (at == value.size()) break;
    header_lines_ += ' ';
    value.remove_prefix(at + 1);
  }
  header_lines_ += "\r\n";
}

std::optional<std::string_view> HttpResponse::Header(std::string_view name) const {
  std::string_view rest = header_lines_;
  while (!rest.empty()) {
    std::size_t eol = rest.find("\r\n");
    std::string_view line = rest.substr(0, eol);
    std::size_t colon = line.find(": ");
    if (colon == name.size() && strncasecmp(line.data(), name.data(), name.size()) == 0) {
      return line.substr(colon + 2);
    }
    if (eol == std::string_view::npos) break;
    rest.remove_prefix(eol + 2);
  }
  return std::nullopt;
}

}  // namespace keyward::http
