// nonce_cache.cc: a hash set with a min-heap of expiries beside it.
#include "auth/nonce_cache.h"

#include <algorithm>
#include <functional>
#include <string>

#include "core/crypto.h"

namespace keyward::auth {

void NonceCache::DropExpiredLocked(UnixMillis now) {
  while (!by_expiry_.empty() && by_expiry_.top().expires_at < now) {
    const Pending& p = by_expiry_.top();
    seen_.erase(p.digest);
    auto it = per_key_.find(p.key_tag);
    if (it != per_key_.end() && --it->second == 0) per_key_.erase(it);
    by_expiry_.pop();
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

  std::lock_guard lock(mu_);
  DropExpiredLocked(now);
  if (seen_.contains(digest)) return Result::kReplayed;
  auto count = per_key_.find(tag);
  if (seen_.size() >= options_.capacity ||
      (count != per_key_.end() && count->second >= options_.capacity_per_key)) {
    return Result::kFull;
  }
  seen_.insert(digest);
  ++per_key_[tag];
  by_expiry_.push(Pending{expires_at, digest, tag});
  return Result::kFresh;
}

std::size_t NonceCache::size() const {
  std::lock_guard lock(mu_);
  return seen_.size();
}

}  // namespace keyward::auth
