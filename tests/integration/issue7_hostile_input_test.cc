// Regression tests for issue 7 (hostile input): each failed before its fix.
#include <gtest/gtest.h>

#include "auth/scopes.h"
#include "support/server_fixture.h"

namespace keyward {
namespace {

using nlohmann::json;
using testing::HttpConnection;
using testing::HttpGet;
using testing::HttpReply;
using testing::KeyAuth;
using testing::ServerTest;

std::string Nested(std::size_t depth) {
  return std::string(depth, '[') + "1" + std::string(depth, ']');
}

// Finding 1: one request with a deeply nested payload overflowed the stack
// and killed the server. Every JSON body on every route is depth-limited.
TEST_F(ServerTest, Issue7_DeeplyNestedJsonIsRefusedOnEveryRouteAndTheServerLives) {
  testing::CreatedUser u = NewUser();
  const std::string deep = Nested(100'000);
  struct Case {
    std::string method, path, body;
    bool admin;
  };
  std::vector<Case> cases = {
      {"POST", "/v1/ai/jobs", R"({"job_id":"d","task":"echo","payload":{"a":)" + deep + "}}", false},
      {"POST", "/v1/queue/jobs", R"({"job_id":"d","task":"echo","payload":{"a":)" + deep + "}}", false},
      {"POST", "/v1/keys/verify", R"({"key":"x","scopes":)" + deep + "}", false},
      {"POST", "/v1/users", R"({"name":"x","plan":{"allowed_scopes":)" + deep + "}}", true},
      {"PATCH", "/v1/users/" + u.id, R"({"plan":)" + deep + "}", true},
      {"POST", "/v1/users/" + u.id + "/keys", R"({"scopes":)" + deep + "}", true},
      {"POST", "/v1/keys/" + u.key_id + "/rotate", R"({"grace_seconds":)" + deep + "}", true},
  };
  for (const Case& c : cases) {
    HttpConnection conn(addr());
    HttpReply r = conn.Send(c.method, c.path,
                            {c.admin ? testing::AdminAuth() : KeyAuth(u.key),
                             {"Content-Type", "application/json"}},
                            c.body);
    EXPECT_EQ(r.status, 400) << c.method << " " << c.path << ": " << r.body;
    json j = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << r.body;
    EXPECT_EQ(j["error"]["code"], "INVALID_ARGUMENT") << c.path;
    EXPECT_NE(j["error"]["message"].get<std::string>().find("64"), std::string::npos) << r.body;
    ASSERT_EQ(HttpGet(addr(), "/healthz").status, 200) << "server died after " << c.path;
  }
  // Nesting within the limit is still accepted, stored and read back.
  std::string ok_payload = R"({"a":)" + Nested(60) + "}";
  HttpReply r = testing::HttpPost(addr(), "/v1/ai/jobs",
                                  R"({"job_id":"ok","task":"echo","payload":)" + ok_payload + "}",
                                  {KeyAuth(u.key)});
  ASSERT_EQ(r.status, 201) << r.body;
  HttpReply got = HttpGet(addr(), "/v1/ai/jobs/ok", {KeyAuth(u.key)});
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(Json(got)["job"]["payload"], json::parse(ok_payload));
}

TEST_F(ServerTest, Issue7_DuplicateJsonKeysAreRefused) {
  testing::CreatedUser u = NewUser();
  HttpReply r = testing::HttpPost(addr(), "/v1/ai/jobs",
                                  R"({"job_id":"a","task":"echo","job_id":"b","payload":{}})",
                                  {KeyAuth(u.key)});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(Json(r)["error"]["code"], "INVALID_ARGUMENT");
}

// Finding 2: a client header relaxed the environment the operator required
// in the query. Requirements from every source now all apply.
TEST_F(ServerTest, Issue7_AClientCannotRelaxTheRequiredEnvironment) {
  testing::CreatedUser u = NewUser();
  auto [test_key, test_id] = Issue(u.id, {{"environment", "test"}});
  HttpReply r = HttpGet(addr(), "/v1/authz?environment=live",
                        {KeyAuth(test_key), {"X-Keyward-Required-Environment", "test"}});
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(r.Header("x-keyward-error"), "WRONG_ENVIRONMENT");
  // The same the other way round, and with the live key.
  EXPECT_EQ(HttpGet(addr(), "/v1/authz?environment=test",
                    {KeyAuth(test_key), {"X-Keyward-Required-Environment", "live"}}).status, 403);
  EXPECT_EQ(HttpGet(addr(), "/v1/authz?environment=live",
                    {KeyAuth(u.key), {"X-Keyward-Required-Environment", "test"}}).status, 403);
  // A repeated environment parameter: both apply.
  EXPECT_EQ(Authz(test_key, "?environment=live&environment=test").status, 403);
  EXPECT_EQ(Authz(test_key, "?environment=test&environment=live").status, 403);
  // Agreeing requirements pass.
  EXPECT_EQ(HttpGet(addr(), "/v1/authz?environment=test",
                    {KeyAuth(test_key), {"X-Keyward-Required-Environment", "test"}}).status, 200);
  // A client header can make the check stricter.
  EXPECT_EQ(HttpGet(addr(), "/v1/authz", {KeyAuth(test_key), {"X-Keyward-Required-Environment", "live"}}).status, 403);
}

// Finding 2 and issue 15: every required scope holds, whatever its source and order.
TEST_F(ServerTest, Issue7_EveryRequiredScopeMustBeHeldInAnyOrderAndFromAnySource) {
  testing::CreatedUser u = NewUser();
  auto [reader, reader_id] = Issue(u.id, {{"scopes", {"jobs:read"}}});
  EXPECT_EQ(Authz(reader, "?scope=jobs:read").status, 200);
  EXPECT_EQ(Authz(reader, "?scope=jobs:read&scope=jobs:write").status, 403);
  EXPECT_EQ(Authz(reader, "?scope=jobs:write&scope=jobs:read").status, 403);
  // List forms are lists, never one literal scope.
  EXPECT_EQ(Authz(reader, "?scope=jobs:read,jobs:write").status, 403);
  EXPECT_EQ(Authz(reader, "?scope=jobs:write%20jobs:read").status, 403);
  EXPECT_EQ(Authz(u.key, "?scope=jobs:read,jobs:write").status, 200);
  // Query and header both apply.
  EXPECT_EQ(HttpGet(addr(), "/v1/authz?scope=jobs:read",
                    {KeyAuth(reader), {"X-Keyward-Required-Scope", "jobs:write"}}).status, 403);
  EXPECT_EQ(HttpGet(addr(), "/v1/authz?scope=jobs:write",
                    {KeyAuth(reader), {"X-Keyward-Required-Scope", "jobs:read"}}).status, 403);
  EXPECT_EQ(HttpGet(addr(), "/v1/authz",
                    {KeyAuth(reader), {"X-Keyward-Required-Scope", "jobs:read"},
                     {"X-Keyward-Required-Scope", "jobs:write"}}).status, 403);
  // Invalid requirements are refused, never ignored.
  for (const char* q : {"?scope=", "?scope=%zz", "?scope=Jobs", "?scope=*", "?environment=prod",
                        "?environment="}) {
    HttpReply r = Authz(u.key, q);
    EXPECT_EQ(r.status, 400) << q;
    EXPECT_EQ(r.Header("x-keyward-error"), "INVALID_ARGUMENT") << q;
  }
}

// Finding 3: a key minted for one queued job was a full identity elsewhere.
TEST_F(ServerTest, Issue7_AJobBoundKeyIsWorthOnlyItsOwnJob) {
  testing::CreatedUser u = NewUser();
  auto [job_key, job_key_id] = Issue(u.id, {{"scopes", {auth::JobSubmitScope("j1")}}});
  HttpReply authz = Authz(job_key);
  EXPECT_EQ(authz.status, 403);
  EXPECT_EQ(authz.Header("x-keyward-error"), "INSUFFICIENT_SCOPE");
  json v = Verify({{"key", job_key}});
  EXPECT_EQ(v["valid"], false);
  EXPECT_EQ(v["code"], "INSUFFICIENT_SCOPE");
  EXPECT_EQ(Verify({{"key", job_key}, {"scopes", {auth::JobSubmitScope("j1")}}})["valid"], true);
  EXPECT_EQ(SubmitJob(job_key, "j2").status, 403);
  EXPECT_EQ(SubmitJob(job_key, "j1").status, 201);
  EXPECT_EQ(HttpGet(addr(), "/v1/ai/jobs/j1", {KeyAuth(job_key)}).status, 200);
  ASSERT_EQ(SubmitJob(u.key, "j3").status, 201);
  EXPECT_EQ(HttpGet(addr(), "/v1/ai/jobs/j3", {KeyAuth(job_key)}).status, 403);
  EXPECT_EQ(HttpGet(addr(), "/v1/ai/jobs/nope", {KeyAuth(job_key)}).status, 403);
  EXPECT_EQ(HttpGet(addr(), "/v1/ai/jobs", {KeyAuth(job_key)}).status, 403);
  EXPECT_EQ(testing::HttpPost(addr(), "/v1/queue/jobs", R"({"job_id":"j1","task":"echo","payload":{}})",
                              {KeyAuth(job_key)}).status, 403);
  // A key with jobs:write only still may not read.
  auto [writer, writer_id] = Issue(u.id, {{"scopes", {"jobs:write"}}});
  EXPECT_EQ(HttpGet(addr(), "/v1/ai/jobs/j1", {KeyAuth(writer)}).status, 403);
  EXPECT_EQ(Authz(writer).status, 200);
}

}  // namespace
}  // namespace keyward
