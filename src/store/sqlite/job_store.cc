// job_store.cc: compute jobs (each with its charge) and the usage ledger on SQLite.
#include "store/cursor.h"
#include "store/sqlite/parts.h"

namespace keyward::store::sqlite {
namespace {

#define KW_JOB_COLUMNS \
  "id, user_id, environment, job_id, coalesce(key_id, ''), task, status, error, cost, " \
  "created_at, started_at, finished_at"

// Reads KW_JOB_COLUMNS, then payload and result when `full`.
Job ReadJob(const Stmt& s, bool full) {
  Job j;
  j.id = s.Text(0);
  j.user_id = s.Text(1);
  j.environment = ReadEnv(s, 2);
  j.job_id = s.Text(3);
  j.key_id = s.Text(4);
  j.task = s.Text(5);
  j.status = ParseJobStatus(s.Text(6)).value_or(JobStatus::kFailed);
  j.error = s.OptText(7);
  j.cost = s.Int(8);
  j.created_at = s.Int(9);
  j.started_at = s.OptInt(10);
  j.finished_at = s.OptInt(11);
  if (full) {
    j.payload = s.Text(12);
    j.result = s.OptText(13);
  }
  return j;
}

Job ReadFullJob(const Stmt& s) { return ReadJob(s, true); }
Job ReadJobSummary(const Stmt& s) { return ReadJob(s, false); }

std::string JobCursor(const Job& j) { return EncodeCursor(j.created_at, j.id); }

// Appends one usage row. REQUIRES: shared.mu held (inside a transaction).
Status AppendUsageLocked(Db& db, const UsageEntry& e) {
  KW_ASSIGN_OR_RETURN(Stmt s, db.Prepare(
      "INSERT INTO usage (user_id, key_id, environment, units, reason, at) VALUES (?, ?, ?, ?, ?, ?)"));
  s.Bind(1, e.user_id).Bind(2, e.key_id).Bind(3, EnvText(e.environment)).Bind(4, e.units);
  s.Bind(5, e.reason).Bind(6, e.at);
  Status st = s.Run();
  if (st.code() == StatusCode::kNotFound) return NotFoundError("user " + e.user_id + " does not exist");
  return st;
}

}  // namespace

StatusOr<std::vector<bool>> SqliteJobStore::InsertJobs(const std::vector<NewJob>& jobs) {
  return CommitJobs(jobs, {});
}

Status SqliteJobStore::UpdateJobs(const std::vector<Job>& jobs) {
  return CommitJobs({}, jobs).status();
}

// One transaction: the outcomes of jobs that ran, then the new jobs with
// their charges (one writer per file, so one commit serves both).
StatusOr<std::vector<bool>> SqliteJobStore::CommitJobs(const std::vector<NewJob>& jobs,
                                                       const std::vector<Job>& finished) {
  std::vector<bool> inserted(jobs.size(), false);
  if (jobs.empty() && finished.empty()) return inserted;
  std::lock_guard lock(shared_.mu);
  Transaction tx(db());
  KW_RETURN_IF_ERROR(tx.Begin());
  for (const Job& job : finished) {
    KW_ASSIGN_OR_RETURN(Stmt s, db().Prepare(
        "UPDATE jobs SET status = ?, result = ?, error = ?, started_at = ?, finished_at = ? "
        "WHERE id = ?"));
    s.Bind(1, JobStatusName(job.status)).Bind(2, job.result).Bind(3, job.error);
    s.Bind(4, job.started_at).Bind(5, job.finished_at).Bind(6, job.id);
    KW_RETURN_IF_ERROR(s.Run());
  }
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const Job& job = jobs[i].job;
    KW_ASSIGN_OR_RETURN(Stmt s, db().Prepare(
        "INSERT INTO jobs (id, user_id, environment, job_id, key_id, task, payload, status, "
        "result, error, cost, created_at, started_at, finished_at, charged) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (user_id, environment, job_id) DO NOTHING"));
    s.Bind(1, job.id).Bind(2, job.user_id).Bind(3, EnvText(job.environment)).Bind(4, job.job_id);
    s.Bind(5, job.key_id).Bind(6, job.task).Bind(7, job.payload).Bind(8, JobStatusName(job.status));
    s.Bind(9, job.result).Bind(10, job.error).Bind(11, job.cost).Bind(12, job.created_at);
    s.Bind(13, job.started_at).Bind(14, job.finished_at).Bind(15, static_cast<std::int64_t>(jobs[i].charge));
    // The charge is the row's (migration 0011): its trigger counts a live
    // one against the month's credits and refuses it past the limit.
    Status st = s.Run();
    if (st.code() == StatusCode::kNotFound) return NotFoundError("user " + job.user_id + " does not exist");
    KW_RETURN_IF_ERROR(st);
    inserted[i] = db().Changes() != 0;  // 0: that job_id exists, no job, no charge
  }
  KW_RETURN_IF_ERROR(tx.Commit());
  return inserted;
}

StatusOr<Job> SqliteJobStore::GetJob(const std::string& user_id, Environment env,
                                     const std::string& id) {
  Reader r = ForRead();
  KW_ASSIGN_OR_RETURN(Stmt s, r.db().Prepare(
      // Two indexed lookups (primary key, then the unique job_id index); an
      // OR in one WHERE would scan the user's jobs.
      "SELECT " KW_JOB_COLUMNS ", payload, result FROM jobs "
      "WHERE id = ?3 AND user_id = ?1 AND environment = ?2 UNION ALL "
      "SELECT " KW_JOB_COLUMNS ", payload, result FROM jobs "
      "WHERE user_id = ?1 AND environment = ?2 AND job_id = ?3 LIMIT 1"));
  s.Bind(1, user_id).Bind(2, EnvText(env)).Bind(3, id);
  return One(s, ReadFullJob, "job " + id + " does not exist");
}

