// The compute API (POST/GET /v1/ai/jobs): whose job it is, idempotency,
// environment separation, tenant isolation and exact quota under load.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "support/server_fixture.h"

namespace keyward {
namespace {

using nlohmann::json;
using testing::HttpReply;
using testing::ServerTest;

// Polls (bounded) until the job leaves queued/running.
json WaitForJob(ServerTest* t, const std::string& addr, const std::string& key, const std::string& id) {
  json job;
  for (int i = 0; i < 2000; ++i) {
    HttpReply r = testing::HttpGet(addr, "/v1/ai/jobs/" + id, {testing::KeyAuth(key)});
    job = json::parse(r.body, nullptr, false)["job"];
    if (job["status"] == "succeeded" || job["status"] == "failed") return job;
    std::this_thread::yield();
  }
  ADD_FAILURE() << "job " << id << " did not finish: " << job;
  (void)t;
  return job;
}

TEST_F(ServerTest, JobRunsOnTheCallersBehalfAndStoresTheResultUnderThem) {
  testing::CreatedUser u = NewUser({{"name", "Acme"}, {"external_id", "acme"}});
  HttpReply r = SubmitJob(u.key, "report-1", "wordcount", {{"text", "to be or not to be"}});
  ASSERT_EQ(r.status, 201) << r.body;
  json job = Json(r)["job"];
  EXPECT_EQ(job["user_id"], u.id);
  EXPECT_EQ(job["environment"], "live");
  EXPECT_EQ(job["job_id"], "report-1");
  EXPECT_EQ(job["key_id"], u.key_id);
  json done = WaitForJob(this, addr(), u.key, job["id"]);
  EXPECT_EQ(done["status"], "succeeded");
  EXPECT_EQ(done["result"]["words"], 6);
  EXPECT_EQ(done["result"]["top"][0]["word"], "be");
  // Also reachable by the caller's own job_id.
  EXPECT_EQ(Json(testing::HttpGet(addr(), "/v1/ai/jobs/report-1", {testing::KeyAuth(u.key)}))["job"]["id"], job["id"]);

  HttpReply sha = SubmitJob(u.key, "hash-1", "sha256", {{"data", "abc"}});
  ASSERT_EQ(sha.status, 201);
  json hashed = WaitForJob(this, addr(), u.key, Json(sha)["job"]["id"]);
  EXPECT_EQ(hashed["result"]["sha256"], "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(ServerTest, ResubmittingAJobIdReturnsTheSameJobAndChargesNothing) {
  testing::CreatedUser u = NewUser({{"name", "A"}, {"plan", {{"monthly_credits", 10}}}});
  HttpReply first = SubmitJob(u.key, "once");
  ASSERT_EQ(first.status, 201);
  for (int i = 0; i < 5; ++i) {
    HttpReply again = SubmitJob(u.key, "once");
    EXPECT_EQ(again.status, 200);
    EXPECT_EQ(Json(again)["job"]["id"], Json(first)["job"]["id"]);
  }
  json usage = Json(Admin("GET", "/v1/users/" + u.id + "/usage"));
  EXPECT_EQ(usage["environments"]["live"]["units"], 1);
  EXPECT_EQ(usage["credits"]["remaining"], 9);
}

TEST_F(ServerTest, TestAndLiveJobsAreInvisibleToEachOtherAndOtherTenantsGet404) {
  testing::CreatedUser a = NewUser({{"name", "A"}});
  testing::CreatedUser b = NewUser({{"name", "B"}});
  auto [a_test, a_test_id] = Issue(a.id, {{"environment", "test"}});
  std::string live_job = Json(SubmitJob(a.key, "same-id"))["job"]["id"];
  HttpReply t = SubmitJob(a_test, "same-id");  // same job_id, other environment: a new job
  ASSERT_EQ(t.status, 201);
  std::string test_job = Json(t)["job"]["id"];
  EXPECT_NE(live_job, test_job);
  EXPECT_EQ(Json(t)["job"]["environment"], "test");
  EXPECT_EQ(Json(t)["job"]["charged"], false);

  auto get = [&](const std::string& key, const std::string& id) {
    return testing::HttpGet(addr(), "/v1/ai/jobs/" + id, {testing::KeyAuth(key)}).status;
  };
  EXPECT_EQ(get(a.key, live_job), 200);
  EXPECT_EQ(get(a.key, test_job), 404);
  EXPECT_EQ(get(a_test, test_job), 200);
  EXPECT_EQ(get(a_test, live_job), 404);
  EXPECT_EQ(get(b.key, live_job), 404);  // another tenant's job: 404, never 403

  json live_list = Json(testing::HttpGet(addr(), "/v1/ai/jobs", {testing::KeyAuth(a.key)}));
  ASSERT_EQ(live_list["jobs"].size(), 1u);
  EXPECT_EQ(live_list["jobs"][0]["id"], live_job);
  EXPECT_TRUE(Json(testing::HttpGet(addr(), "/v1/ai/jobs", {testing::KeyAuth(b.key)}))["jobs"].empty());

  json usage = Json(Admin("GET", "/v1/users/" + a.id + "/usage"));
  EXPECT_EQ(usage["environments"]["live"]["charged"], 1);
  EXPECT_EQ(usage["environments"]["test"]["units"], 1);
  EXPECT_EQ(usage["environments"]["test"]["charged"], 0);
}

TEST_F(ServerTest, TwoHundredConcurrentSubmissionsSpendExactlyTheQuota) {
  testing::CreatedUser u = NewUser({{"name", "Fifty"}, {"plan", {{"monthly_credits", 50}}}});
  constexpr int kRequests = 200, kThreads = 20;
  std::atomic<int> created{0}, exceeded{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      testing::HttpConnection c(addr());
      for (int i = t; i < kRequests; i += kThreads) {
        HttpReply r = c.Send("POST", "/v1/ai/jobs", {testing::KeyAuth(u.key)},
                             json{{"job_id", "job-" + std::to_string(i)}, {"task", "echo"}}.dump());
        if (r.status == 201) {
          created++;
        } else if (r.status == 429 && r.body.find("QUOTA_EXCEEDED") != std::string::npos) {
          exceeded++;
        } else {
          other++;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 50);
  EXPECT_EQ(exceeded.load(), 150);
  EXPECT_EQ(other.load(), 0);
  json usage = Json(Admin("GET", "/v1/users/" + u.id + "/usage"));
  EXPECT_EQ(usage["environments"]["live"]["units"], 50);
  EXPECT_EQ(usage["environments"]["live"]["entries"], 50);
  EXPECT_EQ(usage["credits"]["remaining"], 0);
}

TEST_F(ServerTest, JobsNeedTheJobScopes) {
  testing::CreatedUser u = NewUser({{"name", "A"}, {"issue_key", false}});
  auto [reader, id] = Issue(u.id, {{"scopes", {"jobs:read"}}});
  HttpReply r = SubmitJob(reader, "x");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Json(r)["error"]["code"], "INSUFFICIENT_SCOPE");
  EXPECT_EQ(testing::HttpGet(addr(), "/v1/ai/jobs", {testing::KeyAuth(reader)}).status, 200);
}

}  // namespace
}  // namespace keyward
