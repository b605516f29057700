// sqlite_store.h: the embedded Store — one SQLite file in WAL mode.
// Thread-safe: one connection guarded by a mutex; several processes may share
// the file (writes take BEGIN IMMEDIATE and wait up to busy_timeout_ms).
#pragma once

#include "keyward/store.h"

namespace keyward::store::sqlite {

// The newest schema version this build knows.
int LatestSchemaVersion();

}  // namespace keyward::store::sqlite
