// schema.h: the SQLite schema's version — read without writing, so that a
// database from a newer keyward is refused untouched — and the migrations
// that bring an older one up to date, one transaction each.
#pragma once

#include <string>

#include "store/sqlite/connection.h"

namespace keyward::store::sqlite {

// The newest schema version this build knows.
int LatestSchemaVersion();

// The version recorded in `db` (0 for a new, empty database).
StatusOr<int> CurrentSchemaVersion(Db& db);

// kFailedPrecondition naming `path` if `db` was written by a newer keyward.
// Writes nothing.
Status RefuseNewerSchema(Db& db, const std::string& path);

// Applies every pending migration, each in its own BEGIN IMMEDIATE
// transaction that re-reads the version under the write lock, so processes
// opening the same file at once never apply one twice.
Status Migrate(Db& db);

}  // namespace keyward::store::sqlite
