// schema.cc: see schema.h.
#include "store/postgres/schema.h"

#include "store/migrations.h"
#include "store/postgres/connection.h"

namespace keyward::store::postgres {
namespace {

// pg_advisory_xact_lock key: "keyward" in ASCII, as a bigint.
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(30229394876363364)";

}  // namespace

int LatestSchemaVersion() {
  const auto& all = Migrations();
  return all.empty() ? 0 : all.back().version;
}

StatusOr<SchemaState> Migrate(Conn& conn) {
  Transaction tx(conn);
  KW_RETURN_IF_ERROR(tx.Begin());
  KW_RETURN_IF_ERROR(conn.Run(kMigrationLock));
  KW_RETURN_IF_ERROR(conn.Run(
      "CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, "
      "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"));
  KW_ASSIGN_OR_RETURN(Result r, conn.Exec("SELECT coalesce(max(version), 0) FROM schema_version"));
  SchemaState state;
  state.version = static_cast<int>(r.Int(0, 0));
  const int latest = LatestSchemaVersion();
  if (state.version > latest + 1) {
    return FailedPreconditionError(
        "the PostgreSQL schema is at version " + std::to_string(state.version) +
        ", more than one version ahead of this keyward (" + std::to_string(latest) +
        "); upgrade keyward — the database was not modified");
  }
  state.ahead = state.version > latest;
  for (const Migration& m : Migrations()) {
    if (m.version <= state.version) continue;
    Status st = conn.Run(m.sql);
    if (!st.ok()) return Status(st.code(), "migration " + std::string(m.name) + ": " + st.message());
    KW_RETURN_IF_ERROR(conn.Exec("INSERT INTO schema_version (version, name) VALUES ($1, $2)",
                                 {std::to_string(m.version), std::string(m.name)})
                           .status());
    state.version = m.version;
  }
  KW_RETURN_IF_ERROR(tx.Commit());
  return state;
}

}  // namespace keyward::store::postgres
