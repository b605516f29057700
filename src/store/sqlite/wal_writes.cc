// wal_writes.cc: see wal_writes.h.
#include "store/sqlite/wal_writes.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <new>
#include <vector>

namespace keyward::store::sqlite {
namespace {

constexpr sqlite3_int64 kWalHeaderBytes = 32;
constexpr sqlite3_int64 kFrameHeaderBytes = 24;
constexpr std::size_t kMaxBuffered = 4u << 20;
// The unix VFS masks each write's length to 17 bits (and reports a disk full
// when that leaves less than asked): larger runs go in pieces this size.
constexpr std::size_t kMaxWrite = 31 * 4096;

sqlite3_vfs* g_base = nullptr;  // the default VFS this one wraps
sqlite3_vfs g_vfs;
std::atomic<long long> g_issued{0};

std::uint32_t BigEndian32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

// A database or WAL file: our state, then the default VFS's own file object
// (real). A connection's database file and its WAL file know each other
// (peer), so that the database file's lock calls can write out the WAL.
struct GatherFile {
  sqlite3_file base;  // first: SQLite sees this
  sqlite3_file* real;
  GatherFile* peer;
  std::vector<unsigned char>* pending;  // WAL only: bytes not yet written, from pending_at on
  sqlite3_int64 pending_at;
  sqlite3_int64 commit_end;  // write out once pending reaches this offset (0: none)
  sqlite3_int64 page_size;   // from the WAL header; 0 until known
  sqlite3_int64 page_due;    // a commit page expected here goes straight out (-1: none)

  const sqlite3_io_methods* io() const { return real->pMethods; }

  int Flush() {
    int rc = SQLITE_OK;
    for (std::size_t done = 0; done < pending->size() && rc == SQLITE_OK; done += kMaxWrite) {
      const std::size_t n = std::min(kMaxWrite, pending->size() - done);
      rc = io()->xWrite(real, pending->data() + done, static_cast<int>(n),
                        pending_at + static_cast<sqlite3_int64>(done));
      g_issued.fetch_add(1, std::memory_order_relaxed);
    }
    pending->clear();
    commit_end = 0;
    return rc;
  }

  // The page size the frames are laid out with, or 0 if it cannot be told.
  sqlite3_int64 PageSize(const unsigned char* data, int amt, sqlite3_int64 off) {
    if (off == 0 && amt >= 12) page_size = BigEndian32(data + 8);  // a new WAL header
    if (page_size == 0) {
      unsigned char header[12];
      if (Flush() == SQLITE_OK && io()->xRead(real, header, sizeof header, 0) == SQLITE_OK) {
        page_size = BigEndian32(header + 8);
      }
    }
    return page_size;
  }

  int WriteThrough(const void* buf, int amt, sqlite3_int64 off) {
    g_issued.fetch_add(1, std::memory_order_relaxed);
    return io()->xWrite(real, buf, amt, off);
  }

