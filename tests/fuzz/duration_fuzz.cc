// duration_fuzz.cc: the one duration syntax and RFC 3339 times. A parsed
// duration formats back to itself; a parsed time formats and parses back.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/time_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view s(reinterpret_cast<const char*>(data), size);
  if (std::optional<std::int64_t> ms = keyward::core::ParseDuration(s)) {
    if (*ms < 0 || *ms > keyward::core::kMaxDurationMs) __builtin_trap();
    if (keyward::core::ParseDuration(keyward::core::FormatDuration(*ms)) != ms) __builtin_trap();
  }
  if (std::optional<keyward::UnixMillis> t = keyward::core::ParseRfc3339(s)) {
    if (keyward::core::ParseRfc3339(keyward::core::FormatRfc3339(*t)) != t) __builtin_trap();
  }
  return 0;
}
