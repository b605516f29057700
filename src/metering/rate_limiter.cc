// rate_limiter.cc: token buckets keyed by "<env>:<user_id>".
#include "metering/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace keyward::metering {

RateDecision RateLimiter::Take(const std::string& user_id, Environment env, double rate,
                               UnixMillis now) {
  RateDecision d;
  d.limit = rate;
  std::string key;
  key.reserve(user_id.size() + 2);
  key += env == Environment::kLive ? "l:" : "t:";
  key += user_id;
  Shard& shard = shards_[std::hash<std::string>{}(key) % shards_.size()];
  std::lock_guard lock(shard.mu);
  const double burst = std::max(1.0, rate);
  auto [it, inserted] = shard.buckets.try_emplace(key);
  Bucket& b = it->second;
  if (inserted || b.rate != rate) {
    b = Bucket{burst, now, rate};
  } else if (now > b.updated) {
    b.tokens = std::min(burst, b.tokens + (now - b.updated) * rate / 1000.0);
    b.updated = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    d.remaining = b.tokens;
    return d;
  }
  d.allowed = false;
  d.remaining = 0;
  d.retry_after_ms = static_cast<std::int64_t>(std::ceil((1.0 - b.tokens) * 1000.0 / rate));
  return d;
}

}  // namespace keyward::metering
