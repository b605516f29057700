// Tests for monthly credits and the group-commit ledger
// (src/metering/credits.h, src/metering/usage_ledger.h) on a real SQLite store.
#include "metering/credits.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "core/time_format.h"
#include "metering/usage_ledger.h"
#include "support/store_fixture.h"

namespace keyward {
namespace {

using metering::Credits;
using metering::Reservation;
using testing::StoreTest;

TEST(CreditMonth, BoundsAreCalendarMonthsInUtc) {
  UnixMillis t = *core::ParseRfc3339("2026-02-15T12:00:00Z");
  auto [from, to] = metering::MonthBounds(t);
  EXPECT_EQ(core::FormatRfc3339(from), "2026-02-01T00:00:00Z");
  EXPECT_EQ(core::FormatRfc3339(to), "2026-03-01T00:00:00Z");
  auto [f2, t2] = metering::MonthBounds(*core::ParseRfc3339("2026-12-31T23:59:59Z"));
  EXPECT_EQ(core::FormatRfc3339(t2), "2027-01-01T00:00:00Z");
  EXPECT_NE(metering::MonthIndex(from - 1), metering::MonthIndex(from));
}

TEST_F(StoreTest, CreditsNeverOverspendUnderConcurrency) {
  auth::CreatedUser u = NewUser();
  Credits credits(usage(), clock_);
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        StatusOr<Reservation> r = credits.Reserve(u.user.id, 137, 1);
        ASSERT_TRUE(r.ok());
        granted += r->granted();
        r->Settle(OkStatus());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(granted.load(), 137);
}

TEST_F(StoreTest, CreditsStartFromTheLedgerAndResetEachMonth) {
  auth::CreatedUser u = NewUser();
  ASSERT_TRUE(usage().AppendUsage({{u.user.id, u.key->record.id, Environment::kLive, 7, "x", clock_.Now()},
                                   {u.user.id, u.key->record.id, Environment::kTest, 100, "x", clock_.Now()}})
                  .ok());
  Credits credits(usage(), clock_);
  StatusOr<metering::CreditState> s = credits.Peek(u.user.id, 10);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->used, 7);  // test usage is not charged
  EXPECT_EQ(s->remaining(), 3);
  EXPECT_FALSE(credits.Reserve(u.user.id, 10, 4)->granted());
  clock_.Set(metering::MonthBounds(clock_.Now()).second);  // next month
  StatusOr<Reservation> next = credits.Reserve(u.user.id, 10, 4);
  EXPECT_TRUE(next->granted());
  next->Settle(OkStatus());
}

// Issue 8: one reserve -> write -> settle path. A failed write gives the
// credits back; so does a reservation nobody settled; a refund for a month
// that has passed changes nothing.
TEST_F(StoreTest, AFailedOrAbandonedChargeGivesItsCreditsBack) {
  auth::CreatedUser u = NewUser();
  Credits credits(usage(), clock_);
  {
    StatusOr<Reservation> r = credits.Reserve(u.user.id, 5, 5);
    ASSERT_TRUE(r->granted());
    EXPECT_EQ(credits.Peek(u.user.id, 5)->used, 5);
    r->Settle(UnavailableError("write failed"));
  }
  EXPECT_EQ(credits.Peek(u.user.id, 5)->used, 0);
  { StatusOr<Reservation> abandoned = credits.Reserve(u.user.id, 5, 2); }
  EXPECT_EQ(credits.Peek(u.user.id, 5)->used, 0);
  StatusOr<Reservation> kept = credits.Reserve(u.user.id, 5, 3);
  kept->Settle(OkStatus());
  kept->Settle(UnavailableError("a second settle is ignored"));
  EXPECT_EQ(credits.Peek(u.user.id, 5)->used, 3);
  StatusOr<Reservation> late = credits.Reserve(u.user.id, 5, 2);
  clock_.Set(metering::MonthBounds(clock_.Now()).second);
  late->Settle(UnavailableError("failed after the month ended"));
  EXPECT_EQ(credits.Peek(u.user.id, 5)->used, 0);  // a new month, counted afresh
}

// Another writer spent credits this count never saw; the store refused the
// charge the count allowed. Settling with that refusal makes the next
// decision read the ledger; a reservation from the old count refunds nothing
// into the new one.
TEST_F(StoreTest, AChargeTheStoreRefusedMakesTheCountReadTheLedgerAgain) {
  auth::CreatedUser u = NewUser();
  Credits credits(usage(), clock_);
  ASSERT_EQ(credits.Peek(u.user.id, 10)->used, 0);
  ASSERT_TRUE(usage().AppendUsage({{u.user.id, "k", Environment::kLive, 9, "elsewhere", clock_.Now()}}).ok());
  StatusOr<Reservation> older = credits.Reserve(u.user.id, 10, 1);
  StatusOr<Reservation> refused = credits.Reserve(u.user.id, 10, 2);
  ASSERT_TRUE(refused->granted());  // the count still says 1 of 10
  refused->Settle(ResourceExhaustedError("monthly credits exhausted"));
  EXPECT_EQ(credits.Peek(u.user.id, 10)->used, 9);
  older->Settle(UnavailableError("write failed"));
  EXPECT_EQ(credits.Peek(u.user.id, 10)->used, 9);
}

TEST_F(StoreTest, LedgerCommitsEveryEntryFromManyThreads) {
  auth::CreatedUser u = NewUser();
  metering::UsageLedger ledger(usage());
  std::atomic<std::size_t> entries{0};
  ledger.set_batch_observer([&](std::size_t n) { entries += n; });
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
  EXPECT_EQ(*usage().SumUsage(u.user.id, Environment::kLive, 0, clock_.Now() + 1), 400);
}

TEST_F(StoreTest, LedgerReportsAFailedCommitToEveryoneInItsBatch) {
  metering::UsageLedger ledger(usage());
  Status st = ledger.Record({"usr_nobody", "key_x", Environment::kLive, 1, "t", clock_.Now()});
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace keyward
