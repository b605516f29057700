// Every verification outcome through POST /v1/keys/verify and GET /v1/authz,
// against the real server over HTTP.
#include <gtest/gtest.h>

#include "support/server_fixture.h"

namespace keyward {
namespace {

using nlohmann::json;
using testing::HttpReply;
using testing::ServerTest;

class VerifyOutcomes : public ServerTest {
 protected:
  // Checks both endpoints agree on `code` for `key` (with authz query `q`).
  void Expect(const std::string& key, const std::string& code, int authz_status,
              json verify_extra = json::object(), const std::string& q = "") {
    json body = verify_extra;
    body["key"] = key;
    json v = Verify(body);
    EXPECT_EQ(v["code"], code) << v;
    EXPECT_EQ(v["valid"], code == "VALID");
    EXPECT_EQ(v["principal"].is_null(), code != "VALID");
    HttpReply a = Authz(key, q);
    EXPECT_EQ(a.status, authz_status) << a.body;
    if (code != "VALID") {
      EXPECT_EQ(Json(a)["error"]["code"], code) << a.body;
      if (authz_status == 401) {
        EXPECT_EQ(a.Header("www-authenticate"), "Api-Key");
      }
      if (authz_status == 429) {
        EXPECT_GE(std::stoi(a.Header("retry-after")), 1);
      }
      EXPECT_EQ(a.Header("x-keyward-user-id"), "");
    }
  }
};

TEST_F(VerifyOutcomes, Valid) {
  testing::CreatedUser u = NewUser({{"name", "Acme"}, {"external_id", "acme-7"}});
  Expect(u.key, "VALID", 200);
  HttpReply a = Authz(u.key);
  EXPECT_EQ(a.Header("x-keyward-user-id"), u.id);
  EXPECT_EQ(a.Header("x-keyward-external-id"), "acme-7");
  EXPECT_EQ(a.Header("x-keyward-key-id"), u.key_id);
  EXPECT_EQ(a.Header("x-keyward-environment"), "live");
  EXPECT_EQ(a.Header("x-keyward-scopes"), "*");
  json v = Verify({{"key", u.key}});
  EXPECT_EQ(v["principal"]["user_id"], u.id);
}

TEST_F(VerifyOutcomes, Missing) {
  EXPECT_EQ(Verify({{"key", ""}})["code"], "MISSING");
  EXPECT_EQ(Verify(json::object())["code"], "MISSING");
  HttpReply a = testing::HttpGet(addr(), "/v1/authz");
  EXPECT_EQ(a.status, 401);
  EXPECT_EQ(Json(a)["error"]["code"], "MISSING");
  EXPECT_EQ(a.Header("www-authenticate"), "Api-Key");
}

TEST_F(VerifyOutcomes, Malformed) { Expect("kw_live_notakey", "MALFORMED", 401); }

TEST_F(VerifyOutcomes, NotFound) {
  // A well-formed key nobody holds (deleted) is NOT_FOUND.
  testing::CreatedUser u = NewUser();
  ASSERT_EQ(Admin("DELETE", "/v1/keys/" + u.key_id).status, 200);
  Expect(u.key, "NOT_FOUND", 401);
  Expect(u.key, "NOT_FOUND", 401);  // second time from the negative cache
}

TEST_F(VerifyOutcomes, Expired) {
  testing::CreatedUser u = NewUser();
  ASSERT_EQ(Admin("POST", "/v1/keys/" + u.key_id + "/rotate", R"({"grace_seconds":0})").status, 201);
  Expect(u.key, "EXPIRED", 401);
}

TEST_F(VerifyOutcomes, Revoked) {
  testing::CreatedUser u = NewUser();
  Expect(u.key, "VALID", 200);  // cached now; revocation must still apply at once
  ASSERT_EQ(Admin("POST", "/v1/keys/" + u.key_id + "/revoke").status, 200);
  Expect(u.key, "REVOKED", 401);
}

TEST_F(VerifyOutcomes, UserDisabled) {
  testing::CreatedUser u = NewUser();
  Expect(u.key, "VALID", 200);
  ASSERT_EQ(Admin("PATCH", "/v1/users/" + u.id, R"({"disabled":true})").status, 200);
  Expect(u.key, "USER_DISABLED", 401);
  ASSERT_EQ(Admin("PATCH", "/v1/users/" + u.id, R"({"disabled":false})").status, 200);
  Expect(u.key, "VALID", 200);
}

TEST_F(VerifyOutcomes, InsufficientScope) {
  testing::CreatedUser u = NewUser({{"name", "A"}, {"issue_key", false}});
  auto [key, id] = Issue(u.id, {{"scopes", {"jobs:read"}}});
  Expect(key, "INSUFFICIENT_SCOPE", 403, {{"scopes", {"jobs:write"}}}, "?scope=jobs:write");
  Expect(key, "VALID", 200, {{"scopes", {"jobs:read"}}}, "?scope=jobs:read");
}

TEST_F(VerifyOutcomes, WrongEnvironment) {
  testing::CreatedUser u = NewUser();
  auto [test_key, id] = Issue(u.id, {{"environment", "test"}});
  Expect(test_key, "WRONG_ENVIRONMENT", 403, {{"environment", "live"}}, "?environment=live");
  Expect(u.key, "WRONG_ENVIRONMENT", 403, {{"environment", "test"}}, "?environment=test");
  HttpReply a = Authz(test_key);
  EXPECT_EQ(a.Header("x-keyward-environment"), "test");
}

TEST_F(VerifyOutcomes, RateLimited) {
  // 0.01 requests/s: the bucket holds one token, the next arrives in 100 s.
  testing::CreatedUser u = NewUser({{"name", "Slow"}, {"plan", {{"rate_limit", 0.01}}}});
  EXPECT_EQ(Authz(u.key).status, 200);
  Expect(u.key, "RATE_LIMITED", 429);
  EXPECT_GE(std::stoi(Authz(u.key).Header("retry-after")), 90);
  // Test traffic has its own bucket.
  auto [test_key, id] = Issue(u.id, {{"environment", "test"}});
  EXPECT_EQ(Authz(test_key).status, 200);
}

TEST_F(VerifyOutcomes, QuotaExceeded) {
  testing::CreatedUser u = NewUser({{"name", "Broke"}, {"plan", {{"monthly_credits", 5}}}});
  json v = Verify({{"key", u.key}, {"cost", 5}});
  EXPECT_EQ(v["code"], "VALID");
  EXPECT_EQ(v["credits"]["remaining"], 0);
  Expect(u.key, "QUOTA_EXCEEDED", 429, {{"cost", 1}});
  // Test keys are never charged.
  auto [test_key, id] = Issue(u.id, {{"environment", "test"}});
  EXPECT_EQ(Verify({{"key", test_key}, {"cost", 3}})["code"], "VALID");
  EXPECT_EQ(Authz(test_key).status, 200);
}

}  // namespace
}  // namespace keyward
