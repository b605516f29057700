// schema.cc: schema version and migrations for the SQLite backend.
#include "store/sqlite/schema.h"

#include "keyward/clock.h"
#include "store/migrations.h"

namespace keyward::store::sqlite {
namespace {

Status Annotate(Status st, std::string_view what) {
  if (st.ok()) return st;
  return Status(st.code(), std::string(what) + ": " + st.message());
}

}  // namespace

int LatestSchemaVersion() {
  const auto& all = Migrations();
  return all.empty() ? 0 : all.back().version;
}

StatusOr<int> CurrentSchemaVersion(Db& db) {
  StatusOr<std::int64_t> has_table = db.QueryInt(
      "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'");
  if (!has_table.ok()) return Annotate(has_table.status(), "read schema");
  if (*has_table == 0) return 0;
  StatusOr<std::int64_t> v = db.QueryInt("SELECT coalesce(max(version), 0) FROM schema_version");
  if (!v.ok()) return Annotate(v.status(), "read schema");
  return static_cast<int>(*v);
}

Status RefuseNewerSchema(Db& db, const std::string& path) {
  KW_ASSIGN_OR_RETURN(int version, CurrentSchemaVersion(db));
  if (version > LatestSchemaVersion()) {
    return FailedPreconditionError(
        "database " + path + " has schema version " + std::to_string(version) +
        ", newer than this keyward supports (" + std::to_string(LatestSchemaVersion()) +
        "); upgrade keyward — the file was not modified");
  }
  return OkStatus();
}

Status Migrate(Db& db) {
  KW_ASSIGN_OR_RETURN(int current, CurrentSchemaVersion(db));
  if (current >= LatestSchemaVersion()) return OkStatus();
  for (const Migration& m : Migrations()) {
    Transaction tx(db);
    KW_RETURN_IF_ERROR(Annotate(tx.Begin(), "migrate"));
    KW_ASSIGN_OR_RETURN(int version, CurrentSchemaVersion(db));
    if (version >= m.version) continue;
    KW_RETURN_IF_ERROR(db.Exec(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
        "name TEXT NOT NULL, applied_at INTEGER NOT NULL)"));
    KW_RETURN_IF_ERROR(Annotate(db.Exec(m.sql), "migration " + std::string(m.name)));
    KW_ASSIGN_OR_RETURN(Stmt s, db.Prepare(
        "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)"));
    s.Bind(1, static_cast<std::int64_t>(m.version)).Bind(2, m.name).Bind(3, SystemClock().Now());
    KW_RETURN_IF_ERROR(s.Run());
    KW_RETURN_IF_ERROR(tx.Commit());
  }
  return OkStatus();
}

}  // namespace keyward::store::sqlite
