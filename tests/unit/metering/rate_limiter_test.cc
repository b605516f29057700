// Tests for per-user token buckets (src/metering/rate_limiter.h).
#include "metering/rate_limiter.h"

#include <gtest/gtest.h>

namespace keyward::metering {
namespace {

TEST(RateLimiter, BurstIsOneSecondThenRefillsAtTheRate) {
  RateLimiter rl;
  UnixMillis t = 1'000'000;
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(rl.Take("u", Environment::kLive, 10, t).allowed) << i;
  RateDecision d = rl.Take("u", Environment::kLive, 10, t);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, 100);
  EXPECT_FALSE(rl.Take("u", Environment::kLive, 10, t + 99).allowed);
  EXPECT_TRUE(rl.Take("u", Environment::kLive, 10, t + 200).allowed);
}

TEST(RateLimiter, LiveAndTestAndUsersHaveSeparateBuckets) {
  RateLimiter rl;
  EXPECT_TRUE(rl.Take("u", Environment::kLive, 1, 0).allowed);
  EXPECT_FALSE(rl.Take("u", Environment::kLive, 1, 0).allowed);
  EXPECT_TRUE(rl.Take("u", Environment::kTest, 1, 0).allowed);
  EXPECT_TRUE(rl.Take("v", Environment::kLive, 1, 0).allowed);
}

TEST(RateLimiter, SlowRatesStillAllowOneRequest) {
  RateLimiter rl;
  EXPECT_TRUE(rl.Take("u", Environment::kLive, 0.01, 0).allowed);
  RateDecision d = rl.Take("u", Environment::kLive, 0.01, 0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, 100'000);
}

TEST(RateLimiter, APlanChangeResetsTheBucket) {
  RateLimiter rl;
  EXPECT_TRUE(rl.Take("u", Environment::kLive, 1, 0).allowed);
  EXPECT_FALSE(rl.Take("u", Environment::kLive, 1, 0).allowed);
  EXPECT_TRUE(rl.Take("u", Environment::kLive, 5, 0).allowed);
}

}  // namespace
}  // namespace keyward::metering
