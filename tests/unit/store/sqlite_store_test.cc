// Tests for the SQLite Store on real files (src/store/sqlite/).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <tuple>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "auth/scopes.h"
#include "core/crypto.h"
#include "store/migrations.h"
#include "store/sqlite/connection.h"
#include "store/sqlite/schema.h"
#include "support/store_fixture.h"

namespace keyward {
namespace {

using testing::StoreTest;
using testing::TempDir;

TEST_F(StoreTest, DeletingAUserCascadesToItsKeys) {
  auth::CreatedUser u = NewUser();
  auth::IssuedKey extra = Issue(u.user.id, Environment::kTest);
  ASSERT_TRUE(keys().GetKey(extra.record.id).ok());
  ASSERT_TRUE(keys().DeleteUser(u.user.id).ok());
  EXPECT_EQ(keys().GetKey(extra.record.id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(keys().GetKey(u.key->record.id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(keys().LookupKey(extra.record.hash).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(keys().DeleteUser(u.user.id).code(), StatusCode::kNotFound);
}

TEST_F(StoreTest, RevokeAllRevokesOnlyThatUsersUnrevokedKeys) {
  auth::CreatedUser a = NewUser("A");
  auth::CreatedUser b = NewUser("B");
  Issue(a.user.id);
  Issue(a.user.id, Environment::kTest);
  clock_.Advance(1000);
  ASSERT_TRUE(keys().RevokeKey(a.key->record.id, clock_.Now()).ok());
  UnixMillis first_revocation = clock_.Now();
  clock_.Advance(1000);
  StatusOr<std::int64_t> n = keys().RevokeAllKeys(a.user.id, clock_.Now());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2);
  StatusOr<Page<ApiKey>> listed = keys().ListKeys(a.user.id, {});
  ASSERT_TRUE(listed.ok());
  for (const auto& k : listed->items) EXPECT_TRUE(k.revoked_at.has_value()) << k.id;
  // The earlier revocation keeps its time.
  EXPECT_EQ(keys().GetKey(a.key->record.id)->revoked_at, first_revocation);
  EXPECT_FALSE(keys().GetKey(b.key->record.id)->revoked_at.has_value());
  EXPECT_EQ(keys().RevokeAllKeys("usr_missing", 0).status().code(), StatusCode::kNotFound);
}

TEST_F(StoreTest, RotationRecordsLineageAndGraceExpiry) {
  auth::CreatedUser u = NewUser();
  StatusOr<auth::RotatedKey> r = accounts_->RotateKey(u.key->record.id, 3'600'000);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  StatusOr<ApiKey> fresh = keys().GetKey(r->new_key.record.id);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->rotated_from, u.key->record.id);
  EXPECT_EQ(fresh->environment, Environment::kLive);
  EXPECT_EQ(keys().GetKey(u.key->record.id)->expires_at, clock_.Now() + 3'600'000);
  // Rotating the new key again extends the chain.
  StatusOr<auth::RotatedKey> r2 = accounts_->RotateKey(fresh->id, 0);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(keys().GetKey(r2->new_key.record.id)->rotated_from, fresh->id);
}

TEST_F(StoreTest, LookupJoinsTheOwner) {
  auth::CreatedUser u = NewUser("Owner");
  StatusOr<KeyWithUser> r = keys().LookupKey(u.key->record.hash);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->user.id, u.user.id);
  EXPECT_EQ(r->user.name, "Owner");
  EXPECT_EQ(r->key.display, u.key->record.display);
}

TEST_F(StoreTest, ExternalIdIsUnique) {
  auth::CreateUserRequest req;
  req.name = "A";
  req.external_id = "ext-1";
  ASSERT_TRUE(accounts_->CreateUser(req).ok());
  EXPECT_EQ(accounts_->CreateUser(req).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(keys().ListUsers({})->items.size(), 1u);  // the failed create left no user or key
  EXPECT_TRUE(keys().FindUserByExternalId("ext-1").ok());
}

TEST_F(StoreTest, TouchKeysNeverMovesLastUseBackwards) {
  auth::CreatedUser u = NewUser();
  const std::string& id = u.key->record.id;
  ASSERT_TRUE(keys().TouchKeys({{id, 5000}, {"key_gone", 1}}).ok());
  ASSERT_TRUE(keys().TouchKeys({{id, 4000}}).ok());
  EXPECT_EQ(keys().GetKey(id)->last_used_at, 5000);
}

TEST_F(StoreTest, ListingsPageWithOpaqueCursorsAndNoneIsLostOrRepeated) {
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) {
    ids.push_back(NewUser("U" + std::to_string(i), false).user.id);
    if (i % 2 == 0) clock_.Advance(1);  // some share a created_at: the id breaks the tie
  }
  std::vector<std::string> seen;
  PageRequest page{3, ""};
  int pages = 0;
  for (;; ++pages) {
    StatusOr<Page<User>> p = keys().ListUsers(page);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    for (const User& u : p->items) seen.push_back(u.id);
    if (!p->next) break;
    EXPECT_EQ(p->next->find(':'), std::string::npos) << "cursor is opaque";
    page.after = *p->next;
  }
  EXPECT_EQ(pages, 2);
  std::sort(ids.begin(), ids.end());
  std::vector<std::string> sorted = seen;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, ids);
  EXPECT_EQ(keys().ListUsers({0, ""}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(keys().ListUsers({kMaxPageLimit + 1, ""}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(keys().ListUsers({10, "not-a-cursor"}).status().code(), StatusCode::kInvalidArgument);
}

// Issue 7, finding 8: the database and its WAL and SHM files are private.
TEST_F(StoreTest, Issue7_DatabaseFilesAreCreatedPrivate) {
  NewUser();
  for (std::string suffix : {"", "-wal", "-shm"}) {
    struct stat st {};
    ASSERT_EQ(stat((db_path_ + suffix).c_str(), &st), 0) << suffix;
    EXPECT_EQ(st.st_mode & 0077, 0u) << suffix << " mode " << std::oct << (st.st_mode & 0777);
  }
}

TEST(SqliteStore, TwoProcessesIssuingIntoOneFileBothSucceed) {
  TempDir dir;
  std::string path = dir.File("shared.db");
  std::string user_id;
  {
    StatusOr<KeyStorePtr> s = OpenKeyStore({.location = path});
    ASSERT_TRUE(s.ok());
    auth::Accounts svc(**s, SystemClock());
    auth::CreateUserRequest req;
    req.name = "shared";
    user_id = svc.CreateUser(req)->user.id;
  }
  constexpr int kPerProcess = 150;
  pid_t pids[2];
  for (pid_t& pid : pids) {
    pid = fork();
    if (pid == 0) {
      StatusOr<KeyStorePtr> s = OpenKeyStore({.location = path});
      if (!s.ok()) _exit(10);
      auth::Accounts svc(**s, SystemClock());
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
  StatusOr<KeyStorePtr> s = OpenKeyStore({.location = path});
  ASSERT_TRUE(s.ok());
  // Every key, across pages of the most a page may hold.
  std::size_t total = 0;
  PageRequest page{kMaxPageLimit, ""};
  for (;;) {
    StatusOr<Page<ApiKey>> p = (*s)->ListKeys(user_id, page);
    ASSERT_TRUE(p.ok());
    total += p->items.size();
    if (!p->next) break;
    page.after = *p->next;
  }
  EXPECT_EQ(total, 1u + 2 * kPerProcess);
}

TEST(SqliteStore, DatabaseFromANewerKeywardIsRefusedAndNotModified) {
  TempDir dir;
  std::string path = dir.File("newer.db");
  { ASSERT_TRUE(OpenKeyStore({.location = path}).ok()); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA journal_mode=DELETE; INSERT INTO schema_version VALUES (9999, 'future', 0)",
                         nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  std::string before = testing::ReadFileBytes(path);
  StatusOr<KeyStorePtr> s = OpenKeyStore({.location = path});
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
  StatusOr<KeyStorePtr> s = OpenKeyStore({.location = path});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(s.status().message().find("not a keyward database"), std::string::npos);
}

TEST(SqliteStore, ReopeningAppliesNoMigrationTwice) {
  TempDir dir;
  std::string path = dir.File("k.db");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(OpenKeyStore({.location = path}).ok());
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

namespace keyward {
namespace {

// Builds a database at schema `version` with the embedded migrations, as an
// older keyward would have left it, and runs `sql` on it.
void MakeDatabaseAtVersion(const std::string& path, int version, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  // Migrations may call kw_sha256_hex(), which keyward registers.
  sqlite3_create_function(db, "kw_sha256_hex", 1, SQLITE_UTF8, nullptr,
                          [](sqlite3_context* ctx, int, sqlite3_value** argv) {
                            std::string_view in(reinterpret_cast<const char*>(sqlite3_value_text(argv[0])),
                                                static_cast<std::size_t>(sqlite3_value_bytes(argv[0])));
                            core::Sha256Digest d = core::Sha256(in);
                            std::string hex = core::HexEncode(d.data(), d.size());
                            sqlite3_result_text(ctx, hex.c_str(), -1, SQLITE_TRANSIENT);
                          },
                          nullptr, nullptr);
  std::string all = "PRAGMA foreign_keys=ON; CREATE TABLE schema_version (version INTEGER PRIMARY KEY, "
                    "name TEXT NOT NULL, applied_at INTEGER NOT NULL);";
  for (const store::Migration& m : store::sqlite::Migrations()) {
    if (m.version > version) break;
    all += std::string(m.sql) + ";INSERT INTO schema_version VALUES (" + std::to_string(m.version) +
           ", '" + std::string(m.name) + "', 0);";
  }
  all += sql;
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, all.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

std::string ScopesOf(const std::string& path, const std::string& key_id) {
  StatusOr<KeyStorePtr> s = OpenKeyStore({.location = path});
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  if (!s.ok()) return "";
  StatusOr<ApiKey> k = (*s)->GetKey(key_id);
  EXPECT_TRUE(k.ok());
  return k.ok() && !k->scopes.empty() ? k->scopes[0] : "";
}

// Issue 7, finding 3: job keys minted before the full-hash scope existed keep
// working for the entries still in flight (migration 0003).
TEST(SqliteStore, Issue7_InFlightJobKeysAreUpgradedToTheFullHashScope) {
  testing::TempDir dir;
  std::string path = dir.File("old.db");
  // "jobs:submit:" + the first 16 hex digits of SHA-256("j1") / ("j2").
  std::string j1 = auth::JobSubmitScope("j1"), j2 = auth::JobSubmitScope("j2");
  std::string old1 = j1.substr(0, 12 + 16), old2 = j2.substr(0, 12 + 16);
  MakeDatabaseAtVersion(path, 2,
      "INSERT INTO users (id, name, created_at) VALUES ('usr_a', 'A', 0);"
      "INSERT INTO api_keys (id, user_id, name, environment, scopes, display, hash, created_at) VALUES "
      "('key_1', 'usr_a', 'job j1', 'live', '" + old1 + "', 'kw_live_x', randomblob(32), 0),"
      "('key_2', 'usr_a', 'job j2', 'live', '" + old2 + "', 'kw_live_y', randomblob(32), 0);"
      "INSERT INTO queue (id, user_id, environment, job_id, task, payload, sealed_key, scoped_key_id, "
      "status, max_attempts, available_at, created_at, updated_at) VALUES "
      "('qen_1', 'usr_a', 'live', 'j1', 'echo', '{}', x'00', 'key_1', 'queued', 5, 0, 0, 0),"
      "('qen_2', 'usr_a', 'live', 'j2', 'echo', '{}', x'00', 'key_2', 'done', 5, 0, 0, 0);");
  EXPECT_EQ(ScopesOf(path, "key_1"), j1);
  EXPECT_EQ(ScopesOf(path, "key_2"), old2);  // finished: not upgraded
}

}  // namespace
}  // namespace keyward

namespace keyward {
namespace {

// Issue 7, finding 4: migration 0004 scrubs the sealed credentials of
// finished entries (from the file, not just from the rows) and revokes the
// job keys that outlived their entries (finding 8).
TEST(SqliteStore, Issue7_UpgradingScrubsCredentialsOfFinishedEntries) {
  testing::TempDir dir;
  std::string path = dir.File("old.db");
  const std::string marker = "5345414c45442d43524544454e5449414c";  // hex of "SEALED-CREDENTIAL"
  MakeDatabaseAtVersion(path, 3,
      "PRAGMA secure_delete=OFF;"
      "INSERT INTO users (id, name, created_at) VALUES ('usr_a', 'A', 0);"
      "INSERT INTO api_keys (id, user_id, name, environment, scopes, display, hash, created_at) VALUES "
      "('key_done', 'usr_a', 'job d', 'live', 'jobs:write', 'kw_live_x', randomblob(32), 0),"
      "('key_live', 'usr_a', 'job q', 'live', 'jobs:write', 'kw_live_y', randomblob(32), 0);"
      "INSERT INTO queue (id, user_id, environment, job_id, task, payload, sealed_key, scoped_key_id, "
      "status, max_attempts, available_at, created_at, updated_at) VALUES "
      "('qen_d', 'usr_a', 'live', 'd', 'echo', '{}', x'" + marker + "', 'key_done', 'done', 5, 0, 0, 0),"
      "('qen_q', 'usr_a', 'live', 'q', 'echo', '{}', x'01020304', 'key_live', 'queued', 5, 0, 0, 0);");
  ASSERT_NE(testing::ReadFileBytes(path).find("SEALED-CREDENTIAL"), std::string::npos);
  {
    StatusOr<store::BackendPtr> b = store::OpenBackend({.location = path});
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    EXPECT_FALSE((*b)->queue().GetQueueEntry("qen_d")->sealed_key.has_value());
    EXPECT_EQ((*b)->queue().GetQueueEntry("qen_q")->sealed_key, std::string("\x01\x02\x03\x04"));
    EXPECT_TRUE((*b)->keys().GetKey("key_done")->revoked_at.has_value());
    EXPECT_FALSE((*b)->keys().GetKey("key_live")->revoked_at.has_value());
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_EQ(testing::ReadFileBytes(path).find("SEALED-CREDENTIAL"), std::string::npos);
  EXPECT_EQ(testing::ReadFileBytes(path + "-wal").find("SEALED-CREDENTIAL"), std::string::npos);
}

// Migration 0006 counts each user's unfinished entries from the rows there
// are, so the bound holds across the upgrade.
TEST(SqliteStore, UpgradingCountsUnfinishedQueueEntries) {
  testing::TempDir dir;
  std::string path = dir.File("old.db");
  MakeDatabaseAtVersion(path, 5,
      "INSERT INTO users (id, name, created_at) VALUES ('usr_a', 'A', 0), ('usr_b', 'B', 0);"
      "INSERT INTO queue (id, user_id, environment, job_id, task, payload, sealed_key, "
      "status, max_attempts, available_at, created_at, updated_at) VALUES "
      "('q1', 'usr_a', 'live', '1', 'echo', '{}', x'00', 'queued', 5, 0, 0, 0),"
      "('q2', 'usr_a', 'live', '2', 'echo', '{}', x'00', 'claimed', 5, 0, 0, 0),"
      "('q3', 'usr_a', 'live', '3', 'echo', '{}', NULL, 'done', 5, 0, 0, 0),"
      "('q4', 'usr_b', 'live', '1', 'echo', '{}', NULL, 'dead', 5, 0, 0, 0);");
  StatusOr<store::BackendPtr> b = store::OpenBackend({.location = path});
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(*(*b)->queue().CountUnfinished("usr_a"), 2);
  EXPECT_EQ(*(*b)->queue().CountUnfinished("usr_b"), 0);
  QueueEntry e;
  std::tie(e.id, e.user_id, e.job_id, e.task, e.payload) =
      std::tuple("q5", "usr_a", "5", "echo", "{}");
  e.sealed_key = "x";
  EXPECT_EQ((*b)->queue().Enqueue(e, 2).code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE((*b)->queue().Enqueue(e, 3).ok());
}

// Migration 0011 keeps a job's charge on its row. Jobs written before keep
// theirs in the ledger: reports and the credit limit count each charge
// once, whichever kind it is, and a new job's charge adds no ledger row.
TEST(SqliteStore, JobChargesLiveOnTheirRowsAndEarlierOnesInTheLedgerCountOnce) {
  testing::TempDir dir;
  std::string path = dir.File("old.db");
  constexpr UnixMillis kNov = 1793491200000;  // 2026-11-01 UTC
  const std::string at = std::to_string(kNov);
  MakeDatabaseAtVersion(path, 10,
      "INSERT INTO users (id, name, created_at, monthly_credits) VALUES ('usr_a', 'A', 0, 6);"
      "INSERT INTO jobs (id, user_id, environment, job_id, key_id, task, payload, status, cost, "
      "created_at) VALUES ('job_old', 'usr_a', 'live', 'old', 'key_a', 'echo', '{}', 'succeeded', 2, " + at + ");"
      "INSERT INTO usage (user_id, key_id, environment, units, reason, at) VALUES "
      "('usr_a', 'key_a', 'live', 2, 'job:echo', " + at + ");");
  StatusOr<store::BackendPtr> b = store::OpenBackend({.location = path});
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  auto job = [&](const std::string& job_id, std::int64_t cost, Environment env) {
    JobStore::NewJob n;
    n.job.id = "job_" + job_id;
    n.job.user_id = "usr_a";
    n.job.environment = env;
    n.job.job_id = job_id;
    n.job.key_id = "key_a";
    n.job.task = "echo";
    n.job.payload = "{}";
    n.job.cost = cost;
    n.job.created_at = kNov + 10;
    n.charge = true;
    return n;
  };
  ASSERT_TRUE((*b)->jobs().InsertJobs({job("new", 3, Environment::kLive), job("t", 4, Environment::kTest)}).ok());
  EXPECT_EQ(*(*b)->usage().SumUsage("usr_a", Environment::kLive, kNov, kNov + 1000), 5);
  EXPECT_EQ(*(*b)->usage().SumUsage("usr_a", Environment::kTest, kNov, kNov + 1000), 4);
  EXPECT_EQ(*(*b)->usage().SumUsage("usr_a", Environment::kLive, kNov + 1, kNov + 1000), 3);
  StatusOr<std::vector<UsageByKey>> report = (*b)->usage().UsageReport("usr_a", kNov, kNov + 1000);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->size(), 2u);
  EXPECT_EQ((*report)[0].key_id, "key_a");
  EXPECT_EQ((*report)[0].units, 5);
  EXPECT_EQ((*report)[0].entries, 2);
  EXPECT_EQ((*report)[1].environment, Environment::kTest);
  EXPECT_EQ((*report)[1].units, 4);
  // 2 (ledger) + 3 (row) + 2 > 6: refused whole, through the jobs' trigger.
  StatusOr<std::vector<bool>> over = (*b)->jobs().InsertJobs({job("over", 2, Environment::kLive)});
  EXPECT_EQ(over.status().code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE((*b)->jobs().InsertJobs({job("fits", 1, Environment::kLive)}).ok());
  EXPECT_EQ(*(*b)->usage().SumUsage("usr_a", Environment::kLive, kNov, kNov + 1000), 6);
  b->reset();
  store::sqlite::Db db;
  ASSERT_TRUE(db.Open(path, 5000).ok());
  EXPECT_EQ(*db.QueryInt("SELECT count(*) FROM usage"), 1);  // the earlier job's entry alone
  EXPECT_EQ(*db.QueryInt("SELECT used FROM credit_months WHERE user_id = 'usr_a'"), 6);
}

// How many temporary B-trees (OpenEphemeral) `sql` builds when it runs on `db`.
int TemporaryTablesOf(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, ("EXPLAIN " + sql).c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  int n = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    n += std::string_view(reinterpret_cast<const char*>(sqlite3_column_text(st, 1))) == "OpenEphemeral";
  }
  sqlite3_finalize(st);
  return n;
}

std::string Exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  std::string out = rc == SQLITE_OK ? "ok" : (err ? err : "error");
  sqlite3_free(err);
  return out;
}

constexpr const char* kQueueInsert =
    "INSERT INTO queue (id, user_id, environment, job_id, task, payload, sealed_key, status, max_attempts, "
    "available_at, created_at, updated_at) VALUES ";
constexpr const char* kJobInsert =
    "INSERT INTO jobs (id, user_id, environment, job_id, task, payload, status, created_at) VALUES ";

// Migration 0012: writing a queue entry or a job checks its status in place.
// `status IN (…)` of three values or more built a temporary B-tree of the
// list on every row written (two per queue entry, one per job). An older
// database gets the same checks, refusing the same rows, and a connection
// opened before the upgrade sees them too.
TEST(SqliteStore, WritingAQueueEntryOrAJobBuildsNoTemporaryTable) {
  testing::TempDir dir;
  std::string path = dir.File("old.db");
  MakeDatabaseAtVersion(path, 11,
      "INSERT INTO users (id, name, created_at) VALUES ('usr_a', 'A', 0);" + std::string(kQueueInsert) +
      "('q1', 'usr_a', 'live', '1', 'echo', '{}', x'00', 'queued', 5, 0, 0, 0);" + kJobInsert +
      "('job_1', 'usr_a', 'live', '1', 'echo', '{}', 'running', 0);");
  sqlite3* before = nullptr;  // opened before the upgrade, as another process's would be
  ASSERT_EQ(sqlite3_open(path.c_str(), &before), SQLITE_OK);
  ASSERT_EQ(Exec(before, "SELECT count(*) FROM queue"), "ok");
  const std::string queue_row = std::string(kQueueInsert) + "(?, 'usr_a', 'live', ?, 'echo', '{}', ?, ?, 5, 0, 0, 0)";
  const std::string job_row = std::string(kJobInsert) + "(?, 'usr_a', 'live', ?, 'echo', '{}', ?, 0)";
  EXPECT_EQ(TemporaryTablesOf(before, queue_row), 2);  // the two lists of version 11
  EXPECT_EQ(TemporaryTablesOf(before, job_row), 1);

  StatusOr<store::BackendPtr> b = store::OpenBackend({.location = path});
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_TRUE((*b)->queue().GetQueueEntry("q1").ok());

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  for (sqlite3* c : {db, before}) {
    ASSERT_EQ(Exec(c, "SELECT count(*) FROM queue"), "ok");  // a read notices the new schema
    EXPECT_EQ(TemporaryTablesOf(c, queue_row), 0);
    EXPECT_EQ(TemporaryTablesOf(c, job_row), 0);
    EXPECT_EQ(TemporaryTablesOf(c, "UPDATE queue SET status = ? WHERE id = ?"), 0);
    EXPECT_EQ(TemporaryTablesOf(c, "UPDATE jobs SET status = ? WHERE id = ?"), 0);
  }
  // The same rows are refused as before.
  auto queue = [&](const std::string& id, const std::string& sealed, const std::string& status) {
    return Exec(db, kQueueInsert + ("('" + id + "', 'usr_a', 'live', '" + id + "', 'echo', '{}', " + sealed +
                                    ", '" + status + "', 5, 0, 0, 0)"));
  };
  auto job = [&](const std::string& id, const std::string& status) {
    return Exec(db, kJobInsert + ("('" + id + "', 'usr_a', 'live', '" + id + "', 'echo', '{}', '" + status + "', 0)"));
  };
  EXPECT_NE(queue("q2", "x'00'", "queue").find("CHECK constraint failed"), std::string::npos);
  EXPECT_NE(queue("q3", "NULL", "queued").find("CHECK constraint failed"), std::string::npos);
  EXPECT_NE(queue("q4", "NULL", "claimed").find("CHECK constraint failed"), std::string::npos);
  EXPECT_NE(job("job_2", "done").find("CHECK constraint failed"), std::string::npos);
  EXPECT_NE(Exec(db, "UPDATE jobs SET status = 'lost' WHERE id = 'job_1'").find("CHECK constraint failed"),
            std::string::npos);
  for (const char* s : {"queued", "claimed"}) EXPECT_EQ(queue(std::string("q_") + s, "x'00'", s), "ok");
  for (const char* s : {"done", "failed", "dead"}) EXPECT_EQ(queue(std::string("q_") + s, "NULL", s), "ok");
  for (const char* s : {"queued", "running", "succeeded", "failed"}) EXPECT_EQ(job(std::string("job_") + s, s), "ok");
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "ok");
  sqlite3_finalize(st);
  sqlite3_close(before);
  sqlite3_close(db);
}

TEST(SqliteStore, AnInMemoryStoreGoesBackToItsSnapshotAgainAndAgain) {
  StatusOr<store::BackendPtr> b = store::OpenBackend({.location = "sqlite::memory:"});
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  KeyStore& keys = (*b)->keys();
  User base;
  base.id = "usr_base";
  base.name = "base";
  ASSERT_TRUE(keys.CreateUser(base, nullptr).ok());
  StatusOr<std::string> image = (*b)->TEST_Snapshot();
  ASSERT_TRUE(image.ok());
  // Each round writes more than the image holds (the database grows after
  // a restore), then goes back: only the snapshot's user is left.
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 200; ++i) {
      User u;
      u.id = "usr_" + std::to_string(round) + "_" + std::to_string(i);
      u.name = std::string(500, 'n');
      ASSERT_TRUE(keys.CreateUser(u, nullptr).ok()) << "round " << round << " user " << i;
    }
    ASSERT_TRUE((*b)->TEST_Restore(*image).ok());
    EXPECT_TRUE(keys.GetUser("usr_base").ok());
    EXPECT_EQ(keys.GetUser("usr_" + std::to_string(round) + "_0").status().code(), StatusCode::kNotFound);
  }
}

}  // namespace
}  // namespace keyward
