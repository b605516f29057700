// verifier.cc: the verification hot path — shape/checksum, SHA-256, cache,
// negative cache, store lookup, then the pure record check.
#include "keyward/verifier.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <unordered_map>

#include <boost/unordered/unordered_flat_map.hpp>

#include "auth/key_cache.h"
#include "auth/key_check.h"
#include "auth/legacy_keys.h"
#include "auth/nonce_cache.h"
#include "core/crypto.h"
#include "core/http_signature.h"
#include "core/sealing.h"
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

namespace {

// Signing secrets learned from bearer uses and not yet written are kept at
// most this many at a time (a key not kept learns again at its next bearer
// use).
constexpr std::size_t kMaxLearnedSecrets = 100'000;
// Keys whose learned secret was written are remembered (as a 64-bit tag of
// the key id, not the secret) at most this many at a time, for two cache
// TTLs: records read before the write still lack the secret.
constexpr std::size_t kMaxWrittenTags = 400'000;
// Last uses kept for the next flush after the store refused one, at most
// (~100 bytes each).
constexpr std::size_t kMaxLastUsesKept = 262'144;
// Records queued for RefreshCached() at most.
constexpr std::size_t kMaxRefreshesWaiting = 65'536;

std::uint64_t IdTag(std::string_view key_id) { return std::hash<std::string_view>{}(key_id); }

// The cache slot of a key looked up by id (signed requests), kept apart from
// the slots of key hashes by a label.
KeyHash IdSlot(std::string_view key_id) {
  std::string material("key-id:");
  material += key_id;
  return core::Sha256(material);
}

}  // namespace

