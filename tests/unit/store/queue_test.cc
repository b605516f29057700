// Tests for the durable queue in the SQLite store: claims, leases, outcomes.
#include <gtest/gtest.h>

#include "support/store_fixture.h"

namespace keyward {
namespace {

using testing::StoreTest;

class QueueStoreTest : public StoreTest {
 protected:
  QueueEntry Entry(const std::string& user, const std::string& job_id) {
    QueueEntry e;
    e.id = "qen_" + job_id;
    e.user_id = user;
    e.job_id = job_id;
    e.task = "echo";
    e.payload = "{}";
    e.sealed_key = std::string("\x01sealed\0bytes", 13);
    e.available_at = e.created_at = e.updated_at = clock_.Now();
    return e;
  }
};

TEST_F(QueueStoreTest, ClaimTakesEachEntryOnceUntilTheLeaseExpires) {
  auth::CreatedUser u = NewUser();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store_->Enqueue(Entry(u.user.id, "j" + std::to_string(i))).ok());
  EXPECT_EQ(store_->Enqueue(Entry(u.user.id, "j0")).code(), StatusCode::kAlreadyExists);
  StatusOr<std::vector<QueueEntry>> a = store_->ClaimQueue("w1", clock_.Now(), 1000, 2);
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->size(), 2u);
  EXPECT_EQ((*a)[0].status, "claimed");
  EXPECT_EQ((*a)[0].attempts, 1);
  EXPECT_EQ((*a)[0].sealed_key, std::string("\x01sealed\0bytes", 13));
  EXPECT_EQ(store_->ClaimQueue("w2", clock_.Now(), 1000, 5)->size(), 1u);
  EXPECT_TRUE(store_->ClaimQueue("w2", clock_.Now(), 1000, 5)->empty());
  // w1 dies; after its lease, its entries are claimable again.
  clock_.Advance(1000);
  StatusOr<std::vector<QueueEntry>> again = store_->ClaimQueue("w3", clock_.Now(), 1000, 5);
  ASSERT_EQ(again->size(), 3u);  // w2's lease expired too
  EXPECT_EQ((*again)[0].attempts, 2);
  // The old owner can no longer record an outcome.
  QueueEntry stale = (*a)[0];
  stale.status = "done";
  EXPECT_EQ(store_->FinishClaim(stale, "w1", clock_.Now()).code(), StatusCode::kFailedPrecondition);
  QueueEntry mine = (*again)[0];
  mine.status = "done";
  mine.result_job_id = "job_x";
  EXPECT_TRUE(store_->FinishClaim(mine, "w3", clock_.Now()).ok());
  EXPECT_EQ(store_->GetQueueEntry(mine.id)->status, "done");
  EXPECT_FALSE(store_->GetQueueEntry(mine.id)->lease_owner.has_value());
  EXPECT_EQ(*store_->CountUnfinished(), 2);
}

TEST_F(QueueStoreTest, RetriesWaitForTheirBackoff) {
  auth::CreatedUser u = NewUser();
  ASSERT_TRUE(store_->Enqueue(Entry(u.user.id, "r")).ok());
  QueueEntry e = store_->ClaimQueue("w", clock_.Now(), 10'000, 1)->front();
  e.status = "queued";
  e.available_at = clock_.Now() + 500;
  ASSERT_TRUE(store_->FinishClaim(e, "w", clock_.Now()).ok());
  EXPECT_TRUE(store_->ClaimQueue("w", clock_.Now() + 499, 10'000, 1)->empty());
  EXPECT_EQ(store_->ClaimQueue("w", clock_.Now() + 500, 10'000, 1)->size(), 1u);
}

TEST_F(QueueStoreTest, ListFiltersAndDeletingTheUserDropsTheirEntries) {
  auth::CreatedUser a = NewUser("A");
  auth::CreatedUser b = NewUser("B");
  ASSERT_TRUE(store_->Enqueue(Entry(a.user.id, "a1")).ok());
  ASSERT_TRUE(store_->Enqueue(Entry(b.user.id, "b1")).ok());
  EXPECT_EQ(store_->ListQueue(a.user.id, "", 10)->size(), 1u);
  EXPECT_EQ(store_->ListQueue("", "queued", 10)->size(), 2u);
  EXPECT_TRUE(store_->ListQueue("", "done", 10)->empty());
  ASSERT_TRUE(store_->DeleteUser(a.user.id).ok());
  EXPECT_EQ(store_->ListQueue("", "", 10)->size(), 1u);
}

}  // namespace
}  // namespace keyward
