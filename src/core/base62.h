// base62.h: the 0-9A-Za-z alphabet used by keys and ids.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "keyward/status.h"

namespace keyward::core {

inline constexpr std::string_view kBase62Alphabet =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

namespace internal {
// Digit value of each byte, or -1 if it is not a base62 character.
inline constexpr auto kBase62Values = [] {
  std::array<signed char, 256> t{};
  for (int i = 0; i < 256; ++i) t[i] = -1;
  for (int i = 0; i < 62; ++i) t[static_cast<unsigned char>(kBase62Alphabet[i])] = static_cast<signed char>(i);
  return t;
}();
}  // namespace internal

inline bool IsBase62(char c) { return internal::kBase62Values[static_cast<unsigned char>(c)] >= 0; }

// The digit value of a base62 character. REQUIRES: IsBase62(c).
inline int Base62Value(char c) { return internal::kBase62Values[static_cast<unsigned char>(c)]; }

// `value` in exactly `width` base62 digits, most significant first, zero-padded.
// REQUIRES: value < 62^width.
std::string EncodeBase62Fixed(std::uint64_t value, std::size_t width);

// Where random characters come from: RandomBytes (secrets) or
// PooledRandomBytes (identifiers); both are the CSPRNG.
enum class Randomness { kFresh, kPooled };

// `n` uniformly random base62 characters from the CSPRNG (rejection sampling,
// no modulo bias). Fails only if the CSPRNG fails.
StatusOr<std::string> RandomBase62(std::size_t n, Randomness from = Randomness::kFresh);

}  // namespace keyward::core
