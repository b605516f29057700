// legacy_hash_fuzz.cc: the hashes imported from djangorestframework-api-key
// (src/auth/legacy_hash.h). What parses is within the bounds the parser
// promises; a parsed hash is checked against the input itself as the key
// when that is cheap (SHA-512, or PBKDF2 with few iterations), which must
// not crash whatever the salt and digest bytes are.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "auth/legacy_hash.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using keyward::auth::LegacyHash;
  std::string_view s(reinterpret_cast<const char*>(data), size);
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
