// Tests for following the change feed (src/auth/change_follower.h,
// src/store/sqlite/change_feed.cc): changes made through another connection
// to the same SQLite file reach a verifier's cache.
#include "auth/change_follower.h"

#include <gtest/gtest.h>

#include "support/store_fixture.h"

namespace keyward {
namespace {

class ChangeFollowerTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    // "Another process": a second backend on the same file.
    StatusOr<store::BackendPtr> other = store::OpenBackend({.location = db_path_});
    ASSERT_TRUE(other.ok());
    other_ = std::move(other).value();
    other_accounts_ = std::make_unique<auth::Accounts>(other_->keys(), clock_);
    VerifierOptions o;
    o.cache = true;
    o.cache_ttl_ms = 3'600'000;  // the TTL cannot be what refreshes the cache here
    verifier_ = std::make_unique<Verifier>(keys(), clock_, o);
    follower_ = std::make_unique<auth::ChangeFollower>(backend_->changes(), *verifier_, clock_,
                                                       auth::ChangeFollowerOptions{.poll_ms = 1'000'000});
    ASSERT_TRUE(follower_->Start().ok());  // the thread sleeps; the test polls by hand
  }
  void TearDown() override { follower_->Stop(); }

  VerifyOutcome Check(const std::string& key) { return verifier_->Verify({.key = key})->outcome; }

  store::BackendPtr other_;
  std::unique_ptr<auth::Accounts> other_accounts_;
  std::unique_ptr<Verifier> verifier_;
  std::unique_ptr<auth::ChangeFollower> follower_;
};

TEST_F(ChangeFollowerTest, ChangesByAnotherWriterReachTheCacheAtTheNextPoll) {
  auth::CreatedUser a = NewUser("A"), b = NewUser("B"), c = NewUser("C"), d = NewUser("D");
  auth::IssuedKey a2 = Issue(a.user.id);
  for (const auto* k : {&a.key->secret, &a2.secret, &b.key->secret, &c.key->secret, &d.key->secret}) {
    ASSERT_EQ(Check(*k), VerifyOutcome::kValid);
  }
  ASSERT_TRUE(other_accounts_->RevokeKey(a.key->record.id).ok());
  auth::UserUpdate off;
  off.disabled = true;
  ASSERT_TRUE(other_accounts_->UpdateUser(b.user.id, off).ok());
  ASSERT_TRUE(other_accounts_->DeleteUser(c.user.id).ok());
  ASSERT_TRUE(other_accounts_->RevokeAllKeys(d.user.id).ok());
  EXPECT_EQ(Check(a.key->secret), VerifyOutcome::kValid);  // cached, until the poll
  ASSERT_TRUE(follower_->PollOnce().ok());
  EXPECT_EQ(Check(a.key->secret), VerifyOutcome::kRevoked);
  EXPECT_EQ(Check(a2.secret), VerifyOutcome::kValid);
  EXPECT_EQ(Check(b.key->secret), VerifyOutcome::kUserDisabled);
  EXPECT_EQ(Check(c.key->secret), VerifyOutcome::kNotFound);
  EXPECT_EQ(Check(d.key->secret), VerifyOutcome::kRevoked);
  EXPECT_EQ(follower_->stats().full_flushes.load(), 0u);
}

TEST_F(ChangeFollowerTest, LastUseIsNotAChange) {
  auth::CreatedUser a = NewUser("A");
  ASSERT_TRUE(other_->changes().MaybeChanged().ok());
  std::int64_t before = *other_->changes().LatestChange();
  ASSERT_TRUE(other_->keys().TouchKeys({{a.key->record.id, clock_.Now()}}).ok());
  EXPECT_EQ(*other_->changes().LatestChange(), before);
  ASSERT_TRUE(other_->keys().RevokeKey(a.key->record.id, clock_.Now()).ok());
  EXPECT_EQ(*other_->changes().LatestChange(), before + 1);
}

