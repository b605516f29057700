// access_log_fuzz.cc: an access log line for any method, path and remote
// bytes (the path is the client's, the method and remote pass Beast and the
// socket, but the log must not rely on that). The line written must be one
// line of JSON whose fields read back as given — or, for bytes that are not
// UTF-8, with each byte above 0x7F as U+FFFD — and a key in the path must
// never reach the log beyond its display part.
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/utf8.h"
#include "http/access_log.h"

namespace {

// What a JSON reader must see for `s`.
std::string Expected(std::string_view s) {
  if (keyward::core::IsValidUtf8(s)) return std::string(s);
  std::string out;
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      out += "\xef\xbf\xbd";
    } else {
      out += c;
    }
  }
  return out;
}

// After a key's prefix at most four characters of its body may follow.
bool KeyBodyVisible(std::string_view s) {
  for (std::string_view prefix : {"kw_live_", "kw_test_"}) {
    for (std::size_t at = s.find(prefix); at != std::string_view::npos; at = s.find(prefix, at + 1)) {
      std::size_t n = 0;
      for (std::size_t i = at + prefix.size(); i < s.size() && std::isalnum(static_cast<unsigned char>(s[i])); ++i) ++n;
      if (n > 4) return true;
    }
  }
  return false;
}

std::string_view Take(std::string_view& in) {
  std::size_t cut = in.find('\n');
  std::string_view part = in.substr(0, cut);
  in.remove_prefix(cut == std::string_view::npos ? in.size() : cut + 1);
  return part;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  keyward::http::HttpRequest req;
  req.method = std::string(Take(in));
  req.path = std::string(Take(in));
  req.remote = std::string(in);
  keyward::http::HttpResponse res;
  res.status = 404;
  res.route = "(unmatched)";

  std::FILE* out = std::tmpfile();
  if (!out) __builtin_trap();
  keyward::http::Metrics metrics;
  {
    keyward::http::AccessLog log(out, 1 << 20, metrics, std::chrono::hours(1));
    log.Log(req, res, 0.0078125, 1764547200123);
    log.Stop();
  }
  std::string text(static_cast<std::size_t>(std::ftell(out)), '\0');
  std::rewind(out);
  if (std::fread(text.data(), 1, text.size(), out) != text.size()) __builtin_trap();
  std::fclose(out);

  if (text.empty() || text.back() != '\n' || text.find('\n') != text.size() - 1) __builtin_trap();
  nlohmann::json line = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!line.is_object()) __builtin_trap();
  if (line["method"] != Expected(req.method) || line["remote"] != Expected(req.remote)) __builtin_trap();
  if (!line["path"].is_string()) __builtin_trap();
  const std::string path = line["path"];
  if (req.path.find("kw_") == std::string::npos && path != Expected(req.path)) __builtin_trap();
  if (KeyBodyVisible(path)) __builtin_trap();
  if (line["time"] != "2025-12-01T00:00:00.123Z" || line["latency_ms"] != 7.812) __builtin_trap();
  return 0;
}
