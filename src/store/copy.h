// copy.h: `keyward store copy` — moves a SQLite database into PostgreSQL.
//
// Users, keys (hashes only: plaintext never existed), jobs, the usage
// ledger, the queue (sealed credentials as they are, under the same seal
// key) and the seal key's fingerprint go across in one PostgreSQL
// transaction, row for row, with the same ids. Rows already in the target
// are kept, so a copy can be re-run; derived state (each user's monthly
// credit count, the queue's per-user counts) is rebuilt from the rows. Before
// it commits, every table's count in the target is compared with the
// source's: any difference (the target holds rows the source has not, or a
// different seal key) rolls the whole copy back. Run it before pointing
// nodes at the target: it locks the usage table while it runs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "keyward/status.h"

namespace keyward::store {

struct CopiedTable {
  std::string name;
  std::int64_t source = 0;   // rows in the source
  std::int64_t copied = 0;   // rows this run inserted
  std::int64_t present = 0;  // rows the target already had
};

// `from`: a SQLite file path; `to`: a postgres:// or postgresql:// URI.
// Both are migrated to this build's schema first. kInvalidArgument for a
// wrong location, kFailedPrecondition when the counts do not match (nothing
// written), kUnavailable when a database cannot be reached.
StatusOr<std::vector<CopiedTable>> CopySqliteToPostgres(const std::string& from, const std::string& to);

}  // namespace keyward::store
