// sqlite_store.cc: Store on SQLite — schema migrations at open, users, keys.
#include "store/sqlite/sqlite_store.h"

#include <mutex>
#include <sstream>

#include "store/migrations.h"
#include "store/sqlite/sqlite_db.h"

namespace keyward::store::sqlite {
namespace {

std::string JoinScopes(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& s : scopes) {
    if (!out.empty()) out += ' ';
    out += s;
  }
  return out;
}

std::vector<std::string> SplitScopes(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::string_view EnvText(Environment e) { return EnvironmentName(e); }

User ReadUser(const Stmt& s, int c) {
  User u;
  u.id = s.Text(c + 0);
  u.external_id = s.OptText(c + 1);
  u.name = s.Text(c + 2);
  u.email = s.OptText(c + 3);
  u.disabled = s.Int(c + 4) != 0;
  u.created_at = s.Int(c + 5);
  u.plan.rate_limit = s.OptDouble(c + 6);
  u.plan.monthly_credits = s.OptInt(c + 7);
  u.plan.allowed_scopes = SplitScopes(s.Text(c + 8));
  return u;
}

ApiKey ReadKey(const Stmt& s, int c) {
  ApiKey k;
  k.id = s.Text(c + 0);
  k.user_id = s.Text(c + 1);
  k.name = s.Text(c + 2);
  k.environment = ParseEnvironment(s.Text(c + 3)).value_or(Environment::kLive);
  k.scopes = SplitScopes(s.Text(c + 4));
  k.display = s.Text(c + 5);
  std::string hash = s.Blob(c + 6);
  if (hash.size() == k.hash.size()) std::copy(hash.begin(), hash.end(), k.hash.begin());
  k.created_at = s.Int(c + 7);
  k.expires_at = s.OptInt(c + 8);
  k.revoked_at = s.OptInt(c + 9);
  k.last_used_at = s.OptInt(c + 10);
  k.rotated_from = s.OptText(c + 11);
  return k;
}

#define KW_SQL_USER_SELECT "SELECT u.id, u.external_id, u.name, u.email, u.disabled, u.created_at, u.rate_limit, u.monthly_credits, u.allowed_scopes FROM users u "
#define KW_SQL_JOB_SELECT "SELECT id, user_id, environment, job_id, coalesce(key_id, ''), task, payload, status, result, error, cost, created_at, started_at, finished_at FROM jobs "
#define KW_SQL_QUEUE_COLUMNS "id, user_id, environment, job_id, task, payload, sealed_key, scoped_key_id, status, attempts, max_attempts, lease_owner, lease_expires_at, available_at, last_error, result_job_id, created_at, updated_at"
#define KW_SQL_KEY_SELECT "SELECT k.id, k.user_id, k.name, k.environment, k.scopes, k.display, k.hash, k.created_at, k.expires_at, k.revoked_at, k.last_used_at, k.rotated_from FROM api_keys k "

class SqliteStore final : public Store {
 public:
  Status Open(const SqliteOptions& options) {
    path_ = options.path;
    KW_RETURN_IF_ERROR(db_.Open(options.path, options.busy_timeout_ms));
    KW_RETURN_IF_ERROR(db_.Exec("PRAGMA foreign_keys = ON"));
    KW_RETURN_IF_ERROR(RefuseNewerSchema());
    KW_RETURN_IF_ERROR(Annotate(db_.Exec("PRAGMA journal_mode = WAL"), "enable WAL"));
    KW_RETURN_IF_ERROR(db_.Exec("PRAGMA synchronous = NORMAL"));
    return Migrate();
  }

  Status CreateUser(const User& user, const ApiKey* first_key) override {
    std::lock_guard lock(mu_);
    Transaction tx(db_);
    KW_RETURN_IF_ERROR(tx.Begin());
    KW_ASSIGN_OR_RETURN(Stmt s, db_.Prepare(
        "INSERT INTO users (id, external_id, name, email, disabled, created_at, rate_limit, "
        "monthly_credits, allowed_scopes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    BindUser(s, user);
    s.Bind(1, user.id).Bind(6, user.created_at);
    Status st = s.Run();
    if (st.code() == StatusCode::kAlreadyExists) {
      return AlreadyExistsError(user.external_id
                                    ? "a user with external_id '" + *user.external_id + "' already exists"
                                    : "user id clash");
    }
    KW_RETURN_IF_ERROR(st);
    if (first_key) KW_RETURN_IF_ERROR(InsertKeyLocked(*first_key));
    return tx.Commit();
  }

  StatusOr<User> GetUser(const std::string& id) override {
    std::lock_guard lock(mu_);
    KW_ASSIGN_OR_RETURN(Stmt s, db_.Prepare(KW_SQL_USER_SELECT "WHERE u.id = ?"));
    s.Bind(1, id);
    return OneUser(s, "user " + id + " does not exist");
  }

  StatusOr<User> FindUserByExternalId(const std::string& external_id) override {
    std::lock_guard lock(mu_);
    KW_ASSIGN_OR_RETURN(Stmt s, db_.Prepare(KW_SQL_USER_SELECT "WHERE u.external_id = ?"));
    s.Bind(1, external_id);
    return OneUser(s, "no user has external_id '" + external_id + "'");
  }

  StatusOr<std::vector<User>> ListUsers() override {
    std::lock_guard lock(mu_);
    KW_ASSIGN_OR_RETURN(Stmt s, db_.Prepare(KW_SQL_USER_SELECT "ORDER BY u.created_at, u.id"));
    std::vector<User> out;
    Status st;
    while (s.Step(&st)) out.push_back(ReadUser(s, 0));
    KW_RETURN_IF_ERROR(st);
    return out;
  }

  Status UpdateUser(const User& user) override {
    std::lock_guard lock(mu_);
    KW_ASSIGN_OR_RETURN(Stmt s, db_.Prepare(
        "UPDATE users SET external_id = ?2, name = ?3, email = ?4, disabled = ?5, "
        "rate_limit = ?7, monthly_credits = ?8, allowed_scopes = ?9 WHERE id = ?1"));
    BindUser(s, user);
    Status st = s.Run();
    if (st.code() == StatusCode::kAlreadyExists) {
      return AlreadyExistsError("another user already has that external_id");
    }
    KW_RETURN_IF_ERROR(st);
    if (db_.Changes() == 0) return NotFoundError("user " + user.id + " does not exist");
    return OkStatus();
  }

  Status DeleteUser(const std::string& id) override {
    std::lock_guard lock(mu_);
    KW_ASSIGN_OR_RETURN(Stmt s, db_.Prepare("DELETE FROM users WHERE id = ?"));
    s.Bind(1, id);
    KW_RETURN_IF_ERROR(s.Run());
    if (db_.Changes() == 0) return NotFoundError("user " + id + " does not exist");
    return OkStatus();
  }

  Status InsertKey(const ApiKey& key) override {
    std::lock_guard lock(mu_);
    return InsertKeyLocked(key);
  }

  StatusOr<ApiKey> GetKey(const std::string& id) override {
    std::lock_guard lock(mu_);
    return GetKeyLocked(id);
  }

  StatusOr<KeyWithUser> LookupKey(const KeyHash& hash) override {
    std::lock_guard lock(mu_);
    KW_ASSIGN_OR_RETURN(Stmt s, db_.Prepare(
        "SELECT k.id, k.user_id, k.name, k.environment, k.scopes, k.display, k.hash, "
        "k.created_at, k.expires_at, k.revoked_at, k.last_used_at, k.rotated_from, "
        "u.id, u.external_id, u.name, u.email, u.disabled, u.created_at, u.rate_limit, "
        "u.monthly_credits, u.allowed_scopes "
        "FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.hash = ?"));
    s.BindBlob(1, hash.data(), hash.size());
    return One(s, [](const Stmt& r) { return KeyWithUser{ReadKey(r, 0), ReadUser(r, 12)}; },
               "no such key");
  }

  StatusOr<std::vector<ApiKey>> ListKeys(const std::string& user_id) override {
    std::lock_guard lock(mu_);
    KW_RETURN_IF_ERROR(UserExistsLocked(user_id));
    KW_ASSIGN_OR_RETURN(Stmt s, db_.Prepare(
        KW_SQL_KEY_SELECT "WHERE k.user_id = ? ORDER BY k.created_at, k.id"));
    s.Bind(1, user_id);
    std::vector<ApiKey> out;
    Status st;
    while (s.Step(&st)) out.push_back(ReadKey(s, 0));
    KW_RETURN_IF_ERROR(st);
    return out;
  }

  StatusOr<ApiKey> RevokeKey(const std::string& id, UnixMillis now) override {
    std::lock_guard lock(mu_);
    KW_ASSIGN_OR_RETURN(Stmt s, db_.Prepare(
        "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL"));
    s.Bind(1, now).Bind(2, id);
    KW_RETURN_IF_ERROR(s.Run());
    return GetKeyLocked(id);
  }

  StatusOr<std::int64_t> RevokeAllKeys(const std::string& user_id, UnixMillis now) override {
    std::lock_guard lock(mu_);
    KW_RETURN_IF_ERROR(UserExistsLocked(user_id));
    KW_ASSIGN_OR_RETURN(Stmt s, db_.Prepare(
        "UPDATE api_keys SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL"));
    s.Bind(1, now).Bind(2, user_id);
    KW_RETURN_IF_ERROR(s.Run());
    return db_.Changes();
  }

  Status RotateKey(const ApiKey& new_key, UnixMillis old_expires_at) override {
    if (!new_key.rotated_from) return InvalidArgumentError("new key does not name the key it replaces");
    std::lock_guard lock(mu_);
    Transaction tx(db_);
    KW_RETURN_IF_ERROR(tx.Begin());
    KW_ASSIGN_OR_RETURN(Stmt s, db_.Prepare("UPDATE api_keys SET expires_at = ? WHERE id = ?"));
    s.Bind(1, old_expires_at).Bind(2, *new_key.rotated_from);
    KW_RETURN_IF_ERROR(s.Run());
    if (db_.Changes() == 0) return NotFoundError("key " + *new_key.rotated_from + " does not exist");
    KW_RETURN_IF_ERROR(InsertKeyLocked(new_key));
    return tx.Commit();
  }

  Status DeleteKey(const std::string& id) override {
    std::lock_guard lock(mu_);
    KW_ASSIGN_OR_RETURN(Stmt s, db_.Prepare("DELETE FROM api_keys WHERE id = ?"));
    s.Bind(1, id);
    KW_RETURN_IF_ERROR(s.Run());
    if (db_.Changes() == 0) return NotFoundError("key " + id + " does not exist");
    return OkStatus();
  }

  Status TouchKeys(const std::vector<std::pair<std::string, UnixMillis>>& uses) override {
    if (uses.empty()) return OkStatus();
    std::lock_guard lock(mu_);
    Transaction tx(db_);
    KW_RETURN_IF_ERROR(tx.Begin());
    for (const auto& [id, at] : uses) {
      KW_ASSIGN_OR_RETURN(Stmt s, db_.Prepare(
          "UPDATE api_keys SET last_used_at = ?1 WHERE id = ?2 "
          "AND (last_used_at IS NULL OR last_used_at < ?1)"));
      s.Bind(1, at).Bind(2, id);
      KW_RETURN_IF_ERROR(s.Run());
    }
    return tx.Commit();
  }

  Status InsertJob(const Job& job, const UsageEntry* charge) override {
    std::lock_guard lock(mu_);
    Transaction tx(db_);
    KW_RETURN_IF_ERROR(tx.Begin());
    KW_ASSIGN_OR_RETURN(Stmt s, db_.Prepare(
        "INSERT INTO jobs (id, user_id, environment, job_id, key_id, task, payload, status, "
        "result, error, cost, created_at, started_at, finished_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    s.Bind(1, job.id).Bind(2, job.user_id).Bind(3, EnvText(job.environment)).Bind(4, job.job_id);
    s.Bind(5, job.key_id).Bind(6, job.task).Bind(7, job.payload).Bind(8, job.status);
    s.Bind(9, job.result).Bind(10, job.error).Bind(11, job.cost).Bind(12, job.created_at);
    s.Bind(13, job.started_at).Bind(14, job.finished_at);
    Status st = s.Run();
    if (st.code() == StatusCode::kAlreadyExists) {
      return AlreadyExistsError("job_id '" + job.job_id + "' already exists");
    }
    if (st.code() == StatusCode::kNotFound) return NotFoundError("user " + job.user_id + " does not exist");
    KW_RETURN_IF_ERROR(st);
    if (charge) KW_RETURN_IF_ERROR(AppendUsageLocked(*charge));
    return tx.Commit();
  }

  StatusOr<Job> GetJob(const std::string& user_id, Environment env, const std::string& id) override {
    std::lock_guard lock(mu_);
    KW_ASSIGN_OR_RETURN(Stmt s, db_.Prepare(
        // Two indexed lookups (primary key, then the unique job_id index);
        // an OR in one WHERE would scan the user's jobs.
        KW_SQL_JOB_SELECT "WHERE id = ?3 AND user_id = ?1 AND environment = ?2 "
        "UNION ALL " KW_SQL_JOB_SELECT "WHERE user_id = ?1 AND environment = ?2 AND job_id = ?3 "
        "LIMIT 1"));
    s.Bind(1, user_id).Bind(2, EnvText(env)).Bind(3, id);
    return One(s, ReadJob, "job " + id + " does not exist");
  }

  StatusOr<std::vector<Job>> ListJobs(const std::string& user_id, Environment env,
                                      int limit) override {
    std::lock_guard lock(mu_);
    KW_ASSIGN_OR_RETURN(Stmt s, db_.Prepare(
        KW_SQL_JOB_SELECT "WHERE user_id = ? AND environment = ? ORDER BY created_at DESC, id DESC LIMIT ?"));
    s.Bind(1, user_id).Bind(2, EnvText(env)).Bind(3, static_cast<std::int64_t>(limit));
    std::vector<Job> out;
    Status st;
    while (s.Step(&st)) out.push_back(ReadJob(s));
    KW_RETURN_IF_ERROR(st);
    return out;
  }

  StatusOr<std::vector<Job>> ListUnfinishedJobs(int limit) override {
    std::lock_guard lock(mu_);
    KW_ASSIGN_OR_RETURN(Stmt s, db_.Prepare(
        KW_SQL_JOB_SELECT "WHERE status IN ('queued', 'running') ORDER BY created_at, id LIMIT ?"));
    s.Bind(1, static_cast<std::int64_t>(limit));
    std::vector<Job> out;
    Status st;
    while (s.Step(&st)) out.push_back(ReadJob(s));
    KW_RETURN_IF_ERROR(st);
    return out;
  }

  Status UpdateJobs(const std::vector<Job>& jobs) override {
    if (jobs.empty()) return OkStatus();
    std::lock_guard lock(mu_);
    Transaction tx(db_);
    KW_RETURN_IF_ERROR(tx.Begin());
    for (const Job& job : jobs) {
      KW_ASSIGN_OR_RETURN(Stmt s, db_.Prepare(
          "UPDATE jobs SET status = ?, result = ?, error = ?, started_at = ?, finished_at = ? "
          "WHERE id = ?"));
      s.Bind(1, job.status).Bind(2, job.result).Bind(3, job.error).Bind(4, job.started_at);
      s.Bind(5, job.finished_at).Bind(6, job.id);
      KW_RETURN_IF_ERROR(s.Run());
    }
    return tx.Commit();
  }

  Status AppendUsage(const std::vector<UsageEntry>& entries) override {
    if (entries.empty()) return OkStatus();
    std::lock_guard lock(mu_);
    Transaction tx(db_);
    KW_RETURN_IF_ERROR(tx.Begin());
    for (const UsageEntry& e : entries) KW_RETURN_IF_ERROR(AppendUsageLocked(e));
    return tx.Commit();
  }

  StatusOr<std::int64_t> SumUsage(const std::string& user_id, Environment env, UnixMillis from,
                                  UnixMillis to) override {
    std::lock_guard lock(mu_);
    KW_ASSIGN_OR_RETURN(Stmt s, db_.Prepare(
        "SELECT coalesce(sum(units), 0) FROM usage WHERE user_id = ? AND environment = ? "
        "AND at >= ? AND at < ?"));
    s.Bind(1, user_id).Bind(2, EnvText(env)).Bind(3, from).Bind(4, to);
    Status st;
    if (!s.Step(&st)) return st.ok() ? InternalError("no row") : st;
    return s.Int(0);
  }

  StatusOr<std::vector<UsageByKey>> UsageReport(const std::string& user_id, UnixMillis from,
                                                UnixMillis to) override {
    std::lock_guard lock(mu_);
    KW_RETURN_IF_ERROR(UserExistsLocked(user_id));
    KW_ASSIGN_OR_RETURN(Stmt s, db_.Prepare(
        "SELECT coalesce(key_id, ''), environment, sum(units), count(*) FROM usage "
        "WHERE user_id = ? AND at >= ? AND at < ? GROUP BY key_id, environment "
        "ORDER BY environment, key_id"));
    s.Bind(1, user_id).Bind(2, from).Bind(3, to);
    std::vector<UsageByKey> out;
    Status st;
    while (s.Step(&st)) {
      out.push_back({s.Text(0), ParseEnvironment(s.Text(1)).value_or(Environment::kLive),
                     s.Int(2), s.Int(3)});
    }
    KW_RETURN_IF_ERROR(st);
    return out;
  }


  Status Enqueue(const QueueEntry& e) override {
    std::lock_guard lock(mu_);
    KW_ASSIGN_OR_RETURN(Stmt s, db_.Prepare(
        "INSERT INTO queue (" KW_SQL_QUEUE_COLUMNS ") "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    s.Bind(1, e.id).Bind(2, e.user_id).Bind(3, EnvText(e.environment)).Bind(4, e.job_id);
    s.Bind(5, e.task).Bind(6, e.payload).BindBlob(7, e.sealed_key.data(), e.sealed_key.size());
    s.Bind(8, e.scoped_key_id).Bind(9, e.status).Bind(10, static_cast<std::int64_t>(e.attempts));
    s.Bind(11, static_cast<std::int64_t>(e.max_attempts)).Bind(12, e.lease_owner);
    s.Bind(13, e.lease_expires_at).Bind(14, e.available_at).Bind(15, e.last_error);
    s.Bind(16, e.result_job_id).Bind(17, e.created_at).Bind(18, e.updated_at);
    Status st = s.Run();
    if (st.code() == StatusCode::kAlreadyExists) {
      return AlreadyExistsError("job_id '" + e.job_id + "' is already queued for this user");
    }
    if (st.code() == StatusCode::kNotFound) return NotFoundError("user " + e.user_id + " does not exist");
    return st;
  }

  StatusOr<QueueEntry> GetQueueEntry(const std::string& id) override {
    std::lock_guard lock(mu_);
    KW_ASSIGN_OR_RETURN(Stmt s, db_.Prepare("SELECT " KW_SQL_QUEUE_COLUMNS " FROM queue WHERE id = ?"));
    s.Bind(1, id);
    return One(s, ReadEntry, "queue entry " + id + " does not exist");
  }

  StatusOr<QueueEntry> FindQueueEntry(const std::string& user_id, Environment env,
                                      const std::string& job_id) override {
    std::lock_guard lock(mu_);
    KW_ASSIGN_OR_RETURN(Stmt s, db_.Prepare(
        "SELECT " KW_SQL_QUEUE_COLUMNS " FROM queue WHERE user_id = ? AND environment = ? AND job_id = ?"));
    s.Bind(1, user_id).Bind(2, EnvText(env)).Bind(3, job_id);
    return One(s, ReadEntry, "job_id '" + job_id + "' is not queued");
  }

  StatusOr<std::vector<QueueEntry>> ListQueue(const std::string& user_id, const std::string& status,
                                              int limit) override {
    std::lock_guard lock(mu_);
    KW_ASSIGN_OR_RETURN(Stmt s, db_.Prepare(
        "SELECT " KW_SQL_QUEUE_COLUMNS " FROM queue WHERE (?1 = '' OR user_id = ?1) "
        "AND (?2 = '' OR status = ?2) ORDER BY created_at DESC, id DESC LIMIT ?3"));
    s.Bind(1, user_id).Bind(2, status).Bind(3, static_cast<std::int64_t>(limit));
    std::vector<QueueEntry> out;
    Status st;
    while (s.Step(&st)) out.push_back(ReadEntry(s));
    KW_RETURN_IF_ERROR(st);
    return out;
  }

  StatusOr<std::vector<QueueEntry>> ClaimQueue(const std::string& worker, UnixMillis now,
                                               std::int64_t lease_ms, int limit) override {
    std::lock_guard lock(mu_);
    Transaction tx(db_);
    KW_RETURN_IF_ERROR(tx.Begin());
    KW_ASSIGN_OR_RETURN(Stmt s, db_.Prepare(
        "UPDATE queue SET status = 'claimed', lease_owner = ?1, lease_expires_at = ?2 + ?3, "
        "attempts = attempts + 1, updated_at = ?2 WHERE id IN ("
        "  SELECT id FROM queue WHERE (status = 'queued' AND available_at <= ?2) "
        "  OR (status = 'claimed' AND lease_expires_at <= ?2) "
        "  ORDER BY available_at, created_at LIMIT ?4) "
        "RETURNING " KW_SQL_QUEUE_COLUMNS));
    s.Bind(1, worker).Bind(2, now).Bind(3, lease_ms).Bind(4, static_cast<std::int64_t>(limit));
    std::vector<QueueEntry> out;
    Status st;
    while (s.Step(&st)) out.push_back(ReadEntry(s));
    KW_RETURN_IF_ERROR(st);
    KW_RETURN_IF_ERROR(tx.Commit());
    return out;
  }

  Status FinishClaim(const QueueEntry& e, const std::string& worker, UnixMillis now) override {
    std::lock_guard lock(mu_);
    KW_ASSIGN_OR_RETURN(Stmt s, db_.Prepare(
        "UPDATE queue SET status = ?, attempts = ?, available_at = ?, last_error = ?, "
        "result_job_id = ?, lease_owner = NULL, lease_expires_at = NULL, updated_at = ? "
        "WHERE id = ? AND status = 'claimed' AND lease_owner = ?"));
    s.Bind(1, e.status).Bind(2, static_cast<std::int64_t>(e.attempts)).Bind(3, e.available_at);
    s.Bind(4, e.last_error).Bind(5, e.result_job_id).Bind(6, now).Bind(7, e.id).Bind(8, worker);
    KW_RETURN_IF_ERROR(s.Run());
    if (db_.Changes() == 0) {
      return FailedPreconditionError("lease on " + e.id + " was lost (expired and claimed again)");
    }
    return OkStatus();
  }

  StatusOr<std::int64_t> CountUnfinished() override {
    std::lock_guard lock(mu_);
    KW_ASSIGN_OR_RETURN(Stmt s, db_.Prepare(
        "SELECT count(*) FROM queue WHERE status IN ('queued', 'claimed')"));
    Status st;
    if (!s.Step(&st)) return st.ok() ? InternalError("no row") : st;
    return s.Int(0);
  }

  Status Ping() override {
    std::lock_guard lock(mu_);
    KW_ASSIGN_OR_RETURN(Stmt s, db_.Prepare("SELECT 1"));
    return s.Run();
  }

 private:
  Status AppendUsageLocked(const UsageEntry& e) {
    KW_ASSIGN_OR_RETURN(Stmt s, db_.Prepare(
        "INSERT INTO usage (user_id, key_id, environment, units, reason, at) "
        "VALUES (?, ?, ?, ?, ?, ?)"));
    s.Bind(1, e.user_id).Bind(2, e.key_id).Bind(3, EnvText(e.environment)).Bind(4, e.units);
    s.Bind(5, e.reason).Bind(6, e.at);
    Status st = s.Run();
    if (st.code() == StatusCode::kNotFound) return NotFoundError("user " + e.user_id + " does not exist");
    return st;
  }

  static QueueEntry ReadEntry(const Stmt& s) {
    QueueEntry e;
    e.id = s.Text(0);
    e.user_id = s.Text(1);
    e.environment = ParseEnvironment(s.Text(2)).value_or(Environment::kLive);
    e.job_id = s.Text(3);
    e.task = s.Text(4);
    e.payload = s.Text(5);
    e.sealed_key = s.Blob(6);
    e.scoped_key_id = s.OptText(7);
    e.status = s.Text(8);
    e.attempts = static_cast<int>(s.Int(9));
    e.max_attempts = static_cast<int>(s.Int(10));
    e.lease_owner = s.OptText(11);
    e.lease_expires_at = s.OptInt(12);
    e.available_at = s.Int(13);
    e.last_error = s.OptText(14);
    e.result_job_id = s.OptText(15);
    e.created_at = s.Int(16);
    e.updated_at = s.Int(17);
    return e;
  }

  // The first row of `s` read by `read`, or kNotFound with `not_found`.
  template <typename Reader>
  static auto One(Stmt& s, Reader read, std::string not_found) -> StatusOr<decltype(read(s))> {
    Status st;
    if (!s.Step(&st)) {
      KW_RETURN_IF_ERROR(st);
      return NotFoundError(std::move(not_found));
    }
    return read(s);
  }

  static Job ReadJob(const Stmt& s) {
    Job j;
    j.id = s.Text(0);
    j.user_id = s.Text(1);
    j.environment = ParseEnvironment(s.Text(2)).value_or(Environment::kLive);
    j.job_id = s.Text(3);
    j.key_id = s.Text(4);
    j.task = s.Text(5);
    j.payload = s.Text(6);
    j.status = s.Text(7);
    j.result = s.OptText(8);
    j.error = s.OptText(9);
    j.cost = s.Int(10);
    j.created_at = s.Int(11);
    j.started_at = s.OptInt(12);
    j.finished_at = s.OptInt(13);
    return j;
  }

  static Status Annotate(Status st, std::string_view what) {
    if (st.ok()) return st;
    return Status(st.code(), std::string(what) + ": " + st.message());
  }

  // Reads the schema version without writing anything, so a database from a
  // newer keyward is left exactly as it was.
  Status RefuseNewerSchema() {
    KW_ASSIGN_OR_RETURN(int version, CurrentVersion());
    if (version > LatestSchemaVersion()) {
      return FailedPreconditionError(
          "database " + path_ + " has schema version " + std::to_string(version) +
          ", newer than this keyward supports (" + std::to_string(LatestSchemaVersion()) +
          "); upgrade keyward — the file was not modified");
    }
    return OkStatus();
  }

  StatusOr<int> CurrentVersion() {
    KW_ASSIGN_OR_RETURN(Stmt t, db_.Prepare(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"));
    Status st;
    if (!t.Step(&st)) return Annotate(st.ok() ? InternalError("no row") : st, "read schema");
    if (t.Int(0) == 0) return 0;
    KW_ASSIGN_OR_RETURN(Stmt v, db_.Prepare("SELECT coalesce(max(version), 0) FROM schema_version"));
    if (!v.Step(&st)) return Annotate(st.ok() ? InternalError("no row") : st, "read schema");
    return static_cast<int>(v.Int(0));
  }

  Status Migrate() {
    KW_ASSIGN_OR_RETURN(int current, CurrentVersion());
    if (current >= LatestSchemaVersion()) return OkStatus();
    for (const Migration& m : Migrations()) {
      Transaction tx(db_);
      KW_RETURN_IF_ERROR(Annotate(tx.Begin(), "migrate"));
      // Re-read inside the write lock: another process may have migrated.
      KW_ASSIGN_OR_RETURN(int version, CurrentVersion());
      if (version >= m.version) continue;
      KW_RETURN_IF_ERROR(db_.Exec(
          "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
          "name TEXT NOT NULL, applied_at INTEGER NOT NULL)"));
      KW_RETURN_IF_ERROR(Annotate(db_.Exec(m.sql), "migration " + std::string(m.name)));
      KW_ASSIGN_OR_RETURN(Stmt s, db_.Prepare(
          "INSERT INTO schema_version (version, name, applied_at) "
          "VALUES (?, ?, ?)"));
      s.Bind(1, static_cast<std::int64_t>(m.version)).Bind(2, m.name);
      s.Bind(3, SystemClock().Now());
      KW_RETURN_IF_ERROR(s.Run());
      KW_RETURN_IF_ERROR(tx.Commit());
    }
    return OkStatus();
  }

  // Binds ?1..?9 in users column order (created_at, ?6, bound by the caller).
  static void BindUser(Stmt& s, const User& u) {
    s.Bind(1, u.id).Bind(2, u.external_id).Bind(3, u.name).Bind(4, u.email);
    s.Bind(5, static_cast<std::int64_t>(u.disabled ? 1 : 0));
    s.Bind(7, u.plan.rate_limit).Bind(8, u.plan.monthly_credits);
    s.Bind(9, JoinScopes(u.plan.allowed_scopes));
  }

  static StatusOr<User> OneUser(Stmt& s, std::string not_found) {
    return One(s, [](const Stmt& r) { return ReadUser(r, 0); }, std::move(not_found));
  }

  Status UserExistsLocked(const std::string& user_id) {
    KW_ASSIGN_OR_RETURN(Stmt s, db_.Prepare("SELECT 1 FROM users WHERE id = ?"));
    s.Bind(1, user_id);
    Status st;
    if (!s.Step(&st)) {
      KW_RETURN_IF_ERROR(st);
      return NotFoundError("user " + user_id + " does not exist");
    }
    return OkStatus();
  }

  StatusOr<ApiKey> GetKeyLocked(const std::string& id) {
    KW_ASSIGN_OR_RETURN(Stmt s, db_.Prepare(KW_SQL_KEY_SELECT "WHERE k.id = ?"));
    s.Bind(1, id);
    return One(s, [](const Stmt& r) { return ReadKey(r, 0); }, "key " + id + " does not exist");
  }

  Status InsertKeyLocked(const ApiKey& k) {
    KW_ASSIGN_OR_RETURN(Stmt s, db_.Prepare(
        "INSERT INTO api_keys (id, user_id, name, environment, scopes, display, hash, "
        "created_at, expires_at, revoked_at, last_used_at, rotated_from) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    s.Bind(1, k.id).Bind(2, k.user_id).Bind(3, k.name).Bind(4, EnvText(k.environment));
    s.Bind(5, JoinScopes(k.scopes)).Bind(6, k.display).BindBlob(7, k.hash.data(), k.hash.size());
    s.Bind(8, k.created_at).Bind(9, k.expires_at).Bind(10, k.revoked_at);
    s.Bind(11, k.last_used_at).Bind(12, k.rotated_from);
    Status st = s.Run();
    if (st.code() == StatusCode::kNotFound) return NotFoundError("user " + k.user_id + " does not exist");
    if (st.code() == StatusCode::kAlreadyExists) return AlreadyExistsError("key id or hash clash");
    return st;
  }

  std::mutex mu_;
  Db db_;  // guarded by mu_
  std::string path_;
};

}  // namespace

int LatestSchemaVersion() {
  const auto& all = Migrations();
  return all.empty() ? 0 : all.back().version;
}

}  // namespace keyward::store::sqlite

namespace keyward {

StatusOr<StorePtr> OpenSqliteStore(const SqliteOptions& options) {
  auto store = std::make_unique<store::sqlite::SqliteStore>();
  KW_RETURN_IF_ERROR(store->Open(options));
  return StorePtr(std::move(store));
}

}  // namespace keyward
