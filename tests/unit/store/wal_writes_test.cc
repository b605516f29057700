// The gathering VFS writes a commit's WAL frames in one call, and nothing
// any reader sees changes: other connections see every commit at once, a
// rolled-back transaction that spilled pages leaves no trace, and a process
// killed right after its commits keeps all of them.
#include "store/sqlite/wal_writes.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "store/sqlite/connection.h"
#include "support/temp_dir.h"

namespace keyward::store::sqlite {
namespace {

const std::string kBlob(3000, 'x');  // one row, about one page

// A WAL database with table t, opened through Db (the gathering VFS).
void OpenWal(Db& db, const std::string& path) {
  ASSERT_TRUE(db.Open(path, 5000).ok());
  ASSERT_TRUE(db.Exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; "
                      "CREATE TABLE IF NOT EXISTS t (n INTEGER, v BLOB)")
                  .ok());
}

void Insert(Db& db, int n) {
  StatusOr<Stmt> s = db.Prepare("INSERT INTO t (n, v) VALUES (?1, ?2)");
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(s->Bind(1, static_cast<std::int64_t>(n)).Bind(2, kBlob).Run().ok());
}

std::int64_t Count(Db& db) { return *db.QueryInt("SELECT count(*) FROM t"); }

std::string IntegrityCheck(Db& db) {
  StatusOr<Stmt> s = db.Prepare("PRAGMA integrity_check");
  Status st;
  return s.ok() && s->Step(&st) ? s->Text(0) : "no answer: " + st.ToString();
}

TEST(WalWrites, ACommitOfManyPagesReachesTheWalInFewWrites) {
  testing::TempDir dir;
  Db db;
  OpenWal(db, dir.File("w.db"));
  ASSERT_TRUE(db.Exec("BEGIN").ok());
  for (int i = 0; i < 50; ++i) Insert(db, i);
  const long long before = WalWritesIssued();
  Status committed = db.Exec("COMMIT");
  ASSERT_TRUE(committed.ok()) << committed.ToString();
  // 50+ frames of 4 KiB and their headers: two writes each through SQLite's
  // own VFS, here one per 124 KiB.
  EXPECT_GE(WalWritesIssued() - before, 1);
  EXPECT_LE(WalWritesIssued() - before, 2);
  EXPECT_EQ(Count(db), 50);
}

// A writer and a second connection (as another process would read) on one file.
class WalPair : public ::testing::Test {
 protected:
  void SetUp() override {
    OpenWal(writer, path);
    ASSERT_TRUE(reader.Open(path, 5000).ok());
  }
  testing::TempDir dir;
  const std::string path = dir.File("w.db");
  Db writer, reader;
};

TEST_F(WalPair, AnotherConnectionSeesEveryCommitAtOnce) {
  std::int64_t rows = 0;
  for (int round = 0; round < 30; ++round) {
    ASSERT_TRUE(writer.Exec("BEGIN").ok());
    for (int i = 0; i <= round % 7; ++i) Insert(writer, round);
    ASSERT_TRUE(writer.Exec("COMMIT").ok());
    rows += round % 7 + 1;
    ASSERT_EQ(Count(reader), rows) << "round " << round;
    if (round % 10 == 9) {  // and after the WAL starts over
      ASSERT_TRUE(writer.Exec("PRAGMA wal_checkpoint(RESTART)").ok());
    }
  }
  EXPECT_EQ(IntegrityCheck(reader), "ok");
}

TEST_F(WalPair, ARolledBackTransactionThatSpilledPagesLeavesNoTrace) {
  Insert(writer, 1);
  // A page cache of ten pages: the transaction writes frames to the WAL
  // before it ends, then gives them up.
  ASSERT_TRUE(writer.Exec("PRAGMA cache_size = 10").ok());
  ASSERT_TRUE(writer.Exec("BEGIN").ok());
  for (int i = 0; i < 300; ++i) Insert(writer, 2);
  ASSERT_TRUE(writer.Exec("ROLLBACK").ok());
  Insert(writer, 3);
  EXPECT_EQ(Count(reader), 2);
  EXPECT_EQ(*reader.QueryInt("SELECT count(*) FROM t WHERE n = 2"), 0);
  EXPECT_EQ(IntegrityCheck(reader), "ok");
}

TEST(WalWrites, AProcessKilledAfterItsCommitsKeepsEveryOne) {
  testing::TempDir dir;
  const std::string path = dir.File("w.db");
  constexpr int kCommits = 40;
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Only SQLite and raw system calls here: no gtest assertions in the child.
    Db db;
    if (!db.Open(path, 5000).ok() ||
        !db.Exec("PRAGMA journal_mode = WAL; CREATE TABLE t (n INTEGER, v BLOB)").ok()) {
      _exit(2);
    }
    for (int i = 0; i < kCommits; ++i) {
      StatusOr<Stmt> s = db.Prepare("INSERT INTO t (n, v) VALUES (?1, ?2)");
      if (!s.ok() || !s->Bind(1, static_cast<std::int64_t>(i)).Bind(2, kBlob).Run().ok()) _exit(3);
    }
    kill(getpid(), SIGKILL);  // no close, no checkpoint: the WAL holds it all
    _exit(4);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited " << WEXITSTATUS(status);
  Db db;
  ASSERT_TRUE(db.Open(path, 5000).ok());
  EXPECT_EQ(Count(db), kCommits);
  EXPECT_EQ(*db.QueryInt("SELECT max(n) FROM t"), kCommits - 1);
  EXPECT_EQ(IntegrityCheck(db), "ok");
}

}  // namespace
}  // namespace keyward::store::sqlite
