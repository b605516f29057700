// Regression tests for issue 7 (hostile input): each failed before its fix.
#include <gtest/gtest.h>

#include <set>

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

namespace keyward {
namespace {

using nlohmann::json;
using testing::HttpConnection;
using testing::HttpReply;
using testing::KeyAuth;
using testing::ServerTest;

// Finding 7: a body sent to a route whose key is missing or refused is never
// read: the refusal comes as soon as the headers are in.
TEST_F(ServerTest, Issue7_ABodyIsNotReadBeforeItsRouteAcceptsTheCaller) {
  testing::CreatedUser u = NewUser();
  for (const std::string& auth : std::vector<std::string>{"", "Authorization: Api-Key kw_live_bad\r\n",
                                                          "Authorization: Bearer wrong-token-0123456789\r\n"}) {
    HttpConnection c(addr());
    // Announces a 900 KB body and sends none of it.
    HttpReply r = c.RoundTrip("POST /v1/ai/jobs HTTP/1.1\r\nHost: x\r\n" + auth +
                              "Content-Type: application/json\r\nContent-Length: 900000\r\n\r\n");
    EXPECT_EQ(r.status, 401) << auth;
    EXPECT_EQ(r.Header("connection"), "close");
    EXPECT_TRUE(c.PeerClosed());
  }
  // An accepted caller's body is read as usual, also when the client waits
  // for 100 Continue first.
  HttpConnection c(addr());
  std::string body = R"({"job_id":"after-continue","task":"echo","payload":{}})";
  HttpReply r = c.RoundTrip("POST /v1/ai/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Api-Key " + u.key +
                            "\r\nExpect: 100-continue\r\nContent-Length: " + std::to_string(body.size()) +
                            "\r\n\r\n" + body);
  if (r.status == 100) r = c.RoundTrip("");
  EXPECT_EQ(r.status, 201) << r.body;
}

class ShortReadTimeout : public ServerTest {
 protected:
  void SetUp() override { Start({}, {"KEYWARD_READ_TIMEOUT=300ms", "KEYWARD_IDLE_TIMEOUT=60s"}); }
};

// Finding 7: a new connection got the 60 s idle window for its first request.
// The read timeout applies from the moment a connection is accepted, and to
// a request from its first byte.
TEST_F(ShortReadTimeout, Issue7_TheReadTimeoutRunsFromAcceptAndFromTheFirstByte) {
  HttpConnection silent(addr());
  EXPECT_TRUE(silent.PeerClosed());  // within 2 s, far short of the idle timeout
  HttpConnection slow(addr());
  ASSERT_TRUE(slow.connected());
  // Keep-alive: a request, then one byte of the next; the rest never comes.
  HttpReply first = slow.Send("GET", "/healthz");
  ASSERT_EQ(first.status, 200);
  slow.RoundTrip("G");
  EXPECT_TRUE(slow.PeerClosed());
  EXPECT_EQ(testing::HttpGet(addr(), "/healthz").status, 200);
}

class FewConnections : public ServerTest {
 protected:
  void SetUp() override { Start({}, {"KEYWARD_MAX_CONNECTIONS=3"}); }
};

// Finding 7: there was no connection limit. At the limit new connections
// wait in the backlog; they are served once an open one closes.
TEST_F(FewConnections, Issue7_AtTheConnectionLimitNewConnectionsWaitAndAreThenServed) {
  std::vector<std::unique_ptr<HttpConnection>> open;
  for (int i = 0; i < 3; ++i) {
    open.push_back(std::make_unique<HttpConnection>(addr()));
    ASSERT_EQ(open.back()->Send("GET", "/healthz").status, 200);
  }
  // A fourth is accepted by the kernel, not by keyward: no answer yet.
  HttpConnection fourth(addr());
  ASSERT_TRUE(fourth.connected());
  fourth.Write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_FALSE(fourth.Readable(300));
  std::vector<std::unique_ptr<HttpConnection>> waiting;
  for (int i = 0; i < 20; ++i) waiting.push_back(std::make_unique<HttpConnection>(addr()));
  open.clear();  // three slots free up: the fourth is served first
  EXPECT_EQ(fourth.RoundTrip("").status, 200);
  for (auto& c : waiting) {
    ASSERT_TRUE(c->connected());
    EXPECT_EQ(c->Send("GET", "/healthz").status, 200);
    c.reset();  // and make room for the next
  }
  EXPECT_EQ(testing::HttpGet(addr(), "/healthz").status, 200);
}

class SmallQueue : public ServerTest {
 protected:
  void SetUp() override { Start({}, {"KEYWARD_MAX_QUEUED_PER_USER=2", "KEYWARD_TEST_RATE_LIMIT=1"}); }
};

// Finding 6: test keys' queue entries and traffic were unbounded.
TEST_F(SmallQueue, Issue7_QueueEntriesAndTestTrafficAreBoundedPerUser) {
  testing::CreatedUser u = NewUser();
  auto enqueue = [&](const std::string& key, const std::string& job_id) {
    return testing::HttpPost(addr(), "/v1/queue/jobs",
                             json{{"job_id", job_id}, {"task", "echo"}, {"payload", json::object()}}.dump(),
                             {KeyAuth(key)});
  };
  EXPECT_EQ(enqueue(u.key, "a").status, 201);
  EXPECT_EQ(enqueue(u.key, "b").status, 201);
  HttpReply full = enqueue(u.key, "c");
  EXPECT_EQ(full.status, 429);
  EXPECT_EQ(Json(full)["error"]["code"], "TOO_MANY_PENDING");
  EXPECT_GE(std::stoi(full.Header("retry-after")), 1);
  EXPECT_EQ(enqueue(u.key, "a").status, 200);  // a repeat is still answered
  // Test traffic: the server default (1/s here) applies without a plan limit.
  auto [test_key, test_id] = Issue(u.id, {{"environment", "test"}});
  EXPECT_EQ(Authz(test_key).status, 200);
  HttpReply limited = Authz(test_key);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.Header("x-keyward-error"), "RATE_LIMITED");
  EXPECT_EQ(Authz(u.key).status, 200);  // live traffic has no limit here
}

// Issue 15: a job_id replayed with another payload was answered 200 with the
// original, silently.
TEST_F(ServerTest, Issue15_AReplayedJobIdWithAnotherPayloadIsAConflict) {
  testing::CreatedUser u = NewUser();
  ASSERT_EQ(SubmitJob(u.key, "same", "echo", {{"n", 1}}).status, 201);
  EXPECT_EQ(SubmitJob(u.key, "same", "echo", {{"n", 1}}).status, 200);
  HttpReply conflict = SubmitJob(u.key, "same", "echo", {{"n", 2}});
  EXPECT_EQ(conflict.status, 409);
  EXPECT_EQ(Json(conflict)["error"]["code"], "JOB_ID_CONFLICT");
  EXPECT_EQ(conflict.Header("x-keyward-error"), "JOB_ID_CONFLICT");
  // A payload that is not an object is refused everywhere.
  for (const char* path : {"/v1/ai/jobs", "/v1/queue/jobs"}) {
    HttpReply r = testing::HttpPost(addr(), path, R"({"job_id":"s","task":"echo","payload":"text"})", {KeyAuth(u.key)});
    EXPECT_EQ(r.status, 400) << path;
  }
  // Unknown query parameters are refused like unknown body fields.
  EXPECT_EQ(testing::HttpGet(addr(), "/v1/ai/jobs?limit=5&sort=desc", {KeyAuth(u.key)}).status, 400);
  // GET on the verify route is 405, not a key lookup.
  HttpReply wrong = HttpGet(addr(), "/v1/keys/verify", {testing::AdminAuth()});
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.Header("allow"), "POST");
}

