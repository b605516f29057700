// The durable queue's contract, run against every backend (SQLite, and
// PostgreSQL on a database of its own): claims, leases, outcomes, bounds
// and the seal key.
#include <gtest/gtest.h>

#include <ostream>

#include "support/postgres_fixture.h"
#include "support/store_fixture.h"

namespace keyward {
namespace {

using testing::StoreTest;

constexpr int kNoBound = 1'000'000;

enum class Kind { kSqlite, kPostgres };
void PrintTo(Kind k, std::ostream* os) { *os << (k == Kind::kSqlite ? "sqlite" : "postgres"); }

class QueueStoreTest : public StoreTest, public ::testing::WithParamInterface<Kind> {
 protected:
  std::string Location() override {
    if (GetParam() == Kind::kSqlite) return StoreTest::Location();
    pg_.Create();
    return pg_.Uri();
  }
  // The backend goes before its database does.
  void TearDown() override {
    accounts_.reset();
    backend_.reset();
  }

  QueueEntry Entry(const std::string& user, const std::string& job_id, const std::string& seal_key = "fp1") {
    QueueEntry e;
    e.id = "qen_" + user.substr(user.size() - 4) + "_" + job_id;
    e.user_id = user;
    e.job_id = job_id;
    e.task = "echo";
    e.payload = "{}";
    e.sealed_key = std::string("\x01sealed\0bytes", 13);
    e.seal_key = seal_key;
    e.available_at = e.created_at = e.updated_at = clock_.Now();
    return e;
  }
  Status Enqueue(const QueueEntry& e, int bound = kNoBound) { return queue().Enqueue(e, bound); }
  testing::PostgresDatabase pg_;

  StatusOr<std::vector<QueueEntry>> Claim(const std::string& worker, UnixMillis now, int limit,
                                          std::int64_t lease = 1000) {
    return queue().ClaimQueue(worker, "fp1", now, lease, limit);
  }
};

TEST_P(QueueStoreTest, ClaimTakesEachEntryOnceUntilTheLeaseExpires) {
  auth::CreatedUser u = NewUser();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Enqueue(Entry(u.user.id, "j" + std::to_string(i))).ok());
  EXPECT_EQ(Enqueue(Entry(u.user.id, "j0")).code(), StatusCode::kAlreadyExists);
  StatusOr<std::vector<QueueEntry>> a = Claim("w1", clock_.Now(), 2);
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->size(), 2u);
  EXPECT_EQ((*a)[0].status, QueueStatus::kClaimed);
  EXPECT_EQ((*a)[0].attempts, 1);
  EXPECT_EQ((*a)[0].sealed_key, std::string("\x01sealed\0bytes", 13));
  EXPECT_EQ(Claim("w2", clock_.Now(), 5)->size(), 1u);
  EXPECT_TRUE(Claim("w2", clock_.Now(), 5)->empty());
  // w1 dies; after its lease, its entries are claimable again.
  clock_.Advance(1000);
  StatusOr<std::vector<QueueEntry>> again = Claim("w3", clock_.Now(), 5);
  ASSERT_EQ(again->size(), 3u);  // w2's lease expired too
  EXPECT_EQ((*again)[0].attempts, 2);
  // The old owner can no longer record an outcome.
  QueueEntry stale = (*a)[0];
  stale.status = QueueStatus::kDone;
  EXPECT_EQ(queue().FinishClaim(stale, "w1", clock_.Now()).code(), StatusCode::kFailedPrecondition);
  QueueEntry mine = (*again)[0];
  mine.status = QueueStatus::kDone;
  mine.result_job_id = "job_x";
  EXPECT_TRUE(queue().FinishClaim(mine, "w3", clock_.Now()).ok());
  EXPECT_EQ(queue().GetQueueEntry(mine.id)->status, QueueStatus::kDone);
  EXPECT_FALSE(queue().GetQueueEntry(mine.id)->lease_owner.has_value());
  EXPECT_EQ(*queue().CountUnfinished(), 2);
}