  int Write(const void* buf, int amt, sqlite3_int64 off) {
    const auto* data = static_cast<const unsigned char*>(buf);
    const bool extends = !pending->empty() && off == pending_at + static_cast<sqlite3_int64>(pending->size());
    if (!pending->empty() && !extends) {
      if (int rc = Flush(); rc != SQLITE_OK) return rc;
    }
    const bool due = off == page_due;
    page_due = -1;
    const sqlite3_int64 page = PageSize(data, amt, off);
    // Write through when the layout is unknown, when no database file will
    // write out what waits before the write lock is released (see DbShmLock),
    // and for a commit page due (below).
    if (page <= 0 || !peer || due) return WriteThrough(buf, amt, off);
    // Frame headers wholly inside this write: a commit frame's page ends
    // the transaction.
    const sqlite3_int64 frame = kFrameHeaderBytes + page;
    const sqlite3_int64 end = off + amt;
    sqlite3_int64 k = off <= kWalHeaderBytes ? 0 : (off - kWalHeaderBytes + frame - 1) / frame;
    for (sqlite3_int64 at = kWalHeaderBytes + k * frame; at + kFrameHeaderBytes <= end; at += frame) {
      if (BigEndian32(data + (at - off) + 4) == 0) continue;
      if (!extends && at == off && amt == kFrameHeaderBytes) {
        // A commit frame's header that continues no run: the first frame of
        // a one-page commit, whose page comes next, or SQLite rewriting the
        // checksums of frames it overwrote in place, whose last write is the
        // commit frame's header and whose next step publishes the commit.
        // Either way it goes out now, and so does a page that follows it.
        page_due = off + kFrameHeaderBytes;
        return WriteThrough(buf, amt, off);
      }
      commit_end = std::max(commit_end, at + frame);
    }
    if (pending->empty()) pending_at = off;
    pending->insert(pending->end(), data, data + amt);
    if ((commit_end != 0 && pending_at + static_cast<sqlite3_int64>(pending->size()) >= commit_end) ||
        pending->size() >= kMaxBuffered) {
      return Flush();
    }
    return SQLITE_OK;
  }
};

GatherFile* Self(sqlite3_file* f) { return reinterpret_cast<GatherFile*>(f); }
sqlite3_file* Real(sqlite3_file* f) { return Self(f)->real; }
const sqlite3_io_methods* Io(sqlite3_file* f) { return Self(f)->io(); }

// Calls that only pass through.
int Lock(sqlite3_file* f, int level) { return Io(f)->xLock(Real(f), level); }
int Unlock(sqlite3_file* f, int level) { return Io(f)->xUnlock(Real(f), level); }
int CheckReservedLock(sqlite3_file* f, int* out) { return Io(f)->xCheckReservedLock(Real(f), out); }
int SectorSize(sqlite3_file* f) { return Io(f)->xSectorSize(Real(f)); }
int DeviceCharacteristics(sqlite3_file* f) { return Io(f)->xDeviceCharacteristics(Real(f)); }
int ShmMap(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  return Io(f)->xShmMap(Real(f), region, size, extend, out);
}
int ShmUnmap(sqlite3_file* f, int del) { return Io(f)->xShmUnmap(Real(f), del); }
int ShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return Io(f)->xShmLock(Real(f), offset, n, flags);
}
void ShmBarrier(sqlite3_file* f) { Io(f)->xShmBarrier(Real(f)); }

// The database file: its own calls, but the WAL is written out before the
// WAL index changes hands. The write lock's release ends every write
// transaction: committed frames went out with their commit, and frames of a
// transaction that spilled pages and rolled back must reach the file before
// another writer may append at the same offsets. The barrier comes before
// SQLite publishes a commit (a second guard for the commit rule).
void FlushPeer(sqlite3_file* f) {
  if (Self(f)->peer) Self(f)->peer->Flush();  // garbage if it fails: never published
}
int DbClose(sqlite3_file* f) {
  if (GatherFile* wal = Self(f)->peer) wal->peer = nullptr;
  return Io(f)->xClose(Real(f));
}
int DbRead(sqlite3_file* f, void* buf, int amt, sqlite3_int64 off) {
  return Io(f)->xRead(Real(f), buf, amt, off);
}
int DbWrite(sqlite3_file* f, const void* buf, int amt, sqlite3_int64 off) {
  return Io(f)->xWrite(Real(f), buf, amt, off);
}
int DbTruncate(sqlite3_file* f, sqlite3_int64 size) { return Io(f)->xTruncate(Real(f), size); }
int DbSync(sqlite3_file* f, int flags) { return Io(f)->xSync(Real(f), flags); }
int DbFileSize(sqlite3_file* f, sqlite3_int64* size) { return Io(f)->xFileSize(Real(f), size); }
int DbFileControl(sqlite3_file* f, int op, void* arg) { return Io(f)->xFileControl(Real(f), op, arg); }
int DbShmLock(sqlite3_file* f, int offset, int n, int flags) {
  if (flags & SQLITE_SHM_UNLOCK) FlushPeer(f);
  return ShmLock(f, offset, n, flags);
}
void DbShmBarrier(sqlite3_file* f) {
  FlushPeer(f);
  ShmBarrier(f);
}
int DbFetch(sqlite3_file* f, sqlite3_int64 off, int amt, void** out) {
  return Io(f)->xFetch(Real(f), off, amt, out);
}
int DbUnfetch(sqlite3_file* f, sqlite3_int64 off, void* p) { return Io(f)->xUnfetch(Real(f), off, p); }

const sqlite3_io_methods kDbMethods = {
    3,          DbClose, DbRead,   DbWrite,           DbTruncate,    DbSync,
    DbFileSize, Lock,    Unlock,   CheckReservedLock, DbFileControl, SectorSize,
    DeviceCharacteristics, ShmMap, DbShmLock, DbShmBarrier, ShmUnmap, DbFetch,
    DbUnfetch,
};

// The WAL file: whatever waits goes out before anything else touches it.
int WalClose(sqlite3_file* f) {
  GatherFile* w = Self(f);
  int rc = w->Flush();
  if (w->peer) w->peer->peer = nullptr;
  int closed = w->io()->xClose(w->real);
  delete w->pending;
  w->pending = nullptr;
  return rc != SQLITE_OK ? rc : closed;
}
int WalRead(sqlite3_file* f, void* buf, int amt, sqlite3_int64 off) {
  if (int rc = Self(f)->Flush(); rc != SQLITE_OK) return rc;
  return DbRead(f, buf, amt, off);
}
int WalWrite(sqlite3_file* f, const void* buf, int amt, sqlite3_int64 off) {
  // Growing the buffer may throw; nothing may unwind through SQLite's C
  // frames. The write fails, and with it the transaction.
  try {
    return Self(f)->Write(buf, amt, off);
  } catch (const std::bad_alloc&) {
    return SQLITE_IOERR_NOMEM;
  }
}
int WalTruncate(sqlite3_file* f, sqlite3_int64 size) {
  if (int rc = Self(f)->Flush(); rc != SQLITE_OK) return rc;
  return DbTruncate(f, size);
}
int WalSync(sqlite3_file* f, int flags) {
  if (int rc = Self(f)->Flush(); rc != SQLITE_OK) return rc;
  return DbSync(f, flags);
}
int WalFileSize(sqlite3_file* f, sqlite3_int64* size) {
  if (int rc = Self(f)->Flush(); rc != SQLITE_OK) return rc;
  return DbFileSize(f, size);
}
int WalFileControl(sqlite3_file* f, int op, void* arg) {
  if (int rc = Self(f)->Flush(); rc != SQLITE_OK) return rc;
  return DbFileControl(f, op, arg);
}
int WalFetch(sqlite3_file*, sqlite3_int64, int, void** out) {
  *out = nullptr;  // never mapped: reads go through WalRead, after a flush
  return SQLITE_OK;
}
int WalUnfetch(sqlite3_file*, sqlite3_int64, void*) { return SQLITE_OK; }

const sqlite3_io_methods kWalMethods = {
    3,           WalClose, WalRead,  WalWrite,          WalTruncate,    WalSync,
    WalFileSize, Lock,     Unlock,   CheckReservedLock, WalFileControl, SectorSize,
    DeviceCharacteristics, ShmMap, ShmLock, ShmBarrier, ShmUnmap, WalFetch,
    WalUnfetch,
};

int Open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  const bool wal = flags & SQLITE_OPEN_WAL;
  if (!wal && !(flags & SQLITE_OPEN_MAIN_DB)) return g_base->xOpen(g_base, name, file, flags, out_flags);
  GatherFile* w = Self(file);
  w->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + sizeof(GatherFile));
  w->real->pMethods = nullptr;
  w->base.pMethods = nullptr;
  w->peer = nullptr;
  w->pending = nullptr;
  int rc = g_base->xOpen(g_base, name, w->real, flags, out_flags);
  if (rc != SQLITE_OK || w->real->pMethods == nullptr || w->real->pMethods->iVersion < 3) {
    if (w->real->pMethods) w->real->pMethods->xClose(w->real);
    return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
  }
  if (!wal) {
    w->base.pMethods = &kDbMethods;
    return SQLITE_OK;
  }
  w->pending = new (std::nothrow) std::vector<unsigned char>();
  if (!w->pending) {
    w->real->pMethods->xClose(w->real);
    return SQLITE_NOMEM;
  }
  w->pending_at = 0;
  w->commit_end = 0;
  w->page_size = 0;
  w->page_due = -1;
  w->base.pMethods = &kWalMethods;
  // The connection's database file, opened through this VFS before its WAL.
  sqlite3_file* db = sqlite3_database_file_object(name);
  if (db && db->pMethods == &kDbMethods && Self(db)->peer == nullptr) {
    Self(db)->peer = w;
    w->peer = Self(db);
  }
  return SQLITE_OK;
}

