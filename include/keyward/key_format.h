// key_format.h: the API key format, keyward's public contract.
//
//   kw_<env>_<body><check>
//   env   "live" or "test": the environment is readable from the key itself
//   body  30 base62 characters from OpenSSL's CSPRNG (about 178 bits)
//   check 6 base62 characters: CRC32 of "kw_<env>_<body>", big-endian, zero-padded
//
// Secret scanners and users' regexes depend on this shape:
//   ^kw_(live|test)_[0-9A-Za-z]{36}$
// A key whose shape or checksum is wrong is rejected without touching storage.
// Stored form: SHA-256 of the full key string; the plaintext is never stored.
//
// All functions here are pure and thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "keyward/status.h"

namespace keyward {

enum class Environment { kLive, kTest };

// "live" / "test".
std::string_view EnvironmentName(Environment env);
// Parses "live" / "test"; nullopt for anything else.
std::optional<Environment> ParseEnvironment(std::string_view name);

inline constexpr std::size_t kKeyBodyLength = 30;
inline constexpr std::size_t kKeyCheckLength = 6;
inline constexpr std::size_t kKeyLength = 8 + kKeyBodyLength + kKeyCheckLength;  // 44
// Characters of the body shown in the display form.
inline constexpr std::size_t kKeyDisplayBodyChars = 4;

// A new key for `env`. Fails (kInternal) only if the CSPRNG fails.
StatusOr<std::string> GenerateKey(Environment env);

// Checks shape and checksum. Returns the key's environment, or nullopt if the
// input is not a well-formed keyward key. Touches no storage.
std::optional<Environment> ParseKey(std::string_view key);
// The two halves of ParseKey(): the shape (length, prefix, alphabet), and
// the checksum (REQUIRES: ParseKeyShape(key)). A verifier whose cache holds
// the key's hash can skip the checksum: only issued keys get there.
std::optional<Environment> ParseKeyShape(std::string_view key);
bool KeyChecksumMatches(std::string_view key);

// The 6-character checksum of "kw_<env>_<body>".
std::string KeyChecksum(std::string_view prefix_and_body);

// The non-secret display form for UIs and logs: "kw_live_AbCd…" (prefix and
// the first kKeyDisplayBodyChars of the body). REQUIRES: ParseKey(key).
std::string KeyDisplay(std::string_view key);

using KeyHash = std::array<unsigned char, 32>;

// SHA-256 of the full key string.
KeyHash HashKey(std::string_view key);

// Compares two hashes in constant time.
bool KeyHashEqual(const KeyHash& a, const KeyHash& b);

}  // namespace keyward
