// Tests for the shared JSON shapes (src/api/wire.h).
#include "api/wire.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace keyward::api {
namespace {

TEST(Wire, KeyJsonNeverCarriesTheHashAndStatesItsState) {
  ApiKey k;
  k.id = "key_x";
  k.hash = HashKey("secret");
  k.created_at = 0;
  k.expires_at = 1000;
  nlohmann::json j = KeyJson(k, 999);
  EXPECT_FALSE(j.contains("hash"));
  EXPECT_FALSE(j.contains("secret"));
  EXPECT_EQ(j["state"], "expiring");
  EXPECT_EQ(KeyJson(k, 1000)["state"], "expired");
  k.revoked_at = 5;
  EXPECT_EQ(KeyJson(k, 0)["state"], "revoked");
  EXPECT_EQ(IssuedKeyJson(auth::IssuedKey{k, "kw_live_x"}, 0)["secret"], "kw_live_x");
}

TEST(Wire, VerificationJsonHasPrincipalOnlyWhenValid) {
  Verification refused;
  refused.outcome = VerifyOutcome::kRevoked;
  nlohmann::json j = VerificationJson(refused);
  EXPECT_EQ(j["valid"], false);
  EXPECT_EQ(j["code"], "REVOKED");
  EXPECT_TRUE(j["principal"].is_null());
  Verification ok;
  ok.outcome = VerifyOutcome::kValid;
  ok.principal = std::make_shared<const Principal>(
      Principal{"usr_a", std::nullopt, "key_b", "kw_test_ab\u2026", Environment::kTest, {"*"}});
  j = VerificationJson(ok);
  EXPECT_EQ(j["principal"]["user_id"], "usr_a");
  EXPECT_EQ(j["principal"]["environment"], "test");
  EXPECT_TRUE(j["principal"]["external_id"].is_null());
}

// Issue 8: every envelope has one shape, pinned here for the CLI and HTTP.
TEST(Wire, EnvelopesHaveOneShape) {
  auth::CreatedUser created;
  created.user.id = "usr_a";
  created.user.name = "A";
  nlohmann::json c = CreatedUserJson(created, 0);
  EXPECT_EQ(c["user"]["id"], "usr_a");
  EXPECT_TRUE(c["key"].is_null());
  EXPECT_TRUE(c["user"]["plan"]["test_rate_limit"].is_null());
  EXPECT_EQ(RevokedAllJson("usr_a", 3), nlohmann::json({{"user_id", "usr_a"}, {"revoked", 3}}));
  EXPECT_EQ(DeletedJson("key_x"), nlohmann::json({{"deleted", "key_x"}}));
  EXPECT_EQ(PageJson("keys", nlohmann::json::array(), std::nullopt),
            nlohmann::json({{"keys", nlohmann::json::array()}, {"next", nullptr}}));
  EXPECT_EQ(PageJson("users", nlohmann::json::array(), "c")["next"], "c");
  auth::RotatedKey rotated;
  rotated.new_key.secret = "kw_live_new";
  rotated.new_key.record.id = "key_new";
  rotated.old_key.id = "key_old";
  nlohmann::json r = RotatedKeyJson(rotated, 0);
  EXPECT_EQ(r["key"]["secret"], "kw_live_new");
  EXPECT_FALSE(r["old_key"].contains("secret"));
}

TEST(Wire, AJobListingCarriesNoPayloadOrResult) {
  Job j;
  j.id = "job_1";
  j.payload = R"({"a":1})";
  j.result = R"({"b":2})";
  j.status = JobStatus::kSucceeded;
  nlohmann::json full = JobJson(j);
  EXPECT_EQ(full["payload"]["a"], 1);
  EXPECT_EQ(full["result"]["b"], 2);
  EXPECT_EQ(full["status"], "succeeded");
  nlohmann::json summary = JobJson(j, /*full=*/false);
  EXPECT_FALSE(summary.contains("payload"));
  EXPECT_FALSE(summary.contains("result"));
}

TEST(Wire, TheCallerSeesLessOfAQueueEntryThanTheOperator) {
  QueueEntry e;
  e.id = "qen_1";
  e.payload = "{}";
  e.sealed_key = "sealed";
  e.scoped_key_id = "key_job";
  e.lease_owner = "host:1";
  nlohmann::json caller = QueueEntryJson(e, EntryView::kCaller);
  nlohmann::json op = QueueEntryJson(e, EntryView::kOperator);
  for (const char* f : {"scoped_key_id", "lease_owner", "payload", "max_attempts"}) {
    EXPECT_FALSE(caller.contains(f)) << f;
    EXPECT_TRUE(op.contains(f)) << f;
  }
  EXPECT_EQ(op.dump().find("sealed"), std::string::npos);
  EXPECT_EQ(caller.dump().find("sealed"), std::string::npos);
}

TEST(Wire, UsageSumsPerEnvironmentAndChargesOnlyLive) {
  std::vector<UsageByKey> rows = {{"key_a", Environment::kLive, 5, 2}, {"key_b", Environment::kTest, 7, 3},
                                  {"key_c", Environment::kLive, 1, 1}};
  Plan plan;
  plan.monthly_credits = 10;
  nlohmann::json u = UsageJson("usr_a", 0, 1000, rows, plan, metering::CreditState{10, 6});
  EXPECT_EQ(u["environments"]["live"]["units"], 6);
  EXPECT_EQ(u["environments"]["live"]["charged"], 6);
  EXPECT_EQ(u["environments"]["test"]["units"], 7);
  EXPECT_EQ(u["environments"]["test"]["charged"], 0);
  EXPECT_EQ(u["keys"].size(), 3u);
  EXPECT_EQ(u["credits"]["remaining"], 4);
}

}  // namespace
}  // namespace keyward::api
