// key_cache.cc: positive and negative key caches with TTL and invalidation.
#include "auth/key_cache.h"

#include <mutex>

namespace keyward::auth {

KeyCache::RecordPtr KeyCache::Find(const KeyHash& hash, UnixMillis now) const {
  std::shared_lock lock(mu_);
  auto it = entries_.find(hash);
  if (it == entries_.end() || now - it->second.fetched_at >= options_.ttl_ms) return nullptr;
  return it->second.record;
}

bool KeyCache::KnownMissing(const KeyHash& hash, UnixMillis now) const {
  std::shared_lock lock(mu_);
  auto it = missing_.find(hash);
  return it != missing_.end() && now - it->second < options_.negative_ttl_ms;
}

void KeyCache::Put(const KeyHash& hash, RecordPtr record, UnixMillis now) {
  if (options_.capacity == 0) return;
  std::unique_lock lock(mu_);
  if (entries_.size() >= options_.capacity && !entries_.count(hash)) entries_.clear();
  entries_[hash] = Entry{std::move(record), now};
  missing_.erase(hash);
}

void KeyCache::PutMissing(const KeyHash& hash, UnixMillis now) {
  if (options_.negative_capacity == 0) return;
  std::unique_lock lock(mu_);
  if (missing_.size() >= options_.negative_capacity) missing_.clear();
  missing_[hash] = now;
}

void KeyCache::InvalidateUser(const std::string& user_id) {
  std::unique_lock lock(mu_);
  std::erase_if(entries_, [&](const auto& kv) { return kv.second.record->user.id == user_id; });
}

void KeyCache::Clear() {
  std::unique_lock lock(mu_);
  entries_.clear();
  missing_.clear();
}

std::size_t KeyCache::size() const {
  std::shared_lock lock(mu_);
  return entries_.size();
}

}  // namespace keyward::auth