StatusOr<Page<Job>> SqliteJobStore::ListJobs(const std::string& user_id, Environment env,
                                             const PageRequest& page) {
  KW_ASSIGN_OR_RETURN(std::optional<CursorPosition> after, CheckPage(page));
  Reader r = ForRead();
  KW_ASSIGN_OR_RETURN(Stmt s, r.db().Prepare(
      after ? "SELECT " KW_JOB_COLUMNS " FROM jobs WHERE user_id = ?4 AND environment = ?5 "
              "AND (created_at, id) < (?1, ?2) ORDER BY created_at DESC, id DESC LIMIT ?3"
            : "SELECT " KW_JOB_COLUMNS " FROM jobs WHERE user_id = ?4 AND environment = ?5 "
              "ORDER BY created_at DESC, id DESC LIMIT ?3"));
  if (after) s.Bind(1, after->at).Bind(2, after->id);
  s.Bind(3, static_cast<std::int64_t>(page.limit) + 1).Bind(4, user_id).Bind(5, EnvText(env));
  KW_ASSIGN_OR_RETURN(std::vector<Job> rows, All(s, ReadJobSummary));
  return MakePage(std::move(rows), page.limit, JobCursor);
}

StatusOr<Page<Job>> SqliteJobStore::ListUnfinishedJobs(const PageRequest& page) {
  KW_ASSIGN_OR_RETURN(std::optional<CursorPosition> after, CheckPage(page));
  Reader r = ForRead();
  KW_ASSIGN_OR_RETURN(Stmt s, r.db().Prepare(
      after ? "SELECT " KW_JOB_COLUMNS ", payload, result FROM jobs "
              "WHERE status IN ('queued', 'running') AND (created_at, id) > (?1, ?2) "
              "ORDER BY created_at, id LIMIT ?3"
            : "SELECT " KW_JOB_COLUMNS ", payload, result FROM jobs "
              "WHERE status IN ('queued', 'running') ORDER BY created_at, id LIMIT ?3"));
  if (after) s.Bind(1, after->at).Bind(2, after->id);
  s.Bind(3, static_cast<std::int64_t>(page.limit) + 1);
  KW_ASSIGN_OR_RETURN(std::vector<Job> rows, All(s, ReadFullJob));
  return MakePage(std::move(rows), page.limit, JobCursor);
}

Status SqliteUsageStore::AppendUsage(const std::vector<UsageEntry>& entries) {
  if (entries.empty()) return OkStatus();
  std::lock_guard lock(shared_.mu);
  Transaction tx(db());
  KW_RETURN_IF_ERROR(tx.Begin());
  for (const UsageEntry& e : entries) KW_RETURN_IF_ERROR(AppendUsageLocked(db(), e));
  return tx.Commit();
}

StatusOr<std::int64_t> SqliteUsageStore::SumUsage(const std::string& user_id, Environment env,
                                                  UnixMillis from, UnixMillis to) {
  Reader r = ForRead();
  KW_ASSIGN_OR_RETURN(Stmt s, r.db().Prepare(
      "SELECT (SELECT coalesce(sum(units), 0) FROM usage WHERE user_id = ?1 AND environment = ?2 "
      "        AND at >= ?3 AND at < ?4) + "
      "       (SELECT coalesce(sum(cost), 0) FROM jobs WHERE user_id = ?1 AND environment = ?2 "
      "        AND created_at >= ?3 AND created_at < ?4 AND charged = 1)"));
  s.Bind(1, user_id).Bind(2, EnvText(env)).Bind(3, from).Bind(4, to);
  return One(s, [](const Stmt& r) { return r.Int(0); }, "no row");
}

StatusOr<std::vector<UsageByKey>> SqliteUsageStore::UsageReport(const std::string& user_id,
                                                                UnixMillis from, UnixMillis to) {
  Reader r = ForRead();
  KW_ASSIGN_OR_RETURN(Stmt u, r.db().Prepare("SELECT 1 FROM users WHERE id = ?"));
  u.Bind(1, user_id);
  KW_RETURN_IF_ERROR(One(u, [](const Stmt&) { return true; }, "user " + user_id + " does not exist").status());
  KW_ASSIGN_OR_RETURN(Stmt s, r.db().Prepare(
      "SELECT k, e, sum(u), sum(n) FROM ("
      "  SELECT coalesce(key_id, '') AS k, environment AS e, sum(units) AS u, count(*) AS n "
      "  FROM usage WHERE user_id = ?1 AND at >= ?2 AND at < ?3 GROUP BY 1, 2 "
      "  UNION ALL "
      "  SELECT coalesce(key_id, ''), environment, sum(cost), count(*) FROM jobs "
      "  WHERE user_id = ?1 AND environment IN ('live', 'test') AND created_at >= ?2 "
      "    AND created_at < ?3 AND charged = 1 GROUP BY 1, 2"
      ") GROUP BY k, e ORDER BY e, k"));
  s.Bind(1, user_id).Bind(2, from).Bind(3, to);
  return All(s, [](const Stmt& r) {
    return UsageByKey{r.Text(0), ReadEnv(r, 1), r.Int(2), r.Int(3)};
  });
}

}  // namespace keyward::store::sqlite
