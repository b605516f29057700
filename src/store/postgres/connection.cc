// connection.cc: see connection.h.
#include "store/postgres/connection.h"

#include <libpq-fe.h>

#include <charconv>
#include <cstdlib>

#include "core/crypto.h"

namespace keyward::store::postgres {

std::optional<std::string> Num(std::optional<std::int64_t> v) {
  return v ? std::optional<std::string>(std::to_string(*v)) : std::nullopt;
}

std::optional<std::string> Num(std::optional<double> v) {
  if (!v) return std::nullopt;
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *v);  // shortest exact form
  return std::string(buf, end);
}

std::string Env(Environment e) { return std::string(EnvironmentName(e)); }

Environment ReadEnv(const std::string& text) {
  return ParseEnvironment(text).value_or(Environment::kLive);
}

std::string ByteaParam(std::string_view bytes) {
  return "\\x" + core::HexEncode(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

std::string ArrayParam(const std::vector<std::optional<std::string>>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    if (!values[i]) {
      out += "NULL";
      continue;
    }
    out += '"';
    for (char ch : *values[i]) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
  }
  out += '}';
  return out;
}

std::string FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return "";
  std::string out(hex.size() / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = core::HexDigitValue(hex[2 * i]), lo = core::HexDigitValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return "";
    out[i] = static_cast<char>(hi * 16 + lo);
  }
  return out;
}

Result::Result(pg_result* r) : res_(r, PQclear) {}

int Result::rows() const { return res_ ? PQntuples(res_.get()) : 0; }
int Result::columns() const { return res_ ? PQnfields(res_.get()) : 0; }
bool Result::IsNull(int row, int col) const { return PQgetisnull(res_.get(), row, col) != 0; }

std::string Result::Text(int row, int col) const {
  return std::string(PQgetvalue(res_.get(), row, col),
                     static_cast<std::size_t>(PQgetlength(res_.get(), row, col)));
}

std::optional<std::string> Result::OptText(int row, int col) const {
  if (IsNull(row, col)) return std::nullopt;
  return Text(row, col);
}

std::int64_t Result::Int(int row, int col) const {
  const char* text = PQgetvalue(res_.get(), row, col);
  std::int64_t v = 0;
  std::from_chars(text, text + PQgetlength(res_.get(), row, col), v);
  return v;
}

std::optional<std::int64_t> Result::OptInt(int row, int col) const {
  if (IsNull(row, col)) return std::nullopt;
  return Int(row, col);
}

std::int64_t Result::affected() const {
  const char* n = res_ ? PQcmdTuples(res_.get()) : "";
  return *n ? std::strtoll(n, nullptr, 10) : 0;
}

Status PgStatus(std::string_view sqlstate, std::string_view what, std::string_view message) {
  std::string msg(what);
  msg += ": ";
  msg += message;
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  if (sqlstate == "23505") return AlreadyExistsError(msg);
  if (sqlstate == "23503") return NotFoundError(msg);
  // Raised by migration 0005's trigger: the charge would pass the user's
  // monthly credits.
  if (sqlstate == "KW001") return ResourceExhaustedError(msg);
  // Integrity (23…) and data (22…) errors: the input is wrong.
  if (sqlstate.substr(0, 2) == "23" || sqlstate.substr(0, 2) == "22") return InvalidArgumentError(msg);
  // Statement timeout or cancel, serialization failure, deadlock, a server
  // shutting down or out of resources, a lost connection: retrying may help.
  if (sqlstate == "57014" || sqlstate == "40001" || sqlstate == "40P01" ||
      sqlstate.substr(0, 2) == "08" || sqlstate.substr(0, 3) == "57P" ||
      sqlstate.substr(0, 2) == "53" || sqlstate.empty()) {
    return UnavailableError(msg);
  }
  return InternalError(msg);
}

StatusOr<std::unique_ptr<Conn>> Conn::Open(const ConnOptions& options) {
  // Our defaults first: libpq reads the arrays in order and the last value
  // of a keyword wins, so whatever the caller's string sets overrides them.
  const std::string timeout = std::to_string(options.connect_timeout_s);
  const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {timeout.c_str(), "keyward", options.conninfo.c_str(), nullptr};
  // expand_dbname=1: `dbname` holds a full connection string or URI.
  pg_conn* c = PQconnectdbParams(keys, values, 1);
  if (!c) return UnavailableError("postgres: out of memory");
  if (PQstatus(c) != CONNECTION_OK) {
    std::string err = PQerrorMessage(c);
    PQfinish(c);
    while (!err.empty() && err.back() == '\n') err.pop_back();
    return UnavailableError("cannot connect to PostgreSQL: " + err);
  }
  // Server notices ("relation … already exists, skipping") are not errors
  // and must not reach stderr.
  PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
  std::unique_ptr<Conn> conn(new Conn(c));
  KW_RETURN_IF_ERROR(conn->Run("SET statement_timeout = " + std::to_string(options.statement_timeout_ms)));
  return conn;
}

