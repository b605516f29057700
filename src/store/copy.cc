// copy.cc: see copy.h. Rows are read from SQLite through the backend's
// own connection layer and written to PostgreSQL in batches, each column as
// one text array cast to the target column's type.
#include "store/copy.h"

#include <cstdio>
#include <optional>

#include "store/backend.h"
#include "store/postgres/connection.h"
#include "store/sqlite/connection.h"

namespace keyward::store {
namespace {

using postgres::Conn;
using postgres::Result;
using sqlite::Db;
using sqlite::Stmt;

// In foreign-key order. Derived tables (credit_months, queue_unfinished,
// the change feed) are rebuilt, not copied.
constexpr const char* kTables[] = {"users", "api_keys", "legacy_keys", "jobs", "usage", "queue", "meta"};
constexpr int kBatch = 500;

struct Column {
  std::string name;
  std::string type;  // PostgreSQL's, as format_type() spells it
};

StatusOr<std::vector<std::string>> SqliteColumns(Db& db, const std::string& table) {
  const std::string sql = "SELECT name FROM pragma_table_info('" + table + "')";
  KW_ASSIGN_OR_RETURN(Stmt s, db.Prepare(sql.c_str()));
  std::vector<std::string> out;
  Status st;
  while (s.Step(&st)) out.push_back(s.Text(0));
  KW_RETURN_IF_ERROR(st);
  return out;
}

// The target's columns that the source has too, in the target's order. A
// source column the target lacks would be lost: refused.
StatusOr<std::vector<Column>> CommonColumns(Conn& pg, Db& db, const std::string& table) {
  KW_ASSIGN_OR_RETURN(std::vector<std::string> source, SqliteColumns(db, table));
  KW_ASSIGN_OR_RETURN(Result r, pg.Exec(
      "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
      "WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
      {table}));
  for (const std::string& name : source) {
    bool found = false;
    for (int i = 0; i < r.rows(); ++i) found = found || r.Text(i, 0) == name;
    if (!found) {
      return FailedPreconditionError("copy: the source's " + table + "." + name +
                                     " has no column in the target; nothing was copied");
    }
  }
  std::vector<Column> out;
  for (int i = 0; i < r.rows(); ++i) {
    for (const std::string& name : source) {
      if (r.Text(i, 0) == name) out.push_back({name, r.Text(i, 1)});
    }
  }
  return out;
}

// One SQLite value as PostgreSQL text input for a column of `type`. The
// source tables are STRICT, so a column's values have its declared type:
// integers and text read exactly as text; the rest need their own form.
std::optional<std::string> Value(const Stmt& s, int col, const std::string& type) {
  if (s.IsNull(col)) return std::nullopt;
  if (type == "boolean") return std::string(s.Int(col) ? "true" : "false");
  if (type == "bytea") return postgres::ByteaParam(s.Blob(col));
  if (type == "double precision") {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", *s.OptDouble(col));
    return std::string(buf);
  }
  return s.Text(col);
}

// Inserts one batch (column-major); returns how many rows were new.
StatusOr<std::int64_t> InsertBatch(Conn& pg, const std::string& table, const std::vector<Column>& cols,
                                   const std::vector<std::vector<std::optional<std::string>>>& values) {
  std::string names, arrays, aliases, casts;
  postgres::Params params;
  for (std::size_t i = 0; i < cols.size(); ++i) {
    const std::string sep = i ? ", " : "", n = std::to_string(i + 1);
    names += sep + cols[i].name;
    arrays += sep + "$" + n + "::text[]";
    aliases += sep + "c" + n;
    casts += sep + "c" + n + "::" + cols[i].type;
    params.push_back(postgres::ArrayParam(values[i]));
  }
  KW_ASSIGN_OR_RETURN(Result r, pg.ExecOnce("INSERT INTO " + table + " (" + names + ") SELECT " + casts +
                                                " FROM unnest(" + arrays + ") AS t(" + aliases +
                                                ") ON CONFLICT DO NOTHING",
                                            params));
  return r.affected();
}

StatusOr<CopiedTable> CopyTable(Conn& pg, Db& db, const std::string& table) {
  KW_ASSIGN_OR_RETURN(std::vector<Column> cols, CommonColumns(pg, db, table));
  std::string select;
  for (const Column& c : cols) select += (select.empty() ? "" : ", ") + c.name;
  const std::string sql = "SELECT " + select + " FROM " + table;
  KW_ASSIGN_OR_RETURN(Stmt s, db.Prepare(sql.c_str()));
  CopiedTable out;
  out.name = table;
  std::vector<std::vector<std::optional<std::string>>> values(cols.size());
  auto flush = [&]() -> Status {
    if (values[0].empty()) return OkStatus();
    KW_ASSIGN_OR_RETURN(std::int64_t n, InsertBatch(pg, table, cols, values));
    out.copied += n;
    for (auto& v : values) v.clear();
    return OkStatus();
  };
  Status read;
  while (s.Step(&read)) {
    ++out.source;
    for (std::size_t i = 0; i < cols.size(); ++i) values[i].push_back(Value(s, static_cast<int>(i), cols[i].type));
    if (values[0].size() >= kBatch) KW_RETURN_IF_ERROR(flush());
  }
  KW_RETURN_IF_ERROR(read);
  KW_RETURN_IF_ERROR(flush());
  KW_ASSIGN_OR_RETURN(Result n, pg.Exec("SELECT count(*) FROM " + table));
  const std::int64_t target = n.Int(0, 0);
  if (target != out.source) {
    return FailedPreconditionError("copy: " + table + " has " + std::to_string(target) +
                                   " rows in the target after the copy but " + std::to_string(out.source) +
                                   " in the source (the target holds data that is not from this source); "
                                   "nothing was copied");
  }
  out.present = out.source - out.copied;
  return out;
}

// The target must record what the source records (the seal key's
// fingerprint): entries sealed under one key are useless under another.
Status SameMeta(Conn& pg, Db& db) {
  KW_ASSIGN_OR_RETURN(Stmt s, db.Prepare("SELECT name, value FROM meta"));
  Status read;
  while (s.Step(&read)) {
    const std::string name = s.Text(0), value = s.Text(1);
    KW_ASSIGN_OR_RETURN(Result r, pg.Exec("SELECT value FROM meta WHERE name = $1", {name}));
    if (r.rows() != 1 || r.Text(0, 0) != value) {
      return FailedPreconditionError("copy: the target records another " + name +
                                     " than the source (a different seal key?); nothing was copied");
    }
  }
  return read;
}

}  // namespace

StatusOr<std::vector<CopiedTable>> CopySqliteToPostgres(const std::string& from, const std::string& to) {
  if (IsPostgresLocation(from)) return InvalidArgumentError("copy: --from must be a SQLite file");
  if (!IsPostgresLocation(to)) return InvalidArgumentError("copy: --to must be a postgres:// or postgresql:// URI");
  const std::string path = SqlitePath(from);
  {
    // Both at this build's schema (the SQLite file must exist already:
    // opening would create it).
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return InvalidArgumentError("copy: cannot open " + path);
    std::fclose(f);
    KW_ASSIGN_OR_RETURN(BackendPtr source, OpenBackend({.location = path}));
    KW_ASSIGN_OR_RETURN(BackendPtr target, OpenBackend({.location = to}));
  }
  Db db;
  KW_RETURN_IF_ERROR(db.Open(path, 5000));
  // One snapshot of the source for the whole copy.
  KW_RETURN_IF_ERROR(db.Exec("BEGIN"));

  KW_ASSIGN_OR_RETURN(std::unique_ptr<Conn> pg, Conn::Open({.conninfo = to, .statement_timeout_ms = 0, .connect_timeout_s = 5}));
  postgres::Transaction tx(*pg);
  KW_RETURN_IF_ERROR(tx.Begin());
  // Historical charges are facts, not requests: the credit limit's trigger
  // is off while they go in, and the counts are rebuilt from them below.
  KW_RETURN_IF_ERROR(pg->Run("ALTER TABLE usage DISABLE TRIGGER credit_months_charge; "
                             "ALTER TABLE jobs DISABLE TRIGGER credit_months_job_charge"));
  std::vector<CopiedTable> out;
  for (const char* table : kTables) {
    KW_ASSIGN_OR_RETURN(CopiedTable t, CopyTable(*pg, db, table));
    out.push_back(std::move(t));
  }
  KW_RETURN_IF_ERROR(SameMeta(*pg, db));
  KW_RETURN_IF_ERROR(pg->Run(
      "DELETE FROM credit_months; "
      "INSERT INTO credit_months (user_id, month, used) "
      "  SELECT user_id, month, sum(units) FROM ("
      "    SELECT user_id, keyward_month(at) AS month, units FROM usage WHERE environment = 'live' "
      "    UNION ALL "
      "    SELECT user_id, keyward_month(created_at), cost FROM jobs "
      "    WHERE environment = 'live' AND charged) c GROUP BY 1, 2; "
      "SELECT setval(pg_get_serial_sequence('usage', 'seq'), (SELECT coalesce(max(seq), 0) + 1 FROM usage), false); "
      "ALTER TABLE usage ENABLE TRIGGER credit_months_charge; "
      "ALTER TABLE jobs ENABLE TRIGGER credit_months_job_charge"));
  KW_RETURN_IF_ERROR(tx.Commit());
  return out;
}

}  // namespace keyward::store
