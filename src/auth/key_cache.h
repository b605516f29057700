// key_cache.h: bounded in-memory caches in front of the Store for the
// verification hot path — positive (hash -> key record with owner) and
// negative (hash -> "no such key") — with TTLs and per-user invalidation.
//
// Thread-safe: 16 shards by hash, each an open-addressing table
// (boost::unordered_flat_map) with a shared_mutex (lookups share, inserts and
// invalidations are exclusive). When a shard is full, an insert drops the
// eighth of its records read longest ago (the nearest to their TTL) and any
// past their TTL: the cache stays at seven eighths of its capacity or more,
// and no insert empties a whole shard (which would send every key of that
// shard to the store at once).
//
// Invalidation epochs. A record read from the store just before a change was
// committed is stale; if it were cached after the change's invalidation ran,
// it would be served until its TTL. So every invalidation first bumps an
// epoch, and Put() inserts only if the epoch is the one the caller saw before
// reading the store (checked under the shard lock that invalidation takes).
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <boost/unordered/unordered_flat_map.hpp>

#include "auth/key_check.h"
#include "keyward/principal.h"
#include "keyward/store.h"

namespace keyward::auth {

struct KeyHashHasher {
  // The value is uniformly distributed already: no extra mixing needed.
  using is_avalanching = void;
  std::size_t operator()(const KeyHash& h) const {
    // The hash is uniformly random already: its first 8 bytes are a fine hash.
    std::size_t v;
    static_assert(sizeof v <= sizeof h);
    __builtin_memcpy(&v, h.data(), sizeof v);
    return v;
  }
};

struct KeyCacheOptions {
  // Most positive entries kept; 0 disables the positive cache.
  std::size_t capacity = 100'000;
  // A cached record is re-read after this long, which bounds how stale a
  // change made by another process (the CLI, another node) can be here.
  std::int64_t ttl_ms = 5'000;
  // Most negative entries kept; 0 disables the negative cache.
  std::size_t negative_capacity = 100'000;
  std::int64_t negative_ttl_ms = 60'000;
};

// A key record and the Principal it yields, built once and shared by every
// verification that hits the cache (one allocation, no per-request copies).
struct CachedKey {
  std::shared_ptr<const KeyWithUser> record;
  std::shared_ptr<const Principal> principal;
  KeyState state;
  // When this key's use was last noted for last_used_at; lives as long as
  // `record`. Lets the verifier note a use at most once per resolution
  // period per key.
  std::atomic<UnixMillis>* last_noted = nullptr;
  // Set once a lookup has asked for this record to be re-read ahead of its
  // TTL (KeyCache::Find); lives as long as `record`.
  std::atomic<bool>* refresh_claimed = nullptr;
};

// Builds a CachedKey from a store record.
CachedKey MakeCachedKey(KeyWithUser record);

class KeyCache {
 public:
  explicit KeyCache(KeyCacheOptions options) : options_(options) {}

  // Fills *out and returns true if `hash` is cached and fresh at `now`.
  // With `refresh`: *refresh is set if the record is in the last quarter of
  // its TTL and no lookup has asked for it to be re-read yet (the first one
  // to see it so claims it): the caller re-reads it and Put()s it back, so
  // that a key in use is never re-read on the request path.
  bool Find(const KeyHash& hash, UnixMillis now, CachedKey* out, bool* refresh = nullptr) const;
  // True if `hash` is known not to exist (fresh negative entry).
  bool KnownMissing(const KeyHash& hash, UnixMillis now) const;

  // The current invalidation epoch; read it before reading the store.
  std::uint64_t epoch() const { return epoch_.load(std::memory_order_acquire); }

  // Caches a record (or an absence) read from the store after epoch() was
  // `seen`; does nothing if an invalidation has run since.
  void Put(const KeyHash& hash, CachedKey entry, UnixMillis now, std::uint64_t seen);
  void PutMissing(const KeyHash& hash, UnixMillis now, std::uint64_t seen);

  // Drops every cached record owned by `user_id`.
  void InvalidateUser(const std::string& user_id);
  // Drops every cached record owned by any of `user_ids` (sorted, no
  // duplicates) in one pass over the cache, as one invalidation: the epoch
  // moves once, so lookups of other users that were reading the store
  // meanwhile are turned away once, not once per user.
  void InvalidateUsers(std::span<const std::string> user_ids);
  // Drops the cached records (not the absences) at `hashes`, as one
  // invalidation.
  void Invalidate(std::span<const KeyHash> hashes);
  // Drops everything, positive and negative.
  void Clear();

  std::size_t size() const;

 private:
  static constexpr std::size_t kShards = 16;
  struct Entry {
    CachedKey key;
    UnixMillis fetched_at;
  };
  struct Shard {
    mutable std::shared_mutex mu;
    // Open addressing: a lookup reads one group of slots, not a chain of nodes.
    boost::unordered_flat_map<KeyHash, Entry, KeyHashHasher> entries;       // guarded by mu
    boost::unordered_flat_map<KeyHash, UnixMillis, KeyHashHasher> missing;  // guarded by mu
  };
  Shard& ShardFor(const KeyHash& h) const { return shards_[h[8] % kShards]; }

  const KeyCacheOptions options_;
  std::atomic<std::uint64_t> epoch_{0};
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace keyward::auth
