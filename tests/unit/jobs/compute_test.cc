// Tests for the task registry and the compute service (src/jobs/).
#include "jobs/compute.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "auth/key_check.h"
#include "auth/scopes.h"
#include "support/service_fixture.h"

namespace keyward {
namespace {

using nlohmann::json;

TEST(TaskRegistry, BuiltInTasksDoRealWork) {
  jobs::TaskRegistry r = jobs::TaskRegistry::BuiltIn();
  ASSERT_NE(r.Find("wordcount"), nullptr);
  StatusOr<json> wc = r.Find("wordcount")->run({{"text", "The cat. The hat!\nthe end"}});
  ASSERT_TRUE(wc.ok());
  EXPECT_EQ((*wc)["words"], 6);
  EXPECT_EQ((*wc)["lines"], 2);
  EXPECT_EQ((*wc)["top"][0], json({{"word", "the"}, {"count", 3}}));
  StatusOr<json> sha = r.Find("sha256")->run({{"data", ""}});
  EXPECT_EQ((*sha)["sha256"], "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ((*r.Find("echo")->run({{"a", 1}}))["echo"]["a"], 1);
  EXPECT_FALSE(r.Find("wordcount")->validate({{"text", 1}}).ok());
  EXPECT_FALSE(r.Find("sha256")->validate(json::array()).ok());
  EXPECT_EQ(r.Find("nope"), nullptr);
}

TEST(ComputeJobId, Validation) {
  EXPECT_TRUE(jobs::ValidateJobId("order-42/retry:1").ok());
  EXPECT_FALSE(jobs::ValidateJobId("").ok());
  EXPECT_FALSE(jobs::ValidateJobId("has space").ok());
  EXPECT_FALSE(jobs::ValidateJobId(std::string(129, 'a')).ok());
  EXPECT_FALSE(jobs::ValidateJobId("tab\t").ok());
}

class ComputeTest : public testing::ServiceTest {};

TEST_F(ComputeTest, ConcurrentRepeatsOfOneJobIdChargeOnce) {
  auth::CreatedUser u = NewUser();
  StatusOr<KeyWithUser> rec = store_->LookupKey(u.key->record.hash);
  ASSERT_TRUE(rec.ok());
  Principal p = auth::MakePrincipal(*rec);
  std::atomic<int> created{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      StatusOr<jobs::SubmitResult> r = compute_->Submit(p, rec->user.plan, "same", "echo", json::object());
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      created += r->kind == jobs::SubmitResult::Kind::kCreated;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(*store_->SumUsage(u.user.id, Environment::kLive, 0, clock_.Now() + 1), 1);
  EXPECT_EQ(quota_->Peek(u.user.id, std::nullopt)->used, 1);
}

TEST_F(ComputeTest, AJobScopedKeySubmitsItsOwnJobOnly) {
  auth::CreatedUser u = NewUser();
  auth::IssueKeyRequest req;
  req.user_id = u.user.id;
  req.scopes = {auth::JobSubmitScope("mine")};
  StatusOr<auth::IssuedKey> key = service_->IssueKey(req);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  auto submit = [&](const std::string& job_id) {
    http::HttpRequest r;
    r.method = "POST";
    r.path = "/v1/ai/jobs";
    r.headers = {{"authorization", "Api-Key " + key->secret}};
    r.body = json{{"job_id", job_id}, {"task", "echo"}}.dump();
    return router_.Handle(r);
  };
  EXPECT_EQ(submit("mine").status, 201);
  http::HttpResponse other = submit("someone-elses");
  EXPECT_EQ(other.status, 403);
  EXPECT_NE(other.body.find("INSUFFICIENT_SCOPE"), std::string::npos);
}

TEST_F(ComputeTest, UnknownTaskAndBadPayloadChargeNothing) {
  auth::CreatedUser u = NewUser();
  Principal p = auth::MakePrincipal(*store_->LookupKey(u.key->record.hash));
  EXPECT_EQ(compute_->Submit(p, Plan{}, "a", "nope", json::object()).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(compute_->Submit(p, Plan{}, "b", "wordcount", {{"text", 3}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*store_->SumUsage(u.user.id, Environment::kLive, 0, clock_.Now() + 1), 0);
}

}  // namespace
}  // namespace keyward
