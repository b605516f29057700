// Tests for Verifier (include/keyward/verifier.h): every outcome it decides,
// with time driven by a FakeClock.
#include "keyward/verifier.h"

#include <gtest/gtest.h>

#include "support/store_fixture.h"

namespace keyward {
namespace {

class VerifierTest : public testing::StoreTest {
 protected:
  VerifyOutcome Check(const std::string& key, std::vector<std::string> scopes = {},
                      std::optional<Environment> env = std::nullopt) {
    Verifier verifier(*store_, clock_);
    StatusOr<Verification> v = verifier.Verify({key, std::move(scopes), env});
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? v->outcome : VerifyOutcome::kMissing;
  }
};

TEST_F(VerifierTest, ValidKeyYieldsItsOwner) {
  auth::CreateUserRequest req;
  req.name = "Acme";
  req.external_id = "acme-42";
  StatusOr<auth::CreatedUser> u = service_->CreateUser(req);
  ASSERT_TRUE(u.ok());
  Verifier verifier(*store_, clock_);
  StatusOr<Verification> v = verifier.Verify({u->key->secret, {}, std::nullopt});
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->outcome, VerifyOutcome::kValid);
  EXPECT_EQ(v->principal->user_id, u->user.id);
  EXPECT_EQ(v->principal->external_id, "acme-42");
  EXPECT_EQ(v->principal->key_id, u->key->record.id);
  EXPECT_EQ(v->principal->environment, Environment::kLive);
}

TEST_F(VerifierTest, MissingMalformedAndUnknownKeys) {
  EXPECT_EQ(Check(""), VerifyOutcome::kMissing);
  EXPECT_EQ(Check("kw_live_short"), VerifyOutcome::kMalformed);
  std::string unknown = *GenerateKey(Environment::kLive);
  EXPECT_EQ(Check(unknown), VerifyOutcome::kNotFound);
}

TEST_F(VerifierTest, KeyExpiresExactlyAtItsTtlWithoutSleeping) {
  auth::CreatedUser u = NewUser("A", false);
  auth::IssueKeyRequest req;
  req.user_id = u.user.id;
  req.ttl_ms = 90'000;
  StatusOr<auth::IssuedKey> k = service_->IssueKey(req);
  ASSERT_TRUE(k.ok());
  clock_.Advance(89'999);
  EXPECT_EQ(Check(k->secret), VerifyOutcome::kValid);
  clock_.Advance(1);
  EXPECT_EQ(Check(k->secret), VerifyOutcome::kExpired);
}

TEST_F(VerifierTest, RotatedKeyWorksAtOnceAndOldKeyUntilGraceEnds) {
  auth::CreatedUser u = NewUser();
  StatusOr<auth::RotatedKey> r = service_->RotateKey(u.key->record.id, 24 * 3'600'000LL);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Check(r->new_key.secret), VerifyOutcome::kValid);
  EXPECT_EQ(Check(u.key->secret), VerifyOutcome::kValid);
  clock_.Advance(24 * 3'600'000LL - 1);
  EXPECT_EQ(Check(u.key->secret), VerifyOutcome::kValid);
  clock_.Advance(1);
  EXPECT_EQ(Check(u.key->secret), VerifyOutcome::kExpired);
  EXPECT_EQ(Check(r->new_key.secret), VerifyOutcome::kValid);
}

TEST_F(VerifierTest, RevokedBeatsExpiredAndIsFinal) {
  auth::CreatedUser u = NewUser();
  ASSERT_TRUE(service_->RotateKey(u.key->record.id, 1000).ok());
  ASSERT_TRUE(service_->RevokeKey(u.key->record.id).ok());
  EXPECT_EQ(Check(u.key->secret), VerifyOutcome::kRevoked);
  clock_.Advance(5000);
  EXPECT_EQ(Check(u.key->secret), VerifyOutcome::kRevoked);
  EXPECT_EQ(service_->RotateKey(u.key->record.id, 0).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(VerifierTest, DisabledUsersKeysAreRefusedUntilEnabled) {
  auth::CreatedUser u = NewUser();
  auth::UserUpdate off;
  off.disabled = true;
  ASSERT_TRUE(service_->UpdateUser(u.user.id, off).ok());
  EXPECT_EQ(Check(u.key->secret), VerifyOutcome::kUserDisabled);
  auth::UserUpdate on;
  on.disabled = false;
  ASSERT_TRUE(service_->UpdateUser(u.user.id, on).ok());
  EXPECT_EQ(Check(u.key->secret), VerifyOutcome::kValid);
}

TEST_F(VerifierTest, EnvironmentAndScopesAreEnforced) {
  auth::CreatedUser u = NewUser("A", false);
  auth::IssueKeyRequest req;
  req.user_id = u.user.id;
  req.environment = Environment::kTest;
  req.scopes = {"jobs:write"};
  StatusOr<auth::IssuedKey> k = service_->IssueKey(req);
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(Check(k->secret, {}, Environment::kLive), VerifyOutcome::kWrongEnvironment);
  EXPECT_EQ(Check(k->secret, {}, Environment::kTest), VerifyOutcome::kValid);
  EXPECT_EQ(Check(k->secret, {"jobs:write"}), VerifyOutcome::kValid);
  EXPECT_EQ(Check(k->secret, {"jobs:write", "admin"}), VerifyOutcome::kInsufficientScope);
  // Narrowing the user's plan takes effect on existing keys.
  auth::UserUpdate narrow;
  narrow.allowed_scopes = std::vector<std::string>{"jobs:read"};
  ASSERT_TRUE(service_->UpdateUser(u.user.id, narrow).ok());
  EXPECT_EQ(Check(k->secret, {"jobs:write"}), VerifyOutcome::kInsufficientScope);
}

TEST_F(VerifierTest, DeletedKeyIsNotFound) {
  auth::CreatedUser u = NewUser();
  ASSERT_TRUE(service_->DeleteKey(u.key->record.id).ok());
  EXPECT_EQ(Check(u.key->secret), VerifyOutcome::kNotFound);
}

TEST(VerifyOutcomeName, NamesMatchTheContract) {
  EXPECT_EQ(VerifyOutcomeName(VerifyOutcome::kValid), "VALID");
  EXPECT_EQ(VerifyOutcomeName(VerifyOutcome::kUserDisabled), "USER_DISABLED");
  EXPECT_EQ(VerifyOutcomeName(VerifyOutcome::kWrongEnvironment), "WRONG_ENVIRONMENT");
  EXPECT_EQ(VerifyOutcomeName(VerifyOutcome::kQuotaExceeded), "QUOTA_EXCEEDED");
}

}  // namespace
}  // namespace keyward
