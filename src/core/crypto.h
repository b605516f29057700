// crypto.h: the few OpenSSL primitives keyward uses, behind plain types.
// All functions are thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "keyward/status.h"

namespace keyward::core {

using Sha256Digest = std::array<unsigned char, 32>;

// SHA-256 of `data` (no allocation; see crypto.cc for the choice of API).
Sha256Digest Sha256(std::string_view data);

// HMAC-SHA256 of `data` under `key`.
Sha256Digest HmacSha256(std::string_view key, std::string_view data);

// HKDF-SHA256 (RFC 5869), extract then expand, 32 bytes of output.
Sha256Digest HkdfSha256(std::string_view ikm, std::string_view salt, std::string_view info);

// Fills `out` with `n` bytes from OpenSSL's CSPRNG. kInternal if it fails.
Status RandomBytes(unsigned char* out, std::size_t n);

// The same CSPRNG's bytes, drawn 4 KiB at a time into a buffer of the
// calling thread (each byte handed out once, the buffer refilled after a
// fork): for identifiers and nonces, made on the request path, where one
// CSPRNG call each costs more than the rest of the work. Not for secrets —
// the buffer holds future values in memory.
Status PooledRandomBytes(unsigned char* out, std::size_t n);

// Constant-time equality of two equal-length buffers (CRYPTO_memcmp).
bool ConstantTimeEqual(const void* a, const void* b, std::size_t n);

// Lower-case hex of `data`.
std::string HexEncode(const unsigned char* data, std::size_t n);

// The value of one hex digit (either case), or -1 if `c` is not one.
inline int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace keyward::core
