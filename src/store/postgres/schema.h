// schema.h: the PostgreSQL schema's version and its migrations. Several
// nodes may start at once: migrations run in one transaction under an
// advisory lock, so exactly one node applies them and the others find them
// done. Upgrades are expand-then-contract, one node at a time: a node runs
// against a schema one version ahead of its own (and says so), and refuses
// a schema further ahead.
#pragma once

#include "keyward/status.h"

namespace keyward::store::postgres {

class Conn;

// The newest version this build knows.
int LatestSchemaVersion();

struct SchemaState {
  int version = 0;           // the database's, after Migrate()
  bool ahead = false;        // one version newer than this build: allowed
};

// Applies every pending migration (under the lock); refuses a database more
// than one version ahead (kFailedPrecondition, nothing modified).
StatusOr<SchemaState> Migrate(Conn& conn);

}  // namespace keyward::store::postgres
