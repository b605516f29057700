// job_store.cc: compute jobs (each with its charge) and the usage ledger on PostgreSQL.
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

// Parameters and the statement's parts for a batch of new jobs, each with
// its charge on its row ($1…$15): each column travels as one array
// parameter, and the jobs go in with ON CONFLICT DO NOTHING (a job_id taken,
// also earlier in the same batch, is skipped). The trigger of migration
// 0009 counts the live charges of exactly the rows that went in against
// their months' credits. Rows go in sorted by user: batches committed at
// once (by several nodes) take the users' unique-index entries and credit
// rows in one global order, so they can wait on each other but never
// deadlock.
constexpr int kInsertParams = 15;

void AppendInsertParams(const std::vector<JobStore::NewJob>& jobs, Params& params) {
  std::vector<std::vector<std::optional<std::string>>> col(kInsertParams);
  for (const JobStore::NewJob& n : jobs) {
    const Job& j = n.job;
    const std::optional<std::string> row[kInsertParams] = {
        j.id, j.user_id, Env(j.environment), j.job_id, j.key_id, j.task, j.payload,
        std::string(JobStatusName(j.status)), j.result, j.error, Num(j.cost), Num(j.created_at),
        Num(j.started_at), Num(j.finished_at), std::string(n.charge ? "true" : "false")};
    for (int c = 0; c < kInsertParams; ++c) col[c].push_back(row[c]);
  }
  for (const auto& c : col) params.push_back(ArrayParam(c));
}

constexpr std::string_view kInsertCtes =
    "input AS ("
    "  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], "
    "    $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bigint[], "
    "    $12::bigint[], $13::bigint[], $14::bigint[], $15::boolean[]) WITH ORDINALITY "
    "  AS t(id, user_id, environment, job_id, key_id, task, payload, status, result, error, "
    "       cost, created_at, started_at, finished_at, charged, ord)"
    "), added AS ("
    "  INSERT INTO jobs (id, user_id, environment, job_id, key_id, task, payload, status, "
    "    result, error, cost, created_at, started_at, finished_at, charged) "
    "  SELECT id, user_id, environment, job_id, key_id, task, payload, status, result, error, "
    "    cost, created_at, started_at, finished_at, charged FROM input "
    "  ORDER BY user_id, environment, job_id, ord "
    "  ON CONFLICT (user_id, environment, job_id) DO NOTHING RETURNING id"
    ") SELECT i.ord FROM input i JOIN added a ON a.id = i.id";

// Parameters for the outcomes of finished jobs: six arrays (id, status,
// result, error, started_at, finished_at).
void AppendUpdateParams(const std::vector<Job>& jobs, Params& params) {
  std::vector<std::optional<std::string>> id, status, result, error, started, finished;
  for (const Job& j : jobs) {
    id.push_back(j.id), status.push_back(std::string(JobStatusName(j.status)));
    result.push_back(j.result), error.push_back(j.error);
    started.push_back(Num(j.started_at)), finished.push_back(Num(j.finished_at));
  }
  for (const auto* c : {&id, &status, &result, &error, &started, &finished}) params.push_back(ArrayParam(*c));
}

// The update of those outcomes, its parameters numbered from $`first`; a
// job listed twice takes its last outcome.
std::string UpdateStatement(int first) {
  auto p = [first](int i, const char* type) { return "$" + std::to_string(first + i) + "::" + type + "[]"; };
  return "UPDATE jobs SET status = u.status, result = u.result, error = u.error, "
         "started_at = u.started_at, finished_at = u.finished_at "
         "FROM (SELECT DISTINCT ON (id) * FROM unnest(" +
         p(0, "text") + ", " + p(1, "text") + ", " + p(2, "text") + ", " + p(3, "text") + ", " +
         p(4, "bigint") + ", " + p(5, "bigint") +
         ") WITH ORDINALITY AS t(id, status, result, error, started_at, finished_at, ord) "
         "ORDER BY id, ord DESC) u WHERE jobs.id = u.id";
}

}  // namespace

