// verifier.cc: the verification hot path — shape/checksum, SHA-256, cache,
// negative cache, store lookup, then the pure record check.
#include "keyward/verifier.h"

#include <atomic>
#include <mutex>
#include <unordered_map>

#include "auth/key_cache.h"
#include "auth/key_check.h"
#include "auth/legacy_keys.h"
#include "keyward/store.h"

namespace keyward {

std::string_view VerifyOutcomeName(VerifyOutcome outcome) {
  switch (outcome) {
#define KW_OUTCOME_CASE(name, code) \
  case VerifyOutcome::name:         \
    return code;
    KEYWARD_VERIFY_OUTCOMES(KW_OUTCOME_CASE)
#undef KW_OUTCOME_CASE
  }
  return "UNKNOWN";
}

struct Verifier::Impl {
  Impl(KeyStore& s, const Clock& c, VerifierOptions o) : store(s), clock(c), options(o) {
    if (options.cache) {
      cache = std::make_unique<auth::KeyCache>(auth::KeyCacheOptions{
          options.cache_capacity, options.cache_ttl_ms, options.negative_cache_capacity,
          options.negative_cache_ttl_ms});
    }
    if (options.legacy_keys) {
      legacy = std::make_unique<auth::LegacyKeys>(
          s, c, auth::LegacyKeyOptions{options.legacy_checks_per_second, options.legacy_failure_backoff_ms,
                                       options.legacy_refresh_ms});
    }
  }

  // The record for `key` (whose hash is `hash`) from the cache or the store;
  // kNotFound if none. *hit says whether it came from the cache (the map
  // matched all 32 bytes); *malformed that the checksum is wrong (checked
  // only when the cache does not know the hash).
  StatusOr<auth::CachedKey> Find(std::string_view key, const KeyHash& hash, UnixMillis now,
                                 bool* hit, bool* malformed);
  // The same for an imported key "<prefix>.<secret>" (auth/legacy_keys.h);
  // *limited when a bound on imported-hash checks refused the check.
  StatusOr<auth::CachedKey> FindLegacy(std::string_view key, std::string_view prefix, const KeyHash& hash,
                                       UnixMillis now, bool* hit, bool* limited);
  // Caches what the store said about `hash` (read after `epoch`): the record,
  // or that there is none.
  StatusOr<auth::CachedKey> Remember(StatusOr<KeyWithUser> found, const KeyHash& hash, UnixMillis now,
                                     std::uint64_t epoch);
  void NoteUse(const auth::CachedKey& key, UnixMillis now);