// Everything but opening files is the default VFS's, called as itself.
int Delete(sqlite3_vfs*, const char* name, int sync) { return g_base->xDelete(g_base, name, sync); }
int Access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return g_base->xAccess(g_base, name, flags, out);
}
int FullPathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return g_base->xFullPathname(g_base, name, n, out);
}
void* DlOpen(sqlite3_vfs*, const char* name) { return g_base->xDlOpen(g_base, name); }
void DlError(sqlite3_vfs*, int n, char* out) { g_base->xDlError(g_base, n, out); }
void (*DlSym(sqlite3_vfs*, void* h, const char* sym))(void) { return g_base->xDlSym(g_base, h, sym); }
void DlClose(sqlite3_vfs*, void* h) { g_base->xDlClose(g_base, h); }
int Randomness(sqlite3_vfs*, int n, char* out) { return g_base->xRandomness(g_base, n, out); }
int Sleep(sqlite3_vfs*, int us) { return g_base->xSleep(g_base, us); }
int CurrentTime(sqlite3_vfs*, double* out) { return g_base->xCurrentTime(g_base, out); }
int GetLastError(sqlite3_vfs*, int n, char* out) { return g_base->xGetLastError(g_base, n, out); }
int CurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  return g_base->xCurrentTimeInt64(g_base, out);
}

}  // namespace