// A follower whose position was pruned from the feed cannot know what
// changed: it drops the whole cache rather than serve stale decisions.
TEST_F(ChangeFollowerTest, AFollowerThatFellBehindDropsItsWholeCache) {
  auth::CreatedUser a = NewUser("A"), b = NewUser("B");
  ASSERT_EQ(Check(a.key->secret), VerifyOutcome::kValid);
  ASSERT_EQ(Check(b.key->secret), VerifyOutcome::kValid);
  ASSERT_TRUE(other_accounts_->RevokeKey(a.key->record.id).ok());
  ASSERT_TRUE(other_accounts_->RevokeKey(b.key->record.id).ok());
  // Everything is pruned before this follower reads it.
  ASSERT_EQ(*other_->changes().PruneChanges(clock_.Now() + 3'600'000'000LL), 2);
  ASSERT_TRUE(follower_->PollOnce().ok());
  EXPECT_EQ(follower_->stats().full_flushes.load(), 1u);
  EXPECT_EQ(Check(a.key->secret), VerifyOutcome::kRevoked);
  EXPECT_EQ(Check(b.key->secret), VerifyOutcome::kRevoked);
  // And it carries on from the newest entry.
  ASSERT_TRUE(follower_->PollOnce().ok());
  EXPECT_EQ(follower_->stats().full_flushes.load(), 1u);
}

TEST_F(ChangeFollowerTest, TheFeedIsPrunedByAge) {
  auth::CreatedUser a = NewUser("A");
  ASSERT_TRUE(other_accounts_->RevokeKey(a.key->record.id).ok());
  std::int64_t latest = *backend_->changes().LatestChange();
  EXPECT_EQ(*backend_->changes().PruneChanges(0), 0);  // nothing that old
  StatusOr<ChangeBatch> all = backend_->changes().ReadChanges(0, 100);
  ASSERT_TRUE(all.ok());
  EXPECT_FALSE(all->gap);
  EXPECT_EQ(all->last_seq, latest);
  EXPECT_FALSE(all->changes.empty());
}

// A feed that can be made to fail, as when the database is unreachable.
class BreakableFeed final : public ChangeFeed {
 public:
  explicit BreakableFeed(ChangeFeed& real) : real_(real) {}
  bool broken = false;
  StatusOr<std::int64_t> LatestChange() override { return Gate(real_.LatestChange()); }
  StatusOr<bool> MaybeChanged() override { return broken ? StatusOr<bool>(Down()) : StatusOr<bool>(true); }
  StatusOr<ChangeBatch> ReadChanges(std::int64_t after, int limit) override {
    return Gate(real_.ReadChanges(after, limit));
  }
  StatusOr<std::int64_t> PruneChanges(UnixMillis before) override { return Gate(real_.PruneChanges(before)); }

 private:
  static Status Down() { return UnavailableError("the database is down"); }
  template <typename T>
  StatusOr<T> Gate(StatusOr<T> r) { return broken ? StatusOr<T>(Down()) : std::move(r); }
  ChangeFeed& real_;
};

// A key revoked while the feed cannot be read keeps its cached decision
// until the outage has lasted the grace (at least kOutageNoticeMs); then the
// cache is dropped and the store is asked again.
TEST_F(ChangeFollowerTest, AnOutageDropsTheCacheAtOnceByDefault) {
  BreakableFeed feed(backend_->changes());
  auth::ChangeFollower f(feed, *verifier_, clock_, auth::ChangeFollowerOptions{.poll_ms = 1'000'000});
  auth::CreatedUser a = NewUser("A");
  ASSERT_EQ(Check(a.key->secret), VerifyOutcome::kValid);
  ASSERT_TRUE(other_accounts_->RevokeKey(a.key->record.id).ok());
  feed.broken = true;
  f.Tick();  // the first failed read is not yet an outage
  EXPECT_EQ(Check(a.key->secret), VerifyOutcome::kValid);
  clock_.Advance(auth::kOutageNoticeMs);
  f.Tick();
  EXPECT_EQ(f.stats().outages.load(), 1u);
  EXPECT_EQ(Check(a.key->secret), VerifyOutcome::kRevoked);  // from the store, not the cache
  // Still down: whatever was looked up meanwhile is dropped again.
  auth::CreatedUser b = NewUser("B");
  ASSERT_EQ(Check(b.key->secret), VerifyOutcome::kValid);
  ASSERT_TRUE(other_accounts_->RevokeKey(b.key->record.id).ok());
  f.Tick();
  EXPECT_EQ(Check(b.key->secret), VerifyOutcome::kRevoked);
  EXPECT_EQ(f.stats().outages.load(), 1u);  // one outage
  // Back up: a new outage starts counting afresh.
  feed.broken = false;
  f.Tick();
  auth::CreatedUser c = NewUser("C");
  ASSERT_EQ(Check(c.key->secret), VerifyOutcome::kValid);
  ASSERT_TRUE(other_accounts_->RevokeKey(c.key->record.id).ok());
  feed.broken = true;
  f.Tick();
  EXPECT_EQ(Check(c.key->secret), VerifyOutcome::kValid);
}

TEST_F(ChangeFollowerTest, AGraceServesCachedDecisionsForThatLongOnly) {
  BreakableFeed feed(backend_->changes());
  auth::ChangeFollower f(feed, *verifier_, clock_,
                         auth::ChangeFollowerOptions{.poll_ms = 1'000'000, .outage_grace_ms = 30'000});
  auth::CreatedUser a = NewUser("A");
  ASSERT_EQ(Check(a.key->secret), VerifyOutcome::kValid);
  ASSERT_TRUE(other_accounts_->RevokeKey(a.key->record.id).ok());
  feed.broken = true;
  f.Tick();
  clock_.Advance(29'999);
  f.Tick();
  EXPECT_EQ(Check(a.key->secret), VerifyOutcome::kValid);  // served from the cache
  clock_.Advance(1);
  f.Tick();
  EXPECT_EQ(Check(a.key->secret), VerifyOutcome::kRevoked);
}

}  // namespace
}  // namespace keyward
