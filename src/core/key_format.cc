// key_format.cc: generate, parse and hash keys of the form kw_<env>_<body><check>.
#include "keyward/key_format.h"

#include "core/base62.h"
#include "core/crc32.h"
#include "core/crypto.h"

namespace keyward {
namespace {

constexpr std::string_view kLivePrefix = "kw_live_";
constexpr std::string_view kTestPrefix = "kw_test_";
constexpr std::size_t kPrefixLength = 8;

}  // namespace

std::string_view EnvironmentName(Environment env) {
  return env == Environment::kLive ? "live" : "test";
}

std::optional<Environment> ParseEnvironment(std::string_view name) {
  if (name == "live") return Environment::kLive;
  if (name == "test") return Environment::kTest;
  return std::nullopt;
}

std::string KeyChecksum(std::string_view prefix_and_body) {
  return core::EncodeBase62Fixed(core::Crc32(prefix_and_body), kKeyCheckLength);
}

StatusOr<std::string> GenerateKey(Environment env) {
  KW_ASSIGN_OR_RETURN(std::string body, core::RandomBase62(kKeyBodyLength));
  std::string key(env == Environment::kLive ? kLivePrefix : kTestPrefix);
  key += body;
  key += KeyChecksum(key);
  return key;
}

std::optional<Environment> ParseKeyShape(std::string_view key) {
  if (key.size() != kKeyLength) return std::nullopt;
  std::optional<Environment> env;
  std::string_view prefix = key.substr(0, kPrefixLength);
  if (prefix == kLivePrefix) {
    env = Environment::kLive;
  } else if (prefix == kTestPrefix) {
    env = Environment::kTest;
  } else {
    return std::nullopt;
  }
  for (std::size_t i = kPrefixLength; i < key.size(); ++i) {
    if (!core::IsBase62(key[i])) return std::nullopt;
  }
  return env;
}

bool KeyChecksumMatches(std::string_view key) {
  // Decode the check digits instead of encoding the CRC: multiplications are
  // much cheaper than six 64-bit divisions on the hot path.
  const std::size_t check_at = kKeyLength - kKeyCheckLength;
  std::uint64_t check = 0;
  for (std::size_t i = check_at; i < kKeyLength; ++i) check = check * 62 + core::Base62Value(key[i]);
  return check == core::Crc32(key.substr(0, check_at));
}

std::optional<Environment> ParseKey(std::string_view key) {
  std::optional<Environment> env = ParseKeyShape(key);
  if (!env || !KeyChecksumMatches(key)) return std::nullopt;
  return env;
}

std::string KeyDisplay(std::string_view key) {
  std::string out(key.substr(0, std::min(key.size(), kPrefixLength + kKeyDisplayBodyChars)));
  out += "\u2026";
  return out;
}

KeyHash HashKey(std::string_view key) { return core::Sha256(key); }

bool KeyHashEqual(const KeyHash& a, const KeyHash& b) {
  return core::ConstantTimeEqual(a.data(), b.data(), a.size());
}

}  // namespace keyward
