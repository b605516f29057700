// connection.h: a thin RAII layer over sqlite3 — one connection, statements
// prepared once and cached by SQL text, SQLite result codes mapped to Status.
// Not thread-safe: the backend serialises access with its own mutex.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "keyward/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace keyward::store::sqlite {

// A prepared statement borrowed from the cache; reset and unbound when it
// goes out of scope, so the next user starts clean.
class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Stmt(Stmt&& other) noexcept : stmt_(other.stmt_) { other.stmt_ = nullptr; }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt& operator=(Stmt&&) = delete;
  ~Stmt();

  // Bind by 1-based index. Strings are copied by SQLite.
  Stmt& Bind(int i, std::string_view text);
  Stmt& Bind(int i, const std::string& text) { return Bind(i, std::string_view(text)); }
  Stmt& Bind(int i, const char* text) { return Bind(i, std::string_view(text)); }
  Stmt& Bind(int i, std::int64_t v);
  Stmt& Bind(int i, double v);
  Stmt& BindBlob(int i, const void* data, std::size_t n);
  Stmt& BindNull(int i);
  // NULL when `bytes` is empty, else a blob.
  Stmt& BindBlobOrNull(int i, const std::string& bytes) {
    return bytes.empty() ? BindNull(i) : BindBlob(i, bytes.data(), bytes.size());
  }
  Stmt& Bind(int i, const std::optional<std::string>& v);
  Stmt& Bind(int i, const std::optional<std::int64_t>& v);
  Stmt& Bind(int i, const std::optional<double>& v);

  // Advances; returns true while a row is available, false when done.
  // Sets *status on error (and returns false).
  bool Step(Status* status);
  // Runs to completion expecting no rows.
  Status Run();

  bool IsNull(int col) const;
  std::string Text(int col) const;
  std::optional<std::string> OptText(int col) const;
  std::int64_t Int(int col) const;
  std::optional<std::int64_t> OptInt(int col) const;
  std::optional<double> OptDouble(int col) const;
  std::string Blob(int col) const;
  int ColumnCount() const;

 private:
  sqlite3_stmt* stmt_;
};

class Db {
 public:
  Db() = default;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  // Opens `path`, creating it with mode 0600 (SQLite gives its -wal and -shm
  // files the same mode) if it does not exist. kUnavailable if it cannot be
  // opened.
  Status Open(const std::string& path, int busy_timeout_ms);
  // Runs one or more statements without parameters.
  Status Exec(std::string_view sql);
  // A cached prepared statement for `sql`; kInternal if it does not compile.
  StatusOr<Stmt> Prepare(const char* sql);
  // Rows changed by the last statement.
  std::int64_t Changes() const;
  // Maps the connection's last error to a Status (`what` names the operation).
  Status LastError(std::string_view what) const;
  // Runs `sql` and returns the first column of its first row as an integer
  // (e.g. a count or a PRAGMA value).
  StatusOr<std::int64_t> QueryInt(const char* sql);
  // The main database as bytes (sqlite3_serialize), and replacing it with
  // such bytes (sqlite3_deserialize): for in-memory databases only.
  StatusOr<std::string> Serialize();
  Status Deserialize(const std::string& image);
  // The raw connection, for SQLite calls this class does not wrap.
  sqlite3* handle() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
  int busy_timeout_ms_ = 5000;  // read by the busy handler
  std::map<std::string, sqlite3_stmt*, std::less<>> cache_;  // by SQL text
  // Deserialize()'s buffers, used in turn (the live one is never overwritten).
  struct Image {
    struct Free {
      void operator()(unsigned char* p) const { std::free(p); }
    };
    std::unique_ptr<unsigned char, Free> data;
    std::size_t capacity = 0;
  };
  Image images_[2];
  int next_image_ = 0;
};

// Maps a SQLite result code to a Status with `what` and SQLite's message.
Status SqliteStatus(int rc, std::string_view what, std::string_view detail);

// Scoped transaction: BEGIN IMMEDIATE on Begin(), ROLLBACK unless Commit().
class Transaction {
 public:
  explicit Transaction(Db& db) : db_(db) {}
  ~Transaction();
  Status Begin();
  Status Commit();

 private:
  Db& db_;
  bool open_ = false;
};

}  // namespace keyward::store::sqlite
