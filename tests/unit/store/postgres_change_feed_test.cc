// The change feed on PostgreSQL: every change a cached decision depends on
// is recorded by the database, numbered in commit order (a reader can never
// step past a change that commits later), announced by NOTIFY, bounded by
// pruning (a reader that fell behind is told), and writers that record
// changes never deadlock on the counter.
#include "store/postgres/change_feed.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <thread>
#include <vector>

#include "store/postgres/key_store.h"
#include "store/postgres/schema.h"
#include "support/postgres_fixture.h"

namespace keyward::store::postgres {
namespace {

class PgChangeFeedTest : public testing::PostgresTest {
 protected:
  void SetUp() override {
    testing::PostgresTest::SetUp();
    if (HasFatalFailure()) return;
    pool_ = std::make_unique<Pool>(ConnOptions{.conninfo = ConnInfo()}, 4);
    auto c = pool_->Acquire();
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(Migrate(**c).ok());
    keys_ = std::make_unique<PgKeyStore>(*pool_);
    feed_ = std::make_unique<PgChangeFeed>(*pool_, ConnOptions{.conninfo = ConnInfo()},
                                           std::chrono::hours(1));
  }
  void TearDown() override {
    feed_.reset();
    keys_.reset();
    pool_.reset();
    testing::PostgresTest::TearDown();
  }

  void AddUser(const std::string& id, const std::vector<std::string>& key_ids) {
    User u;
    u.id = id;
    u.name = id;
    ASSERT_TRUE(keys_->CreateUser(u, nullptr).ok());
    for (const std::string& k : key_ids) {
      ApiKey key;
      key.id = k;
      key.user_id = id;
      key.name = k;
      key.display = "kw_live_x";
      const std::size_t h = std::hash<std::string>{}(k);  // distinct per id
      for (std::size_t i = 0; i < key.hash.size(); ++i) {
        key.hash[i] = static_cast<unsigned char>((h >> (8 * (i % 8))) ^ i);
      }
      key.created_at = 1;
      ASSERT_TRUE(keys_->InsertKey(key).ok());
    }
  }

  std::vector<std::string> UsersChangedAfter(std::int64_t after) {
    StatusOr<ChangeBatch> b = feed_->ReadChanges(after, 1000);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    std::vector<std::string> out;
    if (!b.ok()) return out;
    std::int64_t prev = after;
    for (const Change& c : b->changes) {
      EXPECT_EQ(c.seq, prev + 1) << "numbers have no holes";
      prev = c.seq;
      out.push_back(c.user_id);
    }
    return out;
  }