// One statement for the whole cycle — the outcomes, the new jobs and their
// charges — so one round trip and one commit however many rows it holds,
// atomic as a whole like a transaction.
StatusOr<std::vector<bool>> PgJobStore::CommitJobs(const std::vector<NewJob>& inserts,
                                                   const std::vector<Job>& finished) {
  std::vector<bool> inserted(inserts.size(), false);
  if (inserts.empty() && finished.empty()) return inserted;
  // The three shapes a cycle takes, built once; the outcomes' parameters
  // follow the batch's when both are sent.
  static const std::string kOutcomes = UpdateStatement(1);
  static const std::string kJobs = "WITH " + std::string(kInsertCtes);
  static const std::string kBoth =
      "WITH done AS (" + UpdateStatement(kInsertParams + 1) + " RETURNING 1), " + std::string(kInsertCtes);
  Params params;
  if (!inserts.empty()) AppendInsertParams(inserts, params);
  if (!finished.empty()) AppendUpdateParams(finished, params);
  const std::string& sql = inserts.empty() ? kOutcomes : finished.empty() ? kJobs : kBoth;
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  StatusOr<Result> r = c->ExecOnce(sql, params);
  if (r.status().code() == StatusCode::kNotFound) return NotFoundError("a user of this batch does not exist");
  KW_RETURN_IF_ERROR(r.status());
  if (inserts.empty()) return inserted;
  for (int i = 0; i < r->rows(); ++i) {
    const std::int64_t ord = r->Int(i, 0);
    if (ord >= 1 && ord <= static_cast<std::int64_t>(inserts.size())) inserted[ord - 1] = true;
  }
  return inserted;
}

StatusOr<std::vector<bool>> PgJobStore::InsertJobs(const std::vector<NewJob>& jobs) {
  return CommitJobs(jobs, {});
}

Status PgJobStore::UpdateJobs(const std::vector<Job>& jobs) { return CommitJobs({}, jobs).status(); }

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

// One statement for the whole batch (see CommitJobs).
Status PgUsageStore::AppendUsage(const std::vector<UsageEntry>& entries) {
  if (entries.empty()) return OkStatus();
  std::vector<std::optional<std::string>> user, key, env, units, reason, at;
  for (const UsageEntry& e : entries) {
    user.push_back(e.user_id), key.push_back(e.key_id), env.push_back(Env(e.environment));
    units.push_back(Num(e.units)), reason.push_back(e.reason), at.push_back(Num(e.at));
  }
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  Status st = c->ExecOnce("INSERT INTO usage (user_id, key_id, environment, units, reason, at) "
                      "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], "
                      "$5::text[], $6::bigint[]) AS t(u, k, e, n, r, a) ORDER BY u",
                      {ArrayParam(user), ArrayParam(key), ArrayParam(env), ArrayParam(units),
                       ArrayParam(reason), ArrayParam(at)})
                  .status();
  if (st.code() == StatusCode::kNotFound) return NotFoundError("a user of this batch does not exist");
  return st;
}

StatusOr<std::int64_t> PgUsageStore::SumUsage(const std::string& user_id, Environment env,
                                              UnixMillis from, UnixMillis to) {
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  KW_ASSIGN_OR_RETURN(Result r, c->Exec(
      "SELECT (SELECT coalesce(sum(units), 0) FROM usage "
      "        WHERE user_id = $1 AND environment = $2 AND at >= $3 AND at < $4) + "
      "       (SELECT coalesce(sum(cost), 0) FROM jobs WHERE user_id = $1 AND environment = $2 "
      "        AND created_at >= $3 AND created_at < $4 AND charged)",
      {user_id, Env(env), std::to_string(from), std::to_string(to)}));
  return r.Int(0, 0);
}

StatusOr<std::vector<UsageByKey>> PgUsageStore::UsageReport(const std::string& user_id,
                                                            UnixMillis from, UnixMillis to) {
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  KW_ASSIGN_OR_RETURN(Result u, c->Exec("SELECT 1 FROM users WHERE id = $1", {user_id}));
  if (u.rows() == 0) return NotFoundError("user " + user_id + " does not exist");
  KW_ASSIGN_OR_RETURN(Result r, c->Exec(
      "SELECT k, e, sum(u), sum(n) FROM ("
      "  SELECT coalesce(key_id, '') AS k, environment AS e, sum(units) AS u, count(*) AS n "
      "  FROM usage WHERE user_id = $1 AND at >= $2 AND at < $3 GROUP BY 1, 2 "
      "  UNION ALL "
      "  SELECT coalesce(key_id, ''), environment, sum(cost), count(*) FROM jobs "
      "  WHERE user_id = $1 AND environment IN ('live', 'test') AND created_at >= $2 "
      "    AND created_at < $3 AND charged GROUP BY 1, 2"
      ") s GROUP BY k, e ORDER BY e, k",
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
