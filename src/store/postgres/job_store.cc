// job_store.cc: compute jobs and the usage ledger on PostgreSQL.
#include "store/postgres/job_store.h"

#include "store/cursor.h"
#include "store/postgres/connection.h"
#include "store/rows.h"

namespace keyward::store::postgres {
namespace {

#define KW_JOB_COLUMNS \
  "id, user_id, environment, job_id, coalesce(key_id, ''), task, status, error, cost, " \
  "created_at, started_at, finished_at"


// Reads KW_JOB_COLUMNS, then payload and result when `full`.
Job ReadJob(const Result& r, int row, bool full) {
  Job j;
  j.id = r.Text(row, 0);
  j.user_id = r.Text(row, 1);
  j.environment = ReadEnv(r.Text(row, 2));
  j.job_id = r.Text(row, 3);
  j.key_id = r.Text(row, 4);
  j.task = r.Text(row, 5);
  j.status = ParseJobStatus(r.Text(row, 6)).value_or(JobStatus::kFailed);
  j.error = r.OptText(row, 7);
  j.cost = r.Int(row, 8);
  j.created_at = r.Int(row, 9);
  j.started_at = r.OptInt(row, 10);
  j.finished_at = r.OptInt(row, 11);
  if (full) {
    j.payload = r.Text(row, 12);
    j.result = r.OptText(row, 13);
  }
  return j;
}

Page<Job> JobPage(const Result& r, int limit, bool full) {
  std::vector<Job> rows;
  for (int i = 0; i < r.rows(); ++i) rows.push_back(ReadJob(r, i, full));
  return MakePage(std::move(rows), limit, [](const Job& j) { return EncodeCursor(j.created_at, j.id); });
}

Status AppendUsageOn(Conn& c, const UsageEntry& e) {
  Status st = c.Exec("INSERT INTO usage (user_id, key_id, environment, units, reason, at) "
                     "VALUES ($1, $2, $3, $4, $5, $6)",
                     {e.user_id, e.key_id, Env(e.environment), Num(e.units), e.reason,
                      Num(e.at)}).status();
  if (st.code() == StatusCode::kNotFound) return NotFoundError("user " + e.user_id + " does not exist");
  return st;
}

}  // namespace

StatusOr<std::vector<bool>> PgJobStore::InsertJobs(const std::vector<NewJob>& jobs) {
  std::vector<bool> inserted(jobs.size(), false);
  if (jobs.empty()) return inserted;
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  Transaction tx(*c);
  KW_RETURN_IF_ERROR(tx.Begin());
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const Job& j = jobs[i].job;
    StatusOr<Result> r = c->Exec(
        "INSERT INTO jobs (id, user_id, environment, job_id, key_id, task, payload, status, "
        "result, error, cost, created_at, started_at, finished_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) "
        "ON CONFLICT (user_id, environment, job_id) DO NOTHING",
        {j.id, j.user_id, Env(j.environment), j.job_id, j.key_id, j.task, j.payload,
         std::string(JobStatusName(j.status)), j.result, j.error, std::to_string(j.cost),
         std::to_string(j.created_at), Num(j.started_at), Num(j.finished_at)});
    if (r.status().code() == StatusCode::kNotFound) return NotFoundError("user " + j.user_id + " does not exist");
    KW_RETURN_IF_ERROR(r.status());
    if (r->affected() == 0) continue;  // that job_id exists: no job, no charge
    inserted[i] = true;
    if (jobs[i].charge) KW_RETURN_IF_ERROR(AppendUsageOn(*c, *jobs[i].charge));
  }
  KW_RETURN_IF_ERROR(tx.Commit());
  return inserted;
}

StatusOr<Job> PgJobStore::GetJob(const std::string& user_id, Environment env, const std::string& id) {
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  KW_ASSIGN_OR_RETURN(Result r, c->Exec(
      "(SELECT " KW_JOB_COLUMNS ", payload, result FROM jobs "
      "WHERE id = $3 AND user_id = $1 AND environment = $2) UNION ALL "
      "(SELECT " KW_JOB_COLUMNS ", payload, result FROM jobs "
      "WHERE user_id = $1 AND environment = $2 AND job_id = $3) LIMIT 1",
      {user_id, Env(env), id}));
  if (r.rows() == 0) return NotFoundError("job " + id + " does not exist");
  return ReadJob(r, 0, true);
}

