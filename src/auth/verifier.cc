// verifier.cc: the verification hot path — shape/checksum, SHA-256, cache,
// negative cache, store lookup, then the pure record check.
#include "keyward/verifier.h"

#include <atomic>
#include <mutex>
#include <unordered_map>

#include "auth/key_cache.h"
#include "auth/key_check.h"
#include "keyward/store.h"

namespace keyward {

std::string_view VerifyOutcomeName(VerifyOutcome outcome) {
  switch (outcome) {
    case VerifyOutcome::kValid: return "VALID";
    case VerifyOutcome::kMissing: return "MISSING";
    case VerifyOutcome::kMalformed: return "MALFORMED";
    case VerifyOutcome::kNotFound: return "NOT_FOUND";
    case VerifyOutcome::kExpired: return "EXPIRED";
    case VerifyOutcome::kRevoked: return "REVOKED";
    case VerifyOutcome::kUserDisabled: return "USER_DISABLED";
    case VerifyOutcome::kInsufficientScope: return "INSUFFICIENT_SCOPE";
    case VerifyOutcome::kWrongEnvironment: return "WRONG_ENVIRONMENT";
    case VerifyOutcome::kRateLimited: return "RATE_LIMITED";
    case VerifyOutcome::kQuotaExceeded: return "QUOTA_EXCEEDED";
  }
  return "UNKNOWN";
}

struct Verifier::Counters {
  std::atomic<std::uint64_t> hits{0}, misses{0}, negative_hits{0};
  std::mutex last_used_mu;
  std::unordered_map<std::string, UnixMillis> last_used;  // guarded by last_used_mu
};

Verifier::Verifier(Store& store, const Clock& clock, VerifierOptions options)
    : store_(store), clock_(clock), options_(options), counters_(std::make_unique<Counters>()) {
  if (options_.cache) {
    cache_ = std::make_unique<auth::KeyCache>(auth::KeyCacheOptions{
        options_.cache_capacity, options_.cache_ttl_ms, options_.negative_cache_capacity,
        options_.negative_cache_ttl_ms});
  }
}

Verifier::~Verifier() = default;

StatusOr<Verification> Verifier::Verify(const VerifyRequest& request) {
  Verification v;
  if (request.key.empty()) {
    v.outcome = VerifyOutcome::kMissing;
    return v;
  }
  if (!ParseKey(request.key)) {
    v.outcome = VerifyOutcome::kMalformed;
    return v;
  }
  const KeyHash hash = HashKey(request.key);
  const UnixMillis now = clock_.Now();
  auth::CachedKey cached;
  bool hit = false;
  if (cache_) {
    if ((hit = cache_->Find(hash, now, &cached))) {
      counters_->hits.fetch_add(1, std::memory_order_relaxed);
    } else if (cache_->KnownMissing(hash, now)) {
      counters_->negative_hits.fetch_add(1, std::memory_order_relaxed);
      v.outcome = VerifyOutcome::kNotFound;
      return v;
    }
  }
  if (!cached.record) {
    counters_->misses.fetch_add(1, std::memory_order_relaxed);
    StatusOr<KeyWithUser> found = store_.LookupKey(hash);
    if (!found.ok()) {
      if (found.status().code() != StatusCode::kNotFound) return found.status();
      if (cache_) cache_->PutMissing(hash, now);
      v.outcome = VerifyOutcome::kNotFound;
      return v;
    }
    cached = auth::MakeCachedKey(std::move(found).value());
    if (cache_) cache_->Put(hash, cached, now);
  }
  // A cache hit matched all 32 bytes of the hash as the map's key already.
  if (!hit && !KeyHashEqual(cached.record->key.hash, hash)) {
    v.outcome = VerifyOutcome::kNotFound;
    return v;
  }
  v.outcome = request.required_scopes.empty()
                  ? auth::CheckKeyState(cached.state, request, now)
                  : auth::CheckKeyRecord(*cached.record, request, now);
  v.record = std::move(cached.record);
  if (v.valid()) {
    v.principal = std::move(cached.principal);
    // Note a use at most once per resolution period per key: last_used_at
    // is coarse, and this keeps the shared map off the per-request path.
    if (options_.track_last_used &&
        cached.last_noted->load(std::memory_order_relaxed) + options_.last_used_resolution_ms <= now) {
      cached.last_noted->store(now, std::memory_order_relaxed);
      std::lock_guard lock(counters_->last_used_mu);
      counters_->last_used[v.record->key.id] = now;
    }
  }
  return v;
}

void Verifier::InvalidateUser(const std::string& user_id) {
  if (cache_) cache_->InvalidateUser(user_id);
}

Status Verifier::FlushLastUsed() {
  std::unordered_map<std::string, UnixMillis> taken;
  {
    std::lock_guard lock(counters_->last_used_mu);
    taken.swap(counters_->last_used);
  }
  if (taken.empty()) return OkStatus();
  std::vector<std::pair<std::string, UnixMillis>> uses(taken.begin(), taken.end());
  return store_.TouchKeys(uses);
}

VerifierStats Verifier::stats() const {
  return {counters_->hits.load(), counters_->misses.load(), counters_->negative_hits.load()};
}

}  // namespace keyward
