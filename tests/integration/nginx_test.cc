// nginx auth_request in front of an application, asking keyward: identity
// headers reach the application; 401/403/429 reach the client. Uses Debian's
// nginx and deploy/nginx/keyward-auth.conf.in as shipped.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "core/http_signature.h"
#include "support/eventually.h"
#include "support/server_fixture.h"
#include "support/subprocess.h"

namespace keyward {
namespace {

using nlohmann::json;
using testing::HttpReply;

std::string Substitute(std::string s, const std::map<std::string, std::string>& vars) {
  for (const auto& [k, v] : vars) {
    for (std::size_t at = s.find(k); at != std::string::npos; at = s.find(k, at + v.size())) s.replace(at, k.size(), v);
  }
  return s;
}

class NginxTest : public testing::ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    ASSERT_TRUE(std::filesystem::exists("/usr/sbin/nginx")) << "nginx is not installed (scripts/install-deps)";
    std::string prefix = dir_.File("nginx");
    std::filesystem::create_directories(prefix + "/tmp");
    front_ = "127.0.0.1:" + std::to_string(testing::FreeLoopbackPort());
    std::string app = "127.0.0.1:" + std::to_string(testing::FreeLoopbackPort());
    std::string tmpl = testing::ReadFileBytes(std::string(KEYWARD_SOURCE_DIR) + "/deploy/nginx/keyward-auth.conf.in");
    ASSERT_FALSE(tmpl.empty());
    std::string conf = prefix + "/nginx.conf";
    std::ofstream(conf) << Substitute(tmpl, {{"@PREFIX@", prefix}, {"@KEYWARD@", addr()},
                                              {"@LISTEN@", front_}, {"@APP@", app}});
    nginx_ = fork();
    if (nginx_ == 0) {
      execl("/usr/sbin/nginx", "nginx", "-c", conf.c_str(), "-p", prefix.c_str(), nullptr);
      _exit(127);
    }
    // Ready when the front port answers (bounded wait, no fixed sleep).
    if (testing::Eventually([&] { return testing::HttpConnection(front_).connected(); },
                            std::chrono::seconds(10), std::chrono::milliseconds(5))) {
      return;
    }
    FAIL() << "nginx did not start: " << testing::ReadFileBytes(prefix + "/error.log");
  }
  void TearDown() override {
    if (nginx_ > 0) {
      kill(nginx_, SIGTERM);
      int status;
      waitpid(nginx_, &status, 0);
    }
  }

  HttpReply Through(const std::string& key) {
    return testing::HttpGet(front_, "/app/resource", key.empty() ? std::vector<std::pair<std::string, std::string>>{}
                                                                 : std::vector{testing::KeyAuth(key)});
  }

  std::string front_;
  pid_t nginx_ = -1;
};

TEST_F(NginxTest, IdentityHeadersReachTheUpstreamAndRefusalsReachTheClient) {
  testing::CreatedUser u = NewUser({{"name", "Behind nginx"}, {"plan", {{"rate_limit", 0.01}}}});
  HttpReply ok = Through(u.key);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_NE(ok.body.find("user=" + u.id), std::string::npos) << ok.body;
  EXPECT_NE(ok.body.find("env=live"), std::string::npos);
  EXPECT_NE(ok.body.find("key=" + u.key_id), std::string::npos);
  EXPECT_NE(ok.body.find("auth= "), std::string::npos) << "the key must not reach the app";

  HttpReply limited = Through(u.key);
  EXPECT_EQ(limited.status, 429);
  EXPECT_GE(std::stoi(limited.Header("retry-after")), 1);
  EXPECT_EQ(json::parse(limited.body)["error"]["code"], "RATE_LIMITED");

  HttpReply missing = Through("");
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(missing.Header("www-authenticate"), "Api-Key");
  EXPECT_EQ(json::parse(missing.body)["error"]["code"], "MISSING");

  ASSERT_EQ(Admin("POST", "/v1/keys/" + u.key_id + "/revoke").status, 200);
  HttpReply revoked = Through(u.key);
  EXPECT_EQ(revoked.status, 401);
  EXPECT_EQ(json::parse(revoked.body)["error"]["code"], "REVOKED");

  testing::CreatedUser v = NewUser({{"name", "Scoped"}, {"plan", {{"allowed_scopes", {"jobs:read"}}}}});
  ASSERT_EQ(Admin("PATCH", "/v1/users/" + v.id, R"({"disabled":true})").status, 200);
  EXPECT_EQ(Through(v.key).status, 401);
}

