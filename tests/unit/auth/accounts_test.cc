// Tests for users and keys over their life (src/auth/accounts.h).
#include "auth/accounts.h"

#include <gtest/gtest.h>

#include "support/store_fixture.h"

namespace keyward {
namespace {

using testing::StoreTest;

TEST_F(StoreTest, CreatingAUserIssuesOneLiveKeyUnlessAskedNot) {
  auth::CreatedUser with = NewUser("with");
  ASSERT_TRUE(with.key.has_value());
  EXPECT_EQ(with.key->record.environment, Environment::kLive);
  EXPECT_EQ(ParseKey(with.key->secret), Environment::kLive);
  EXPECT_EQ(keys().ListKeys(with.user.id, {})->items.size(), 1u);
  auth::CreatedUser without = NewUser("without", false);
  EXPECT_FALSE(without.key.has_value());
  EXPECT_TRUE(keys().ListKeys(without.user.id, {})->items.empty());
}

TEST_F(StoreTest, StoredRecordHoldsTheHashNotTheSecret) {
  auth::CreatedUser u = NewUser();
  ApiKey stored = *keys().GetKey(u.key->record.id);
  EXPECT_TRUE(KeyHashEqual(stored.hash, HashKey(u.key->secret)));
  EXPECT_EQ(stored.display, KeyDisplay(u.key->secret));
  EXPECT_EQ(stored.display.find(u.key->secret.substr(12)), std::string::npos);
}

TEST_F(StoreTest, IssueRejectsBadRequests) {
  auth::CreatedUser u = NewUser();
  auth::IssueKeyRequest req;
  req.user_id = "usr_doesnotexist";
  EXPECT_EQ(accounts_->IssueKey(req).status().code(), StatusCode::kNotFound);
  req.user_id = u.user.id;
  req.expires_at = clock_.Now() - 1;
  EXPECT_EQ(accounts_->IssueKey(req).status().code(), StatusCode::kInvalidArgument);
  req.expires_at = clock_.Now() + 1000;
  req.ttl_ms = 1000;
  EXPECT_EQ(accounts_->IssueKey(req).status().code(), StatusCode::kInvalidArgument);
  req.expires_at.reset();
  req.ttl_ms.reset();
  req.scopes = {"Bad Scope"};
  EXPECT_EQ(accounts_->IssueKey(req).status().code(), StatusCode::kInvalidArgument);
  req.scopes = {};
  req.name = "";
  EXPECT_EQ(accounts_->IssueKey(req).status().code(), StatusCode::kInvalidArgument);
  req.name = std::string("tab\there");
  EXPECT_EQ(accounts_->IssueKey(req).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(keys().ListKeys(u.user.id, {})->items.size(), 1u);
}

TEST_F(StoreTest, KeyScopesMustBeAllowedByThePlan) {
  auth::CreateUserRequest creq;
  creq.name = "limited";
  creq.plan.allowed_scopes = {"jobs:read", "jobs:write"};
  StatusOr<auth::CreatedUser> u = accounts_->CreateUser(creq);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->key->record.scopes, (std::vector<std::string>{"jobs:read", "jobs:write"}));
  auth::IssueKeyRequest req;
  req.user_id = u->user.id;
  req.scopes = {"admin"};
  EXPECT_EQ(accounts_->IssueKey(req).status().code(), StatusCode::kInvalidArgument);
  req.scopes = {"*"};
  EXPECT_EQ(accounts_->IssueKey(req).status().code(), StatusCode::kInvalidArgument);
  req.scopes = {"jobs:read", "jobs:read"};
  StatusOr<auth::IssuedKey> k = accounts_->IssueKey(req);
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->record.scopes, std::vector<std::string>{"jobs:read"});
}

TEST_F(StoreTest, CreateUserValidatesFields) {
  auth::CreateUserRequest req;
  req.name = "";
  EXPECT_EQ(accounts_->CreateUser(req).status().code(), StatusCode::kInvalidArgument);
  req.name = "ok";
  req.email = "not-an-email";
  EXPECT_EQ(accounts_->CreateUser(req).status().code(), StatusCode::kInvalidArgument);
  req.email.reset();
  req.plan.monthly_credits = -1;
  EXPECT_EQ(accounts_->CreateUser(req).status().code(), StatusCode::kInvalidArgument);
  req.plan.monthly_credits.reset();
  req.plan.rate_limit = 0;
  EXPECT_EQ(accounts_->CreateUser(req).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(keys().ListUsers({})->items.empty());
}

TEST_F(StoreTest, RotationKeepsAnEarlierExpiryAndCarriesLifetime) {
  auth::CreatedUser u = NewUser("A", false);
  auth::IssueKeyRequest req;
  req.user_id = u.user.id;
  req.ttl_ms = 60'000;
  StatusOr<auth::IssuedKey> k = accounts_->IssueKey(req);
  ASSERT_TRUE(k.ok());
  clock_.Advance(10'000);
  StatusOr<auth::RotatedKey> r = accounts_->RotateKey(k->record.id, 3'600'000);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->old_key.expires_at, k->record.expires_at);  // 50 s left < 1 h grace
  EXPECT_EQ(r->new_key.record.expires_at, clock_.Now() + 60'000);
  clock_.Advance(60'000);
  EXPECT_EQ(accounts_->RotateKey(k->record.id, 0).status().code(), StatusCode::kFailedPrecondition);
}

// Issue 8: one cap for the CLI and HTTP, enforced where both go through.
TEST_F(StoreTest, LifetimesAreCappedOnceForEveryCaller) {
  auth::CreatedUser u = NewUser("A", false);
  auth::IssueKeyRequest req;
  req.user_id = u.user.id;
  req.ttl_ms = auth::kMaxTtlMs + 1;
  EXPECT_EQ(accounts_->IssueKey(req).status().code(), StatusCode::kInvalidArgument);
  req.ttl_ms = auth::kMaxTtlMs;
  StatusOr<auth::IssuedKey> k = accounts_->IssueKey(req);
  ASSERT_TRUE(k.ok());
  req.ttl_ms.reset();
  req.expires_at = clock_.Now() + auth::kMaxTtlMs + 1;
  EXPECT_EQ(accounts_->IssueKey(req).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(accounts_->RotateKey(k->record.id, auth::kMaxGraceMs + 1).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(accounts_->RotateKey(k->record.id, -1).status().code(), StatusCode::kInvalidArgument);
  StatusOr<auth::RotatedKey> r = accounts_->RotateKey(k->record.id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->old_key.expires_at, clock_.Now() + auth::kDefaultGraceMs);
}

TEST_F(StoreTest, NamesMustBeUtf8TextWithoutControlCharacters) {
  auth::CreateUserRequest req;
  req.name = "Ünïcode ok";
  EXPECT_TRUE(accounts_->CreateUser(req).ok());
  for (std::string bad : {std::string("\xff\xfe"), std::string("a\x00b", 3), std::string("\xc0\xaf"),
                          std::string("tab\t"), std::string("\xed\xa0\x80")}) {
    req.name = bad;
    EXPECT_EQ(accounts_->CreateUser(req).status().code(), StatusCode::kInvalidArgument);
  }
}

TEST_F(StoreTest, ChangeListenerHearsEveryChangeThatAffectsVerification) {
  std::vector<std::string> heard;
  accounts_->set_change_listener([&](const std::string& id) { heard.push_back(id); });
  auth::CreatedUser u = NewUser();
  auth::IssuedKey k = Issue(u.user.id);
  ASSERT_TRUE(accounts_->RevokeKey(k.record.id).ok());
  ASSERT_TRUE(accounts_->RotateKey(u.key->record.id, 0).ok());
  ASSERT_TRUE(accounts_->RevokeAllKeys(u.user.id).ok());
  auth::UserUpdate d;
  d.disabled = true;
  ASSERT_TRUE(accounts_->UpdateUser(u.user.id, d).ok());
  ASSERT_TRUE(accounts_->DeleteKey(k.record.id).ok());
  ASSERT_TRUE(accounts_->DeleteUser(u.user.id).ok());
  EXPECT_EQ(heard, std::vector<std::string>(6, u.user.id));
}

}  // namespace
}  // namespace keyward