  KeyStore& store;
  const Clock& clock;
  const VerifierOptions options;
  std::unique_ptr<auth::KeyCache> cache;
  std::unique_ptr<auth::LegacyKeys> legacy;  // null when options.legacy_keys is off
  std::atomic<std::uint64_t> hits{0}, misses{0}, negative_hits{0};
  std::mutex last_used_mu;
  std::unordered_map<std::string, UnixMillis> last_used;  // guarded by last_used_mu
};

StatusOr<auth::CachedKey> Verifier::Impl::Find(std::string_view key, const KeyHash& hash,
                                                UnixMillis now, bool* hit, bool* malformed) {
  auth::CachedKey cached;
  *hit = false;
  *malformed = false;
  std::uint64_t epoch = 0;
  if (cache && cache->Find(hash, now, &cached)) {
    // Only an issued key's hash is ever cached: its checksum is right.
    hits.fetch_add(1, std::memory_order_relaxed);
    *hit = true;
    return cached;
  }
  if (!KeyChecksumMatches(key)) {
    *malformed = true;
    return NotFoundError("malformed key");
  }
  if (cache) {
    if (cache->KnownMissing(hash, now)) {
      negative_hits.fetch_add(1, std::memory_order_relaxed);
      return NotFoundError("no such key");
    }
    epoch = cache->epoch();  // before the read: see KeyCache
  }
  misses.fetch_add(1, std::memory_order_relaxed);
  return Remember(store.LookupKey(hash), hash, now, epoch);
}

StatusOr<auth::CachedKey> Verifier::Impl::Remember(StatusOr<KeyWithUser> found, const KeyHash& hash,
                                                    UnixMillis now, std::uint64_t epoch) {
  if (!found.ok()) {
    if (cache && found.status().code() == StatusCode::kNotFound) cache->PutMissing(hash, now, epoch);
    return found.status();
  }
  auth::CachedKey cached = auth::MakeCachedKey(std::move(found).value());
  if (cache) cache->Put(hash, cached, now, epoch);
  return cached;
}

StatusOr<auth::CachedKey> Verifier::Impl::FindLegacy(std::string_view key, std::string_view prefix,
                                                      const KeyHash& hash, UnixMillis now, bool* hit,
                                                      bool* limited) {
  auth::CachedKey cached;
  *hit = false;
  *limited = false;
  std::uint64_t epoch = 0;
  if (cache) {
    if (cache->Find(hash, now, &cached)) {  // a key that matched once, by its SHA-256
      hits.fetch_add(1, std::memory_order_relaxed);
      *hit = true;
      return cached;
    }
    if (cache->KnownMissing(hash, now)) {
      negative_hits.fetch_add(1, std::memory_order_relaxed);
      return NotFoundError("no such key");
    }
    epoch = cache->epoch();
  }
  KW_ASSIGN_OR_RETURN(auth::LegacyState state, legacy->Classify(prefix));
  if (state == auth::LegacyState::kUnknown) return NotFoundError("no such key");  // storage not touched
  misses.fetch_add(1, std::memory_order_relaxed);
  StatusOr<KeyWithUser> found = state == auth::LegacyState::kRehashed ? store.LookupKey(hash)
                                                                      : legacy->Check(key, prefix, hash);
  *limited = found.status().code() == StatusCode::kResourceExhausted;
  return Remember(std::move(found), hash, now, epoch);
}

void Verifier::Impl::NoteUse(const auth::CachedKey& key, UnixMillis now) {
  // At most once per resolution period per key: last_used_at is coarse, and
  // this keeps the shared map off the per-request path.
  if (!options.track_last_used ||
      key.last_noted->load(std::memory_order_relaxed) + options.last_used_resolution_ms > now) {
    return;
  }
  key.last_noted->store(now, std::memory_order_relaxed);
  std::lock_guard lock(last_used_mu);
  last_used[key.record->key.id] = now;
}

Verifier::Verifier(KeyStore& store, const Clock& clock, VerifierOptions options)
    : impl_(std::make_unique<Impl>(store, clock, options)) {}

Verifier::~Verifier() = default;

StatusOr<Verification> Verifier::Verify(const VerifyRequest& request) {
  Verification v;
  if (request.key.empty()) {
    v.outcome = VerifyOutcome::kMissing;
    return v;
  }
  std::string_view legacy_prefix;  // set for an imported "<prefix>.<secret>" key
  if (!ParseKeyShape(request.key) &&
      !(impl_->legacy && auth::SplitLegacyKey(request.key, &legacy_prefix))) {
    v.outcome = VerifyOutcome::kMalformed;
    return v;
  }
  const KeyHash hash = HashKey(request.key);
  const UnixMillis now = impl_->clock.Now();
  bool hit = false, malformed = false, limited = false;
  StatusOr<auth::CachedKey> found =
      legacy_prefix.empty() ? impl_->Find(request.key, hash, now, &hit, &malformed)
                            : impl_->FindLegacy(request.key, legacy_prefix, hash, now, &hit, &limited);
  if (malformed || limited) {
    v.outcome = malformed ? VerifyOutcome::kMalformed : VerifyOutcome::kRateLimited;
    return v;
  }
  if (!found.ok()) {
    if (found.status().code() != StatusCode::kNotFound) return found.status();
    v.outcome = VerifyOutcome::kNotFound;
    return v;
  }
  auth::CachedKey& cached = *found;
  if (!hit && !KeyHashEqual(cached.record->key.hash, hash)) {
    v.outcome = VerifyOutcome::kNotFound;
    return v;
  }
  v.outcome = request.required_scopes.empty()
                  ? auth::CheckKeyState(cached.state, request, now)
                  : auth::CheckKeyRecord(*cached.record, request, now);
  if (v.valid()) {
    impl_->NoteUse(cached, now);
    v.principal = std::move(cached.principal);
  }
  v.record = std::move(cached.record);
  return v;
}

void Verifier::InvalidateUser(const std::string& user_id) {
  if (impl_->cache) impl_->cache->InvalidateUser(user_id);
}

void Verifier::InvalidateAll() {
  if (impl_->cache) impl_->cache->Clear();
  if (impl_->legacy) impl_->legacy->Forget();
}

Status Verifier::FlushLastUsed() {
  std::unordered_map<std::string, UnixMillis> taken;
  {
    std::lock_guard lock(impl_->last_used_mu);
    taken.swap(impl_->last_used);
  }
  if (taken.empty()) return OkStatus();
  std::vector<std::pair<std::string, UnixMillis>> uses(taken.begin(), taken.end());
  return impl_->store.TouchKeys(uses);
}

VerifierStats Verifier::stats() const {
  return {impl_->hits.load(), impl_->misses.load(), impl_->negative_hits.load(),
          impl_->cache ? impl_->cache->size() : 0};
}

}  // namespace keyward