TEST_F(NginxTest, ForbiddenOutcomesAre403) {
  testing::CreatedUser u = NewUser();
  ASSERT_EQ(Through(u.key).status, 200);
  // The shipped config requires live keys on / and test keys on /staging/.
  auto [test_key, id] = Issue(u.id, {{"environment", "test"}});
  HttpReply via = testing::HttpGet(front_, "/app", {testing::KeyAuth(test_key)});
  EXPECT_EQ(via.status, 403) << via.body;
  EXPECT_EQ(json::parse(via.body)["error"]["code"], "WRONG_ENVIRONMENT");
  HttpReply staging = testing::HttpGet(front_, "/staging/app", {testing::KeyAuth(test_key)});
  EXPECT_EQ(staging.status, 200) << staging.body;
  EXPECT_NE(staging.body.find("env=test"), std::string::npos);
  EXPECT_EQ(testing::HttpGet(front_, "/staging/app", {testing::KeyAuth(u.key)}).status, 403);
}

// Issue 7, finding 2: the requirement is the operator's. A client header that
// names another environment (or scope) neither relaxes it nor reaches keyward,
// and identity headers a client sends never reach the application.
TEST_F(NginxTest, Issue7_ClientHeadersCannotRelaxRequirementsOrForgeIdentity) {
  testing::CreatedUser u = NewUser();
  auto [test_key, id] = Issue(u.id, {{"environment", "test"}});
  HttpReply relaxed = testing::HttpGet(front_, "/app", {testing::KeyAuth(test_key),
                                                        {"X-Keyward-Required-Environment", "test"}});
  EXPECT_EQ(relaxed.status, 403) << relaxed.body;
  // A client-added scope requirement does not reach keyward either.
  EXPECT_EQ(testing::HttpGet(front_, "/app", {testing::KeyAuth(u.key),
                                              {"X-Keyward-Required-Scope", "no-such-scope"}}).status, 200);
  HttpReply forged = testing::HttpGet(front_, "/app", {testing::KeyAuth(u.key),
                                                       {"X-Keyward-User-Id", "usr_forged"},
                                                       {"X-Keyward-External-Id", "forged-ext"}});
  ASSERT_EQ(forged.status, 200);
  EXPECT_NE(forged.body.find("user=" + u.id), std::string::npos) << forged.body;
  EXPECT_EQ(forged.body.find("forged"), std::string::npos) << forged.body;
}

