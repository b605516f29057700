// Tests for the SQLite Store on real files (src/store/sqlite/).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/sqlite/sqlite_store.h"
#include "support/store_fixture.h"

namespace keyward {
namespace {

using testing::StoreTest;
using testing::TempDir;

TEST_F(StoreTest, DeletingAUserCascadesToItsKeys) {
  auth::CreatedUser u = NewUser();
  auth::IssuedKey extra = Issue(u.user.id, Environment::kTest);
  ASSERT_TRUE(store_->GetKey(extra.record.id).ok());
  ASSERT_TRUE(store_->DeleteUser(u.user.id).ok());
  EXPECT_EQ(store_->GetKey(extra.record.id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetKey(u.key->record.id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->LookupKey(extra.record.hash).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->DeleteUser(u.user.id).code(), StatusCode::kNotFound);
}

TEST_F(StoreTest, RevokeAllRevokesOnlyThatUsersUnrevokedKeys) {
  auth::CreatedUser a = NewUser("A");
  auth::CreatedUser b = NewUser("B");
  Issue(a.user.id);
  Issue(a.user.id, Environment::kTest);
  clock_.Advance(1000);
  ASSERT_TRUE(store_->RevokeKey(a.key->record.id, clock_.Now()).ok());
  UnixMillis first_revocation = clock_.Now();
  clock_.Advance(1000);
  StatusOr<std::int64_t> n = store_->RevokeAllKeys(a.user.id, clock_.Now());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2);
  StatusOr<std::vector<ApiKey>> keys = store_->ListKeys(a.user.id);
  ASSERT_TRUE(keys.ok());
  for (const auto& k : *keys) EXPECT_TRUE(k.revoked_at.has_value()) << k.id;
  // The earlier revocation keeps its time.
  EXPECT_EQ(store_->GetKey(a.key->record.id)->revoked_at, first_revocation);
  EXPECT_FALSE(store_->GetKey(b.key->record.id)->revoked_at.has_value());
  EXPECT_EQ(store_->RevokeAllKeys("usr_missing", 0).status().code(), StatusCode::kNotFound);
}

TEST_F(StoreTest, RotationRecordsLineageAndGraceExpiry) {
  auth::CreatedUser u = NewUser();
  StatusOr<auth::RotatedKey> r = service_->RotateKey(u.key->record.id, 3'600'000);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  StatusOr<ApiKey> fresh = store_->GetKey(r->new_key.record.id);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->rotated_from, u.key->record.id);
  EXPECT_EQ(fresh->environment, Environment::kLive);
  EXPECT_EQ(store_->GetKey(u.key->record.id)->expires_at, clock_.Now() + 3'600'000);
  // Rotating the new key again extends the chain.
  StatusOr<auth::RotatedKey> r2 = service_->RotateKey(fresh->id, 0);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(store_->GetKey(r2->new_key.record.id)->rotated_from, fresh->id);
}

TEST_F(StoreTest, LookupJoinsTheOwner) {
  auth::CreatedUser u = NewUser("Owner");
  StatusOr<KeyWithUser> r = store_->LookupKey(u.key->record.hash);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->user.id, u.user.id);
  EXPECT_EQ(r->user.name, "Owner");
  EXPECT_EQ(r->key.display, u.key->record.display);
}

TEST_F(StoreTest, ExternalIdIsUnique) {
  auth::CreateUserRequest req;
  req.name = "A";
  req.external_id = "ext-1";
  ASSERT_TRUE(service_->CreateUser(req).ok());
  EXPECT_EQ(service_->CreateUser(req).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->ListUsers()->size(), 1u);  // the failed create left no user or key
  EXPECT_TRUE(store_->FindUserByExternalId("ext-1").ok());
}

TEST_F(StoreTest, TouchKeysNeverMovesLastUseBackwards) {
  auth::CreatedUser u = NewUser();
  const std::string& id = u.key->record.id;
  ASSERT_TRUE(store_->TouchKeys({{id, 5000}, {"key_gone", 1}}).ok());
  ASSERT_TRUE(store_->TouchKeys({{id, 4000}}).ok());
  EXPECT_EQ(store_->GetKey(id)->last_used_at, 5000);
}

TEST(SqliteStore, TwoProcessesIssuingIntoOneFileBothSucceed) {
  TempDir dir;
  std::string path = dir.File("shared.db");
  std::string user_id;
  {
    StatusOr<StorePtr> s = OpenSqliteStore({.path = path});
    ASSERT_TRUE(s.ok());
    auth::KeyService svc(**s, SystemClock());
    auth::CreateUserRequest req;
    req.name = "shared";
    user_id = svc.CreateUser(req)->user.id;
  }
  constexpr int kPerProcess = 150;
  pid_t pids[2];
  for (pid_t& pid : pids) {
    pid = fork();
    if (pid == 0) {
      StatusOr<StorePtr> s = OpenSqliteStore({.path = path});
      if (!s.ok()) _exit(10);
      auth::KeyService svc(**s, SystemClock());
      for (int i = 0; i < kPerProcess; ++i) {
        auth::IssueKeyRequest req;
        req.user_id = user_id;
        if (!svc.IssueKey(req).ok()) _exit(11);
      }
      _exit(0);
    }
  }
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }
  StatusOr<StorePtr> s = OpenSqliteStore({.path = path});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->ListKeys(user_id)->size(), 1u + 2 * kPerProcess);
}

TEST(SqliteStore, DatabaseFromANewerKeywardIsRefusedAndNotModified) {
  TempDir dir;
  std::string path = dir.File("newer.db");
  { ASSERT_TRUE(OpenSqliteStore({.path = path}).ok()); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA journal_mode=DELETE; INSERT INTO schema_version VALUES (9999, 'future', 0)",
                         nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  std::string before = testing::ReadFileBytes(path);
  StatusOr<StorePtr> s = OpenSqliteStore({.path = path});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("newer"), std::string::npos) << s.status().message();
  EXPECT_EQ(testing::ReadFileBytes(path), before);
}

TEST(SqliteStore, AFileThatIsNotADatabaseIsUnavailable) {
  TempDir dir;
  std::string path = dir.File("junk.db");
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    std::fputs("this is not a database, just some text that is long enough...........", f);
    std::fclose(f);
  }
  StatusOr<StorePtr> s = OpenSqliteStore({.path = path});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(s.status().message().find("not a keyward database"), std::string::npos);
}

TEST(SqliteStore, ReopeningAppliesNoMigrationTwice) {
  TempDir dir;
  std::string path = dir.File("k.db");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(OpenSqliteStore({.path = path}).ok());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT count(*), max(version) FROM schema_version", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), store::sqlite::LatestSchemaVersion());
  EXPECT_EQ(sqlite3_column_int(st, 1), store::sqlite::LatestSchemaVersion());
  sqlite3_finalize(st);
  sqlite3_close(db);
}

}  // namespace
}  // namespace keyward