struct Verifier::Impl {
  Impl(KeyStore& s, const Clock& c, VerifierOptions o)
      : store(s), clock(c), options(o),
        nonces(auth::NonceCacheOptions{options.nonce_capacity, options.nonce_capacity_per_key}) {
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
  // The record of key `key_id` (signed requests) from the cache or the store.
  StatusOr<auth::CachedKey> FindById(std::string_view key_id, UnixMillis now);
  void NoteUse(const auth::CachedKey& key, UnixMillis now);
  // A bearer use of a key whose signing secret is not stored: derive it from
  // the plaintext now, seal it, and keep it for the next flush.
  void LearnSecret(const KeyWithUser& record, std::string_view key);
  // The sealed signing secret of `record`: stored, or learned here.
  std::string SealedSecret(const KeyWithUser& record);
  StatusOr<Verification> VerifySigned(const VerifyRequest& request);

  KeyStore& store;
  const Clock& clock;
  const VerifierOptions options;
  std::unique_ptr<auth::KeyCache> cache;
  std::unique_ptr<auth::LegacyKeys> legacy;  // null when options.legacy_keys is off
  std::atomic<std::uint64_t> hits{0}, misses{0}, negative_hits{0};
  std::atomic<std::uint64_t> flushes{0}, flush_failures{0}, refreshes{0};
  // A cached record to re-read: by the key's hash, or (signed requests) by
  // its id, cached at `slot`.
  struct Due {
    KeyHash slot;
    std::string key_id;  // empty: by hash
  };
  void QueueRefresh(const KeyHash& slot, std::string_view key_id);
  std::mutex refresh_mu;
  std::vector<Due> refresh_due;  // guarded by refresh_mu
  std::mutex last_used_mu;
  std::unordered_map<std::string, UnixMillis> last_used;  // guarded by last_used_mu
  auth::NonceCache nonces;
  std::mutex learned_mu;
  // Key id -> sealed secret, learned and not yet written; guarded by learned_mu.
  std::unordered_map<std::string, std::string> learned;
  // IdTag(key id) -> when its learned secret was written; guarded by learned_mu.
  boost::unordered_flat_map<std::uint64_t, UnixMillis> written;
};

StatusOr<auth::CachedKey> Verifier::Impl::Find(std::string_view key, const KeyHash& hash,
                                                UnixMillis now, bool* hit, bool* malformed) {
  auth::CachedKey cached;
  *hit = false;
  *malformed = false;
  std::uint64_t epoch = 0;
  bool refresh = false;
  if (cache && cache->Find(hash, now, &cached, options.refresh_ahead ? &refresh : nullptr)) {
    // Only an issued key's hash is ever cached: its checksum is right.
    hits.fetch_add(1, std::memory_order_relaxed);
    *hit = true;
    if (refresh) QueueRefresh(hash, {});
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
    bool refresh = false;
    if (cache->Find(hash, now, &cached, options.refresh_ahead ? &refresh : nullptr)) {
      // A key that matched once, by its SHA-256. Re-read by its id: that
      // needs no rehash to have been written.
      hits.fetch_add(1, std::memory_order_relaxed);
      *hit = true;
      if (refresh) QueueRefresh(hash, cached.record->key.id);
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

StatusOr<auth::CachedKey> Verifier::Impl::FindById(std::string_view key_id, UnixMillis now) {
  const KeyHash slot = IdSlot(key_id);
  auth::CachedKey cached;
  std::uint64_t epoch = 0;
  if (cache) {
    bool refresh = false;
    if (cache->Find(slot, now, &cached, options.refresh_ahead ? &refresh : nullptr)) {
      hits.fetch_add(1, std::memory_order_relaxed);
      if (refresh) QueueRefresh(slot, key_id);
      return cached;
    }
    if (cache->KnownMissing(slot, now)) {
      negative_hits.fetch_add(1, std::memory_order_relaxed);
      return NotFoundError("no such key");
    }
    epoch = cache->epoch();
  }
  misses.fetch_add(1, std::memory_order_relaxed);
  return Remember(store.LookupKeyById(std::string(key_id)), slot, now, epoch);
}

void Verifier::Impl::QueueRefresh(const KeyHash& slot, std::string_view key_id) {
  std::lock_guard lock(refresh_mu);
  if (refresh_due.size() < kMaxRefreshesWaiting) refresh_due.push_back({slot, std::string(key_id)});
}

void Verifier::Impl::LearnSecret(const KeyWithUser& record, std::string_view key) {
  if (!options.sealer) return;
  {
    std::lock_guard lock(learned_mu);
    if (learned.contains(record.key.id) || learned.size() >= kMaxLearnedSecrets ||
        written.contains(IdTag(record.key.id))) {
      return;
    }
  }
  StatusOr<std::string> sealed = core::httpsig::SealSigningSecret(*options.sealer, key, record.key.id);
  if (!sealed.ok()) return;  // the next bearer use tries again
  std::lock_guard lock(learned_mu);
  learned.emplace(record.key.id, std::move(*sealed));
}

std::string Verifier::Impl::SealedSecret(const KeyWithUser& record) {
  if (!record.key.signing_secret.empty()) return record.key.signing_secret;
  {
    std::lock_guard lock(learned_mu);
    if (auto it = learned.find(record.key.id); it != learned.end()) return it->second;
    if (!written.contains(IdTag(record.key.id))) return std::string();
  }
  // Written here after `record` was read (the flush drops such records from
  // the cache, but a lookup may have been under way): read it back.
  StatusOr<KeyWithUser> fresh = store.LookupKeyById(record.key.id);
  return fresh.ok() ? fresh->key.signing_secret : std::string();
}

StatusOr<Verification> Verifier::Impl::VerifySigned(const VerifyRequest& request) {
  const SignedRequest& sr = *request.signed_request;
  Verification v;
  const UnixMillis now = clock.Now();
  StatusOr<auth::CachedKey> found = FindById(sr.key_id, now);
  if (!found.ok()) {
    if (found.status().code() != StatusCode::kNotFound) return found.status();
    v.outcome = VerifyOutcome::kNotFound;
    return v;
  }
  auth::CachedKey& cached = *found;
  const std::string sealed = SealedSecret(*cached.record);
  if (sealed.empty() || !options.sealer) {
    v.outcome = VerifyOutcome::kSigningSecretUnknown;
    return v;
  }
  StatusOr<std::string> secret = options.sealer->Open(sealed, cached.record->key.id);
  if (!secret.ok()) {
    // Sealed under a seal key this process does not hold: as good as unknown.
    v.outcome = VerifyOutcome::kSigningSecretUnknown;
    return v;
  }
  const core::Sha256Digest mac = core::HmacSha256(*secret, sr.base);
  OPENSSL_cleanse(secret->data(), secret->size());
  const bool authentic = sr.signature.size() == mac.size() &&
                         core::ConstantTimeEqual(sr.signature.data(), mac.data(), mac.size());
  if (!authentic) {
    v.outcome = VerifyOutcome::kSignatureInvalid;
    v.detail = "the signature does not match the request";
    return v;
  }
  // Authentic from here on: the key's state may be told.
  const std::int64_t window = options.signature_window_ms;
  const std::int64_t created_ms = sr.created_s * 1000;
  if (created_ms > now + window || created_ms < now - window) {
    v.outcome = VerifyOutcome::kSignatureInvalid;
    v.detail = "the signature's created time is outside the allowed window";
    v.record = std::move(cached.record);
    return v;
  }
  if (sr.expires_s && *sr.expires_s * 1000 <= now) {
    v.outcome = VerifyOutcome::kSignatureInvalid;
    v.detail = "the signature has expired (its expires parameter has passed)";
    v.record = std::move(cached.record);
    return v;
  }
  v.outcome = auth::CheckKeyRecord(*cached.record, request, now);
  if (v.valid()) {
    switch (nonces.Remember(sr.key_id, sr.nonce, created_ms + window, now)) {
      case auth::NonceCache::Result::kFresh:
        break;
      case auth::NonceCache::Result::kReplayed:
        v.outcome = VerifyOutcome::kReplayed;
        break;
      case auth::NonceCache::Result::kFull:
        return UnavailableError("too many signed requests in the signature window: the nonce cache is full");
    }
  }
  if (v.valid()) {
    NoteUse(cached, now);
    v.principal = std::move(cached.principal);
  }
  v.record = std::move(cached.record);
  return v;
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
  if (request.signed_request) return impl_->VerifySigned(request);
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
  // Any bearer use proves the plaintext: enough to derive the signing secret.
  if (v.outcome != VerifyOutcome::kNotFound && cached.record->key.signing_secret.empty()) {
    impl_->LearnSecret(*cached.record, request.key);
  }
  v.record = std::move(cached.record);
  return v;
}

void Verifier::InvalidateUser(const std::string& user_id) {
  if (impl_->cache) impl_->cache->InvalidateUser(user_id);
}

void Verifier::InvalidateUsers(std::vector<std::string> user_ids) {
  if (!impl_->cache) return;
  std::sort(user_ids.begin(), user_ids.end());
  user_ids.erase(std::unique(user_ids.begin(), user_ids.end()), user_ids.end());
  impl_->cache->InvalidateUsers(user_ids);
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
  // Learned secrets: written once, then forgotten. Cached records of those
  // keys read before the write lack the secret: signed requests' records are
  // dropped from the cache; a tag per key, kept two cache TTLs, stops bearer
  // uses of the others from learning the secret again.
  std::vector<std::pair<std::string, std::string>> secrets;
  const UnixMillis now = impl_->clock.Now();
  {
    std::lock_guard lock(impl_->learned_mu);
    boost::unordered::erase_if(impl_->written, [&](const auto& kv) {
      return kv.second + 2 * impl_->options.cache_ttl_ms < now;
    });
    secrets.assign(impl_->learned.begin(), impl_->learned.end());
  }
  Status st = OkStatus();
  if (!secrets.empty()) {
    st = impl_->store.SetSigningSecrets(secrets);
    if (st.ok()) {
      if (impl_->cache) {
        std::vector<KeyHash> slots;
        slots.reserve(secrets.size());
        for (const auto& [id, sealed] : secrets) slots.push_back(IdSlot(id));
        impl_->cache->Invalidate(slots);
      }
      std::lock_guard lock(impl_->learned_mu);
      for (const auto& [id, sealed] : secrets) {
        impl_->learned.erase(id);
        if (impl_->written.size() < kMaxWrittenTags) impl_->written.emplace(IdTag(id), now);
      }
    }
  }
  if (!taken.empty()) {
    std::vector<std::pair<std::string, UnixMillis>> uses(taken.begin(), taken.end());
    Status touched = impl_->store.TouchKeys(uses);
    if (!touched.ok()) {
      // Kept for the next flush, unless a use noted since is later; while
      // the store stays down, what waits is bounded.
      std::lock_guard lock(impl_->last_used_mu);
      for (const auto& [id, at] : taken) {
        if (impl_->last_used.size() >= kMaxLastUsesKept) break;
        auto [it, fresh] = impl_->last_used.emplace(id, at);
        if (!fresh && it->second < at) it->second = at;
      }
    }
    if (st.ok()) st = touched;
  }
  if (!secrets.empty() || !taken.empty()) {
    impl_->flushes.fetch_add(1, std::memory_order_relaxed);
    if (!st.ok()) impl_->flush_failures.fetch_add(1, std::memory_order_relaxed);
  }
  return st;
}

Verifier::Unflushed Verifier::unflushed() const {
  Unflushed u;
  {
    std::lock_guard lock(impl_->last_used_mu);
    u.last_uses = impl_->last_used.size();
  }
  std::lock_guard lock(impl_->learned_mu);
  u.signing_secrets = impl_->learned.size();
  return u;
}

Status Verifier::RefreshCached(const std::atomic<bool>* stop) {
  Impl& m = *impl_;
  std::vector<Impl::Due> due;
  {
    std::lock_guard lock(m.refresh_mu);
    due.swap(m.refresh_due);
  }
  if (!m.cache) return OkStatus();
  for (const Impl::Due& d : due) {
    if (stop && stop->load(std::memory_order_relaxed)) break;
    const UnixMillis now = m.clock.Now();
    const std::uint64_t epoch = m.cache->epoch();  // before the read: see KeyCache
    StatusOr<KeyWithUser> found = d.key_id.empty() ? m.store.LookupKey(d.slot) : m.store.LookupKeyById(d.key_id);
    if (found.ok()) {
      m.cache->Put(d.slot, auth::MakeCachedKey(std::move(found).value()), now, epoch);
    } else if (found.status().code() == StatusCode::kNotFound) {
      m.cache->Invalidate(std::span<const KeyHash>(&d.slot, 1));  // deleted by another writer
    } else {
      return found.status();
    }
    m.refreshes.fetch_add(1, std::memory_order_relaxed);
  }
  return OkStatus();
}

VerifierStats Verifier::stats() const {
  return {impl_->hits.load(), impl_->misses.load(), impl_->negative_hits.load(),
          impl_->cache ? impl_->cache->size() : 0, impl_->nonces.size(),
          impl_->flushes.load(), impl_->flush_failures.load(), impl_->refreshes.load()};
}

}  // namespace keyward