// Signed requests (RFC 9421) through nginx: the front forwards the method
// and URI the client signed; keyward checks the signature; the application
// gets the identity and the Content-Digest to check its body against.
TEST_F(NginxTest, ASignedRequestAuthenticatesThroughTheFront) {
  testing::CreatedUser u = NewUser({{"name", "Signed behind nginx"}});
  auto sign = [&](const std::string& method, const std::string& target, const std::string& body) {
    core::httpsig::Message msg;
    msg.method = method;
    const std::string uri = "http://" + front_ + target;  // msg holds views into it
    EXPECT_TRUE(core::httpsig::SplitTargetUri(uri, &msg).ok());
    core::httpsig::SignOptions o;
    o.key_id = u.key_id;
    o.created = static_cast<std::int64_t>(std::time(nullptr));
    auto f = core::httpsig::Sign(msg, body, u.key, o);
    EXPECT_TRUE(f.ok()) << f.status().message();
    if (!f.ok()) return std::vector<std::pair<std::string, std::string>>{};
    std::vector<std::pair<std::string, std::string>> h = {{"Host", front_},
                                                          {"Signature-Input", f->signature_input},
                                                          {"Signature", f->signature}};
    if (!f->content_digest.empty()) h.emplace_back("Content-Digest", f->content_digest);
    return h;
  };
  auto send = [&](const std::string& method, const std::string& target,
                  const std::vector<std::pair<std::string, std::string>>& h, const std::string& body = "") {
    testing::HttpConnection c(front_);
    // The test client writes Host itself: build the request by hand.
    std::string raw = method + " " + target + " HTTP/1.1\r\n";
    for (const auto& [k, v] : h) raw += k + ": " + v + "\r\n";
    raw += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    return c.RoundTrip(raw);
  };
  auto h = sign("GET", "/app/orders?id=7", "");
  HttpReply ok = send("GET", "/app/orders?id=7", h);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_NE(ok.body.find("user=" + u.id), std::string::npos) << ok.body;
  EXPECT_NE(ok.body.find("key=" + u.key_id), std::string::npos) << ok.body;
  // Replayed through the front: refused.
  HttpReply replay = send("GET", "/app/orders?id=7", h);
  EXPECT_EQ(replay.status, 401);
  EXPECT_EQ(json::parse(replay.body)["error"]["code"], "REPLAYED");
  // Another path with the same signature, and a client that forges the
  // forwarded URI to match it: nginx sets the header, the forgery is dropped.
  auto h2 = sign("GET", "/app/orders?id=7", "");
  HttpReply moved = send("GET", "/app/orders?id=8", h2);
  EXPECT_EQ(moved.status, 401);
  EXPECT_EQ(json::parse(moved.body)["error"]["code"], "SIGNATURE_INVALID");
  auto forged = sign("GET", "/app/orders?id=7", "");
  forged.emplace_back("X-Keyward-Original-Uri", "http://" + front_ + "/app/orders?id=7");
  EXPECT_EQ(send("GET", "/app/orders?id=9", forged).status, 401);
  // A body: covered by Content-Digest, which reaches the application.
  const std::string body = R"({"order":7})";
  auto post = sign("POST", "/app/orders", body);
  HttpReply posted = send("POST", "/app/orders", post, body);
  ASSERT_EQ(posted.status, 200) << posted.body;
  EXPECT_NE(posted.body.find("digest=" + core::httpsig::ContentDigest(body)), std::string::npos) << posted.body;
  // A body signed without its digest is refused at the front.
  auto bare = sign("POST", "/app/orders", "");
  EXPECT_EQ(send("POST", "/app/orders", bare, body).status, 401);
}

// The same through the front, signed by an independent implementation: the
// npm package http-message-signatures (tests/interop).
TEST_F(NginxTest, ARequestSignedByHttpMessageSignaturesPassesTheFront) {
  testing::CreatedUser u = NewUser({{"name", "npm behind nginx"}});
  testing::RunResult r = testing::Run(
      {KEYWARD_NODE, std::string(KEYWARD_SOURCE_DIR) + "/tests/interop/http_message_signatures.mjs", "through-front",
       "http://" + front_},
      "", {"KEYWARD_API_KEY=" + u.key, "KEYWARD_KEY_ID=" + u.key_id, std::string("KEYWARD_NODE_TOOLS=") + KEYWARD_NODE_TOOLS});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  json out = json::parse(r.out);
  EXPECT_EQ(out["get"]["status"], 200) << out;
  EXPECT_NE(out["get"]["body"].get<std::string>().find("user=" + u.id), std::string::npos) << out;
  EXPECT_EQ(out["replay"]["status"], 401) << out;
  EXPECT_EQ(out["post"]["status"], 200) << out;
  EXPECT_NE(out["post"]["body"].get<std::string>().find("digest=" + out["digest"].get<std::string>()),
            std::string::npos) << out;
}

}  // namespace
}  // namespace keyward
