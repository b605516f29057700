// job_store_bench.cc: the write paths of durable job submissions and queue
// entries without HTTP — one group commit of new jobs (each charged to its
// user) together with the outcomes of the previous batch, as the compute
// service's commit thread runs it, and one group commit of queue entries, as
// the queue's commit thread runs it, on a real SQLite file with its
// checkpointer. Users are interleaved as a server sees them; the time is per
// job or entry.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>

#include "auth/accounts.h"
#include "core/ids.h"
#include "keyward/store.h"
#include "store/backend.h"
#include "store/queue_store.h"

namespace keyward {
namespace {

struct JobFixture {
  std::string dir;
  store::BackendPtr backend;
  std::vector<std::string> users;
  long long counter = 0;

  explicit JobFixture(int n_users) {
    dir = (std::filesystem::temp_directory_path() /
           ("keyward-jobbench-" + std::to_string(getpid()) + "-" + std::to_string(n_users))).string();
    std::filesystem::create_directories(dir);
    backend = std::move(store::OpenBackend({.location = dir + "/jobs.db"})).value();
    auth::Accounts accounts(backend->keys(), SystemClock());
    for (int i = 0; i < n_users; ++i) {
      auth::CreateUserRequest req;
      req.name = "user" + std::to_string(i);
      req.issue_key = false;
      users.push_back(accounts.CreateUser(req)->user.id);
    }
  }
  ~JobFixture() {
    backend.reset();
    std::filesystem::remove_all(dir);
  }

  QueueEntry NextEntry() {
    QueueEntry e;
    e.created_at = e.updated_at = e.available_at = SystemClock().Now();
    e.id = *core::NewTimeOrderedId("qen", e.created_at);
    e.user_id = users[counter % users.size()];
    e.job_id = "bench-" + std::to_string(counter);
    e.task = "echo";
    e.payload = "{\"n\":" + std::to_string(counter) + "}";
    e.sealed_key = std::string(92, 's');  // the size of a sealed live key
    e.seal_key = "bench-seal-key";
    ++counter;
    return e;
  }

  JobStore::NewJob Next() {
    JobStore::NewJob n;
    n.job.created_at = SystemClock().Now();
    n.job.id = *core::NewTimeOrderedId("job", n.job.created_at);
    n.job.user_id = users[counter % users.size()];
    n.job.job_id = "bench-" + std::to_string(counter);
    n.job.key_id = "key_bench";
    n.job.task = "echo";
    n.job.payload = "{\"n\":" + std::to_string(counter) + "}";
    n.job.cost = 1;
    n.charge = true;
    ++counter;
    return n;
  }
};

// One file per user count, kept for the run.
JobFixture& FixtureFor(int n_users) {
  static std::map<int, std::unique_ptr<JobFixture>> fixtures;
  auto& f = fixtures[n_users];
  if (!f) f = std::make_unique<JobFixture>(n_users);
  return *f;
}

// Arguments: jobs per commit, users they are spread over. Each commit also
// writes the previous commit's jobs as succeeded (their outcome), as the
// service's next commit does. Every user a commit touches costs a leaf page
// of each index led by the user (the unique job_id, jobs_by_user_time) and
// of credit_months: compare 1, 100 and 1,000 users.
void BM_CommitJobs(benchmark::State& state) {
  JobFixture& f = FixtureFor(static_cast<int>(state.range(1)));
  const auto batch_size = static_cast<std::size_t>(state.range(0));
  std::vector<Job> finished;
  for (auto _ : state) {
    std::vector<JobStore::NewJob> batch;
    batch.reserve(batch_size);
    for (std::size_t i = 0; i < batch_size; ++i) batch.push_back(f.Next());
    StatusOr<std::vector<bool>> r = f.backend->jobs().CommitJobs(batch, finished);
    if (!r.ok()) {
      state.SkipWithError(r.status().message().c_str());
      break;
    }
    finished.clear();
    for (JobStore::NewJob& n : batch) {
      Job& j = n.job;
      j.status = JobStatus::kSucceeded;
      j.started_at = j.created_at;
      j.finished_at = SystemClock().Now();
      j.result = j.payload;
      finished.push_back(std::move(j));
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch_size));
}
BENCHMARK(BM_CommitJobs)
    ->ArgNames({"batch", "users"})
    ->Args({8, 100})
    ->Args({32, 1})
    ->Args({32, 100})
    ->Args({32, 1000})
    ->MinTime(3)  // the file grows through a run: shorter runs measure a small one
    ->UseRealTime();

// Arguments as above, for queue entries: each entry is a row and five index
// entries (its id, the unique job_id and the user's listing led by the user;
// the ready list and the time listing at their ends), and its user's count of
// unfinished entries.
void BM_EnqueueEntries(benchmark::State& state) {
  JobFixture& f = FixtureFor(static_cast<int>(state.range(1)));
  const auto batch_size = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    std::vector<QueueEntry> batch;
    batch.reserve(batch_size);
    for (std::size_t i = 0; i < batch_size; ++i) batch.push_back(f.NextEntry());
    std::vector<Status> r = f.backend->queue().EnqueueMany(batch, 1 << 30);
    if (!r.at(0).ok()) {
      state.SkipWithError(r[0].message().c_str());
      break;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch_size));
}
BENCHMARK(BM_EnqueueEntries)
    ->ArgNames({"batch", "users"})
    ->Args({32, 100})
    ->MinTime(3)
    ->UseRealTime();

}  // namespace
}  // namespace keyward
