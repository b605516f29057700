// copy.cc: see copy.h. Rows are read from SQLite with their own types and
// written to PostgreSQL in batches, each column as one text array cast to
// the target column's type.
#include "store/copy.h"

#include <sqlite3.h>

#include <cstdio>
#include <map>
#include <memory>
#include <optional>

#include "store/backend.h"
#include "store/postgres/connection.h"

namespace keyward::store {
namespace {

using postgres::Conn;
using postgres::Result;

// In foreign-key order. Derived tables (credit_months, queue_unfinished,
// the change feed) are rebuilt, not copied.
constexpr const char* kTables[] = {"users", "api_keys", "jobs", "usage", "queue", "meta"};
constexpr int kBatch = 500;

struct Column {
  std::string name;
  std::string type;  // PostgreSQL's, as format_type() spells it
};

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
using SqlitePtr = std::unique_ptr<sqlite3, SqliteCloser>;

Status SqliteError(sqlite3* db, const std::string& what) {
  return UnavailableError("copy: " + what + ": " + sqlite3_errmsg(db));
}

StatusOr<std::vector<std::string>> SqliteColumns(sqlite3* db, const std::string& table) {
  sqlite3_stmt* raw = nullptr;
  const std::string sql = "SELECT name FROM pragma_table_info('" + table + "')";
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) return SqliteError(db, table);
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> s(raw, sqlite3_finalize);
  std::vector<std::string> out;
  while (sqlite3_step(s.get()) == SQLITE_ROW) {
    out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 0)));
  }
  return out;
}

// The target's columns that the source has too, in the target's order. A
// source column the target lacks would be lost: refused.
StatusOr<std::vector<Column>> CommonColumns(Conn& pg, sqlite3* db, const std::string& table) {
  KW_ASSIGN_OR_RETURN(std::vector<std::string> source, SqliteColumns(db, table));
  KW_ASSIGN_OR_RETURN(Result r, pg.Exec(
      "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
      "WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
      {table}));
  std::vector<Column> out;
  for (const std::string& name : source) {
    bool found = false;
    for (int i = 0; i < r.rows(); ++i) found = found || r.Text(i, 0) == name;
    if (!found) {
      return FailedPreconditionError("copy: the source's " + table + "." + name +
                                     " has no column in the target; nothing was copied");
    }
  }
  for (int i = 0; i < r.rows(); ++i) {
    for (const std::string& name : source) {
      if (r.Text(i, 0) == name) out.push_back({name, r.Text(i, 1)});
    }
  }
  return out;
}

// One SQLite value as PostgreSQL text input for a column of `type`.
std::optional<std::string> Value(sqlite3_stmt* s, int col, const std::string& type) {
  switch (sqlite3_column_type(s, col)) {
    case SQLITE_NULL:
      return std::nullopt;
    case SQLITE_INTEGER: {
      const sqlite3_int64 v = sqlite3_column_int64(s, col);
      if (type == "boolean") return std::string(v ? "true" : "false");
      return std::to_string(v);
    }
    case SQLITE_FLOAT: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", sqlite3_column_double(s, col));
      return std::string(buf);
    }
    case SQLITE_BLOB: {
      const void* p = sqlite3_column_blob(s, col);
      const int n = sqlite3_column_bytes(s, col);
      return postgres::ByteaParam(std::string_view(static_cast<const char*>(p), static_cast<std::size_t>(n)));
    }
    default: {
      const unsigned char* t = sqlite3_column_text(s, col);
      return std::string(reinterpret_cast<const char*>(t), static_cast<std::size_t>(sqlite3_column_bytes(s, col)));
    }
  }
}

// Inserts one batch (column-major); returns how many rows were new.
StatusOr<std::int64_t> InsertBatch(Conn& pg, const std::string& table, const std::vector<Column>& cols,
                                   const std::vector<std::vector<std::optional<std::string>>>& values) {
  std::string names, arrays, casts;
  postgres::Params params;
  for (std::size_t i = 0; i < cols.size(); ++i) {
    const std::string n = std::to_string(i + 1);
    names += (i ? ", " : "") + cols[i].name;
    arrays += (i ? ", $" : "$") + n + "::text[]";
    casts += (i ? ", c" : "c") + n + "::" + cols[i].type;
    params.push_back(postgres::ArrayParam(values[i]));
  }
  std::string aliases;
  for (std::size_t i = 0; i < cols.size(); ++i) aliases += (i ? ", c" : "c") + std::to_string(i + 1);
  KW_ASSIGN_OR_RETURN(Result r, pg.ExecOnce("INSERT INTO " + table + " (" + names + ") SELECT " + casts +
                                                " FROM unnest(" + arrays + ") AS t(" + aliases +
                                                ") ON CONFLICT DO NOTHING",
                                            params));
  return r.affected();
}

