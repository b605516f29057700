// connection.h: a thin layer over libpq for the PostgreSQL store — one
// connection with its prepared statements (prepared once per connection,
// by SQL text), results as text, SQLSTATEs mapped to Status, a scoped
// transaction, and a small pool that replaces broken connections. Every
// connection carries a statement timeout. libpq's types stay in the .cc.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keyward/status.h"
#include "keyward/store.h"
#include "store/cursor.h"

struct pg_conn;
struct pg_result;

namespace keyward::store::postgres {

// Text parameters ($1, $2 …); nullopt is SQL NULL.
using Params = std::vector<std::optional<std::string>>;

// Values as text parameters: integers in decimal, doubles in their shortest
// exact form, environments by name; nullopt is NULL.
inline std::string Num(std::int64_t v) { return std::to_string(v); }
std::optional<std::string> Num(std::optional<std::int64_t> v);
std::optional<std::string> Num(std::optional<double> v);
std::string Env(Environment e);
Environment ReadEnv(const std::string& text);

// Binary values travel as bytea in hex form: "\\x0a1b…" as a parameter (cast
// with ::bytea), encode(column, 'hex') when read.
std::string ByteaParam(std::string_view bytes);
// A one-dimensional array literal of `values` ('{"a","b",NULL}'), every
// element quoted, for parameters cast as text[] or bigint[]: a batch as one
// parameter per column, expanded with unnest().
std::string ArrayParam(const std::vector<std::optional<std::string>>& values);
// The bytes of a hex string (from encode(…, 'hex')); "" if it is not hex.
std::string FromHex(std::string_view hex);

// The rows of one statement, as text.
class Result {
 public:
  Result() = default;
  int rows() const;
  int columns() const;
  bool IsNull(int row, int col) const;
  std::string Text(int row, int col) const;
  std::optional<std::string> OptText(int row, int col) const;
  std::int64_t Int(int row, int col) const;
  std::optional<std::int64_t> OptInt(int row, int col) const;
  // Rows inserted, updated or deleted by the statement.
  std::int64_t affected() const;

 private:
  friend class Conn;
  explicit Result(pg_result* r);
  std::shared_ptr<pg_result> res_;
};

// Maps a PostgreSQL error (its SQLSTATE) to a Status: unique violation →
// kAlreadyExists, foreign key → kNotFound, other integrity or data errors →
// kInvalidArgument, statement timeout, serialization failure, deadlock and
// lost connections → kUnavailable, the rest → kInternal.
Status PgStatus(std::string_view sqlstate, std::string_view what, std::string_view message);

struct ConnOptions {
  std::string conninfo;  // libpq connection string or postgres:// URI
  int statement_timeout_ms = 5000;
  int connect_timeout_s = 5;
};

class Conn {
 public:
  // kUnavailable when the server cannot be reached or refuses the login.
  static StatusOr<std::unique_ptr<Conn>> Open(const ConnOptions& options);
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // Runs one statement with parameters, prepared on this connection the
  // first time its text is seen.
  StatusOr<Result> Exec(std::string_view sql, const Params& params = {});
  // Runs one statement planned for these very parameters (unnamed, not
  // prepared): for batch statements over arrays, whose best plan depends on
  // the batch and the tables' sizes — a prepared statement's generic plan,
  // chosen while a table was small, would scan it whole ever after.
  StatusOr<Result> ExecOnce(std::string_view sql, const Params& params);
  // Runs statements without parameters (simple query protocol; several
  // statements separated by ';' allowed).
  Status Run(std::string_view sql);
  // Reads what the server sent without waiting, and discards the
  // notifications (LISTEN) received so far; returns how many there were.
  // kUnavailable when the connection is lost.
  StatusOr<int> DrainNotifications();
  // False once the connection is lost; the pool then replaces it.
  bool ok() const;

 private:
  explicit Conn(pg_conn* c) : conn_(c) {}
  StatusOr<Result> Check(pg_result* r, std::string_view what);

  pg_conn* conn_;
  std::map<std::string, std::string, std::less<>> prepared_;  // SQL text -> statement name
};

// One page of a listing read with LIMIT page.limit + 1 (store/rows.h): runs
// `first_sql` for a first page, else `next_sql`. Both take the limit as $1
// and `params` from $2; `next_sql` also takes the cursor's time and id after
// them.
StatusOr<Result> ExecPage(Conn& conn, int limit, const std::optional<CursorPosition>& after,
                          const char* first_sql, const char* next_sql, Params params);

// BEGIN on Begin(), ROLLBACK unless Commit() succeeded.
class Transaction {
 public:
  explicit Transaction(Conn& conn) : conn_(conn) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Status Begin(std::string_view mode = "BEGIN");
  Status Commit();

 private:
  Conn& conn_;
  bool open_ = false;
};

// Up to `size` connections, opened on demand; Acquire() waits for a free one.
class Pool {
 public:
  Pool(ConnOptions options, int size) : options_(std::move(options)), size_(size) {}
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // A connection for the lease's lifetime, returned to the pool by its
  // destructor (or dropped, when it was lost).
  class Lease {
   public:
    Lease(Lease&& other) noexcept : pool_(other.pool_), conn_(std::move(other.conn_)) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    Conn& operator*() const { return *conn_; }
    Conn* operator->() const { return conn_.get(); }

   private:
    friend class Pool;
    Lease(Pool* pool, std::unique_ptr<Conn> conn) : pool_(pool), conn_(std::move(conn)) {}
    Pool* pool_;
    std::unique_ptr<Conn> conn_;
  };

  StatusOr<Lease> Acquire();
  // Connections open now (idle or leased).
  int open() const;

 private:
  void Return(std::unique_ptr<Conn> conn);

  const ConnOptions options_;
  const int size_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Conn>> idle_;  // guarded by mu_
  int open_ = 0;                             // guarded by mu_
};

}  // namespace keyward::store::postgres
