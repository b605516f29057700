// checkpointer.cc: see checkpointer.h.
#include "store/sqlite/checkpointer.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstdio>

#include "core/process.h"
#include "store/sqlite/connection.h"

namespace keyward::store::sqlite {

Checkpointer::~Checkpointer() {
  if (writer_) sqlite3_wal_hook(writer_, nullptr, nullptr);
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status Checkpointer::Attach(Db& writer, std::mutex& writer_mu, std::string path,
                            int busy_timeout_ms, CheckpointOptions options) {
  writer_mu_ = &writer_mu;
  path_ = std::move(path);
  busy_timeout_ms_ = busy_timeout_ms;
  options_ = options;
  KW_RETURN_IF_ERROR(writer.Exec("PRAGMA wal_autocheckpoint = 0"));
  writer_ = writer.handle();
  sqlite3_wal_hook(writer_, &Checkpointer::OnCommit, this);
  return OkStatus();
}

long long Checkpointer::requested() const {
  std::lock_guard lock(mu_);
  return requested_;
}

long long Checkpointer::completed() const {
  std::lock_guard lock(mu_);
  return completed_;
}

int Checkpointer::most_passes() const {
  std::lock_guard lock(mu_);
  return most_passes_;
}

// Called by SQLite on the writer's thread after each commit, with the number
// of pages in the WAL.
int Checkpointer::OnCommit(void* self_ptr, sqlite3* db, const char* schema, int pages) {
  auto* self = static_cast<Checkpointer*>(self_ptr);
  if (pages >= self->options_.hard_pages) {
    // The thread fell behind: bound the WAL as SQLite's own hook would.
    sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    return SQLITE_OK;
  }
  if (pages < self->options_.restart_pages) return SQLITE_OK;
  {
    std::lock_guard lock(self->mu_);
    if (self->wanted_ || self->stopping_) return SQLITE_OK;
    // Copied back up to `backfilled_` already and not restarted since (a
    // reader held the WAL): wait for a quarter of the threshold more (a
    // smaller WAL means it restarted).
    if (pages >= self->backfilled_ && pages - self->backfilled_ < self->options_.restart_pages / 4) {
      return SQLITE_OK;
    }
    self->wanted_ = true;
    ++self->requested_;
    if (!self->thread_.joinable()) self->thread_ = std::thread([self] { self->Loop(); });
  }
  self->cv_.notify_one();
  return SQLITE_OK;
}

namespace {

constexpr int kMaxPasses = 6;

// fdatasync of the database file and of its WAL, through the connection's
// own file handles.
int SyncFiles(Db& conn) {
  for (int op : {SQLITE_FCNTL_JOURNAL_POINTER, SQLITE_FCNTL_FILE_POINTER}) {
    sqlite3_file* f = nullptr;
    if (sqlite3_file_control(conn.handle(), "main", op, &f) != SQLITE_OK || !f || !f->pMethods) continue;
    if (int rc = f->pMethods->xSync(f, SQLITE_SYNC_NORMAL); rc != SQLITE_OK) return rc;
  }
  return SQLITE_OK;
}

}  // namespace

void Checkpointer::Loop() {
  core::BackgroundThread("kw-checkpoint");
  Db conn;
  Status opened = conn.Open(path_, busy_timeout_ms_);
  // A connection that has not read the file yet does not know it is in WAL
  // mode, and its checkpoints would do nothing.
  if (opened.ok()) opened = conn.QueryInt("SELECT count(*) FROM sqlite_schema").status();
  if (!opened.ok()) {
    // Nothing is lost: the WAL keeps every commit and the writer's hard
    // limit still bounds it.
    std::fprintf(stderr, "keyward: checkpoint thread: %s\n", opened.ToString().c_str());
    std::lock_guard lock(mu_);
    stopping_ = true;  // the writer no longer asks
    return;
  }
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return wanted_ || stopping_; });
    if (stopping_) return;
    lock.unlock();
    // The WAL copied back while commits go on: the bulk, then what landed
    // meanwhile, pass after pass until one finds little new (a pass copies
    // what arrived during the one before), at most kMaxPasses.
    int frames = 0;  // the WAL's size as the last pass found it
    int rc = SQLITE_OK;
    int pass = 0;
    while (pass < kMaxPasses && rc == SQLITE_OK) {
      ++pass;
      int log = 0;
      rc = sqlite3_wal_checkpoint_v2(conn.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log,
                                     nullptr);
      const int arrived = log - frames;
      frames = log;
      if (pass > 1 && arrived < options_.restart_pages / 16) break;
    }
    // The database file's copies made durable now, and the WAL's frames:
    // the held pass below then syncs only what it copies itself.
    if (rc == SQLITE_OK) rc = SyncFiles(conn);
    if (rc == SQLITE_OK) {
      // Under steady writes the WAL never restarts: a writer starts it over
      // only when it begins with every frame copied back and no reader is
      // still on the WAL, and commits keep landing while the checkpoint
      // runs. Catch up on the few frames added meanwhile with this process's
      // writes held off, and in RESTART mode: it also takes the database's
      // write lock (other processes on the file, workers, write too) and
      // waits for readers to leave the WAL, so the next write restarts it.
      std::lock_guard writes(*writer_mu_);
      rc = sqlite3_wal_checkpoint_v2(conn.handle(), nullptr, SQLITE_CHECKPOINT_RESTART,
                                     nullptr, nullptr);
    }
    lock.lock();
    wanted_ = false;
    ++completed_;
    most_passes_ = std::max(most_passes_, pass);
    // Restarted: the next cycle wakes the thread at restart_pages, whatever
    // this one reached. Copied back but held (a reader stayed on the WAL):
    // try again a quarter later.
    if (rc == SQLITE_OK) {
      backfilled_ = 0;
    } else if (frames > 0) {
      backfilled_ = frames;
    }
  }
}

}  // namespace keyward::store::sqlite
