// Tests for monthly credits and the group-commit ledger (src/auth/quota.h,
// src/auth/usage_ledger.h) on a real SQLite store.
#include "auth/quota.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "auth/usage_ledger.h"
#include "core/time_format.h"
#include "support/store_fixture.h"

namespace keyward {
namespace {

using testing::StoreTest;

TEST(QuotaMonth, BoundsAreCalendarMonthsInUtc) {
  UnixMillis t = *core::ParseRfc3339("2026-02-15T12:00:00Z");
  auto [from, to] = auth::MonthBounds(t);
  EXPECT_EQ(core::FormatRfc3339(from), "2026-02-01T00:00:00Z");
  EXPECT_EQ(core::FormatRfc3339(to), "2026-03-01T00:00:00Z");
  auto [f2, t2] = auth::MonthBounds(*core::ParseRfc3339("2026-12-31T23:59:59Z"));
  EXPECT_EQ(core::FormatRfc3339(t2), "2027-01-01T00:00:00Z");
  EXPECT_NE(auth::MonthIndex(from - 1), auth::MonthIndex(from));
}

TEST_F(StoreTest, QuotaNeverOverspendsUnderConcurrency) {
  auth::CreatedUser u = NewUser();
  auth::Quota quota(*store_, clock_);
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        bool ok = false;
        ASSERT_TRUE(quota.Reserve(u.user.id, 137, 1, &ok).ok());
        granted += ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(granted.load(), 137);
}

TEST_F(StoreTest, QuotaStartsFromTheLedgerAndResetsEachMonth) {
  auth::CreatedUser u = NewUser();
  ASSERT_TRUE(store_->AppendUsage({{u.user.id, u.key->record.id, Environment::kLive, 7, "x", clock_.Now()},
                                   {u.user.id, u.key->record.id, Environment::kTest, 100, "x", clock_.Now()}})
                  .ok());
  auth::Quota quota(*store_, clock_);
  StatusOr<auth::CreditState> s = quota.Peek(u.user.id, 10);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->used, 7);  // test usage is not charged
  EXPECT_EQ(s->remaining(), 3);
  bool ok = false;
  ASSERT_TRUE(quota.Reserve(u.user.id, 10, 4, &ok).ok());
  EXPECT_FALSE(ok);
  clock_.Set(auth::MonthBounds(clock_.Now()).second);  // next month
  ASSERT_TRUE(quota.Reserve(u.user.id, 10, 4, &ok).ok());
  EXPECT_TRUE(ok);
}

TEST_F(StoreTest, RefundGivesBackOnlyWithinTheSameMonth) {
  auth::CreatedUser u = NewUser();
  auth::Quota quota(*store_, clock_);
  bool ok = false;
  ASSERT_TRUE(quota.Reserve(u.user.id, 5, 5, &ok).ok());
  ASSERT_TRUE(ok);
  quota.Refund(u.user.id, 5, auth::MonthIndex(clock_.Now()) - 1);
  EXPECT_EQ(quota.Peek(u.user.id, 5)->used, 5);
  quota.Refund(u.user.id, 5, auth::MonthIndex(clock_.Now()));
  EXPECT_EQ(quota.Peek(u.user.id, 5)->used, 0);
}

TEST_F(StoreTest, LedgerCommitsEveryEntryFromManyThreads) {
  auth::CreatedUser u = NewUser();
  auth::UsageLedger ledger(*store_);
  std::atomic<std::size_t> batches{0}, entries{0};
  ledger.set_batch_observer([&](std::size_t n) {
    batches++;
    entries += n;
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        ASSERT_TRUE(ledger.Record({u.user.id, u.key->record.id, Environment::kLive, 1, "t", clock_.Now()}).ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(entries.load(), 400u);
  EXPECT_LE(batches.load(), 400u);
  EXPECT_EQ(*store_->SumUsage(u.user.id, Environment::kLive, 0, clock_.Now() + 1), 400);
}

TEST_F(StoreTest, LedgerReportsAFailedCommit) {
  auth::UsageLedger ledger(*store_);
  Status st = ledger.Record({"usr_nobody", "key_x", Environment::kLive, 1, "t", clock_.Now()});
  EXPECT_FALSE(st.ok());
}

}  // namespace
}  // namespace keyward
