// Tests for the cached verification path and the gate (src/metering/gate.h,
// src/auth/key_cache.h) with a FakeClock.
#include "metering/gate.h"

#include <gtest/gtest.h>

#include "support/service_fixture.h"

namespace keyward {
namespace {

class GateTest : public testing::ServiceTest {
 protected:
  VerifyOutcome Check(const std::string& key, std::int64_t cost = 0) {
    metering::GateRequest r;
    r.key = key;
    r.cost = cost;
    StatusOr<metering::GateResult> g = svc_->gate().Check(r);
    EXPECT_TRUE(g.ok());
    return g.ok() ? g->verification.outcome : VerifyOutcome::kMissing;
  }
};

TEST_F(GateTest, SecondVerificationIsACacheHit) {
  auth::CreatedUser u = NewUser();
  EXPECT_EQ(Check(u.key->secret), VerifyOutcome::kValid);
  EXPECT_EQ(Check(u.key->secret), VerifyOutcome::kValid);
  EXPECT_EQ(svc_->verifier().stats().cache_hits, 1u);
  EXPECT_EQ(svc_->verifier().stats().cache_misses, 1u);
}

TEST_F(GateTest, UnknownKeysHitTheStoreOnceThenTheNegativeCache) {
  std::string unknown = *GenerateKey(Environment::kLive);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Check(unknown), VerifyOutcome::kNotFound);
  EXPECT_EQ(svc_->verifier().stats().cache_misses, 1u);
  EXPECT_EQ(svc_->verifier().stats().negative_hits, 4u);
  EXPECT_EQ(Check("kw_live_garbage"), VerifyOutcome::kMalformed);
  EXPECT_EQ(svc_->verifier().stats().cache_misses, 1u);  // malformed keys never reach the store
}

TEST_F(GateTest, ChangesThroughTheServiceInvalidateTheCacheAtOnce) {
  auth::CreatedUser u = NewUser();
  EXPECT_EQ(Check(u.key->secret), VerifyOutcome::kValid);
  ASSERT_TRUE(accounts().RevokeKey(u.key->record.id).ok());
  EXPECT_EQ(Check(u.key->secret), VerifyOutcome::kRevoked);
}

TEST_F(GateTest, ChangesBehindTheServicesBackApplyAfterTheCacheTtl) {
  auth::CreatedUser u = NewUser();
  EXPECT_EQ(Check(u.key->secret), VerifyOutcome::kValid);
  ASSERT_TRUE(store().keys().RevokeKey(u.key->record.id, clock_.Now()).ok());  // e.g. another process
  EXPECT_EQ(Check(u.key->secret), VerifyOutcome::kValid);            // stale, within TTL
  clock_.Advance(VerifierOptions{}.cache_ttl_ms);
  EXPECT_EQ(Check(u.key->secret), VerifyOutcome::kRevoked);
}

TEST_F(GateTest, RateLimitAndQuotaAreChargedToTheUserNotTheKey) {
  auth::CreateUserRequest req;
  req.name = "limited";
  req.plan.rate_limit = 2;
  req.plan.monthly_credits = 3;
  StatusOr<auth::CreatedUser> u = accounts().CreateUser(req);
  ASSERT_TRUE(u.ok());
  auth::IssuedKey second = Issue(u->user.id);
  EXPECT_EQ(Check(u->key->secret, 2), VerifyOutcome::kValid);
  EXPECT_EQ(Check(second.secret, 2), VerifyOutcome::kQuotaExceeded);  // same user's credits
  EXPECT_EQ(Check(second.secret, 0), VerifyOutcome::kRateLimited);    // same user's bucket
  clock_.Advance(1000);
  EXPECT_EQ(Check(second.secret, 1), VerifyOutcome::kValid);
  EXPECT_EQ(Check(second.secret, 0), VerifyOutcome::kQuotaExceeded);
  EXPECT_EQ(*store().usage().SumUsage(u->user.id, Environment::kLive, 0, clock_.Now() + 1), 3);
}

TEST_F(GateTest, LastUseIsFlushedInOneWrite) {
  auth::CreatedUser u = NewUser();
  VerifierOptions vo;
  vo.track_last_used = true;
  Verifier tracking(store().keys(), clock_, vo);
  for (int i = 0; i < 10; ++i) {
    clock_.Advance(10);
    ASSERT_TRUE(tracking.Verify({u.key->secret, {}, std::nullopt}).ok());
  }
  EXPECT_FALSE(store().keys().GetKey(u.key->record.id)->last_used_at.has_value());
  EXPECT_EQ(tracking.unflushed().last_uses, 1u);  // one key: one entry, however many uses
  ASSERT_TRUE(tracking.FlushLastUsed().ok());
  EXPECT_EQ(tracking.unflushed().last_uses, 0u);
  EXPECT_EQ(store().keys().GetKey(u.key->record.id)->last_used_at, clock_.Now());
}

// Issue 7, finding 6: test traffic is never unlimited: a plan without a test
// rate gets the server's default, and the live limit does not apply to it.
class GateTestRateTest : public testing::ServiceTest {
 protected:
  service::ServiceOptions Options() override {
    service::ServiceOptions o = ServiceTest::Options();
    o.gate.default_test_rate_limit = 3;
    return o;
  }
};

TEST_F(GateTestRateTest, Issue7_TestTrafficHasItsOwnLimitWithAServerDefault) {
  auth::CreatedUser u = NewUser();  // no limits in the plan
  auth::IssuedKey test = Issue(u.user.id, Environment::kTest);
  auto check = [&](const std::string& key) {
    metering::GateRequest r;
    r.key = key;
    return svc_->gate().Check(r)->verification.outcome;
  };
  for (int i = 0; i < 3; ++i) EXPECT_EQ(check(test.secret), VerifyOutcome::kValid) << i;
  EXPECT_EQ(check(test.secret), VerifyOutcome::kRateLimited);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(check(u.key->secret), VerifyOutcome::kValid);  // live: unlimited
  auth::UserUpdate plan;
  plan.test_rate_limit = 100.0;
  ASSERT_TRUE(accounts().UpdateUser(u.user.id, plan).ok());
  EXPECT_EQ(check(test.secret), VerifyOutcome::kValid);  // the plan's own test rate
}

}  // namespace
}  // namespace keyward
