// Tests for the task registry, job requests and the compute service
// (src/compute/).
#include "compute/compute_service.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>

#include <nlohmann/json.hpp>
#include <thread>

#include "auth/key_check.h"
#include "auth/scopes.h"
#include "support/service_fixture.h"

namespace keyward {
namespace {

using nlohmann::json;

TEST(TaskRegistry, BuiltInTasksDoRealWork) {
  compute::TaskRegistry r = compute::TaskRegistry::BuiltIn();
  ASSERT_NE(r.Find("wordcount"), nullptr);
  StatusOr<json> wc = r.Find("wordcount")->run({{"text", "The cat. The hat!\nthe end"}});
  ASSERT_TRUE(wc.ok());
  EXPECT_EQ((*wc)["words"], 6);
  EXPECT_EQ((*wc)["lines"], 2);
  EXPECT_EQ((*wc)["unique_words"], 4);
  EXPECT_EQ((*wc)["top"][0], json({{"word", "the"}, {"count", 3}}));
  StatusOr<json> sha = r.Find("sha256")->run({{"data", ""}});
  EXPECT_EQ((*sha)["sha256"], "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ((*sha)["bytes"], 0);
  // Issue 15: echo returns the payload itself, as documented.
  EXPECT_EQ(*r.Find("echo")->run({{"a", 1}}), json({{"a", 1}}));
  EXPECT_FALSE(r.Find("wordcount")->validate({{"text", 1}}).ok());
  EXPECT_FALSE(r.Find("sha256")->validate(json::array()).ok());
  EXPECT_EQ(r.Find("nope"), nullptr);
}

TEST(JobRequest, ValidatesJobIds) {
  EXPECT_TRUE(compute::ValidateJobId("order-42/retry:1").ok());
  EXPECT_FALSE(compute::ValidateJobId("").ok());
  EXPECT_FALSE(compute::ValidateJobId("has space").ok());
  EXPECT_FALSE(compute::ValidateJobId(std::string(129, 'a')).ok());
  EXPECT_FALSE(compute::ValidateJobId("tab\t").ok());
}

// Issue 8: one validator for the compute API and the queue; the payload is
// a JSON object everywhere.
TEST(JobRequest, ReadsExactlyJobIdTaskAndAnObjectPayload) {
  compute::TaskRegistry tasks = compute::TaskRegistry::BuiltIn();
  StatusOr<compute::JobRequest> ok = compute::ReadJobRequest({{"job_id", "a"}, {"task", "echo"}}, tasks);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->payload, json::object());
  EXPECT_EQ(ok->PayloadText(), "{}");
  for (const json& bad : {json{{"task", "echo"}},
                          json{{"job_id", "a"}},
                          json{{"job_id", 1}, {"task", "echo"}},
                          json{{"job_id", "a"}, {"task", "echo"}, {"payload", "text"}},
                          json{{"job_id", "a"}, {"task", "echo"}, {"payload", json::array()}},
                          json{{"job_id", "a"}, {"task", "echo"}, {"payload", nullptr}},
                          json{{"job_id", "a"}, {"task", "echo"}, {"extra", 1}},
                          json{{"job_id", "a"}, {"task", "rm"}},
                          json{{"job_id", "a"}, {"task", "wordcount"}, {"payload", {{"text", 1}}}}}) {
    EXPECT_EQ(compute::ReadJobRequest(bad, tasks).status().code(), StatusCode::kInvalidArgument) << bad.dump();
  }
}

class ComputeTest : public testing::ServiceTest {
 protected:
  Principal PrincipalOf(const auth::CreatedUser& u) {
    return auth::MakePrincipal(*store().keys().LookupKey(u.key->record.hash));
  }
  std::int64_t Charged(const std::string& user_id) {
    return *store().usage().SumUsage(user_id, Environment::kLive, 0, clock_.Now() + 1);
  }
};

TEST_F(ComputeTest, ConcurrentRepeatsOfOneJobIdChargeOnce) {
  auth::CreatedUser u = NewUser();
  Principal p = PrincipalOf(u);
  std::atomic<int> created{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      StatusOr<compute::SubmitResult> r = svc_->compute().Submit(p, Plan{}, {"same", "echo", json::object()});
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      created += r->kind == compute::SubmitResult::Kind::kCreated;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(Charged(u.user.id), 1);
  EXPECT_EQ(svc_->credits().Peek(u.user.id, std::nullopt)->used, 1);
}

// Issue 15: a job_id replayed with another task or payload is a conflict, not
// a silent 200 with the original.
TEST_F(ComputeTest, AReplayWithAnotherPayloadIsAConflictAndChargesNothing) {
  auth::CreatedUser u = NewUser();
  Principal p = PrincipalOf(u);
  ASSERT_EQ(svc_->compute().Submit(p, Plan{}, {"j", "echo", {{"n", 1}}})->kind, compute::SubmitResult::Kind::kCreated);
  EXPECT_EQ(svc_->compute().Submit(p, Plan{}, {"j", "echo", {{"n", 1}}})->kind, compute::SubmitResult::Kind::kExisting);
  EXPECT_EQ(svc_->compute().Submit(p, Plan{}, {"j", "echo", {{"n", 2}}})->kind, compute::SubmitResult::Kind::kConflict);
  EXPECT_EQ(svc_->compute().Submit(p, Plan{}, {"j", "sha256", {{"data", "x"}}})->kind,
            compute::SubmitResult::Kind::kConflict);
  EXPECT_EQ(Charged(u.user.id), 1);
}

TEST_F(ComputeTest, AJobScopedKeySubmitsItsOwnJobOnly) {
  auth::CreatedUser u = NewUser();
  auth::IssuedKey key = Issue(u.user.id, Environment::kLive, {auth::JobSubmitScope("mine")});
  auto submit = [&](const std::string& job_id) {
    return Handle("POST", "/v1/ai/jobs", {{"authorization", "Api-Key " + key.secret}},
                  json{{"job_id", job_id}, {"task", "echo"}}.dump());
  };
  EXPECT_EQ(submit("mine").status, 201);
  http::HttpResponse other = submit("someone-elses");
  EXPECT_EQ(other.status, 403);
  EXPECT_NE(other.body.find("INSUFFICIENT_SCOPE"), std::string::npos);
}

// Issue 7, finding 6: waiting work is bounded per user and in total.
class BoundedComputeTest : public ComputeTest {
 protected:
  service::ServiceOptions Options() override {
    service::ServiceOptions o = ComputeTest::Options();
    o.compute.max_pending_per_user = 2;
    o.compute.max_pending_total = 3;
    o.job_threads = 1;
    return o;
  }
};

TEST_F(BoundedComputeTest, Issue7_PendingJobsAreBoundedPerUserAndInTotal) {
  auth::CreatedUser a = NewUser("A"), b = NewUser("B");
  Principal pa = PrincipalOf(a), pb = PrincipalOf(b);
  using Kind = compute::SubmitResult::Kind;
  // With the only job thread held nothing runs: every accepted job stays pending.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  ASSERT_TRUE(svc_->job_executor().Post([released] { released.wait(); }));
  EXPECT_EQ(svc_->compute().Submit(pa, Plan{}, {"a1", "echo", json::object()})->kind, Kind::kCreated);
  EXPECT_EQ(svc_->compute().Submit(pa, Plan{}, {"a2", "echo", json::object()})->kind, Kind::kCreated);
  StatusOr<compute::SubmitResult> busy = svc_->compute().Submit(pa, Plan{}, {"a3", "echo", json::object()});
  EXPECT_EQ(busy->kind, Kind::kUserBusy);
  EXPECT_GT(busy->retry_after_ms, 0);
  // A repeat of an accepted job is still answered.
  EXPECT_EQ(svc_->compute().Submit(pa, Plan{}, {"a1", "echo", json::object()})->kind, Kind::kExisting);
  EXPECT_EQ(svc_->compute().Submit(pb, Plan{}, {"b1", "echo", json::object()})->kind, Kind::kCreated);
  EXPECT_EQ(svc_->compute().Submit(pb, Plan{}, {"b2", "echo", json::object()})->kind, Kind::kOverloaded);
  EXPECT_EQ(svc_->compute().pending(), 3);
  EXPECT_EQ(Charged(a.user.id), 2);  // refusals charge nothing
  EXPECT_EQ(Charged(b.user.id), 1);
  release.set_value();
}

// A submission the credits refuse is QUOTA_EXCEEDED even while the user's
// pending slots are full (it was TOO_MANY_PENDING: the slot was taken before
// the credits were asked, which the two-node credits test showed under
// load); a submission refused for want of a slot gives its credits back.
TEST_F(BoundedComputeTest, CreditsAreAskedBeforeAPendingSlotIsTaken) {
  auth::CreatedUser a = NewUser("A");
  Principal pa = PrincipalOf(a);
  using Kind = compute::SubmitResult::Kind;
  Plan two, three;
  two.monthly_credits = 2;
  three.monthly_credits = 3;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  ASSERT_TRUE(svc_->job_executor().Post([released] { released.wait(); }));
  EXPECT_EQ(svc_->compute().Submit(pa, two, {"a1", "echo", json::object()})->kind, Kind::kCreated);
  EXPECT_EQ(svc_->compute().Submit(pa, two, {"a2", "echo", json::object()})->kind, Kind::kCreated);
  EXPECT_EQ(svc_->compute().Submit(pa, two, {"a3", "echo", json::object()})->kind, Kind::kQuotaExceeded);
  EXPECT_EQ(svc_->compute().Submit(pa, three, {"a4", "echo", json::object()})->kind, Kind::kUserBusy);
  release.set_value();
  for (int i = 0; i < 5000 && svc_->compute().pending() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(svc_->compute().pending(), 0);
  // The third credit is still there: the busy refusal gave it back.
  EXPECT_EQ(svc_->compute().Submit(pa, three, {"a5", "echo", json::object()})->kind, Kind::kCreated);
  EXPECT_EQ(svc_->compute().Submit(pa, three, {"a6", "echo", json::object()})->kind, Kind::kQuotaExceeded);
  EXPECT_EQ(Charged(a.user.id), 3);
}

// Issue 7, finding 6: results are bounded.
class SmallResultTest : public ComputeTest {
 protected:
  service::ServiceOptions Options() override {
    service::ServiceOptions o = ComputeTest::Options();
    o.compute.max_result_bytes = 1024;
    return o;
  }
};

TEST_F(SmallResultTest, Issue7_AnOversizedResultFailsItsJob) {
  auth::CreatedUser u = NewUser();
  Principal p = PrincipalOf(u);
  ASSERT_TRUE(svc_->compute().Submit(p, Plan{}, {"big", "echo", {{"s", std::string(2000, 'x')}}}).ok());
  ASSERT_TRUE(svc_->compute().Submit(p, Plan{}, {"small", "echo", {{"s", "x"}}}).ok());
  svc_->Stop();  // runs everything accepted
  StatusOr<Job> big = svc_->compute().Get(p, "big");
  EXPECT_EQ(big->status, JobStatus::kFailed);
  EXPECT_NE(big->error->find("1024"), std::string::npos);
  EXPECT_FALSE(big->result.has_value());
  EXPECT_EQ(svc_->compute().Get(p, "small")->status, JobStatus::kSucceeded);
}

}  // namespace
}  // namespace keyward

namespace keyward {
namespace {

// Issue 7, finding 6: a restart loaded up to 100,000 unfinished jobs at
// once. It resumes them a page at a time, and every one runs.
class ResumeInPagesTest : public testing::ServiceTest {
 protected:
  service::ServiceOptions Options() override {
    service::ServiceOptions o = ServiceTest::Options();
    o.compute.resume_page = 2;
    return o;
  }
};

TEST_F(ResumeInPagesTest, Issue7_UnfinishedJobsResumeAPageAtATime) {
  auth::CreatedUser u = NewUser();
  std::vector<JobStore::NewJob> rows;
  for (int i = 0; i < 7; ++i) {
    Job j;
    j.id = "job_resume" + std::to_string(i);
    j.user_id = u.user.id;
    j.job_id = "left-" + std::to_string(i);
    j.key_id = u.key->record.id;
    j.task = "echo";
    j.payload = R"({"i":)" + std::to_string(i) + "}";
    j.status = i % 2 ? JobStatus::kRunning : JobStatus::kQueued;
    j.created_at = clock_.Now() - 1000 + i;
    rows.push_back({j, /*charge=*/false});
  }
  ASSERT_TRUE(store().jobs().InsertJobs(rows).ok());
  StatusOr<std::size_t> first = svc_->compute().ResumeUnfinished();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, 2u);  // one page now, the rest as the executor frees up
  svc_->Stop();
  Principal p = auth::MakePrincipal(*store().keys().LookupKey(u.key->record.hash));
  for (int i = 0; i < 7; ++i) {
    StatusOr<Job> j = svc_->compute().Get(p, "left-" + std::to_string(i));
    ASSERT_TRUE(j.ok());
    EXPECT_EQ(j->status, JobStatus::kSucceeded) << i;
    EXPECT_EQ(*j->result, R"({"i":)" + std::to_string(i) + "}");
  }
}

}  // namespace
}  // namespace keyward