StatusOr<Page<Job>> PgJobStore::ListJobs(const std::string& user_id, Environment env,
                                         const PageRequest& page) {
  KW_ASSIGN_OR_RETURN(std::optional<CursorPosition> after, CheckPage(page));
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  KW_ASSIGN_OR_RETURN(Result r, ExecPage(*c, page.limit, after,
                                         "SELECT " KW_JOB_COLUMNS " FROM jobs "
                                         "WHERE user_id = $2 AND environment = $3 "
                                         "ORDER BY created_at DESC, id DESC LIMIT $1",
                                         "SELECT " KW_JOB_COLUMNS " FROM jobs "
                                         "WHERE user_id = $2 AND environment = $3 "
                                         "AND (created_at, id) < ($4, $5) "
                                         "ORDER BY created_at DESC, id DESC LIMIT $1",
                                         {user_id, Env(env)}));
  return JobPage(r, page.limit, false);
}

StatusOr<Page<Job>> PgJobStore::ListUnfinishedJobs(const PageRequest& page) {
  KW_ASSIGN_OR_RETURN(std::optional<CursorPosition> after, CheckPage(page));
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  KW_ASSIGN_OR_RETURN(Result r, ExecPage(*c, page.limit, after,
                                         "SELECT " KW_JOB_COLUMNS ", payload, result FROM jobs "
                                         "WHERE status IN ('queued', 'running') "
                                         "ORDER BY created_at, id LIMIT $1",
                                         "SELECT " KW_JOB_COLUMNS ", payload, result FROM jobs "
                                         "WHERE status IN ('queued', 'running') "
                                         "AND (created_at, id) > ($2, $3) "
                                         "ORDER BY created_at, id LIMIT $1",
                                         {}));
  return JobPage(r, page.limit, true);
}

StatusOr<std::int64_t> PgJobStore::CountPendingJobs(const std::string& user_id) {
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  KW_ASSIGN_OR_RETURN(Result r, c->Exec("SELECT count(*) FROM jobs WHERE user_id = $1 "
                                        "AND status IN ('queued', 'running')",
                                        {user_id}));
  return r.Int(0, 0);
}

Status PgJobStore::UpdateJobs(const std::vector<Job>& jobs) {
  if (jobs.empty()) return OkStatus();
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  Transaction tx(*c);
  KW_RETURN_IF_ERROR(tx.Begin());
  for (const Job& j : jobs) {
    KW_RETURN_IF_ERROR(c->Exec("UPDATE jobs SET status = $1, result = $2, error = $3, "
                               "started_at = $4, finished_at = $5 WHERE id = $6",
                               {std::string(JobStatusName(j.status)), j.result, j.error,
                                Num(j.started_at), Num(j.finished_at), j.id}).status());
  }
  return tx.Commit();
}

Status PgUsageStore::AppendUsage(const std::vector<UsageEntry>& entries) {
  if (entries.empty()) return OkStatus();
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  Transaction tx(*c);
  KW_RETURN_IF_ERROR(tx.Begin());
  for (const UsageEntry& e : entries) KW_RETURN_IF_ERROR(AppendUsageOn(*c, e));
  return tx.Commit();
}

StatusOr<std::int64_t> PgUsageStore::SumUsage(const std::string& user_id, Environment env,
                                              UnixMillis from, UnixMillis to) {
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  KW_ASSIGN_OR_RETURN(Result r, c->Exec("SELECT coalesce(sum(units), 0) FROM usage "
                                        "WHERE user_id = $1 AND environment = $2 AND at >= $3 AND at < $4",
                                        {user_id, Env(env), std::to_string(from), std::to_string(to)}));
  return r.Int(0, 0);
}

StatusOr<std::vector<UsageByKey>> PgUsageStore::UsageReport(const std::string& user_id,
                                                            UnixMillis from, UnixMillis to) {
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  KW_ASSIGN_OR_RETURN(Result u, c->Exec("SELECT 1 FROM users WHERE id = $1", {user_id}));
  if (u.rows() == 0) return NotFoundError("user " + user_id + " does not exist");
  KW_ASSIGN_OR_RETURN(Result r, c->Exec(
      "SELECT coalesce(key_id, ''), environment, sum(units), count(*) FROM usage "
      "WHERE user_id = $1 AND at >= $2 AND at < $3 GROUP BY key_id, environment "
      "ORDER BY environment, coalesce(key_id, '')",
      {user_id, std::to_string(from), std::to_string(to)}));
  std::vector<UsageByKey> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back(UsageByKey{r.Text(i, 0),
                             ReadEnv(r.Text(i, 1)),
                             r.Int(i, 2), r.Int(i, 3)});
  }
  return out;
}

}  // namespace keyward::store::postgres
