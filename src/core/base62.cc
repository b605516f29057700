// base62.cc: fixed-width base62 encoding and unbiased random base62 strings.
#include "core/base62.h"

#include <openssl/crypto.h>

#include <algorithm>

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

StatusOr<std::string> RandomBase62(std::size_t n, Randomness from) {
  std::string out;
  out.reserve(n);
  unsigned char buf[64];
  while (out.size() < n) {
    // The characters still missing and a few more: 8 bytes in 256 are
    // rejected, so one draw nearly always suffices.
    const std::size_t want = std::min(sizeof buf, n - out.size() + 4);
    Status drawn = from == Randomness::kPooled ? PooledRandomBytes(buf, want) : RandomBytes(buf, want);
    if (!drawn.ok()) return drawn;
    for (std::size_t i = 0; i < want && out.size() < n; ++i) {
      // 248 = 4 * 62: bytes at or above it would bias the low digits.
      if (buf[i] >= 248) continue;
      out.push_back(kBase62Alphabet[buf[i] % 62]);
    }
  }
  OPENSSL_cleanse(buf, sizeof buf);  // a key's characters were among them
  return out;
}

}  // namespace keyward::core
