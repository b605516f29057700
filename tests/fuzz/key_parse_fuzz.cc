// key_parse_fuzz.cc: the key format — shape, checksum, display, hash — on
// any bytes. A string that parses must round-trip its display form.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "keyward/key_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view key(reinterpret_cast<const char*>(data), size);
  std::optional<keyward::Environment> env = keyward::ParseKey(key);
  if (env) {
    if (key.size() != keyward::kKeyLength) __builtin_trap();
    std::string display = keyward::KeyDisplay(key);
    if (display.rfind(key.substr(0, 12), 0) != 0) __builtin_trap();
    if (keyward::KeyChecksum(key.substr(0, 38)) != key.substr(38)) __builtin_trap();
  }
  keyward::KeyHash h = keyward::HashKey(key);
  if (!keyward::KeyHashEqual(h, keyward::HashKey(key))) __builtin_trap();
  (void)keyward::ParseEnvironment(key);
  return 0;
}
