// legacy_hash.cc: see legacy_hash.h.
#include "auth/legacy_hash.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "core/base64.h"
#include "core/crypto.h"

namespace keyward::auth {
namespace {

Status Bad(const std::string& why) {
  return InvalidArgumentError("unsupported legacy key hash: " + why);
}

bool IsDigits(std::string_view s) {
  if (s.empty() || s.size() > 10) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // Django writes lower case only
}

}  // namespace

StatusOr<LegacyHash> ParseLegacyHash(std::string_view encoded) {
  LegacyHash out;
  if (encoded.rfind("sha512$$", 0) == 0) {
    std::string_view hex = encoded.substr(8);
    if (hex.size() != 2 * SHA512_DIGEST_LENGTH) return Bad("sha512 needs 128 lower-case hex digits");
    out.kind = LegacyHash::Kind::kSha512;
    out.digest.resize(SHA512_DIGEST_LENGTH);
    for (std::size_t i = 0; i < out.digest.size(); ++i) {
      const int hi = HexValue(hex[2 * i]), lo = HexValue(hex[2 * i + 1]);
      if (hi < 0 || lo < 0) return Bad("sha512 needs 128 lower-case hex digits");
      out.digest[i] = static_cast<char>(hi * 16 + lo);
    }
    return out;
  }
  constexpr std::string_view kPbkdf2 = "pbkdf2_sha256$";
  if (encoded.rfind(kPbkdf2, 0) != 0) {
    const std::size_t dollar = encoded.find('$');
    return Bad("algorithm '" + std::string(encoded.substr(0, std::min<std::size_t>(dollar, 32))) +
               "' (pbkdf2_sha256 and sha512 are supported)");
  }
  std::string_view rest = encoded.substr(kPbkdf2.size());
  const std::size_t a = rest.find('$');
  const std::size_t b = a == std::string_view::npos ? a : rest.find('$', a + 1);
  if (b == std::string_view::npos || rest.find('$', b + 1) != std::string_view::npos) {
    return Bad("pbkdf2_sha256 needs <iterations>$<salt>$<hash>");
  }
  const std::string_view iterations = rest.substr(0, a), salt = rest.substr(a + 1, b - a - 1),
                         hash = rest.substr(b + 1);
  if (!IsDigits(iterations)) return Bad("pbkdf2_sha256 iterations must be a number");
  out.iterations = std::stoll(std::string(iterations));
  if (out.iterations < 1 || out.iterations > kMaxLegacyIterations) {
    return Bad("pbkdf2_sha256 iterations must be from 1 to " + std::to_string(kMaxLegacyIterations));
  }
  if (salt.empty() || salt.size() > 256) return Bad("pbkdf2_sha256 salt must be 1 to 256 characters");
  std::optional<std::string> digest = core::Base64Decode(hash);
  if (!digest || digest->size() != 32) return Bad("pbkdf2_sha256 hash must be 32 bytes in base64");
  out.kind = LegacyHash::Kind::kPbkdf2Sha256;
  out.salt = std::string(salt);
  out.digest = std::move(*digest);
  return out;
}

bool VerifyLegacyKey(const LegacyHash& hash, std::string_view key) {
  unsigned char got[SHA512_DIGEST_LENGTH];
  std::size_t n = 0;
  if (hash.kind == LegacyHash::Kind::kSha512) {
    SHA512(reinterpret_cast<const unsigned char*>(key.data()), key.size(), got);
    n = SHA512_DIGEST_LENGTH;
  } else {
    n = 32;
    if (PKCS5_PBKDF2_HMAC(key.data(), static_cast<int>(key.size()),
                          reinterpret_cast<const unsigned char*>(hash.salt.data()),
                          static_cast<int>(hash.salt.size()), static_cast<int>(hash.iterations),
                          EVP_sha256(), static_cast<int>(n), got) != 1) {
      return false;
    }
  }
  return hash.digest.size() == n && core::ConstantTimeEqual(got, hash.digest.data(), n);
}

}  // namespace keyward::auth
