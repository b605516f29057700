// worker.h: `keyward worker` — drains the durable queue by calling the
// compute API with each entry's own credential.
//
// DESIGN
// N threads, each with its own keyward::Client (connections reused), take
// claimed entries from an in-memory list, open each sealed credential in
// memory, and call POST /v1/ai/jobs with `Authorization: Api-Key …` and the
// entry's job_id. The threads never touch the store: one thread (the
// finisher) records their outcomes and, in the same turn, claims entries
// under a lease (QueueStore::ClaimQueue) to keep up to N waiting, so a
// thread that finishes a call finds its next entry there, and no entry waits
// in memory behind more than about one call. Outcomes:
//  - 2xx: done (200 means an earlier attempt already reached the server);
//  - 429: back to queued until the server's Retry-After (with jitter); the
//    attempt does not count, since the job itself did nothing wrong;
//  - other 4xx: failed, final, with the error code (REVOKED, …);
//  - transport error or 5xx: back to queued with exponential backoff and
//    jitter, or dead once max_attempts claims have been made.
// A worker that dies leaves its claims leased; when the lease expires any
// worker claims them again. Delivery is therefore at-least-once, and the
// compute API's idempotent job_id makes the effect and the charge
// exactly-once. When an entry becomes final the store erases its sealed
// credential and revokes its job-scoped key in the same transaction.
// A worker only claims entries sealed under its own seal key. Outcomes of
// all threads are recorded together (group commit); an outcome lost to a
// crash before its commit is redone after the lease expires, which the
// idempotent job_id makes harmless.
// Stop() (SIGTERM) stops claiming and lets in-flight calls finish; entries
// already claimed (in flight or waiting in the list) are worked off first.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

#include "core/group_commit.h"
#include "core/sealing.h"
#include "store/queue_store.h"

namespace keyward {
class Client;
}

namespace keyward::queue {

struct WorkerOptions {
  std::string server_url = "http://127.0.0.1:8080";
  int concurrency = 2;
  // Drain what is queued (including retries that are backing off) and return.
  bool once = false;
  std::int64_t lease_ms = 30'000;       // a crashed worker's claims return after this
  std::int64_t poll_ms = 200;           // idle wait between empty claims
  std::int64_t backoff_base_ms = 500;   // retry n waits base * 2^(n-1), plus jitter
  std::int64_t backoff_max_ms = 60'000;
  int http_timeout_ms = 10'000;
  std::string worker_id;                // default: host:pid
  // For an https:// server (keyward/client.h): the CA bundle that signs its
  // certificate (default: the system's), a client certificate and key for
  // mutual TLS, and the named escape hatch that skips verification.
  std::string ca_file;
  std::string client_cert_file;
  std::string client_key_file;
  bool insecure_skip_tls_verify = false;
  // Entries that carry a key issued for the job alone (keyward knows its
  // signing secret from the start) are submitted as signed requests, so the
  // key never crosses the wire; entries sealed with the enqueuer's own key
  // go as a bearer Api-Key. False: every submission is a bearer Api-Key.
  bool sign = true;
};

struct WorkerStats {
  std::atomic<std::int64_t> done{0}, failed{0}, dead{0}, retried{0}, throttled{0}, lost_leases{0};
};

class Worker {
 public:
  // Borrows everything; all must outlive the worker.
  Worker(QueueStore& store, const Clock& clock, const core::Sealer& sealer, WorkerOptions options);

  // Blocks until Stop() or (with once) until nothing is left to do.
  void Run();
  // Thread-safe; may be called from a signal-handling thread.
  void Stop();
  const WorkerStats& stats() const { return stats_; }
  const WorkerOptions& options() const { return options_; }

 private:
  void Loop();
  // The next claimed entry, waiting (and asking the finisher to claim) while
  // there is none; false once there will be none (stopping, or drained).
  bool Next(QueueEntry* e);
  // Fewer entries than this waiting: claim more (half the threads, at least 1).
  std::size_t LowWater() const;
  // On the finisher's thread after each commit: when fewer than
  // concurrency / 2 entries wait (or a thread waits for one), claims enough
  // for concurrency to wait; after an empty claim, not again for poll_ms.
  void Refill();
  // Runs one claimed entry to its outcome and hands it to the finisher.
  void Process(QueueEntry e, Client& client);
  // Counts an outcome once it is recorded (or its lease was found lost).
  void Recorded(QueueStatus status, const Status& st);
  // Backoff before retry number `attempt` (1-based), with ±25 % jitter.
  std::int64_t Backoff(int attempt) const;

  QueueStore& store_;
  const Clock& clock_;
  const core::Sealer& sealer_;
  const WorkerOptions options_;
  std::atomic<bool> stopping_{false};
  WorkerStats stats_;
  // Claimed entries no thread has taken yet, and the state of claiming.
  std::mutex ready_mu_;
  std::condition_variable ready_cv_;
  std::deque<QueueEntry> ready_;                      // guarded by ready_mu_
  bool refill_asked_ = false;                         // guarded by ready_mu_
  bool claiming_ = false;                             // guarded by ready_mu_
  bool drained_ = false;                              // guarded by ready_mu_ (once: nothing left)
  std::chrono::steady_clock::time_point next_poll_;   // guarded by ready_mu_
  // Outcomes of every thread, recorded together: one write transaction for
  // all that finished while the previous one committed; then Refill().
  core::GroupCommitter<QueueEntry, Status> finisher_;
};

}  // namespace keyward::queue
