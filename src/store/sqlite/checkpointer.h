// checkpointer.h: WAL checkpoints off the commit path. SQLite's automatic
// checkpoint runs inside the COMMIT that crosses its threshold, and copies
// the WAL back into the database file and syncs it there: every request
// waiting on that commit (a group commit holds dozens) waits for the disk.
// Here the writer only reports the WAL's size (sqlite3_wal_hook); once the
// WAL holds `restart_pages`, a thread with a connection of its own copies it
// back (PASSIVE checkpoints, which never block the writer or the readers:
// pass after pass until one finds little new), syncs the database file and
// the WAL, and then restarts the WAL in a pass that holds this process's
// writes: it copies what landed since and syncs both files again, and those
// two syncs are what the writers wait for. A checkpoint copies each page once, its newest
// frame, however many commits rewrote it; the pages every commit touches
// (index leaves of the busiest users, the tables' last pages) are copied
// once per WAL cycle, not once per commit. Should the WAL still grow past a
// hard limit (the thread cannot keep up), the writer checkpoints inline as
// SQLite would.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "keyward/status.h"

struct sqlite3;

namespace keyward::store::sqlite {

class Db;

struct CheckpointOptions {
  // From this WAL size the thread copies the WAL back and restarts it: a
  // pause of this process's writes (two file syncs) every ~32 MiB of WAL
  // under steady load; a smaller WAL pauses more often, a larger one is
  // copied back in longer bursts that take the cores from the requests
  // (docs/performance.md). Should the WAL not restart (a reader still on
  // it), the thread tries again after a quarter of this more.
  int restart_pages = 8000;
  // From this size the writer checkpoints itself (the thread fell behind).
  int hard_pages = 32000;
};

class Checkpointer {
 public:
  Checkpointer() = default;
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;
  // Detaches from the writer and joins the thread. REQUIRES: the writer
  // connection is still open.
  ~Checkpointer();

  // Takes over checkpointing for `writer`, a WAL connection to `path` whose
  // write transactions hold `writer_mu`. The thread and its connection start
  // at the first WAL that needs one, so a short-lived process (a CLI
  // command) never starts them.
  Status Attach(Db& writer, std::mutex& writer_mu, std::string path, int busy_timeout_ms,
                CheckpointOptions options = {});

  // Times the thread was woken, checkpoints it has run, and the most
  // passive passes one of them took (tests).
  long long requested() const;
  long long completed() const;
  int most_passes() const;

 private:
  static int OnCommit(void* self, sqlite3* db, const char* schema, int pages);
  void Loop();

  sqlite3* writer_ = nullptr;
  std::mutex* writer_mu_ = nullptr;
  std::string path_;
  int busy_timeout_ms_ = 5000;
  CheckpointOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool wanted_ = false;   // guarded by mu_
  bool stopping_ = false; // guarded by mu_
  long long requested_ = 0;  // guarded by mu_
  long long completed_ = 0;  // guarded by mu_
  int backfilled_ = 0;       // WAL frames copied back without a restart; guarded by mu_
  int most_passes_ = 0;      // guarded by mu_
  std::thread thread_;    // started under mu_ at the first request
};

}  // namespace keyward::store::sqlite
