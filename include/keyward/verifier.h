// verifier.h: decides whether a presented API key may act, and for whom.
//
// A decision is a value (VerifyOutcome); a non-OK Status means no decision
// could be made (storage unavailable). Callers choose fail-open or
// fail-closed for that case explicitly.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keyward/clock.h"
#include "keyward/principal.h"
#include "keyward/status.h"

namespace keyward {

class KeyStore;
namespace core {
class Sealer;
}

// A signed request (RFC 9421, hmac-sha256) as the HTTP layer read it: the
// signature's parameters and the signature base it computed from the
// request. The key is named by id; no plaintext travels.
struct SignedRequest {
  std::string_view key_id;
  std::int64_t created_s = 0;                // the `created` parameter
  std::optional<std::int64_t> expires_s;     // the `expires` parameter
  std::string_view nonce;
  std::string_view signature;                // 32 bytes
  std::string_view base;                     // the signature base
};

// Every verification outcome with its code, declared once: the enum, the
// names and the metrics' outcome list are all generated from it.
//   kMissing           no key presented
//   kMalformed         wrong shape or checksum; storage not touched
//   kNotFound          well-formed but unknown (or deleted)
//   kInsufficientScope key lacks a required scope, or the user's plan no
//                      longer allows it, or a job-bound key is used for
//                      anything but its job
//   kWrongEnvironment  live key where test is required, or the reverse
//   kSignatureInvalid  a signed request whose signature, created time or
//                      Content-Digest does not hold (Verification::detail
//                      says which)
//   kSignatureRequired the key (or its user's plan) requires signed
//                      requests and was sent as a bearer Api-Key
//   kReplayed          a signed request whose nonce was seen before
//   kSigningSecretUnknown  a signed request for a key whose signing secret
//                      keyward has not derived yet: one bearer call with the
//                      key (or a re-issued key) fixes it
#define KEYWARD_VERIFY_OUTCOMES(X)                                                      \
  X(kValid, "VALID") X(kMissing, "MISSING") X(kMalformed, "MALFORMED")                  \
  X(kNotFound, "NOT_FOUND") X(kExpired, "EXPIRED") X(kRevoked, "REVOKED")               \
  X(kUserDisabled, "USER_DISABLED") X(kInsufficientScope, "INSUFFICIENT_SCOPE")         \
  X(kWrongEnvironment, "WRONG_ENVIRONMENT") X(kRateLimited, "RATE_LIMITED")             \
  X(kQuotaExceeded, "QUOTA_EXCEEDED") X(kSignatureInvalid, "SIGNATURE_INVALID")         \
  X(kSignatureRequired, "SIGNATURE_REQUIRED") X(kReplayed, "REPLAYED")                  \
  X(kSigningSecretUnknown, "SIGNING_SECRET_UNKNOWN")

enum class VerifyOutcome {
#define KW_OUTCOME_ENUMERATOR(name, code) name,
  KEYWARD_VERIFY_OUTCOMES(KW_OUTCOME_ENUMERATOR)
#undef KW_OUTCOME_ENUMERATOR
};

#define KW_OUTCOME_COUNT(name, code) +1
inline constexpr std::size_t kVerifyOutcomeCount = 0 KEYWARD_VERIFY_OUTCOMES(KW_OUTCOME_COUNT);
#undef KW_OUTCOME_COUNT

// The outcome's code: "VALID", "MISSING", … as in KEYWARD_VERIFY_OUTCOMES.
std::string_view VerifyOutcomeName(VerifyOutcome outcome);

struct VerifyRequest {
  std::string_view key{};                        // the presented key; never stored or logged
  std::vector<std::string> required_scopes{};    // all must be held
  std::optional<Environment> required_environment{};
  // A key whose only scopes are job-submit scopes (issued for one queued job)
  // is refused with kInsufficientScope unless one of those scopes is required.
  // A caller that checks the job's own scope itself, once it knows the job
  // (the compute API reads the job_id from the body), sets this so that such
  // a key is not refused before that check.
  bool defer_job_scope = false;
  // Set instead of `key` for a signed request.
  const SignedRequest* signed_request = nullptr;
};

struct KeyWithUser;

struct Verification {
  VerifyOutcome outcome = VerifyOutcome::kMissing;
  // Set only when outcome == kValid. Shared and immutable: verifications
  // served from the cache hand out the same Principal without copying.
  std::shared_ptr<const Principal> principal;
  // The stored key and owner behind the decision, when the key was found
  // (the owner's plan drives rate limits and quota). Null otherwise.
  std::shared_ptr<const KeyWithUser> record;
  // For kSignatureInvalid: which check failed (a literal); else empty.
  std::string_view detail;
  bool valid() const { return outcome == VerifyOutcome::kValid; }
};

struct VerifierOptions {
  // Cache key records in memory (positive and negative). Off: every call
  // reads the store.
  bool cache = false;
  std::size_t cache_capacity = 100'000;
  // How long a cached record is trusted without re-reading the store: the
  // last safety net for changes nobody reported through InvalidateUser().
  std::int64_t cache_ttl_ms = 5'000;
  std::size_t negative_cache_capacity = 100'000;
  std::int64_t negative_cache_ttl_ms = 60'000;
  // A lookup that finds a key's record in the last quarter of its TTL
  // queues it for RefreshCached() (once per record), which re-reads it: a
  // key in steady use (by its hash, signed by its id, or imported from
  // Django) is then never re-read on the caller's thread.
  bool refresh_ahead = false;
  // Remember each key's last use for FlushLastUsed(), noting a key at most
  // once per last_used_resolution_ms (last_used_at is coarse by design).
  bool track_last_used = false;
  std::int64_t last_used_resolution_ms = 1'000;
  // Keys imported from djangorestframework-api-key ("<prefix>.<secret>"):
  // accepted when the store holds them (keyward import drf). A key not used
  // since its import costs one check of its imported hash (PBKDF2), at most
  // legacy_checks_per_second of them in all, and a prefix whose secret was
  // wrong waits legacy_failure_backoff_ms; the list of imported prefixes is
  // re-read at most every legacy_refresh_ms. See docs/security.md.
  bool legacy_keys = true;
  double legacy_checks_per_second = 10;
  std::int64_t legacy_failure_backoff_ms = 1'000;
  std::int64_t legacy_refresh_ms = 10'000;
  // Signed requests (RFC 9421): the seal key that seals each key's signing
  // secret (borrowed; null: signed requests are refused as
  // SIGNING_SECRET_UNKNOWN and no secret is learned from bearer use).
  const core::Sealer* sealer = nullptr;
  // A signature's `created` may lie at most this far from now, either way.
  std::int64_t signature_window_ms = 300'000;
  // Nonces remembered until their signature leaves the window: at most this
  // many in all and per key; beyond either a signed request is refused
  // (kUnavailable, never an eviction). See docs/security.md for sizing.
  std::size_t nonce_capacity = 1'000'000;
  std::size_t nonce_capacity_per_key = 100'000;
};

struct VerifierStats {
  std::uint64_t cache_hits = 0;
  std::uint64_t cache_misses = 0;
  std::uint64_t negative_hits = 0;
  std::uint64_t cached_keys = 0;  // positive entries held now
  std::uint64_t nonces = 0;       // signed-request nonces remembered now
  // FlushLastUsed() calls that had something to write, and those of them
  // that the store refused (what waited is kept for the next one; last uses
  // up to 262,144 keys).
  std::uint64_t flushes = 0;
  std::uint64_t flush_failures = 0;
  // Records RefreshCached() re-read ahead of their TTL (or dropped: the key
  // was gone).
  std::uint64_t refreshes = 0;
};

// Thread-safe. Borrows `store` and `clock`, which must outlive it.
class Verifier {
 public:
  Verifier(KeyStore& store, const Clock& clock, VerifierOptions options = {});
  ~Verifier();
  Verifier(const Verifier&) = delete;
  Verifier& operator=(const Verifier&) = delete;