const char* GatheringVfs() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Process-wide settings, only possible before SQLite initialises (an
    // embedding program that already did keeps its own):
    // - no memory statistics: with them on, every SQLite allocation and free
    //   takes one process-wide mutex;
    // - statement journals (a savepoint's or a statement's undo copies of
    //   the pages it changes) stay in memory up to 120 KiB instead of 64 KiB.
    //   Past the threshold a journal becomes a temp file for the rest of its
    //   transaction, and the queue's per-entry savepoints crossed 64 KiB in
    //   most batches: two pwrite calls per page changed from then on. The
    //   threshold is also the size of the journal's one memory chunk,
    //   allocated per journal: under 128 KiB it stays below malloc's mmap
    //   threshold (4 MiB chunks were one mmap and munmap per statement
    //   under the sanitizers).
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, 120 << 10);
    sqlite3_initialize();
    g_base = sqlite3_vfs_find(nullptr);
    g_vfs = sqlite3_vfs{
        .iVersion = 2,
        .szOsFile = static_cast<int>(sizeof(GatherFile)) + g_base->szOsFile,
        .mxPathname = g_base->mxPathname,
        .pNext = nullptr,
        .zName = "keyward",
        .pAppData = nullptr,
        .xOpen = Open, .xDelete = Delete, .xAccess = Access, .xFullPathname = FullPathname,
        .xDlOpen = DlOpen, .xDlError = DlError, .xDlSym = DlSym, .xDlClose = DlClose,
        .xRandomness = Randomness, .xSleep = Sleep, .xCurrentTime = CurrentTime,
        .xGetLastError = GetLastError, .xCurrentTimeInt64 = CurrentTimeInt64,
        .xSetSystemCall = nullptr, .xGetSystemCall = nullptr, .xNextSystemCall = nullptr,
    };
    sqlite3_vfs_register(&g_vfs, /*makeDflt=*/0);
  });
  return g_vfs.zName;
}

long long WalWritesIssued() { return g_issued.load(std::memory_order_relaxed); }

}  // namespace keyward::store::sqlite
