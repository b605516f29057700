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

// A WAL file: our state, then the default VFS's own file object (real).
struct WalFile {
  sqlite3_file base;  // first: SQLite sees this
  sqlite3_file* real;
  std::vector<unsigned char>* pending;  // bytes not yet written, from pending_at on
  sqlite3_int64 pending_at;
  sqlite3_int64 commit_end;  // write out once pending reaches this offset (0: none)
  sqlite3_int64 page_size;   // from the WAL header; 0 until known

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

  int Write(const void* buf, int amt, sqlite3_int64 off) {
    const auto* data = static_cast<const unsigned char*>(buf);
    if (!pending->empty() && off != pending_at + static_cast<sqlite3_int64>(pending->size())) {
      if (int rc = Flush(); rc != SQLITE_OK) return rc;
    }
    const sqlite3_int64 page = PageSize(data, amt, off);
    if (page <= 0) {  // layout unknown: write through
      if (int rc = Flush(); rc != SQLITE_OK) return rc;
      g_issued.fetch_add(1, std::memory_order_relaxed);
      return io()->xWrite(real, buf, amt, off);
    }
    if (pending->empty()) pending_at = off;
    pending->insert(pending->end(), data, data + amt);
    // Frame headers wholly inside this write: a commit frame's page ends
    // the transaction.
    const sqlite3_int64 frame = kFrameHeaderBytes + page;
    const sqlite3_int64 end = off + amt;
    sqlite3_int64 k = off <= kWalHeaderBytes ? 0 : (off - kWalHeaderBytes + frame - 1) / frame;
    for (sqlite3_int64 at = kWalHeaderBytes + k * frame; at + kFrameHeaderBytes <= end; at += frame) {
      if (at >= off && BigEndian32(data + (at - off) + 4) != 0) commit_end = std::max(commit_end, at + frame);
    }
    if ((commit_end != 0 && pending_at + static_cast<sqlite3_int64>(pending->size()) >= commit_end) ||
        pending->size() >= kMaxBuffered) {
      return Flush();
    }
    return SQLITE_OK;
  }
};

WalFile* Wal(sqlite3_file* f) { return reinterpret_cast<WalFile*>(f); }

int WalClose(sqlite3_file* f) {
  WalFile* w = Wal(f);
  int rc = w->Flush();
  int closed = w->io()->xClose(w->real);
  delete w->pending;
  w->pending = nullptr;
  return rc != SQLITE_OK ? rc : closed;
}
int WalRead(sqlite3_file* f, void* buf, int amt, sqlite3_int64 off) {
  if (int rc = Wal(f)->Flush(); rc != SQLITE_OK) return rc;
  return Wal(f)->io()->xRead(Wal(f)->real, buf, amt, off);
}
int WalWrite(sqlite3_file* f, const void* buf, int amt, sqlite3_int64 off) {
  return Wal(f)->Write(buf, amt, off);
}
int WalTruncate(sqlite3_file* f, sqlite3_int64 size) {
  if (int rc = Wal(f)->Flush(); rc != SQLITE_OK) return rc;
  return Wal(f)->io()->xTruncate(Wal(f)->real, size);
}
int WalSync(sqlite3_file* f, int flags) {
  if (int rc = Wal(f)->Flush(); rc != SQLITE_OK) return rc;
  return Wal(f)->io()->xSync(Wal(f)->real, flags);
}
int WalFileSize(sqlite3_file* f, sqlite3_int64* size) {
  if (int rc = Wal(f)->Flush(); rc != SQLITE_OK) return rc;
  return Wal(f)->io()->xFileSize(Wal(f)->real, size);
}
int WalLock(sqlite3_file* f, int level) { return Wal(f)->io()->xLock(Wal(f)->real, level); }
int WalUnlock(sqlite3_file* f, int level) { return Wal(f)->io()->xUnlock(Wal(f)->real, level); }
int WalCheckReservedLock(sqlite3_file* f, int* out) {
  return Wal(f)->io()->xCheckReservedLock(Wal(f)->real, out);
}
int WalFileControl(sqlite3_file* f, int op, void* arg) {
  if (int rc = Wal(f)->Flush(); rc != SQLITE_OK) return rc;
  return Wal(f)->io()->xFileControl(Wal(f)->real, op, arg);
}
int WalSectorSize(sqlite3_file* f) { return Wal(f)->io()->xSectorSize(Wal(f)->real); }
int WalDeviceCharacteristics(sqlite3_file* f) {
  return Wal(f)->io()->xDeviceCharacteristics(Wal(f)->real);
}
int WalShmMap(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  return Wal(f)->io()->xShmMap(Wal(f)->real, region, size, extend, out);
}
int WalShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return Wal(f)->io()->xShmLock(Wal(f)->real, offset, n, flags);
}
void WalShmBarrier(sqlite3_file* f) { Wal(f)->io()->xShmBarrier(Wal(f)->real); }
int WalShmUnmap(sqlite3_file* f, int del) { return Wal(f)->io()->xShmUnmap(Wal(f)->real, del); }
int WalFetch(sqlite3_file* f, sqlite3_int64 off, int amt, void** out) {
  *out = nullptr;  // never mapped: reads go through WalRead, after a flush
  (void)f, (void)off, (void)amt;
  return SQLITE_OK;
}
int WalUnfetch(sqlite3_file*, sqlite3_int64, void*) { return SQLITE_OK; }

const sqlite3_io_methods kWalMethods = {
    3,           WalClose,        WalRead,   WalWrite,      WalTruncate,         WalSync,
    WalFileSize, WalLock,         WalUnlock, WalCheckReservedLock, WalFileControl, WalSectorSize,
    WalDeviceCharacteristics, WalShmMap, WalShmLock, WalShmBarrier, WalShmUnmap, WalFetch,
    WalUnfetch,
};

int Open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  if (!(flags & SQLITE_OPEN_WAL)) return g_base->xOpen(g_base, name, file, flags, out_flags);
  WalFile* w = Wal(file);
  w->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + sizeof(WalFile));
  w->real->pMethods = nullptr;
  w->base.pMethods = nullptr;
  int rc = g_base->xOpen(g_base, name, w->real, flags, out_flags);
  if (rc != SQLITE_OK || w->real->pMethods == nullptr || w->real->pMethods->iVersion < 3) {
    if (w->real->pMethods) w->real->pMethods->xClose(w->real);
    return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
  }
  w->pending = new (std::nothrow) std::vector<unsigned char>();
  if (!w->pending) {
    w->real->pMethods->xClose(w->real);
    return SQLITE_NOMEM;
  }
  w->pending_at = 0;
  w->commit_end = 0;
  w->page_size = 0;
  w->base.pMethods = &kWalMethods;
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
    sqlite3_initialize();
    g_base = sqlite3_vfs_find(nullptr);
    g_vfs = sqlite3_vfs{
        .iVersion = 2,
        .szOsFile = static_cast<int>(sizeof(WalFile)) + g_base->szOsFile,
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
