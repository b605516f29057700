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
  EXPECT_EQ(IssuedKeyJson(k, "kw_live_x", 0)["secret"], "kw_live_x");
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

}  // namespace
}  // namespace keyward::api