// Finding 8: secrets must not reach a core dump or another process's view
// of the environment.
TEST_F(ServerTest, Issue7_TheServerDumpsNoCoreAndDropsItsSecretsFromTheEnvironment) {
  std::string pid = std::to_string(server_->pid());
  std::string limits = testing::ReadFileBytes("/proc/" + pid + "/limits");
  EXPECT_NE(limits.find("Max core file size        0                    0"), std::string::npos) << limits;
  std::string environ = testing::ReadFileBytes("/proc/" + pid + "/environ");
  EXPECT_EQ(environ.find(testing::kAdminToken), std::string::npos);
  EXPECT_EQ(environ.find("KEYWARD_ADMIN_TOKEN"), std::string::npos);
}

// Issue 8: every list pages with an opaque cursor, over HTTP too.
TEST_F(ServerTest, Issue8_ListsPageWithCursors) {
  testing::CreatedUser u = NewUser();
  for (int i = 0; i < 5; ++i) ASSERT_EQ(SubmitJob(u.key, "p" + std::to_string(i)).status, 201);
  std::set<std::string> seen;
  std::string after;
  int pages = 0;
  for (;; ++pages) {
    HttpReply r = testing::HttpGet(addr(), "/v1/ai/jobs?limit=2" + (after.empty() ? "" : "&after=" + after),
                                   {KeyAuth(u.key)});
    ASSERT_EQ(r.status, 200) << r.body;
    json page = Json(r);
    for (const json& j : page["jobs"]) {
      seen.insert(j["job_id"]);
      EXPECT_FALSE(j.contains("payload"));
    }
    if (page["next"].is_null()) break;
    after = page["next"];
  }
  EXPECT_EQ(pages, 2);
  EXPECT_EQ(seen.size(), 5u);
  EXPECT_EQ(testing::HttpGet(addr(), "/v1/ai/jobs?limit=1001", {KeyAuth(u.key)}).status, 400);
  EXPECT_EQ(testing::HttpGet(addr(), "/v1/ai/jobs?after=bogus", {KeyAuth(u.key)}).status, 400);
  json users = Json(Admin("GET", "/v1/users?limit=1"));
  EXPECT_EQ(users["users"].size(), 1u);
}

}  // namespace
}  // namespace keyward
