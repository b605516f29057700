// nonce_cache.cc: per shard, a hash set with a min-heap of expiries beside it.
#include "auth/nonce_cache.h"

#include <algorithm>
#include <functional>
#include <string>

#include "core/crypto.h"

namespace keyward::auth {

void NonceCache::DropExpiredLocked(Shard& s, UnixMillis now) {
  while (!s.by_expiry.empty() && s.by_expiry.top().expires_at < now) {
    const Pending& p = s.by_expiry.top();
    s.seen.erase(p.digest);
    auto it = s.per_key.find(p.key_tag);
    if (it != s.per_key.end() && --it->second == 0) s.per_key.erase(it);
    s.by_expiry.pop();
    total_.fetch_sub(1, std::memory_order_relaxed);
  }
}

NonceCache::Result NonceCache::Remember(std::string_view key_id, std::string_view nonce, UnixMillis expires_at,
                                        UnixMillis now) {
  std::string material;
  material.reserve(key_id.size() + 1 + nonce.size());
  material.append(key_id).append(1, '\0').append(nonce);
  const core::Sha256Digest full = core::Sha256(material);
  Digest digest;
  std::copy_n(full.begin(), digest.size(), digest.begin());
  const std::size_t tag = std::hash<std::string_view>{}(key_id);

  // At the bound, drop what has expired everywhere before deciding: a shard
  // nobody has touched lately may hold only expired entries.
  if (total_.load(std::memory_order_relaxed) >= options_.capacity) {
    for (Shard& other : shards_) {
      std::lock_guard lock(other.mu);
      DropExpiredLocked(other, now);
    }
  }
  Shard& s = shards_[tag % shards_.size()];
  std::lock_guard lock(s.mu);
  DropExpiredLocked(s, now);
  if (s.seen.contains(digest)) return Result::kReplayed;
  auto count = s.per_key.find(tag);
  if (total_.load(std::memory_order_relaxed) >= options_.capacity ||
      (count != s.per_key.end() && count->second >= options_.capacity_per_key)) {
    return Result::kFull;
  }
  s.seen.insert(digest);
  ++s.per_key[tag];
  s.by_expiry.push(Pending{expires_at, digest, tag});
  total_.fetch_add(1, std::memory_order_relaxed);
  return Result::kFresh;
}

}  // namespace keyward::auth
