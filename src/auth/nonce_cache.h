// nonce_cache.h: the nonces of accepted signed requests, remembered until
// their signature's `created` leaves the window, so a captured request
// cannot be replayed on this node. Bounded in all and per key; when a bound
// is reached new requests are refused (the caller answers 503), and no
// unexpired nonce is ever evicted — eviction would reopen a replay.
//
// An entry is 16 bytes of SHA-256(key id, nonce) in a hash set and its
// expiry in a min-heap: 50 to 80 bytes with the containers' slack. Sixteen
// shards by key, each with its own lock, so that a table's growth (a
// rehash) stalls one shard's keys for a sixteenth of the time. Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <queue>
#include <string_view>
#include <vector>
#include <boost/unordered/unordered_flat_map.hpp>
#include <boost/unordered/unordered_flat_set.hpp>

#include "keyward/clock.h"

namespace keyward::auth {

struct NonceCacheOptions {
  std::size_t capacity = 1'000'000;
  std::size_t capacity_per_key = 100'000;
};

class NonceCache {
 public:
  enum class Result { kFresh, kReplayed, kFull };

  explicit NonceCache(NonceCacheOptions options) : options_(options) {}

  // Records (key_id, nonce) until `expires_at` (inclusive) unless it is
  // there already (kReplayed) or a bound is reached (kFull). Entries whose
  // time has passed are dropped first.
  Result Remember(std::string_view key_id, std::string_view nonce, UnixMillis expires_at, UnixMillis now);

  // Entries held, counting expired ones a shard has not dropped yet.
  std::size_t size() const { return total_.load(std::memory_order_relaxed); }

 private:
  using Digest = std::array<unsigned char, 16>;
  struct DigestHash {
    using is_avalanching = void;
    std::size_t operator()(const Digest& d) const {
      std::size_t v;
      __builtin_memcpy(&v, d.data(), sizeof v);
      return v;
    }
  };
  struct Pending {
    UnixMillis expires_at;
    Digest digest;
    std::size_t key_tag;
    bool operator>(const Pending& o) const { return expires_at > o.expires_at; }
  };
  struct Shard {
    std::mutex mu;
    boost::unordered_flat_set<Digest, DigestHash> seen;
    boost::unordered_flat_map<std::size_t, std::size_t> per_key;
    std::priority_queue<Pending, std::vector<Pending>, std::greater<Pending>> by_expiry;
  };
  void DropExpiredLocked(Shard& s, UnixMillis now);

  const NonceCacheOptions options_;
  std::atomic<std::size_t> total_{0};
  std::array<Shard, 16> shards_;
};

}  // namespace keyward::auth
