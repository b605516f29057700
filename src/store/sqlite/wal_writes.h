// wal_writes.h: a SQLite VFS ("keyward") that hands each commit's WAL frames
// to the kernel in as few writes as it can (one per 124 KiB: the unix VFS
// takes no more at once). SQLite's own unix VFS writes every frame as two
// system calls (its 24-byte header, then the page), so a group commit that
// dirties a hundred pages (jobs of a hundred users: a leaf of each per-user
// index apiece) made two hundred pwrite calls, and on a virtual machine the
// system calls were most of a commit's cost. This VFS wraps the default one:
// journals and temporary files are the default's own; a database file passes
// every call through but knows its connection's WAL file; WAL files keep
// contiguous writes in a buffer and write it out
//  - once the page of a commit frame (a frame header whose "database size
//    after commit" field is set) is in the buffer, before SQLite publishes
//    the commit in the WAL index, so no reader, here or in another process,
//    can see a frame that is not in the file, and a failed write fails the
//    commit. A commit frame's header that continues no buffered run is
//    written at once (with its page, if that follows): it is either a
//    one-page commit or SQLite rewriting checksums after overwriting frames
//    in place, whose last write before publishing is that header;
//  - before any read, sync, truncate, size query, file control or close of
//    that file, before a write that does not continue the buffer, and
//    whenever 4 MiB are waiting (a large transaction spilling pages);
//  - when the database file releases a WAL lock (the end of every write
//    transaction: frames of one that spilled and rolled back must be in the
//    file before another writer appends at their offsets) and at its memory
//    barrier, which SQLite passes before it publishes a commit.
// A WAL file that could not be linked to its database file is written
// through, unbuffered.
// Nothing changes on disk: the same bytes at the same offsets, in order.
#pragma once

namespace keyward::store::sqlite {

// The VFS's name, registered (not as the default) on first use; pass it to
// sqlite3_open_v2.
const char* GatheringVfs();

// Writes handed to the default VFS for WAL files so far, in this process
// (tests).
long long WalWritesIssued();

}  // namespace keyward::store::sqlite
