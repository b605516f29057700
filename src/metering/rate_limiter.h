// rate_limiter.h: per-user token buckets, live and test separately.
// A user's plan gives the rate (tokens per second); the burst is one second's
// worth (at least one request). Thread-safe (16 lock shards); in memory, so
// each keyward node limits on its own.
#pragma once

#include <array>
#include <mutex>
#include <string>
#include <unordered_map>

#include "keyward/clock.h"
#include "keyward/key_format.h"

namespace keyward::metering {

struct RateDecision {
  bool allowed = true;
  double limit = 0;              // tokens per second (0 = unlimited)
  double remaining = 0;          // tokens left after this request
  std::int64_t retry_after_ms = 0;  // when refused: until the next token
};

class RateLimiter {
 public:
  // Takes one token from user+env's bucket at rate `rate` per second.
  RateDecision Take(const std::string& user_id, Environment env, double rate, UnixMillis now);

 private:
  struct Bucket {
    double tokens = 0;
    UnixMillis updated = 0;
    double rate = 0;
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Bucket> buckets;  // guarded by mu
  };
  std::array<Shard, 16> shards_;
};

}  // namespace keyward::metering
