// The WAL is checkpointed by a thread of its own and still restarts (stays
// small) under steady writes; every committed row survives.
#include "store/sqlite/checkpointer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <string_view>
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

// A fresh WAL database with table t (v BLOB), and the mutex its writes hold.
struct WalFile {
  testing::TempDir dir;
  const std::string path = dir.File("c.db");
  Db db;
  std::mutex mu;
  explicit WalFile(std::string_view more_sql = "") {
    EXPECT_TRUE(db.Open(path, 5000).ok());
    EXPECT_TRUE(db.Exec("PRAGMA journal_mode = WAL; CREATE TABLE t (v BLOB)").ok());
    if (!more_sql.empty()) {
      EXPECT_TRUE(db.Exec(more_sql).ok());
    }
  }
};

// Writes the rows into a fresh WAL database under a checkpointer with
// `options`; returns the WAL file's size after the checkpointer detached, and
// the checkpoints its thread ran.
struct Outcome {
  std::uintmax_t wal_bytes = 0;
  long long checkpoints = 0;
};
Outcome WriteThrough(CheckpointOptions options, bool wait_for_thread) {
  WalFile f;
  auto& [dir, path, db, mu] = f;
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
  WalFile f("INSERT INTO t (v) VALUES (x'00')");
  auto& [dir, path, db, mu] = f;
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

TEST(Checkpointer, PassesRepeatWhileCommitsLandAndStopWhenNoneDo) {
  // Commits that land during a passive pass are the next pass's work; the
  // thread repeats passes until one finds little new, so that the pass that
  // holds the writes has little left to copy. It used to stop after two.
  {
    WalFile f;
    auto& [dir, path, db, mu] = f;
    Checkpointer ckpt;
    ASSERT_TRUE(ckpt.Attach(db, mu, path, 5000, {.restart_pages = 40, .hard_pages = 100000}).ok());
    // Each commit that wakes the thread waits for its checkpoint: nothing
    // lands during the passes, and the second finds nothing new.
    WriteRows(db, mu, ckpt, /*wait_for_thread=*/true);
    EXPECT_GT(ckpt.completed(), 0);
    EXPECT_EQ(ckpt.most_passes(), 2);
  }
  WalFile f;
  auto& [dir, path, db, mu] = f;
  Checkpointer ckpt;
  ASSERT_TRUE(ckpt.Attach(db, mu, path, 5000, {.restart_pages = 40, .hard_pages = 100000}).ok());
  // Commits keep landing while the thread copies.
  const std::string blob(3000, 'x');
  int rows = 0;
  for (; rows < 20000 && ckpt.most_passes() <= 2; ++rows) {
    std::lock_guard lock(mu);
    StatusOr<Stmt> s = db.Prepare("INSERT INTO t (v) VALUES (?1)");
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE(s->Bind(1, blob).Run().ok());
  }
  EXPECT_GT(ckpt.most_passes(), 2) << "after " << rows << " commits";
  EXPECT_LE(ckpt.most_passes(), 6);
  EXPECT_EQ(*db.QueryInt("SELECT count(*) FROM t"), rows);
}

// Frames in the WAL now: mxFrame of the WAL index header at the start of the
// -shm file (SQLite's documented WAL-index format, native byte order).
std::uint32_t WalFrames(const std::string& db_path) {
  std::ifstream shm(db_path + "-shm", std::ios::binary);
  shm.seekg(16);
  std::uint32_t frames = 0;
  shm.read(reinterpret_cast<char*>(&frames), sizeof frames);
  return frames;
}

// Salt-1 of the WAL file's header (big-endian, bytes 16-19): SQLite adds one
// to it at every restart of the WAL, so two readings differ by the restarts
// between them.
std::uint32_t WalRestartSalt(const std::string& db_path) {
  std::ifstream wal(db_path + "-wal", std::ios::binary);
  wal.seekg(16);
  unsigned char b[4] = {};
  wal.read(reinterpret_cast<char*>(b), sizeof b);
  return std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 | std::uint32_t{b[2]} << 8 | b[3];
}

TEST(Checkpointer, EveryWalCycleWakesTheThreadAtTheRestartSize) {
  // A cycle ends with a restart. The next one must wake the thread once the
  // WAL reaches the restart size again, also when its commits are several
  // pages each and one lands just past where the last cycle was copied back:
  // that mark used to outlive the restart, and the thread waited for a
  // quarter more.
  WalFile f;
  auto& [dir, path, db, mu] = f;
  Checkpointer ckpt;
  ASSERT_TRUE(ckpt.Attach(db, mu, path, 5000, {.restart_pages = 40, .hard_pages = 100000}).ok());
  const std::string blob(3000, 'x');
  auto commit = [&](int rows) {
    std::lock_guard lock(mu);
    Transaction tx(db);
    ASSERT_TRUE(tx.Begin().ok());
    for (int i = 0; i < rows; ++i) {
      StatusOr<Stmt> s = db.Prepare("INSERT INTO t (v) VALUES (?1)");
      ASSERT_TRUE(s.ok());
      ASSERT_TRUE(s->Bind(1, blob).Run().ok());
    }
    ASSERT_TRUE(tx.Commit().ok());
  };
  auto settle = [&] {
    while (ckpt.completed() < ckpt.requested()) std::this_thread::yield();
  };
  // First cycle: one-row commits up to the restart size, one checkpoint.
  while (ckpt.requested() == 0) commit(1);
  settle();
  const long long first = ckpt.requested();
  // Second cycle, after the restart: three-row commits.
  commit(3);
  ASSERT_LT(WalFrames(path), 40u) << "the WAL did not restart";
  while (WalFrames(path) < 40) {
    EXPECT_EQ(ckpt.requested(), first);
    commit(3);
  }
  EXPECT_EQ(ckpt.requested(), first + 1) << "at " << WalFrames(path) << " frames";
  settle();
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
  //
  // How far the WAL grows within one cycle depends on how many of the other
  // writer's commits land while the thread's passes copy (up to six passes,
  // each as slow as the disk's syncs): under a sanitizer on a busy machine a
  // cycle reached 201 frames. So the test counts restarts, which only the
  // fix produces (a WAL that never restarts counts none), and bounds the
  // file at 1,000 pages, five times the largest cycle seen.
  WalFile f;
  auto& [dir, path, db, mu] = f;
  const std::uint32_t salt_before = WalRestartSalt(path);
  Db other;  // as another process would: its own connection, no checkpoints
  ASSERT_TRUE(other.Open(path, 5000).ok());
  ASSERT_TRUE(other.Exec("PRAGMA wal_autocheckpoint = 0").ok());
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
  // 400 one-page commits of this process alone fill ten cycles of 40.
  EXPECT_GE(WalRestartSalt(path) - salt_before, 5u) << "the WAL rarely or never restarted";
  EXPECT_LT(std::filesystem::file_size(path + "-wal"), 1000u * 4096u);
}

}  // namespace
}  // namespace keyward::store::sqlite
