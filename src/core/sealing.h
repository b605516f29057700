// sealing.h: seals credentials at rest with AES-256-GCM under the operator's
// seal key: the API keys of queued jobs (a queue entry never holds a
// plaintext key) and the request-signing secrets of keys (auth/signing.h).
//
// Sealed form: 0x01 | 12-byte random nonce | ciphertext | 16-byte tag. The
// caller's `context` (the queue entry id, the key id) is authenticated as associated
// data, so a sealed value moved to another entry fails to open.
//
// Every key has a fingerprint — 16 hex digits of HMAC-SHA256(key, a fixed
// label) — that names it without revealing it: the database records which
// key the queue is sealed under, so a process holding another key refuses to
// start instead of silently failing every queued job.
// A Sealer is immutable after construction and thread-safe.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "keyward/status.h"

namespace keyward::core {

inline constexpr std::size_t kSealKeyBytes = 32;

class Sealer {
 public:
  // kInvalidArgument unless `key_hex` is 64 hex characters.
  static StatusOr<Sealer> FromHex(std::string_view key_hex);

  // Reads the key from `path`, or creates the file (mode 0600, random key)
  // if it does not exist. kUnavailable if it cannot be read or written;
  // kFailedPrecondition if the file is readable by group or others.
  static StatusOr<Sealer> FromKeyFile(const std::string& path);

  // A new random key.
  static StatusOr<Sealer> Generate();

  // Copies share the prepared key. There is no move: a moved-from sealer
  // is a copy, and still seals and opens.
  Sealer(const Sealer&) = default;
  Sealer& operator=(const Sealer&) = default;

  // 16 hex digits naming this key.
  const std::string& fingerprint() const { return fingerprint_; }
  // The key as 64 hex digits, for writing a new key file. Handle with care.
  std::string KeyHex() const;
  // Writes the key to a new file at `path` (mode 0600, fsync'd); fails if it exists.
  Status WriteKeyFile(const std::string& path) const;

  StatusOr<std::string> Seal(std::string_view plaintext, std::string_view context) const;
  // kPermissionDenied if the value was tampered with, sealed under another
  // key, or for another context.
  StatusOr<std::string> Open(std::string_view sealed, std::string_view context) const;

 private:
  explicit Sealer(const std::array<unsigned char, kSealKeyBytes>& key);
  std::array<unsigned char, kSealKeyBytes> key_;
  std::string fingerprint_;
  // Contexts with the key expanded, copied for each operation (expanding
  // the key for every seal cost more than the sealing itself).
  struct Keyed;
  std::shared_ptr<const Keyed> keyed_;
};

}  // namespace keyward::core
