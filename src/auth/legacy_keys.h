// legacy_keys.h: verification of keys imported from djangorestframework-api-
// key ("<prefix>.<secret>", issue 12). The verifier hands such a key here
// when neither its cache nor the store knows the key's SHA-256.
//
// What it costs, and the bounds on it:
//   - Every imported prefix is held in memory: a key whose prefix was never
//     imported is refused without touching storage. The list is re-read when
//     an unknown prefix arrives and the list is older than refresh_ms (a key
//     imported while the server runs works within that time).
//   - A key not used since its import is checked against its imported hash
//     (PBKDF2: ~60 ms of CPU at Django's 260,000 iterations). On success its
//     SHA-256 replaces the imported hash in the store: PBKDF2 never runs for
//     that key again, and the key is an ordinary cached keyward key.
//   - Wrong secrets cannot buy CPU: PBKDF2 runs at most checks_per_second
//     times a second in all (a token bucket, burst of the same size), and a
//     prefix that just failed waits failure_backoff_ms before its next check.
//     Beyond either bound the answer is RATE_LIMITED; the exact same wrong
//     key is remembered by the verifier's negative cache.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "keyward/clock.h"
#include "keyward/status.h"
#include "keyward/store.h"

namespace keyward::auth {

struct LegacyKeyOptions {
  double checks_per_second = 10;           // PBKDF2 runs, every key together
  std::int64_t failure_backoff_ms = 1'000; // a prefix's wait after a wrong secret
  std::int64_t refresh_ms = 10'000;        // least age of the prefix list before a re-read
};

// True for "<prefix>.<secret>" as djangorestframework-api-key makes them:
// 1–64 ASCII letters or digits, a dot, 1–128 letters or digits. *prefix is
// the part before the dot.
bool SplitLegacyKey(std::string_view key, std::string_view* prefix);

enum class LegacyState { kUnknown, kPending, kRehashed };

// Thread-safe. Borrows `store` and `clock`, which must outlive it.
class LegacyKeys {
 public:
  LegacyKeys(KeyStore& store, const Clock& clock, LegacyKeyOptions options);
  ~LegacyKeys();
  LegacyKeys(const LegacyKeys&) = delete;
  LegacyKeys& operator=(const LegacyKeys&) = delete;

  // What the in-memory list says about `prefix`; re-reads the list first if
  // the prefix is unknown and the list is older than refresh_ms (or was never
  // read). kUnavailable if that read fails.
  StatusOr<LegacyState> Classify(std::string_view prefix);

  // Checks `key` (prefix `prefix`, SHA-256 `sha256`) against its imported
  // hash and, on a match, rehashes it in the store. Returns the record, its
  // hash the key's SHA-256; kNotFound for a wrong secret or an unknown
  // prefix; kResourceExhausted when a bound above refuses the check.
  StatusOr<KeyWithUser> Check(std::string_view key, std::string_view prefix, const KeyHash& sha256);

  // Forgets the list: the next Classify re-reads it.
  void Forget();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace keyward::auth