TEST_P(QueueStoreTest, RetriesWaitForTheirBackoff) {
  auth::CreatedUser u = NewUser();
  ASSERT_TRUE(Enqueue(Entry(u.user.id, "r")).ok());
  QueueEntry e = Claim("w", clock_.Now(), 1, 10'000)->front();
  e.status = QueueStatus::kQueued;
  e.available_at = clock_.Now() + 500;
  ASSERT_TRUE(queue().FinishClaim(e, "w", clock_.Now()).ok());
  EXPECT_TRUE(Claim("w", clock_.Now() + 499, 1, 10'000)->empty());
  EXPECT_EQ(Claim("w", clock_.Now() + 500, 1, 10'000)->size(), 1u);
}

TEST_P(QueueStoreTest, ListFiltersPagesAndDeletingTheUserDropsTheirEntries) {
  auth::CreatedUser a = NewUser("A");
  auth::CreatedUser b = NewUser("B");
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(1);
    ASSERT_TRUE(Enqueue(Entry(a.user.id, "a" + std::to_string(i))).ok());
  }
  ASSERT_TRUE(Enqueue(Entry(b.user.id, "b1")).ok());
  EXPECT_EQ(queue().ListQueue({a.user.id, {}, {}}, {})->items.size(), 5u);
  EXPECT_EQ(queue().ListQueue({"", QueueStatus::kQueued, {}}, {})->items.size(), 6u);
  EXPECT_TRUE(queue().ListQueue({"", QueueStatus::kDone, {}}, {})->items.empty());
  EXPECT_TRUE(queue().ListQueue({"", {}, Environment::kTest}, {})->items.empty());
  // Pages of two, newest first, without payloads or credentials.
  std::vector<std::string> seen;
  PageRequest page{2, ""};
  for (;;) {
    StatusOr<Page<QueueEntry>> p = queue().ListQueue({a.user.id, {}, {}}, page);
    ASSERT_TRUE(p.ok());
    for (const QueueEntry& e : p->items) {
      seen.push_back(e.job_id);
      EXPECT_FALSE(e.sealed_key.has_value());
      EXPECT_TRUE(e.payload.empty());
    }
    if (!p->next) break;
    page.after = *p->next;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"a4", "a3", "a2", "a1", "a0"}));
  ASSERT_TRUE(keys().DeleteUser(a.user.id).ok());
  EXPECT_EQ(queue().ListQueue({}, {})->items.size(), 1u);
}

// Issue 7, finding 4: a finished entry keeps no credential, and the key
// issued for it alone is revoked in the same commit (finding 8).
TEST_P(QueueStoreTest, Issue7_AFinishedEntryLosesItsCredentialAndItsJobKey) {
  auth::CreatedUser u = NewUser();
  auth::IssuedKey job_key = Issue(u.user.id);
  QueueEntry e = Entry(u.user.id, "x");
  e.scoped_key_id = job_key.record.id;
  ASSERT_TRUE(Enqueue(e).ok());
  QueueEntry claimed = Claim("w", clock_.Now(), 1)->front();
  claimed.status = QueueStatus::kQueued;  // a retry: still in flight
  ASSERT_TRUE(queue().FinishClaim(claimed, "w", clock_.Now()).ok());
  EXPECT_TRUE(queue().GetQueueEntry(e.id)->sealed_key.has_value());
  EXPECT_FALSE(keys().GetKey(job_key.record.id)->revoked_at.has_value());
  claimed = Claim("w", clock_.Now(), 1)->front();
  claimed.status = QueueStatus::kFailed;
  ASSERT_TRUE(queue().FinishClaim(claimed, "w", clock_.Now()).ok());
  EXPECT_FALSE(queue().GetQueueEntry(e.id)->sealed_key.has_value());
  EXPECT_EQ(keys().GetKey(job_key.record.id)->revoked_at, clock_.Now());
}

// Issue 7, finding 6: unfinished entries are bounded per user; finished ones
// do not count.
TEST_P(QueueStoreTest, Issue7_UnfinishedEntriesAreBoundedPerUser) {
  auth::CreatedUser u = NewUser(), v = NewUser("V");
  ASSERT_TRUE(Enqueue(Entry(u.user.id, "1"), 2).ok());
  ASSERT_TRUE(Enqueue(Entry(u.user.id, "2"), 2).ok());
  EXPECT_EQ(Enqueue(Entry(u.user.id, "3"), 2).code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(Enqueue(Entry(v.user.id, "1"), 2).ok());
  QueueEntry done = Claim("w", clock_.Now(), 1)->front();
  done.status = QueueStatus::kDone;
  ASSERT_TRUE(queue().FinishClaim(done, "w", clock_.Now()).ok());
  EXPECT_TRUE(Enqueue(Entry(u.user.id, "3"), 2).ok());
}

// Issue 7, finding 5: the queue records which seal key it is sealed under;
// entries under another key are refused, and workers claim only their own.
TEST_P(QueueStoreTest, Issue7_TheSealKeyIsRecordedAndEnforced) {
  auth::CreatedUser u = NewUser();
  EXPECT_EQ(*queue().AdoptSealKey(""), "");  // nothing recorded, nothing recorded by asking
  ASSERT_TRUE(Enqueue(Entry(u.user.id, "a", "fp1")).ok());
  EXPECT_EQ(*queue().AdoptSealKey("fp2"), "fp1");
  EXPECT_EQ(Enqueue(Entry(u.user.id, "b", "fp2")).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(queue().ClaimQueue("w", "fp2", clock_.Now(), 1000, 5)->empty());
  // Moving to fp2 re-seals what is in flight and makes the rest dead.
  ASSERT_TRUE(Enqueue(Entry(u.user.id, "c", "fp1")).ok());
  EXPECT_EQ(queue().ReplaceSealKey("fp0", "fp2", {}, {}, {}, clock_.Now()).code(), StatusCode::kFailedPrecondition);
  const std::string a = Entry(u.user.id, "a").id, c = Entry(u.user.id, "c").id;
  ASSERT_TRUE(queue().ReplaceSealKey("fp1", "fp2", {{a, "resealed"}}, {c}, {}, clock_.Now()).ok());
  EXPECT_EQ(*queue().AdoptSealKey(""), "fp2");
  EXPECT_EQ(queue().GetQueueEntry(a)->sealed_key, "resealed");
  EXPECT_EQ(queue().GetQueueEntry(a)->seal_key, "fp2");
  EXPECT_EQ(queue().GetQueueEntry(c)->status, QueueStatus::kDead);
  EXPECT_FALSE(queue().GetQueueEntry(c)->sealed_key.has_value());
  StatusOr<std::vector<QueueEntry>> claimed = queue().ClaimQueue("w", "fp2", clock_.Now(), 1000, 5);
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ(claimed->front().id, a);
}

// Many entries commit in one transaction, each on its own: one refused
// (a repeated job_id, the user's bound) leaves the others in.
TEST_P(QueueStoreTest, EnqueueManyRefusesEntriesOneByOne) {
  auth::CreatedUser u = NewUser();
  ASSERT_TRUE(Enqueue(Entry(u.user.id, "old")).ok());
  std::vector<Status> r = queue().EnqueueMany(
      {Entry(u.user.id, "a"), Entry(u.user.id, "old"), Entry(u.user.id, "b"), Entry(u.user.id, "c")}, 3);
  ASSERT_EQ(r.size(), 4u);
  EXPECT_TRUE(r[0].ok());
  EXPECT_EQ(r[1].code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(r[2].ok());
  EXPECT_EQ(r[3].code(), StatusCode::kResourceExhausted);  // old, a, b: the bound of 3
  EXPECT_EQ(*queue().CountUnfinished(u.user.id), 3);
  EXPECT_EQ(queue().GetQueueEntry(Entry(u.user.id, "c").id).status().code(), StatusCode::kNotFound);
}

// Outcomes commit together; one whose lease was lost does not stop the rest.
TEST_P(QueueStoreTest, FinishClaimsRecordsEachOutcomeOnItsOwn) {
  auth::CreatedUser u = NewUser();
  for (const char* j : {"1", "2", "3"}) ASSERT_TRUE(Enqueue(Entry(u.user.id, j)).ok());
  std::vector<QueueEntry> mine = *Claim("w", clock_.Now(), 2, /*lease=*/1000);
  clock_.Advance(500);
  std::vector<QueueEntry> late = *Claim("w", clock_.Now(), 1, /*lease=*/1000);
  ASSERT_EQ(mine.size(), 2u);
  ASSERT_EQ(late.size(), 1u);
  mine.push_back(late[0]);
  clock_.Advance(600);  // the first two leases have expired, the third has not
  ASSERT_EQ(Claim("w2", clock_.Now(), 5)->size(), 2u);
  for (QueueEntry& e : mine) e.status = QueueStatus::kDone;
  std::vector<Status> r = queue().FinishClaims(mine, "w", clock_.Now());
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(r[1].code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(r[2].ok());
  EXPECT_EQ(queue().GetQueueEntry(mine[2].id)->status, QueueStatus::kDone);
  EXPECT_EQ(queue().GetQueueEntry(mine[0].id)->lease_owner, "w2");
  EXPECT_EQ(*queue().CountUnfinished(), 2);
}

// The per-user count follows every way an entry starts or stops being
// unfinished: enqueue, outcome, retry, a seal key rotation, deletion.
TEST_P(QueueStoreTest, UnfinishedCountsFollowEveryChange) {
  auth::CreatedUser u = NewUser(), v = NewUser("V");
  for (const char* j : {"1", "2", "3"}) ASSERT_TRUE(Enqueue(Entry(u.user.id, j)).ok());
  ASSERT_TRUE(Enqueue(Entry(v.user.id, "1")).ok());
  EXPECT_EQ(*queue().CountUnfinished(u.user.id), 3);
  EXPECT_EQ(*queue().CountUnfinished(), 4);
  std::vector<QueueEntry> c = *Claim("w", clock_.Now(), 2);  // claimed still counts
  EXPECT_EQ(*queue().CountUnfinished(), 4);
  c[0].status = QueueStatus::kQueued;  // a retry
  c[1].status = QueueStatus::kDead;
  ASSERT_TRUE(queue().FinishClaims(c, "w", clock_.Now())[1].ok());
  EXPECT_EQ(*queue().CountUnfinished(), 3);
  ASSERT_TRUE(queue().ReplaceSealKey("fp1", "fp2", {}, {Entry(u.user.id, "3").id}, {}, clock_.Now()).ok());
  EXPECT_EQ(*queue().CountUnfinished(), 2);
  ASSERT_TRUE(keys().DeleteUser(v.user.id).ok());
  EXPECT_EQ(*queue().CountUnfinished(), 1);
  EXPECT_EQ(*queue().CountUnfinished(v.user.id), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, QueueStoreTest, ::testing::Values(Kind::kSqlite, Kind::kPostgres),
                         [](const ::testing::TestParamInfo<Kind>& info) {
                           return info.param == Kind::kSqlite ? std::string("Sqlite")
                                                              : std::string("Postgres");
                         });

}  // namespace
}  // namespace keyward
