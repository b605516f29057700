// legacy_hash.h: the hashes djangorestframework-api-key stored for keys of
// the form <prefix>.<secret>, so that keys imported from a Django database
// keep working (issue 12). Two formats, both over the whole key text:
//   pbkdf2_sha256$<iterations>$<salt>$<base64 of 32 bytes>   (2.x, Django's
//       default password hasher: PBKDF2-HMAC-SHA256, dklen 32)
//   sha512$$<128 hex digits>                                 (3.x)
// Parsing is strict and bounded: an iteration count above kMaxIterations is
// refused, because each check of a wrong secret costs that many HMACs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "keyward/status.h"

namespace keyward::auth {

inline constexpr std::int64_t kMaxLegacyIterations = 2'000'000;

struct LegacyHash {
  enum class Kind { kPbkdf2Sha256, kSha512 };
  Kind kind = Kind::kSha512;
  std::int64_t iterations = 0;  // PBKDF2 only
  std::string salt;             // PBKDF2 only
  std::string digest;           // raw bytes: 32 (PBKDF2) or 64 (SHA-512)
};

// kInvalidArgument, naming what is wrong, for anything else.
StatusOr<LegacyHash> ParseLegacyHash(std::string_view encoded);

// Whether `key` (the whole "<prefix>.<secret>") hashes to `hash`; the final
// comparison takes the same time wherever the bytes differ.
bool VerifyLegacyKey(const LegacyHash& hash, std::string_view key);

}  // namespace keyward::auth