Conn::~Conn() { PQfinish(conn_); }

bool Conn::ok() const { return PQstatus(conn_) == CONNECTION_OK; }

StatusOr<Result> Conn::Check(pg_result* r, std::string_view what) {
  Result res(r);
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return res;
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  const char* message = r ? PQresultErrorMessage(r) : PQerrorMessage(conn_);
  return PgStatus(state ? state : "", what, message ? message : "");
}

namespace {

// libpq's view of parameters: a pointer per value, null for SQL NULL.
std::vector<const char*> Values(const Params& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  return values;
}

}  // namespace

StatusOr<Result> Conn::Exec(std::string_view sql, const Params& params) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = "kw" + std::to_string(prepared_.size());
    std::string text(sql);
    KW_RETURN_IF_ERROR(Check(PQprepare(conn_, name.c_str(), text.c_str(), 0, nullptr), "prepare").status());
    it = prepared_.emplace(std::move(text), std::move(name)).first;
  }
  const std::vector<const char*> values = Values(params);
  return Check(PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(values.size()),
                              values.data(), nullptr, nullptr, 0),
               "postgres");
}

StatusOr<Result> Conn::ExecOnce(std::string_view sql, const Params& params) {
  const std::string text(sql);
  const std::vector<const char*> values = Values(params);
  return Check(PQexecParams(conn_, text.c_str(), static_cast<int>(values.size()), nullptr,
                            values.data(), nullptr, nullptr, 0),
               "postgres");
}

Status Conn::Run(std::string_view sql) {
  std::string text(sql);
  return Check(PQexec(conn_, text.c_str()), "postgres").status();
}

StatusOr<int> Conn::DrainNotifications() {
  if (!PQconsumeInput(conn_)) {
    std::string err = PQerrorMessage(conn_);
    while (!err.empty() && err.back() == '\n') err.pop_back();
    return UnavailableError("postgres: " + err);
  }
  int n = 0;
  while (PGnotify* note = PQnotifies(conn_)) {
    PQfreemem(note);
    ++n;
  }
  return n;
}

StatusOr<Result> ExecPage(Conn& conn, int limit, const std::optional<CursorPosition>& after,
                          const char* first_sql, const char* next_sql, Params params) {
  params.insert(params.begin(), std::to_string(limit + 1));
  if (!after) return conn.Exec(first_sql, params);
  params.push_back(std::to_string(after->at));
  params.push_back(after->id);
  return conn.Exec(next_sql, params);
}

Transaction::~Transaction() {
  if (open_) (void)conn_.Run("ROLLBACK");
}

Status Transaction::Begin(std::string_view mode) {
  KW_RETURN_IF_ERROR(conn_.Run(mode));
  open_ = true;
  return OkStatus();
}

Status Transaction::Commit() {
  Status st = conn_.Run("COMMIT");
  // A failed COMMIT has ended the transaction (rolled back) all the same.
  open_ = false;
  return st;
}

Pool::Lease::~Lease() {
  if (pool_ && conn_) pool_->Return(std::move(conn_));
}

StatusOr<Pool::Lease> Pool::Acquire() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return !idle_.empty() || open_ < size_; });
  if (!idle_.empty()) {
    std::unique_ptr<Conn> c = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(c));
  }
  ++open_;
  lock.unlock();
  StatusOr<std::unique_ptr<Conn>> c = Conn::Open(options_);
  if (!c.ok()) {
    lock.lock();
    --open_;
    cv_.notify_one();
    return c.status();
  }
  return Lease(this, std::move(c).value());
}

void Pool::Return(std::unique_ptr<Conn> conn) {
  {
    std::lock_guard lock(mu_);
    if (conn->ok()) {
      idle_.push_back(std::move(conn));
    } else {
      --open_;  // lost: the next Acquire() opens a fresh one
    }
  }
  cv_.notify_one();
}

int Pool::open() const {
  std::lock_guard lock(mu_);
  return open_;
}

}  // namespace keyward::store::postgres
