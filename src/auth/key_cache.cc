// key_cache.cc: sharded positive and negative key caches with TTL and
// per-user invalidation.
#include "auth/key_cache.h"

#include <algorithm>
#include <mutex>
#include <vector>


namespace keyward::auth {
namespace {

struct Combined {
  KeyWithUser record;
  Principal principal;
  std::atomic<UnixMillis> last_noted{0};
  std::atomic<bool> refresh_claimed{false};
};

}  // namespace

CachedKey MakeCachedKey(KeyWithUser record) {
  auto both = std::make_shared<Combined>();
  both->principal = MakePrincipal(record);
  KeyState state = StateOf(record);
  both->record = std::move(record);
  // Aliasing constructors: both pointers share the one allocation.
  return CachedKey{std::shared_ptr<const KeyWithUser>(both, &both->record),
                   std::shared_ptr<const Principal>(both, &both->principal), state,
                   &both->last_noted, &both->refresh_claimed};
}

bool KeyCache::Find(const KeyHash& hash, UnixMillis now, CachedKey* out, bool* refresh) const {
  if (refresh) *refresh = false;
  if (options_.capacity == 0) return false;
  Shard& s = ShardFor(hash);
  std::shared_lock lock(s.mu);
  auto it = s.entries.find(hash);
  if (it == s.entries.end()) return false;
  const std::int64_t age = now - it->second.fetched_at;
  if (age >= options_.ttl_ms) return false;
  *out = it->second.key;
  if (refresh && age >= options_.ttl_ms - options_.ttl_ms / 4 && out->refresh_claimed &&
      !out->refresh_claimed->load(std::memory_order_relaxed)) {
    *refresh = !out->refresh_claimed->exchange(true, std::memory_order_relaxed);
  }
  return true;
}

bool KeyCache::KnownMissing(const KeyHash& hash, UnixMillis now) const {
  if (options_.negative_capacity == 0) return false;
  Shard& s = ShardFor(hash);
  std::shared_lock lock(s.mu);
  auto it = s.missing.find(hash);
  return it != s.missing.end() && now - it->second < options_.negative_ttl_ms;
}

void KeyCache::Put(const KeyHash& hash, CachedKey entry, UnixMillis now, std::uint64_t seen) {
  if (options_.capacity == 0) return;
  std::vector<CachedKey> evicted;  // released after the lock: freeing records takes time
  Shard& s = ShardFor(hash);
  std::unique_lock lock(s.mu);
  if (epoch_.load(std::memory_order_acquire) != seen) return;  // stale: an invalidation ran
  const std::size_t per_shard = std::max<std::size_t>(1, options_.capacity / kShards);
  if (s.entries.size() >= per_shard && !s.entries.contains(hash)) {
    // Full: drop the records read longest ago — an eighth of the shard, and
    // all that are past their TTL. They are the nearest to being re-read
    // anyway, and were allocated together, so freeing them leaves the heap
    // in runs rather than holes. One pass per eighth of the shard's inserts.
    const std::size_t least = std::max<std::size_t>(1, per_shard / 8);
    thread_local std::vector<UnixMillis> times;
    times.clear();
    for (const auto& kv : s.entries) times.push_back(kv.second.fetched_at);
    auto nth = times.begin() + static_cast<std::ptrdiff_t>(std::min(least, times.size()) - 1);
    std::nth_element(times.begin(), nth, times.end());
    const UnixMillis cutoff = *nth;  // the least-th oldest read; of its ties, up to `least` in all go
    std::size_t taken = 0;
    evicted.reserve(least);
    boost::unordered::erase_if(s.entries, [&](auto& kv) {
      const UnixMillis t = kv.second.fetched_at;
      const bool expired = now - t >= options_.ttl_ms;
      if (!expired && (t > cutoff || (t == cutoff && taken >= least))) return false;
      if (!expired) ++taken;
      evicted.push_back(std::move(kv.second.key));
      return true;
    });
  }
  s.entries.insert_or_assign(hash, Entry{std::move(entry), now});
  s.missing.erase(hash);
  lock.unlock();
  evicted.clear();
}

void KeyCache::PutMissing(const KeyHash& hash, UnixMillis now, std::uint64_t seen) {
  if (options_.negative_capacity == 0) return;
  Shard& s = ShardFor(hash);
  std::unique_lock lock(s.mu);
  if (epoch_.load(std::memory_order_acquire) != seen) return;
  if (s.missing.size() >= std::max<std::size_t>(1, options_.negative_capacity / kShards)) {
    s.missing.clear();
  }
  s.missing[hash] = now;
}

void KeyCache::InvalidateUser(const std::string& user_id) {
  InvalidateUsers(std::span<const std::string>(&user_id, 1));
}

void KeyCache::InvalidateUsers(std::span<const std::string> user_ids) {
  if (user_ids.empty()) return;
  epoch_.fetch_add(1, std::memory_order_acq_rel);
  for (Shard& s : shards_) {
    std::unique_lock lock(s.mu);
    erase_if(s.entries, [&](const auto& kv) {
      return std::binary_search(user_ids.begin(), user_ids.end(), kv.second.key.record->user.id);
    });
  }
}

void KeyCache::Invalidate(std::span<const KeyHash> hashes) {
  if (hashes.empty()) return;
  epoch_.fetch_add(1, std::memory_order_acq_rel);
  for (const KeyHash& h : hashes) {
    Shard& s = ShardFor(h);
    std::unique_lock lock(s.mu);
    s.entries.erase(h);
  }
}

void KeyCache::Clear() {
  epoch_.fetch_add(1, std::memory_order_acq_rel);
  for (Shard& s : shards_) {
    std::unique_lock lock(s.mu);
    s.entries.clear();
    s.missing.clear();
  }
}

std::size_t KeyCache::size() const {
  std::size_t n = 0;
  for (const Shard& s : shards_) {
    std::shared_lock lock(s.mu);
    n += s.entries.size();
  }
  return n;
}

}  // namespace keyward::auth
