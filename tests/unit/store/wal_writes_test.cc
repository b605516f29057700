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
  // One committed row, then a transaction that outgrows a page cache of ten
  // pages (it writes frames to the WAL before it ends) and rolls back.
  void SpillThenRollBack() {
    Insert(writer, 1);
    ASSERT_TRUE(writer.Exec("PRAGMA cache_size = 10").ok());
    ASSERT_TRUE(writer.Exec("BEGIN").ok());
    for (int i = 0; i < 300; ++i) Insert(writer, 2);
    ASSERT_TRUE(writer.Exec("ROLLBACK").ok());
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
  SpillThenRollBack();
  Insert(writer, 3);
  EXPECT_EQ(Count(reader), 2);
  EXPECT_EQ(*reader.QueryInt("SELECT count(*) FROM t WHERE n = 2"), 0);
  EXPECT_EQ(IntegrityCheck(reader), "ok");
}

TEST_F(WalPair, ARolledBackSpillNeverOverwritesAnotherWritersCommit) {
  // The rolled-back frames lie where the next writer appends. Had they waited
  // in the buffer past the rollback, writing them out later (at this
  // connection's next read of the WAL) would overwrite the other's commit.
  SpillThenRollBack();
  // The other writer, here as another connection: a commit long enough to
  // cover the offsets of the rolled-back frames.
  ASSERT_TRUE(reader.Exec("BEGIN").ok());
  for (int i = 0; i < 400; ++i) Insert(reader, 4);
  ASSERT_TRUE(reader.Exec("COMMIT").ok());
  EXPECT_EQ(Count(writer), 401);
  EXPECT_EQ(*writer.QueryInt("SELECT count(*) FROM t WHERE n = 4"), 400);
  EXPECT_EQ(IntegrityCheck(writer), "ok");
  EXPECT_EQ(Count(reader), 401);
}

// In a child process, on a new WAL database at `path` (synchronous NORMAL,
// as keyward runs): runs `before`, inserts `rows` one-page rows (one
// transaction each unless `before` began one), runs `after`, then kills
// itself with SIGKILL: no close, no checkpoint, only what reached the file.
void CommitThenKill(const std::string& path, const char* before, int rows, const char* after) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Only SQLite and raw system calls here: no gtest assertions in the child.
    Db db;
    if (!db.Open(path, 5000).ok() ||
        !db.Exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; "
                 "CREATE TABLE t (n INTEGER, v BLOB)")
             .ok() ||
        !db.Exec(before).ok()) {
      _exit(2);
    }
    for (int i = 0; i < rows; ++i) {
      StatusOr<Stmt> s = db.Prepare("INSERT INTO t (n, v) VALUES (?1, ?2)");
      if (!s.ok() || !s->Bind(1, static_cast<std::int64_t>(i)).Bind(2, kBlob).Run().ok()) _exit(3);
    }
    if (!db.Exec(after).ok()) _exit(4);
    kill(getpid(), SIGKILL);
    _exit(5);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited " << WEXITSTATUS(status);
}

TEST(WalWrites, AProcessKilledAfterItsCommitsKeepsEveryOne) {
  testing::TempDir dir;
  const std::string path = dir.File("w.db");
  CommitThenKill(path, "SELECT 1", 40, "SELECT 1");  // forty commits of one row
  Db db;
  ASSERT_TRUE(db.Open(path, 5000).ok());
  EXPECT_EQ(Count(db), 40);
  EXPECT_EQ(*db.QueryInt("SELECT max(n) FROM t"), 39);
  EXPECT_EQ(IntegrityCheck(db), "ok");
}

TEST(WalWrites, ATransactionThatRewroteSpilledPagesSurvivesAKill) {
  // A transaction larger than the page cache writes frames before it ends;
  // when it changes such a page again SQLite overwrites that frame in place
  // and, just before it publishes the commit, rewrites the checksums of the
  // frames from there on, the commit frame's last. Every one of those writes
  // must be in the file when the commit is published: recovery after a crash
  // trusts a commit frame only if its checksum chain holds.
  testing::TempDir dir;
  const std::string path = dir.File("w.db");
  CommitThenKill(path, "PRAGMA cache_size = 10; BEGIN", 200,
                 "UPDATE t SET n = n + 1000 WHERE n < 100; COMMIT");
  Db db;
  ASSERT_TRUE(db.Open(path, 5000).ok());
  EXPECT_EQ(Count(db), 200);
  EXPECT_EQ(*db.QueryInt("SELECT count(*) FROM t WHERE n >= 1000"), 100);
  EXPECT_EQ(IntegrityCheck(db), "ok");
}

}  // namespace
}  // namespace keyward::store::sqlite
