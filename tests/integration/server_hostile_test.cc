// Hostile and broken requests: each gets its documented 4xx with a JSON
// error body, and the server keeps serving valid requests afterwards.
#include <gtest/gtest.h>

#include "support/server_fixture.h"

namespace keyward {
namespace {

using nlohmann::json;
using testing::HttpConnection;
using testing::HttpReply;
using testing::ServerTest;

struct Hostile {
  std::string name;
  std::string raw;       // full request bytes; "{KEY}" / "{ADMIN}" / "{USER}" substituted
  int status;
  std::string code;      // expected error.code ("" = any)
};

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

std::string Post(const std::string& path, const std::string& auth, const std::string& body) {
  return "POST " + path + " HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Type: application/json\r\n" +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string Get(const std::string& path, const std::string& headers = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: x\r\n" + headers + "\r\n";
}

const std::string kKeyAuth = "Authorization: Api-Key {KEY}\r\n";
const std::string kAdminAuth = "Authorization: Bearer {ADMIN}\r\n";

std::vector<Hostile> Table() {
  std::string big_header(10 * 1024, 'a');
  std::string huge_body(2 * 1024 * 1024, 'x');
  return {
      {"no authorization", Get("/v1/authz"), 401, "MISSING"},
      {"empty authorization", Get("/v1/authz", "Authorization: \r\n"), 401, "MISSING"},
      {"duplicate authorization", Get("/v1/authz", kKeyAuth + kKeyAuth), 401, "MALFORMED"},
      {"bearer scheme on key route", Get("/v1/authz", "Authorization: Bearer {KEY}\r\n"), 401, "MALFORMED"},
      {"basic scheme", Get("/v1/authz", "Authorization: Basic dXNlcjpwYXNz\r\n"), 401, "MALFORMED"},
      {"scheme without key", Get("/v1/authz", "Authorization: Api-Key \r\n"), 401, "MALFORMED"},
      {"bad checksum", Get("/v1/authz", "Authorization: Api-Key kw_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n"), 401, "MALFORMED"},
      {"key with trailing junk", Get("/v1/authz", "Authorization: Api-Key {KEY}x\r\n"), 401, "MALFORMED"},
      {"key with quote", Get("/v1/authz", "Authorization: Api-Key kw_live_'--\r\n"), 401, "MALFORMED"},
      {"10 KB header", Get("/v1/authz", "X-Big: " + big_header + "\r\n"), 431, "HEADERS_TOO_LARGE"},
      {"huge body", Post("/v1/keys/verify", "", huge_body), 413, "BODY_TOO_LARGE"},
      {"malformed json", Post("/v1/keys/verify", "", "{\"key\":"), 400, "INVALID_JSON"},
      {"non-utf8 json", Post("/v1/keys/verify", "", "{\"key\":\"\xff\xfe\"}"), 400, "INVALID_JSON"},
      {"json array body", Post("/v1/keys/verify", "", "[1,2]"), 400, "INVALID_ARGUMENT"},
      {"empty body", Post("/v1/keys/verify", "", ""), 400, "INVALID_ARGUMENT"},
      {"key of wrong type", Post("/v1/keys/verify", "", R"({"key":42})"), 400, "INVALID_ARGUMENT"},
      {"scopes of wrong type", Post("/v1/keys/verify", "", R"({"key":"x","scopes":"a"})"), 400, "INVALID_ARGUMENT"},
      {"negative cost", Post("/v1/keys/verify", "", R"({"key":"x","cost":-1})"), 400, "INVALID_ARGUMENT"},
      {"fractional cost", Post("/v1/keys/verify", "", R"({"key":"x","cost":1.5})"), 400, "INVALID_ARGUMENT"},
      {"unknown verify field", Post("/v1/keys/verify", "", R"({"key":"x","admin":true})"), 400, "INVALID_ARGUMENT"},
      {"unknown route", Get("/v1/nothing"), 404, "NOT_FOUND"},
      {"unknown method", "BREW /v1/authz HTTP/1.1\r\nHost: x\r\n\r\n", 405, "METHOD_NOT_ALLOWED"},
      {"wrong method", "PUT /v1/keys/verify HTTP/1.1\r\nHost: x\r\n\r\n", 405, "METHOD_NOT_ALLOWED"},
      {"dot-dot user id", Get("/v1/users/../../etc/passwd", kAdminAuth), 404, "NOT_FOUND"},
      {"encoded dot-dot id", Get("/v1/users/..%2F..%2Fetc", kAdminAuth), 404, "NOT_FOUND"},
      {"NUL in id", Get("/v1/users/usr_%00", kAdminAuth), 404, "NOT_FOUND"},
      {"SQL in id", Get("/v1/users/usr_'%20OR%201=1--", kAdminAuth), 404, "NOT_FOUND"},
      {"quotes in key id", Get("/v1/keys/key_%22%27", kAdminAuth), 404, "NOT_FOUND"},
      {"SQL in job id", Get("/v1/ai/jobs/1'%20OR%20'1'='1", kKeyAuth), 404, "NOT_FOUND"},
      {"other tenant's user id shape", Get("/v1/users/usr_AAAAAAAAAAAAAAAAAAAA", kAdminAuth), 404, "NOT_FOUND"},
      {"job without job_id", Post("/v1/ai/jobs", kKeyAuth, R"({"task":"echo"})"), 400, "INVALID_ARGUMENT"},
      {"job with unknown task", Post("/v1/ai/jobs", kKeyAuth, R"({"job_id":"a","task":"rm -rf"})"), 400, "INVALID_ARGUMENT"},
      {"job_id too long", Post("/v1/ai/jobs", kKeyAuth, "{\"job_id\":\"" + std::string(200, 'j') + "\",\"task\":\"echo\"}"), 400, "INVALID_ARGUMENT"},
      {"job payload the task rejects", Post("/v1/ai/jobs", kKeyAuth, R"({"job_id":"b","task":"wordcount","payload":{"text":5}})"), 400, "INVALID_ARGUMENT"},
      {"job list bad limit", Get("/v1/ai/jobs?limit=-3", kKeyAuth), 400, "INVALID_ARGUMENT"},
      {"create user without name", Post("/v1/users", kAdminAuth, R"({"email":"a@b.c"})"), 400, "INVALID_ARGUMENT"},
      {"create user bad plan", Post("/v1/users", kAdminAuth, R"({"name":"x","plan":{"monthly_credits":"lots"}})"), 400, "INVALID_ARGUMENT"},
      {"issue key bad environment", Post("/v1/users/{USER}/keys", kAdminAuth, R"({"environment":"prod"})"), 400, "INVALID_ARGUMENT"},
      {"issue key bad expiry", Post("/v1/users/{USER}/keys", kAdminAuth, R"({"expires_at":"tomorrow"})"), 400, "INVALID_ARGUMENT"},
      {"issue key expiry in the past", Post("/v1/users/{USER}/keys", kAdminAuth, R"({"expires_at":"2001-01-01T00:00:00Z"})"), 400, "INVALID_ARGUMENT"},
      {"usage bad range", Get("/v1/users/{USER}/usage?from=2027-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", kAdminAuth), 400, "INVALID_ARGUMENT"},
      {"bad http version", "GET /v1/authz HTTP/9.9\r\nHost: x\r\n\r\n", 400, ""},
      {"garbage request line", "HELLO\r\n\r\n", 400, ""},
  };
}

TEST_F(ServerTest, HostileRequestsGetTheirDocumentedErrorAndServingContinues) {
  testing::CreatedUser u = NewUser();
  std::vector<Hostile> table = Table();
  for (const Hostile& h : table) {
    std::string raw = Replace(Replace(Replace(h.raw, "{KEY}", u.key), "{ADMIN}", testing::kAdminToken),
                              "{USER}", u.id);
    HttpConnection c(addr());
    HttpReply r = c.RoundTrip(raw);
    EXPECT_EQ(r.status, h.status) << h.name << ": " << r.body;
    json j = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(j.is_object() && j.contains("error")) << h.name << ": " << r.body;
    EXPECT_TRUE(j["error"]["message"].is_string()) << h.name;
    if (!h.code.empty()) {
      EXPECT_EQ(j["error"]["code"], h.code) << h.name;
    }
    // After each, a valid request on a new connection still works.
    EXPECT_EQ(Authz(u.key).status, 200) << "after " << h.name;
  }
  // The key never reached storage through any of this: still exactly one key.
  EXPECT_EQ(Json(Admin("GET", "/v1/users/" + u.id + "/keys"))["keys"].size(), 1u);
}

TEST_F(ServerTest, EveryAdminRouteRefusesMissingOrWrongToken) {
  testing::CreatedUser u = NewUser();
  std::vector<std::pair<std::string, std::string>> routes = {
      {"POST", "/v1/users"},
      {"GET", "/v1/users"},
      {"GET", "/v1/users/" + u.id},
      {"PATCH", "/v1/users/" + u.id},
      {"DELETE", "/v1/users/" + u.id},
      {"POST", "/v1/users/" + u.id + "/keys"},
      {"GET", "/v1/users/" + u.id + "/keys"},
      {"POST", "/v1/users/" + u.id + "/keys/revoke"},
      {"GET", "/v1/users/" + u.id + "/usage"},
      {"GET", "/v1/keys/" + u.key_id},
      {"POST", "/v1/keys/" + u.key_id + "/revoke"},
      {"POST", "/v1/keys/" + u.key_id + "/rotate"},
      {"DELETE", "/v1/keys/" + u.key_id},
  };
  for (const auto& [method, path] : routes) {
    for (std::vector<std::pair<std::string, std::string>> headers :
         {std::vector<std::pair<std::string, std::string>>{},
          {{"Authorization", "Bearer wrong-token-0123456789"}},
          {{"Authorization", std::string("Bearer ") + testing::kAdminToken + "x"}},
          {{"Authorization", std::string("bearer") + testing::kAdminToken}},
          {{"Authorization", "Api-Key " + u.key}}}) {
      HttpConnection c(addr());
      HttpReply r = c.Send(method, path, headers, method == "GET" || method == "DELETE" ? "" : "{}");
      EXPECT_EQ(r.status, 401) << method << " " << path;
      EXPECT_EQ(Json(r)["error"]["code"], "UNAUTHENTICATED") << method << " " << path;
    }
  }
  // Nothing was changed by any of them.
  EXPECT_EQ(Authz(u.key).status, 200);
}

TEST(ServerWithoutAdminToken, AdminRoutesSayTheyAreNotConfigured) {
  testing::TempDir dir;
  testing::ServerProcess server(dir.File("k.db"), dir.File("log"), {},
                                {"KEYWARD_ADMIN_TOKEN="});
  ASSERT_TRUE(server.started());
  HttpReply r = testing::HttpGet(server.address(), "/v1/users", {testing::AdminAuth()});
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.body.find("ADMIN_DISABLED"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("KEYWARD_ADMIN_TOKEN"), std::string::npos);
  EXPECT_EQ(server.Stop(), 0);
  EXPECT_NE(server.Errors().find("admin API disabled"), std::string::npos);
}

TEST_F(ServerTest, KeepAliveConnectionServesManyRequestsAndPipelining) {
  testing::CreatedUser u = NewUser();
  HttpConnection c(addr());
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(c.Send("GET", "/v1/authz", {testing::KeyAuth(u.key)}).status, 200);
  }
  std::string one = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  HttpReply first = c.RoundTrip(one + one + one);
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(c.RoundTrip("").status, 200);
  EXPECT_EQ(c.RoundTrip("").status, 200);
}

TEST_F(ServerTest, IdleConnectionsAreClosedAfterTheIdleTimeout) {
  server_.reset();
  Start({}, {"KEYWARD_IDLE_TIMEOUT_MS=300", "KEYWARD_READ_TIMEOUT_MS=300"});
  HttpConnection idle(addr());
  EXPECT_TRUE(idle.PeerClosed());
  // A slow client that never finishes its header is cut off too.
  HttpConnection slow(addr());
  HttpReply r = slow.RoundTrip("GET /v1/authz HTTP/1.1\r\nHost: x\r\nX-Slow: ");
  EXPECT_TRUE(r.status == 408 || r.status == 0) << r.status;
  EXPECT_TRUE(slow.PeerClosed());
  EXPECT_EQ(testing::HttpGet(addr(), "/healthz").status, 200);
}

// The watchdog sleeps at most the shorter of the two timeouts at a time; an
// idle timeout far below the read timeout still ends a keep-alive connection
// that has served requests, and one request's own read deadline still holds.
TEST_F(ServerTest, AnIdleTimeoutShorterThanTheReadTimeoutEndsAKeepAliveConnection) {
  server_.reset();
  Start({}, {"KEYWARD_IDLE_TIMEOUT_MS=300", "KEYWARD_READ_TIMEOUT_MS=60000"});
  HttpConnection c(addr());
  for (int i = 0; i < 3; ++i) ASSERT_EQ(c.Send("GET", "/healthz").status, 200);
  EXPECT_TRUE(c.PeerClosed());
  server_.reset();
  Start({}, {"KEYWARD_IDLE_TIMEOUT_MS=60000", "KEYWARD_READ_TIMEOUT_MS=300"});
  HttpConnection slow(addr());
  for (int i = 0; i < 3; ++i) ASSERT_EQ(slow.Send("GET", "/healthz").status, 200);
  slow.RoundTrip("GET /healthz HTTP/1.1\r\nHost");
  EXPECT_TRUE(slow.PeerClosed());
}

}  // namespace
}  // namespace keyward
