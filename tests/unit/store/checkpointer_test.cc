// The WAL is checkpointed by a thread of its own and still restarts (stays
// small) under steady writes; every committed row survives.
#include "store/sqlite/checkpointer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

#include "store/sqlite/connection.h"
#include "support/temp_dir.h"

namespace keyward::store::sqlite {
namespace {

constexpr int kRows = 400;

// Runs `sql` (binding a one-page blob as ?1) kRows times, one transaction
// each, under `mu`. With `wait_for_thread`, a commit that woke the thread
// waits for its checkpoint before the next one, as a slower writer would.
void WriteRows(Db& db, std::mutex& mu, const Checkpointer& ckpt, bool wait_for_thread,
               const char* sql = "INSERT INTO t (v) VALUES (?1)") {
  const std::string blob(3000, 'x');
  for (int i = 0; i < kRows; ++i) {
    {
      std::lock_guard lock(mu);
      StatusOr<Stmt> s = db.Prepare(sql);
      ASSERT_TRUE(s.ok());
      ASSERT_TRUE(s->Bind(1, blob).Run().ok());
    }
    // Polls without a deadline of its own: ctest's timeout bounds the test.
    while (wait_for_thread && ckpt.completed() < ckpt.requested()) {
      std::this_thread::yield();
    }
  }
}

// Writes the rows into a fresh WAL database under a checkpointer with
// `options`; returns the WAL file's size after the checkpointer detached, and
// the checkpoints its thread ran.
struct Outcome {
  std::uintmax_t wal_bytes = 0;
  long long checkpoints = 0;
};
Outcome WriteThrough(CheckpointOptions options, bool wait_for_thread) {
  testing::TempDir dir;
  const std::string path = dir.File("c.db");
  Db db;
  EXPECT_TRUE(db.Open(path, 5000).ok());
  EXPECT_TRUE(db.Exec("PRAGMA journal_mode = WAL; CREATE TABLE t (v BLOB)").ok());
  std::mutex mu;
  Outcome out;
  {
    Checkpointer ckpt;
    EXPECT_TRUE(ckpt.Attach(db, mu, path, 5000, options).ok());
    WriteRows(db, mu, ckpt, wait_for_thread);
    out.checkpoints = ckpt.completed();
  }
  out.wal_bytes = std::filesystem::file_size(path + "-wal");
  EXPECT_EQ(*db.QueryInt("SELECT count(*) FROM t"), kRows);
  return out;
}

// 400 pages go through a WAL that restarts every ~40: it never holds more
// than a fraction of them (without checkpoints it would hold all 400).
constexpr std::uintmax_t kWalBound = 200u * 4096u;

TEST(Checkpointer, TheThreadCheckpointsAndTheWalRestartsUnderSteadyWrites) {
  Outcome o = WriteThrough({.restart_pages = 40, .hard_pages = 100000},
                  /*wait_for_thread=*/true);
  EXPECT_GT(o.checkpoints, 0);
  EXPECT_LT(o.wal_bytes, kWalBound);
}

TEST(Checkpointer, APageRewrittenByEveryCommitIsCopiedBackOncePerWalCycle) {
  // Every commit rewrites the same row (one page, one frame): 400 frames go
  // through a WAL that restarts every 40. A checkpoint copies each page
  // once, so one pass per cycle copies the page once per 40 commits. (The
  // thread used to wake at half the restart size and then every quarter of
  // that: 17 passes here, each copying the page again.)
  testing::TempDir dir;
  const std::string path = dir.File("c.db");
  Db db;
  ASSERT_TRUE(db.Open(path, 5000).ok());
  ASSERT_TRUE(db.Exec("PRAGMA journal_mode = WAL; CREATE TABLE t (v BLOB);"
                      "INSERT INTO t (v) VALUES (x'00')").ok());
  std::mutex mu;
  long long passes = 0;
  {
    Checkpointer ckpt;
    ASSERT_TRUE(ckpt.Attach(db, mu, path, 5000, {.restart_pages = 40, .hard_pages = 100000}).ok());
    WriteRows(db, mu, ckpt, /*wait_for_thread=*/true, "UPDATE t SET v = ?1 || randomblob(8)");
    passes = ckpt.completed();
  }
  EXPECT_GT(passes, 0);
  EXPECT_LE(passes, kRows / 40 + 1);
  EXPECT_LT(std::filesystem::file_size(path + "-wal"), kWalBound);
  EXPECT_EQ(*db.QueryInt("SELECT count(*) FROM t"), 1);
}

TEST(Checkpointer, WithoutTheThreadTheWriterBoundsTheWalItself) {
  // The thread never wakes (its threshold is never reached): the hard limit
  // makes the writer checkpoint, and the WAL restarts.
  Outcome o = WriteThrough({.restart_pages = 1000000, .hard_pages = 30},
                  /*wait_for_thread=*/false);
  EXPECT_EQ(o.checkpoints, 0);
  EXPECT_LT(o.wal_bytes, kWalBound);
}

TEST(Checkpointer, TheWalRestartsWhileAnotherProcessWritesToo) {
  // A worker process writes the same file: its commits land whenever they
  // like, also while the thread catches up. The thread's catch-up must hold
  // them off as well (it takes the database's write lock), or no writer ever
  // finds the WAL fully copied back: it grows until the writer's hard limit
  // makes every commit checkpoint inline (here, with none, to 13 MB).
  testing::TempDir dir;
  const std::string path = dir.File("c.db");
  Db db;
  ASSERT_TRUE(db.Open(path, 5000).ok());
  ASSERT_TRUE(db.Exec("PRAGMA journal_mode = WAL; CREATE TABLE t (v BLOB)").ok());
  Db other;  // as another process would: its own connection, no checkpoints
  ASSERT_TRUE(other.Open(path, 5000).ok());
  ASSERT_TRUE(other.Exec("PRAGMA wal_autocheckpoint = 0").ok());
  std::mutex mu;
  std::atomic<bool> done{false};
  std::atomic<int> other_rows{0};
  {
    Checkpointer ckpt;
    ASSERT_TRUE(ckpt.Attach(db, mu, path, 5000,
                            {.restart_pages = 40, .hard_pages = 100000})
                    .ok());
    std::thread writer([&] {
      const std::string blob(3000, 'y');
      while (!done) {
        StatusOr<Stmt> s = other.Prepare("INSERT INTO t (v) VALUES (?1)");
        if (s.ok() && s->Bind(1, blob).Run().ok()) ++other_rows;
        std::this_thread::sleep_for(std::chrono::microseconds(200));  // its own work between commits
      }
    });
    WriteRows(db, mu, ckpt, /*wait_for_thread=*/true);
    done = true;
    writer.join();
    EXPECT_GT(ckpt.completed(), 0);
  }
  EXPECT_GT(other_rows.load(), 0);
  EXPECT_EQ(*db.QueryInt("SELECT count(*) FROM t"), kRows + other_rows.load());
  EXPECT_LT(std::filesystem::file_size(path + "-wal"), kWalBound);
}

}  // namespace
}  // namespace keyward::store::sqlite