StatusOr<CopiedTable> CopyTable(Conn& pg, sqlite3* db, const std::string& table) {
  KW_ASSIGN_OR_RETURN(std::vector<Column> cols, CommonColumns(pg, db, table));
  std::string select;
  for (const Column& c : cols) select += (select.empty() ? "" : ", ") + c.name;
  const std::string sql = "SELECT " + select + " FROM " + table;
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) return SqliteError(db, table);
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> s(raw, sqlite3_finalize);
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
  for (;;) {
    const int rc = sqlite3_step(s.get());
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return SqliteError(db, "read " + table);
    ++out.source;
    for (std::size_t i = 0; i < cols.size(); ++i) values[i].push_back(Value(s.get(), static_cast<int>(i), cols[i].type));
    if (values[0].size() >= kBatch) KW_RETURN_IF_ERROR(flush());
  }
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
Status SameMeta(Conn& pg, sqlite3* db) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT name, value FROM meta", -1, &raw, nullptr) != SQLITE_OK) {
    return SqliteError(db, "meta");
  }
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> s(raw, sqlite3_finalize);
  while (sqlite3_step(s.get()) == SQLITE_ROW) {
    const std::string name = reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 0));
    const std::string value = reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 1));
    KW_ASSIGN_OR_RETURN(Result r, pg.Exec("SELECT value FROM meta WHERE name = $1", {name}));
    if (r.rows() != 1 || r.Text(0, 0) != value) {
      return FailedPreconditionError("copy: the target records another " + name +
                                     " than the source (a different seal key?); nothing was copied");
    }
  }
  return OkStatus();
}

}  // namespace

StatusOr<std::vector<CopiedTable>> CopySqliteToPostgres(const std::string& from, const std::string& to) {
  if (from.rfind("postgres", 0) == 0) return InvalidArgumentError("copy: --from must be a SQLite file");
  if (to.rfind("postgres://", 0) != 0 && to.rfind("postgresql://", 0) != 0) {
    return InvalidArgumentError("copy: --to must be a postgres:// or postgresql:// URI");
  }
  {
    // Both at this build's schema (the SQLite file must exist already).
    std::FILE* f = std::fopen(from.c_str(), "rb");
    if (!f) return InvalidArgumentError("copy: cannot open " + from);
    std::fclose(f);
    KW_ASSIGN_OR_RETURN(BackendPtr source, OpenBackend({.location = from}));
    KW_ASSIGN_OR_RETURN(BackendPtr target, OpenBackend({.location = to}));
  }
  sqlite3* raw = nullptr;
  if (sqlite3_open_v2(from.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    SqlitePtr close(raw);
    return UnavailableError("copy: cannot open " + from);
  }
  SqlitePtr db(raw);
  sqlite3_busy_timeout(db.get(), 5000);
  // One snapshot of the source for the whole copy.
  if (sqlite3_exec(db.get(), "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK) return SqliteError(db.get(), "begin");

  KW_ASSIGN_OR_RETURN(std::unique_ptr<Conn> pg, Conn::Open({.conninfo = to, .statement_timeout_ms = 0, .connect_timeout_s = 5}));
  postgres::Transaction tx(*pg);
  KW_RETURN_IF_ERROR(tx.Begin());
  // Historical charges are facts, not requests: the credit limit's trigger
  // is off while they go in, and the counts are rebuilt from them below.
  KW_RETURN_IF_ERROR(pg->Run("ALTER TABLE usage DISABLE TRIGGER credit_months_charge"));
  std::vector<CopiedTable> out;
  for (const char* table : kTables) {
    KW_ASSIGN_OR_RETURN(CopiedTable t, CopyTable(*pg, db.get(), table));
    out.push_back(std::move(t));
  }
  KW_RETURN_IF_ERROR(SameMeta(*pg, db.get()));
  KW_RETURN_IF_ERROR(pg->Run(
      "DELETE FROM credit_months; "
      "INSERT INTO credit_months (user_id, month, used) "
      "  SELECT user_id, keyward_month(at), sum(units) FROM usage WHERE environment = 'live' GROUP BY 1, 2; "
      "SELECT setval(pg_get_serial_sequence('usage', 'seq'), (SELECT coalesce(max(seq), 0) + 1 FROM usage), false); "
      "ALTER TABLE usage ENABLE TRIGGER credit_months_charge"));
  KW_RETURN_IF_ERROR(tx.Commit());
  return out;
}

}  // namespace keyward::store