  std::unique_ptr<Pool> pool_;
  std::unique_ptr<PgKeyStore> keys_;
  std::unique_ptr<PgChangeFeed> feed_;
};

TEST_F(PgChangeFeedTest, EveryDecisionChangeIsRecordedAndNothingElse) {
  AddUser("usr_a", {"key_a1", "key_a2", "key_a3"});
  AddUser("usr_b", {"key_b1"});
  EXPECT_TRUE(UsersChangedAfter(0).empty()) << "creating users and keys invalidates nothing";
  ASSERT_TRUE(keys_->TouchKeys({{"key_a1", 50}}).ok());
  EXPECT_TRUE(UsersChangedAfter(0).empty()) << "last use is not a decision";

  ASSERT_TRUE(keys_->RevokeKey("key_a1", 100).ok());
  ASSERT_TRUE(keys_->RevokeAllKeys("usr_b", 100).ok());
  ApiKey rotated;
  rotated.id = "key_a4";
  rotated.user_id = "usr_a";
  rotated.name = "r";
  rotated.display = "kw_live_y";
  rotated.hash.fill(0x44);
  rotated.rotated_from = "key_a2";
  ASSERT_TRUE(keys_->RotateKey(rotated, 500).ok());
  ASSERT_TRUE(keys_->DeleteKey("key_a3").ok());
  User b = *keys_->GetUser("usr_b");
  b.disabled = true;
  ASSERT_TRUE(keys_->UpdateUser(b).ok());
  EXPECT_EQ(UsersChangedAfter(0),
            (std::vector<std::string>{"usr_a", "usr_b", "usr_a", "usr_a", "usr_b"}));
  EXPECT_EQ(*feed_->LatestChange(), 5);

  ASSERT_TRUE(keys_->DeleteUser("usr_a").ok());  // the user and, by cascade, its keys
  std::vector<std::string> after_delete = UsersChangedAfter(5);
  ASSERT_FALSE(after_delete.empty());
  for (const std::string& u : after_delete) EXPECT_EQ(u, "usr_a");
}

TEST_F(PgChangeFeedTest, ANotificationWakesTheListener) {
  AddUser("usr_n", {"key_n1"});
  EXPECT_TRUE(*feed_->MaybeChanged());  // just connected: anything may have happened
  EXPECT_FALSE(*feed_->MaybeChanged());
  ASSERT_TRUE(keys_->RevokeKey("key_n1", 1).ok());  // another connection of the pool
  // Notifications arrive asynchronously: poll (ctest's timeout bounds this).
  while (!*feed_->MaybeChanged()) std::this_thread::yield();
  EXPECT_FALSE(*feed_->MaybeChanged());
}

TEST_F(PgChangeFeedTest, ALaterNumberIsNeverVisibleBeforeAnEarlierOne) {
  AddUser("usr_1", {"key_11"});
  AddUser("usr_2", {"key_21"});
  auto first = Conn::Open({.conninfo = ConnInfo()});
  ASSERT_TRUE(first.ok());
  Transaction tx(**first);
  ASSERT_TRUE(tx.Begin().ok());
  ASSERT_TRUE((*first)->Exec("UPDATE api_keys SET revoked_at = 1 WHERE id = 'key_11'").ok());
  // The second writer must wait for the first to end: with a plain sequence
  // it would commit number 2 now, a reader would move past 2, and number 1
  // (committed next) would never be read.
  std::atomic<bool> second_done{false};
  std::thread second([&] {
    EXPECT_TRUE(keys_->RevokeKey("key_21", 2).ok());
    second_done = true;
  });
  auto watcher = Conn::Open({.conninfo = ConnInfo()});
  ASSERT_TRUE(watcher.ok());
  // Wait until the second writer is blocked on a lock.
  for (;;) {
    StatusOr<Result> r = (*watcher)->Exec(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock'");
    ASSERT_TRUE(r.ok());
    if (r->Int(0, 0) > 0) break;
    std::this_thread::yield();
  }
  EXPECT_FALSE(second_done.load());
  EXPECT_TRUE(UsersChangedAfter(0).empty());
  ASSERT_TRUE(tx.Commit().ok());
  second.join();
  EXPECT_EQ(UsersChangedAfter(0), (std::vector<std::string>{"usr_1", "usr_2"}));
}

TEST_F(PgChangeFeedTest, AReaderBehindThePrunedEntriesIsTold) {
  AddUser("usr_p", {"key_p1", "key_p2", "key_p3"});
  for (const char* k : {"key_p1", "key_p2", "key_p3"}) ASSERT_TRUE(keys_->RevokeKey(k, 1).ok());
  StatusOr<std::int64_t> pruned = feed_->PruneChanges(/*before=*/std::int64_t{1} << 60);
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(*pruned, 3);
  StatusOr<ChangeBatch> behind = feed_->ReadChanges(1, 100);
  ASSERT_TRUE(behind.ok());
  EXPECT_TRUE(behind->gap);
  EXPECT_EQ(behind->last_seq, 3);
  StatusOr<ChangeBatch> current = feed_->ReadChanges(3, 100);
  ASSERT_TRUE(current.ok());
  EXPECT_FALSE(current->gap);
  EXPECT_TRUE(current->changes.empty());
}

TEST_F(PgChangeFeedTest, ConcurrentRevocationsOfOneUserNeverDeadlock) {
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) ids.push_back("key_c" + std::string(1, static_cast<char>('a' + i)));
  AddUser("usr_c", ids);
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        Status st = (t % 2 == 0) ? keys_->RevokeAllKeys("usr_c", 10 + i).status()
                                 : keys_->RevokeKey(ids[(i * 7 + t) % ids.size()], 10 + i).status();
        if (!st.ok()) ++failures;
      }
    });
  }
  for (auto& w : writers) w.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace keyward::store::postgres
