// base62.cc: fixed-width base62 encoding and unbiased random base62 strings.
#include "core/base62.h"

#include "core/crypto.h"

namespace keyward::core {

std::string EncodeBase62Fixed(std::uint64_t value, std::size_t width) {
  std::string out(width, '0');
  for (std::size_t i = width; i-- > 0;) {
    out[i] = kBase62Alphabet[value % 62];
    value /= 62;
  }
  return out;
}

StatusOr<std::string> RandomBase62(std::size_t n) {
  std::string out;
  out.reserve(n);
  unsigned char buf[64];
  while (out.size() < n) {
    KW_RETURN_IF_ERROR(RandomBytes(buf, sizeof buf));
    for (unsigned char b : buf) {
      // 248 = 4 * 62: bytes at or above it would bias the low digits.
      if (b >= 248) continue;
      out.push_back(kBase62Alphabet[b % 62]);
      if (out.size() == n) break;
    }
  }
  return out;
}

}  // namespace keyward::core
