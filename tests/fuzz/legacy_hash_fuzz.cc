// legacy_hash_fuzz.cc: the hashes imported from djangorestframework-api-key
// (src/auth/legacy_hash.h). What parses is within the bounds the parser
// promises; a parsed hash is checked against the input itself as the key
// when that is cheap (SHA-512, or PBKDF2 with few iterations), which must
// not crash whatever the salt and digest bytes are. The same bytes go
// through the other parsers of imported data: the key shape
// "<prefix>.<secret>" and the times `keyward import drf` reads.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/drf_import.h"
#include "auth/legacy_hash.h"
#include "auth/legacy_keys.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using keyward::auth::LegacyHash;
  std::string_view s(reinterpret_cast<const char*>(data), size);
  std::string_view prefix;
  if (keyward::auth::SplitLegacyKey(s, &prefix)) {
    if (prefix.empty() || prefix.size() > 64 || s.size() > 64 + 1 + 128 || s[prefix.size()] != '.') __builtin_trap();
  }
  keyward::StatusOr<keyward::UnixMillis> t = keyward::auth::ParseDjangoTime(std::string(s), "UTC");
  // Years 0000-9999 with an offset of at most ±99:59 stay within these.
  if (t.ok() && (*t < -62'200'000'000'000 || *t > 253'450'000'000'000)) __builtin_trap();
  keyward::StatusOr<LegacyHash> h = keyward::auth::ParseLegacyHash(s);
  if (!h.ok()) return 0;
  if (h->kind == LegacyHash::Kind::kSha512) {
    if (h->digest.size() != 64) __builtin_trap();
  } else {
    if (h->digest.size() != 32 || h->salt.empty() || h->salt.size() > 256) __builtin_trap();
    if (h->iterations < 1 || h->iterations > keyward::auth::kMaxLegacyIterations) __builtin_trap();
    if (h->iterations > 1000) return 0;  // each run would cost that many HMACs
  }
  (void)keyward::auth::VerifyLegacyKey(*h, s);
  return 0;
}
