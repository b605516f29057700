// base62.h: the 0-9A-Za-z alphabet used by keys and ids.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "keyward/status.h"

namespace keyward::core {

inline constexpr std::string_view kBase62Alphabet =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

inline bool IsBase62(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

// `value` in exactly `width` base62 digits, most significant first, zero-padded.
// REQUIRES: value < 62^width.
std::string EncodeBase62Fixed(std::uint64_t value, std::size_t width);

// `n` uniformly random base62 characters from the CSPRNG (rejection sampling,
// no modulo bias). Fails only if the CSPRNG fails.
StatusOr<std::string> RandomBase62(std::size_t n);

}  // namespace keyward::core
