// Tests for the queue's front door (src/queue/job_queue.h).
#include "queue/job_queue.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "auth/key_check.h"
#include "auth/scopes.h"
#include "compute/executor.h"
#include "support/store_fixture.h"

namespace keyward {
namespace {

using nlohmann::json;
using Kind = queue::EnqueueResult::Kind;

class JobQueueTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    queue_ = std::make_unique<queue::JobQueue>(queue(), clock_, sealer_, tasks_, *accounts_,
                                               queue::QueueOptions{.max_unfinished_per_user = 3});
  }
  Principal Owner(const auth::CreatedUser& u) {
    return auth::MakePrincipal(*keys().LookupKey(u.key->record.hash));
  }
  StatusOr<queue::EnqueueResult> With(const auth::CreatedUser& u, const std::string& job_id,
                                      json payload = json::object()) {
    return queue_->EnqueueWithKey(Owner(u), u.key->secret, {job_id, "echo", std::move(payload)});
  }

  compute::TaskRegistry tasks_ = compute::TaskRegistry::BuiltIn();
  core::Sealer sealer_ = *core::Sealer::FromHex(std::string(64, '5'));
  std::unique_ptr<queue::JobQueue> queue_;
};

TEST_F(JobQueueTest, TheCallersKeyIsSealedNeverStoredPlain) {
  auth::CreatedUser u = NewUser();
  StatusOr<queue::EnqueueResult> r = With(u, "j1", {{"n", 1}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->kind, Kind::kCreated);
  EXPECT_FALSE(r->entry.sealed_key.has_value());  // not handed back either
  QueueEntry stored = *queue().GetQueueEntry(r->entry.id);
  ASSERT_TRUE(stored.sealed_key.has_value());
  EXPECT_EQ(stored.sealed_key->find(u.key->secret), std::string::npos);
  EXPECT_EQ(*sealer_.Open(*stored.sealed_key, stored.id), u.key->secret);
  EXPECT_EQ(stored.seal_key, sealer_.fingerprint());
  EXPECT_EQ(stored.payload, R"({"n":1})");
}

// Issue 15: a job_id names one job forever.
TEST_F(JobQueueTest, RepeatsAreAnsweredConflictsRefused) {
  auth::CreatedUser u = NewUser();
  ASSERT_EQ(With(u, "j", {{"n", 1}})->kind, Kind::kCreated);
  EXPECT_EQ(With(u, "j", {{"n", 1}})->kind, Kind::kExisting);
  EXPECT_EQ(With(u, "j", {{"n", 2}})->kind, Kind::kConflict);
  EXPECT_EQ(queue_->EnqueueWithKey(Owner(u), u.key->secret, {"j", "sha256", {{"data", ""}}})->kind, Kind::kConflict);
  EXPECT_EQ(queue_->EnqueueWithKey(Owner(u), u.key->secret, {"j", "wordcount", {{"text", 1}}}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(JobQueueTest, Issue7_EachUserHasABoundedNumberOfUnfinishedEntries) {
  auth::CreatedUser u = NewUser(), v = NewUser("V");
  for (int i = 0; i < 3; ++i) ASSERT_EQ(With(u, "j" + std::to_string(i))->kind, Kind::kCreated);
  EXPECT_EQ(With(u, "j3")->kind, Kind::kUserBusy);
  EXPECT_EQ(With(u, "j0")->kind, Kind::kExisting);  // a repeat is still answered
  EXPECT_EQ(With(v, "j3")->kind, Kind::kCreated);
}

TEST_F(JobQueueTest, ForAUserIdAKeyBoundToTheJobIsIssuedOnce) {
  auth::CreatedUser u = NewUser();
  StatusOr<queue::EnqueueResult> r =
      queue_->EnqueueForUser(u.user.id, Environment::kLive, {"report", "sha256", {{"data", "x"}}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->entry.scoped_key_id.has_value());
  ApiKey job_key = *keys().GetKey(*r->entry.scoped_key_id);
  EXPECT_EQ(job_key.scopes, std::vector<std::string>{auth::JobSubmitScope("report")});
  EXPECT_EQ(job_key.expires_at, clock_.Now() + queue::QueueOptions{}.scoped_key_ttl_ms);
  std::size_t keys_before = keys().ListKeys(u.user.id, {})->items.size();
  EXPECT_EQ(queue_->EnqueueForUser(u.user.id, Environment::kLive, {"report", "sha256", {{"data", "x"}}})->kind,
            Kind::kExisting);
  EXPECT_EQ(queue_->EnqueueForUser(u.user.id, Environment::kLive, {"report", "sha256", {{"data", "y"}}})->kind,
            Kind::kConflict);
  EXPECT_EQ(keys().ListKeys(u.user.id, {})->items.size(), keys_before);
  StatusOr<queue::EnqueueResult> generated = queue_->EnqueueForUser(u.user.id, Environment::kTest, {"", "echo", json::object()});
  ASSERT_TRUE(generated.ok());
  EXPECT_EQ(generated->entry.job_id.rfind("auto_", 0), 0u);
  EXPECT_EQ(queue_->EnqueueForUser("usr_nobody", Environment::kLive, {"x", "echo", json::object()}).status().code(),
            StatusCode::kNotFound);
}

// The commit thread hands each batch's answers to the executor it is given
// and goes on committing (the service gives its request pool).
TEST_F(JobQueueTest, AnswersRunOnTheExecutorGivenNotTheCommitThread) {
  auth::CreatedUser u = NewUser();
  compute::Executor answers(1, "kw-test-answers");
  std::promise<std::thread::id> pool;
  answers.Post([&pool] { pool.set_value(std::this_thread::get_id()); });
  const std::thread::id pool_thread = pool.get_future().get();
  queue::JobQueue q(queue(), clock_, sealer_, tasks_, *accounts_, {}, &answers);
  std::promise<std::thread::id> answered;
  q.EnqueueWithKeyAsync(Owner(u), u.key->secret, {"j", "echo", json::object()},
                        [&answered](StatusOr<queue::EnqueueResult> r) {
                          EXPECT_TRUE(r.ok()) << r.status().ToString();
                          answered.set_value(std::this_thread::get_id());
                        });
  EXPECT_EQ(answered.get_future().get(), pool_thread);
  q.StopAccepting();
  answers.Stop();
}

TEST_F(JobQueueTest, Issue7_AnotherSealKeyCannotEnqueue) {
  auth::CreatedUser u = NewUser();
  ASSERT_TRUE(With(u, "a").ok());
  core::Sealer other = *core::Sealer::FromHex(std::string(64, '6'));
  queue::JobQueue wrong(queue(), clock_, other, tasks_, *accounts_);
  EXPECT_EQ(wrong.EnqueueWithKey(Owner(u), u.key->secret, {"b", "echo", json::object()}).status().code(),
            StatusCode::kFailedPrecondition);
  // A job-scoped key made for a refused entry does not stay valid.
  std::size_t before = keys().ListKeys(u.user.id, {})->items.size();
  EXPECT_FALSE(wrong.EnqueueForUser(u.user.id, Environment::kLive, {"c", "echo", json::object()}).ok());
  StatusOr<Page<ApiKey>> after = keys().ListKeys(u.user.id, {});
  ASSERT_EQ(after->items.size(), before + 1);
  for (const ApiKey& k : after->items) {
    if (k.name == "job c") EXPECT_TRUE(k.revoked_at.has_value());
    else EXPECT_FALSE(k.revoked_at.has_value()) << k.name;
  }
}

}  // namespace
}  // namespace keyward