  // Returns a Verification for any input, well-formed or not; outcome kValid
  // carries the Principal. Returns kUnavailable only if no decision could be
  // made (storage, or a full nonce cache for a signed request). Never logs or
  // returns the presented key.
  //
  // A signed request is decided in this order: the key by id (NOT_FOUND),
  // its signing secret (SIGNING_SECRET_UNKNOWN), the HMAC, then `created`
  // and `expires` against the window (SIGNATURE_INVALID), the key's state
  // as for a bearer key, and last the nonce (REPLAYED): only a request that
  // passes everything else takes a place in the nonce cache.
  StatusOr<Verification> Verify(const VerifyRequest& request);

  // Forgets cached records of `user_id` (call after any change to the user
  // or their keys). A lookup that was reading the store while this ran does
  // not put its possibly stale record into the cache.
  void InvalidateUser(const std::string& user_id);
  // The same for several users at once (a batch of changes): one pass over
  // the cache and one invalidation, however many users.
  void InvalidateUsers(std::vector<std::string> user_ids);
  // Forgets every cached record, positive and negative.
  void InvalidateAll();

  // Writes the remembered last-use times, and the signing secrets learned
  // from bearer uses, to the store and forgets them. Called periodically and
  // at shutdown; last_used_at lags by at most that period.
  Status FlushLastUsed();
  // What waits for FlushLastUsed(). A caller that flushes periodically may
  // flush early when much waits (many distinct keys in use, a burst of first
  // uses): less is held in memory, and each flush is a short write instead
  // of one long one.
  struct Unflushed {
    std::size_t last_uses = 0;        // keys whose last use is not written
    std::size_t signing_secrets = 0;  // secrets learned, not written
  };
  Unflushed unflushed() const;

  // With refresh_ahead: re-reads the records lookups queued (at most 65,536
  // wait; more are left to their TTL), each replacing its cached record
  // unless an invalidation ran meanwhile; a key no longer in the store
  // leaves the cache. Call it well within a quarter of cache_ttl_ms of the
  // last call. Stops at the first store error (what is left expires as
  // usual) and returns it. With `stop`, also stops (and returns OK) once
  // *stop is true: the rest is left to its TTL, so a shutdown need not wait
  // for a whole pass.
  Status RefreshCached(const std::atomic<bool>* stop = nullptr);

  VerifierStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace keyward
