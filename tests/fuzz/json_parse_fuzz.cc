// json_parse_fuzz.cc: the bounded JSON parser every body goes through. What
// it accepts is within its limits and survives copying and dumping.
#include <cstddef>
#include <cstdint>

#include "json/parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  keyward::jsonio::ParsedJson p = keyward::jsonio::ParseJson(text);
  if (p.ok()) {
    if (keyward::jsonio::JsonDepth(p.value) > keyward::jsonio::kDefaultJsonLimits.max_depth) __builtin_trap();
    nlohmann::json copy = p.value;
    std::string dumped = copy.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    keyward::jsonio::ParsedJson again = keyward::jsonio::ParseJson(dumped);
    if (!again.ok() || again.value != copy) __builtin_trap();
  } else if (p.message.empty()) {
    __builtin_trap();
  }
  return 0;
}
