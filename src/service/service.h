// service.h: builds keyward's whole non-HTTP service from one set of options
// — the storage backend, accounts, the verifier and its caches, rate
// limits, credits, the usage ledger and gate, the compute service and its
// executor, the seal key and the job queue — and owns them. `keyward serve`
// and the tests wire the service through this one place.
//
// Defaults live in each part's own options struct; ServiceOptions only
// gathers them. Thread-safe as its parts are; Stop() before destruction
// when an HTTP server still holds replies (see Stop()).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "auth/accounts.h"
#include "auth/change_follower.h"
#include "compute/compute_service.h"
#include "compute/executor.h"
#include "compute/task_registry.h"
#include "keyward/verifier.h"
#include "metering/credits.h"
#include "metering/gate.h"
#include "metering/rate_limiter.h"
#include "metering/usage_ledger.h"
#include "queue/job_queue.h"
#include "core/sealing.h"
#include "store/backend.h"

namespace keyward::service {

struct ServiceOptions {
  StoreOptions store;
  VerifierOptions verifier = [] {
    VerifierOptions v;
    v.cache = true;
    v.track_last_used = true;
    return v;
  }();
  metering::GateOptions gate;
  compute::ComputeOptions compute;
  queue::QueueOptions queue;
  // Threads running compute jobs; 0 runs each job within its submission
  // (deterministic, for fuzzing and tools).
  int job_threads = 2;
  // Threads answering requests that read or write the store (admin calls,
  // job and queue routes), so that no I/O thread waits on the database;
  // 0 answers them on the I/O thread (deterministic, for fuzzing).
  int request_threads = 4;
  // How often last_used_at is written; 0: only at Stop() (no flusher thread).
  std::int64_t last_used_flush_ms = 5'000;
  // Following the change feed, so that changes made by other processes
  // reach the cache; poll_ms 0: not followed (one process only).
  auth::ChangeFollowerOptions changes;
};

// Where the seal key comes from: KEYWARD_SEAL_KEY (64 hex) if set, else a
// file — KEYWARD_SEAL_KEY_FILE, or <database>.sealkey beside a SQLite
// database — created (0600) on first use. A PostgreSQL store needs one of
// the two settings.
struct SealKeySource {
  std::string hex;        // from the environment; empty if unset
  std::string file_path;  // used when hex is empty
  std::string Describe() const;
};

// Loads the seal key from `source`. kInvalidArgument (bad hex),
// kFailedPrecondition (file readable by others), kUnavailable (I/O).
StatusOr<core::Sealer> LoadSealKey(const SealKeySource& source);

// Checks `sealer` against the seal key recorded for the queue (recording it
// when none is yet): kFailedPrecondition naming the expected key's
// fingerprint and `source` when they differ.
Status CheckSealKey(QueueStore& queue, const core::Sealer& sealer, const SealKeySource& source);

class Service {
 public:
  // Opens the backend, checks the seal key and builds every part; resumes
  // compute jobs a previous server left unfinished. Borrows `clock`.
  static StatusOr<std::unique_ptr<Service>> Start(const ServiceOptions& options,
                                                  const SealKeySource& seal_key, const Clock& clock);
  ~Service();

  // Stops taking new compute work, finishes what was accepted, writes
  // last-use times. Idempotent.
  void Stop();

  store::Backend& backend() { return *backend_; }
  auth::Accounts& accounts() { return accounts_; }
  Verifier& verifier() { return verifier_; }
  metering::Credits& credits() { return credits_; }
  metering::UsageLedger& ledger() { return ledger_; }
  metering::Gate& gate() { return gate_; }
  const compute::TaskRegistry& tasks() const { return tasks_; }
  compute::ComputeService& compute() { return compute_; }
  // Runs compute jobs.
  compute::Executor& job_executor() { return executor_; }
  // Runs request work that may wait on the store.
  compute::Executor& request_pool() { return request_pool_; }
  queue::JobQueue& queue() { return queue_; }
  const core::Sealer& sealer() const { return sealer_; }
  const Clock& clock() const { return clock_; }
  const ServiceOptions& options() const { return options_; }
  // Compute jobs resumed at start (first page).
  std::size_t resumed() const { return resumed_; }
  // Null when changes are not followed.
  const auth::ChangeFollower* follower() const { return follower_.get(); }

 private:
  Service(store::BackendPtr backend, core::Sealer sealer, const ServiceOptions& options,
          const Clock& clock);
  void FlushLoop();
  void RefreshLoop();

  const ServiceOptions options_;
  const Clock& clock_;
  store::BackendPtr backend_;
  auth::Accounts accounts_;
  Verifier verifier_;
  metering::RateLimiter limiter_;
  metering::Credits credits_;
  metering::UsageLedger ledger_;
  metering::Gate gate_;
  compute::TaskRegistry tasks_;
  compute::Executor executor_;
  compute::ComputeService compute_;
  compute::Executor request_pool_;
  core::Sealer sealer_;
  queue::JobQueue queue_;
  std::size_t resumed_ = 0;
  std::unique_ptr<auth::ChangeFollower> follower_;

  struct Background;
  std::unique_ptr<Background> background_;
};

}  // namespace keyward::service
