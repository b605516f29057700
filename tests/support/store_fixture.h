// store_fixture.h: a fresh SQLite store in a temp folder, with a FakeClock
// and a KeyService on top, for tests of the lifecycle.
#pragma once

#include <gtest/gtest.h>

#include "auth/key_service.h"
#include "keyward/store.h"
#include "support/fake_clock.h"
#include "support/temp_dir.h"

namespace keyward::testing {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_path_ = dir_.File("keyward.db");
    StatusOr<StorePtr> s = OpenSqliteStore(SqliteOptions{.path = db_path_});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    service_ = std::make_unique<auth::KeyService>(*store_, clock_);
  }

  // Creates a user (with a first live key unless issue_key is false).
  auth::CreatedUser NewUser(const std::string& name = "Acme", bool issue_key = true) {
    auth::CreateUserRequest req;
    req.name = name;
    req.issue_key = issue_key;
    StatusOr<auth::CreatedUser> u = service_->CreateUser(req);
    EXPECT_TRUE(u.ok()) << u.status().ToString();
    return u.ok() ? *u : auth::CreatedUser{};
  }

  auth::IssuedKey Issue(const std::string& user_id, Environment env = Environment::kLive) {
    auth::IssueKeyRequest req;
    req.user_id = user_id;
    req.environment = env;
    StatusOr<auth::IssuedKey> k = service_->IssueKey(req);
    EXPECT_TRUE(k.ok()) << k.status().ToString();
    return k.ok() ? *k : auth::IssuedKey{};
  }

  TempDir dir_;
  std::string db_path_;
  FakeClock clock_;
  StorePtr store_;
  std::unique_ptr<auth::KeyService> service_;
};

}  // namespace keyward::testing
