// store_fixture.h: a fresh backend — by default SQLite in a temp folder —
// with a FakeClock and Accounts on top, for tests of storage and the key
// lifecycle. A fixture that overrides Location() runs on another backend.
#pragma once

#include <gtest/gtest.h>

#include "auth/accounts.h"
#include "store/backend.h"
#include "support/fake_clock.h"
#include "support/temp_dir.h"

namespace keyward::testing {

class StoreTest : public ::testing::Test {
 protected:
  // Where the backend lives (StoreOptions::location).
  virtual std::string Location() { return db_path_; }

  void SetUp() override {
    db_path_ = dir_.File("keyward.db");
    const std::string location = Location();
    if (::testing::Test::HasFatalFailure()) return;
    StatusOr<store::BackendPtr> s = store::OpenBackend(StoreOptions{.location = location});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    backend_ = std::move(s).value();
    accounts_ = std::make_unique<auth::Accounts>(backend_->keys(), clock_);
  }

  KeyStore& keys() { return backend_->keys(); }
  JobStore& jobs() { return backend_->jobs(); }
  UsageStore& usage() { return backend_->usage(); }
  QueueStore& queue() { return backend_->queue(); }

  // Creates a user (with a first live key unless issue_key is false).
  auth::CreatedUser NewUser(const std::string& name = "Acme", bool issue_key = true) {
    auth::CreateUserRequest req;
    req.name = name;
    req.issue_key = issue_key;
    StatusOr<auth::CreatedUser> u = accounts_->CreateUser(req);
    EXPECT_TRUE(u.ok()) << u.status().ToString();
    return u.ok() ? *u : auth::CreatedUser{};
  }

  auth::IssuedKey Issue(const std::string& user_id, Environment env = Environment::kLive) {
    auth::IssueKeyRequest req;
    req.user_id = user_id;
    req.environment = env;
    StatusOr<auth::IssuedKey> k = accounts_->IssueKey(req);
    EXPECT_TRUE(k.ok()) << k.status().ToString();
    return k.ok() ? *k : auth::IssuedKey{};
  }

  TempDir dir_;
  std::string db_path_;
  FakeClock clock_;
  store::BackendPtr backend_;
  std::unique_ptr<auth::Accounts> accounts_;
};

}  // namespace keyward::testing
