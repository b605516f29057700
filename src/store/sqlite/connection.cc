// connection.cc: connection, statement cache and error mapping for SQLite.
#include "store/sqlite/connection.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <string>

#include "core/crypto.h"
#include "store/sqlite/wal_writes.h"

namespace keyward::store::sqlite {

Status SqliteStatus(int rc, std::string_view what, std::string_view detail) {
  std::string msg(what);
  msg += ": ";
  msg += detail;
  switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
      return OkStatus();
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return UnavailableError(std::string(what) + ": the database is locked by another process");
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return AlreadyExistsError(msg);
      }
      if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) return NotFoundError(msg);
      // The schema's only RAISE(ABORT)s: the credit limit (migrations 0007, 0011).
      if (rc == SQLITE_CONSTRAINT_TRIGGER) return ResourceExhaustedError(msg);
      return InvalidArgumentError(msg);
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return UnavailableError(std::string(what) + ": the file is not a keyward database (" +
                              std::string(detail) + ")");
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_FULL:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return UnavailableError(msg);
    default:
      return InternalError(msg);
  }
}

Stmt::~Stmt() {
  if (!stmt_) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Stmt& Stmt::Bind(int i, std::string_view text) {
  // An empty view may have no data pointer; SQLite would bind that as NULL.
  sqlite3_bind_text(stmt_, i, text.data() ? text.data() : "", static_cast<int>(text.size()),
                    SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::Bind(int i, std::int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}
Stmt& Stmt::Bind(int i, double v) {
  sqlite3_bind_double(stmt_, i, v);
  return *this;
}
Stmt& Stmt::BindBlob(int i, const void* data, std::size_t n) {
  sqlite3_bind_blob(stmt_, i, data, static_cast<int>(n), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::BindNull(int i) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}
Stmt& Stmt::Bind(int i, const std::optional<std::string>& v) {
  return v ? Bind(i, std::string_view(*v)) : BindNull(i);
}
Stmt& Stmt::Bind(int i, const std::optional<std::int64_t>& v) {
  return v ? Bind(i, *v) : BindNull(i);
}
Stmt& Stmt::Bind(int i, const std::optional<double>& v) {
  return v ? Bind(i, *v) : BindNull(i);
}

bool Stmt::Step(Status* status) {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) {
    sqlite3* db = sqlite3_db_handle(stmt_);
    *status = SqliteStatus(sqlite3_extended_errcode(db), "sqlite", sqlite3_errmsg(db));
  }
  return false;
}

Status Stmt::Run() {
  Status status;
  while (Step(&status)) {
  }
  return status;
}

bool Stmt::IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

std::string Stmt::Text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
}
std::optional<std::string> Stmt::OptText(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Text(col);
}
std::int64_t Stmt::Int(int col) const { return sqlite3_column_int64(stmt_, col); }
std::optional<std::int64_t> Stmt::OptInt(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Int(col);
}
std::optional<double> Stmt::OptDouble(int col) const {
  if (IsNull(col)) return std::nullopt;
  return sqlite3_column_double(stmt_, col);
}
int Stmt::ColumnCount() const { return sqlite3_column_count(stmt_); }

std::string Stmt::Blob(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  return p ? std::string(static_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
}

Db::~Db() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  if (db_) sqlite3_close(db_);  // before images_ (a deserialized database lives in one)
}

namespace {

// SQLite's default busy handler sleeps 1, 2, 5, 10 … 100 ms between tries,
// which turns brief write-lock contention between processes (server and
// workers on one file) into whole milliseconds of idle time. Retry quickly
// first, then back off, up to the configured timeout.
int BusyHandler(void* timeout_ms, int attempt) {
  const long long limit_us = static_cast<long long>(*static_cast<int*>(timeout_ms)) * 1000;
  static constexpr long long kFastTries = 50, kFastUs = 100, kSlowUs = 2000;
  long long waited = attempt < kFastTries ? attempt * kFastUs
                                          : kFastTries * kFastUs + (attempt - kFastTries) * kSlowUs;
  if (waited >= limit_us) return 0;  // give up: SQLITE_BUSY
  usleep(static_cast<useconds_t>(attempt < kFastTries ? kFastUs : kSlowUs));
  return 1;
}

// kw_sha256_hex(text): lower-case hex SHA-256 of a text value, for
// migrations that derive values the way keyward's C++ code does.
void Sha256HexFunction(sqlite3_context* ctx, int, sqlite3_value** argv) {
  const unsigned char* text = sqlite3_value_text(argv[0]);
  if (!text) {
    sqlite3_result_null(ctx);
    return;
  }
  std::string_view s(reinterpret_cast<const char*>(text),
                     static_cast<std::size_t>(sqlite3_value_bytes(argv[0])));
  core::Sha256Digest d = core::Sha256(s);
  std::string hex = core::HexEncode(d.data(), d.size());
  sqlite3_result_text(ctx, hex.data(), static_cast<int>(hex.size()), SQLITE_TRANSIENT);
}

}  // namespace

Status Db::Open(const std::string& path, int busy_timeout_ms) {
  // Create the file ourselves so that it is private from its first byte:
  // SQLite would create it with the process umask (often 0644). ":memory:"
  // is SQLite's private in-memory database (tests and fuzzers).
  if (path != ":memory:") {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) {
      close(fd);
    } else if (errno != EEXIST) {
      return UnavailableError("cannot open database " + path + ": " + std::strerror(errno));
    }
  }
  int rc = sqlite3_open_v2(path.c_str(), &db_,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           GatheringVfs());
  if (rc != SQLITE_OK) {
    std::string detail = db_ ? sqlite3_errmsg(db_) : "out of memory";
    return UnavailableError("cannot open database " + path + ": " + detail);
  }
  sqlite3_extended_result_codes(db_, 1);
  busy_timeout_ms_ = busy_timeout_ms;
  sqlite3_busy_handler(db_, BusyHandler, &busy_timeout_ms_);
  rc = sqlite3_create_function_v2(db_, "kw_sha256_hex", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                  nullptr, Sha256HexFunction, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return LastError("register kw_sha256_hex");
  return OkStatus();
}

Status Db::Exec(std::string_view sql) {
  std::string copy(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, copy.c_str(), nullptr, nullptr, &err);
  std::string detail = err ? err : "";
  sqlite3_free(err);
  if (rc != SQLITE_OK) return SqliteStatus(sqlite3_extended_errcode(db_), "sqlite", detail);
  return OkStatus();
}

StatusOr<Stmt> Db::Prepare(const char* sql) {
  auto it = cache_.find(std::string_view(sql));
  if (it != cache_.end()) return Stmt(it->second);
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return SqliteStatus(rc, "prepare", sqlite3_errmsg(db_));
  cache_.emplace(sql, stmt);
  return Stmt(stmt);
}

std::int64_t Db::Changes() const { return sqlite3_changes64(db_); }

StatusOr<std::string> Db::Serialize() {
  sqlite3_int64 size = 0;
  unsigned char* data = sqlite3_serialize(db_, "main", &size, 0);
  if (!data) return InternalError("cannot serialize the database");
  std::string image(reinterpret_cast<const char*>(data), static_cast<std::size_t>(size));
  sqlite3_free(data);
  return image;
}

Status Db::Deserialize(const std::string& image) {
  // Prepared statements do not survive their database being replaced.
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  cache_.clear();
  // Two buffers used in turn, allocated once: a fresh allocation per reset
  // costs a mapping and page faults every time (fuzzers reset per input).
  // The database may grow into the headroom; past it, writes fail (full).
  constexpr std::size_t kHeadroom = 16 << 20;
  Image& next = images_[next_image_];
  if (next.capacity < image.size() + kHeadroom) {
    next.capacity = image.size() + kHeadroom;
    next.data.reset(static_cast<unsigned char*>(std::malloc(next.capacity)));
    if (!next.data) return InternalError("out of memory");
  }
  std::memcpy(next.data.get(), image.data(), image.size());
  int rc = sqlite3_deserialize(db_, "main", next.data.get(), static_cast<sqlite3_int64>(image.size()),
                               static_cast<sqlite3_int64>(next.capacity), 0);
  if (rc != SQLITE_OK) return LastError("deserialize");
  next_image_ ^= 1;
  return OkStatus();
}

StatusOr<std::int64_t> Db::QueryInt(const char* sql) {
  KW_ASSIGN_OR_RETURN(Stmt s, Prepare(sql));
  Status st;
  if (!s.Step(&st)) return st.ok() ? InternalError(std::string("no row from ") + sql) : st;
  return s.Int(0);
}

Status Db::LastError(std::string_view what) const {
  return SqliteStatus(sqlite3_extended_errcode(db_), what, sqlite3_errmsg(db_));
}

Transaction::~Transaction() {
  if (open_) db_.Exec("ROLLBACK").IgnoreError();
}

Status Transaction::Begin() {
  KW_RETURN_IF_ERROR(db_.Exec("BEGIN IMMEDIATE"));
  open_ = true;
  return OkStatus();
}

Status Transaction::Commit() {
  KW_RETURN_IF_ERROR(db_.Exec("COMMIT"));
  open_ = false;
  return OkStatus();
}

}  // namespace keyward::store::sqlite
