// service.cc: wiring, the seal key check and the background threads (last
// uses' flusher, key cache refresher).
#include "service/service.h"

#include "core/process.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace keyward::service {

std::string SealKeySource::Describe() const {
  return hex.empty() ? "the key file " + file_path : "KEYWARD_SEAL_KEY";
}

StatusOr<core::Sealer> LoadSealKey(const SealKeySource& source) {
  if (source.hex.empty() && source.file_path.empty()) {
    return FailedPreconditionError(
        "no seal key: a PostgreSQL store has no folder to keep one in; set KEYWARD_SEAL_KEY "
        "(64 hex digits) or KEYWARD_SEAL_KEY_FILE, the same on every node and worker");
  }
  StatusOr<core::Sealer> s = source.hex.empty() ? core::Sealer::FromKeyFile(source.file_path)
                                                 : core::Sealer::FromHex(source.hex);
  if (!s.ok()) {
    return Status(s.status().code(), (source.hex.empty() ? "" : "KEYWARD_SEAL_KEY: ") + s.status().message());
  }
  return s;
}

Status CheckSealKey(QueueStore& queue, const core::Sealer& sealer, const SealKeySource& source) {
  KW_ASSIGN_OR_RETURN(std::string recorded, queue.AdoptSealKey(sealer.fingerprint()));
  if (recorded == sealer.fingerprint()) return OkStatus();
  return FailedPreconditionError(
      "this database's job queue is sealed under seal key " + recorded + ", but " +
      source.Describe() + " holds seal key " + sealer.fingerprint() +
      ": give every keyward process sharing the database the same key (KEYWARD_SEAL_KEY or "
      "the key file), or move the queue to this key with `keyward seal rotate`");
}

namespace {
// Cached records are refreshed ahead of their TTL (by RefreshLoop()) only
// when there is a cache whose records expire.
bool RefreshesAhead(const VerifierOptions& v) { return v.cache && v.cache_ttl_ms > 0; }
}  // namespace

// The background threads: last uses' flusher and the key cache's refresher.
struct Service::Background {
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  std::atomic<bool> stopping{false};  // `stop`, read without the lock by a refresh pass
  std::thread last_used, refresher;
};

Service::Service(store::BackendPtr backend, core::Sealer sealer, const ServiceOptions& options,
                 const Clock& clock)
    : options_(options),
      clock_(clock),
      backend_(std::move(backend)),
      accounts_(backend_->keys(), clock),
      // sealer_ is built below; the verifier only keeps its address.
      verifier_(backend_->keys(), clock,
                [&] {
                  VerifierOptions v = options.verifier;
                  v.sealer = &sealer_;
                  v.refresh_ahead = RefreshesAhead(v);
                  return v;
                }()),
      credits_(backend_->usage(), clock),
      ledger_(backend_->usage()),
      gate_(verifier_, limiter_, credits_, ledger_, clock, options.gate),
      tasks_(compute::TaskRegistry::BuiltIn()),
      executor_(options.job_threads, "kw-jobs"),
      compute_(backend_->jobs(), credits_, tasks_, executor_, clock,
               [&options] {
                 compute::ComputeOptions c = options.compute;
                 // Without job threads everything happens on the caller's thread.
                 if (options.job_threads == 0) c.group_commit = false;
                 return c;
               }(),
               &request_pool_),  // constructed next; used only once requests arrive
      // It answers requests (admin, reads, job acknowledgements after
      // their commit): not a background pool.
      request_pool_(options.request_threads, "kw-requests", /*background=*/false),
      sealer_(std::move(sealer)),
      queue_(backend_->queue(), clock, sealer_, tasks_, accounts_,
             [&options] {
               queue::QueueOptions q = options.queue;
               if (options.job_threads == 0) q.group_commit = false;  // everything on the caller
               return q;
             }(),
             &request_pool_) {
  accounts_.set_change_listener([this](const std::string& user_id) {
    verifier_.InvalidateUser(user_id);
  });
  accounts_.set_sealer(&sealer_);
}

StatusOr<std::unique_ptr<Service>> Service::Start(const ServiceOptions& options,
                                                  const SealKeySource& seal_key, const Clock& clock) {
  KW_ASSIGN_OR_RETURN(store::BackendPtr backend, store::OpenBackend(options.store));
  KW_ASSIGN_OR_RETURN(core::Sealer sealer, LoadSealKey(seal_key));
  KW_RETURN_IF_ERROR(CheckSealKey(backend->queue(), sealer, seal_key));
  std::unique_ptr<Service> s(new Service(std::move(backend), std::move(sealer), options, clock));
  KW_ASSIGN_OR_RETURN(s->resumed_, s->compute_.ResumeUnfinished());
  if (options.changes.poll_ms > 0) {
    s->follower_ = std::make_unique<auth::ChangeFollower>(s->backend_->changes(), s->verifier_, clock,
                                                          options.changes);
    KW_RETURN_IF_ERROR(s->follower_->Start());
  }
  s->background_ = std::make_unique<Background>();
  if (options.last_used_flush_ms > 0) {
    s->background_->last_used = std::thread([raw = s.get()] {
      core::BackgroundThread("kw-last-used");
      raw->FlushLoop();
    });
  }
  if (RefreshesAhead(options.verifier)) {
    s->background_->refresher = std::thread([raw = s.get()] {
      core::BackgroundThread("kw-refresh");
      raw->RefreshLoop();
    });
  }
  return s;
}

void Service::RefreshLoop() {
  // Several ticks fit in the quarter of the TTL in which a record in use is
  // queued, so it is re-read before it expires.
  const auto tick = std::chrono::milliseconds(
      std::clamp<std::int64_t>(options_.verifier.cache_ttl_ms / 10, 10, 250));
  std::unique_lock lock(background_->mu);
  while (!background_->cv.wait_for(lock, tick, [&] { return background_->stop; })) {
    lock.unlock();
    verifier_.RefreshCached(&background_->stopping).IgnoreError();  // a store error: those records expire as before
    lock.lock();
  }
}

void Service::FlushLoop() {
  // Every period, or sooner once much waits: each entry is held in memory,
  // and one flush of a hundred thousand rows was a write long enough to show
  // in authz's p99. A learned secret is written once, so a burst of first
  // uses flushes early at a few thousand. A key's last use is noted again
  // after last_used_resolution, so flushing more often writes busy keys more
  // often: only many more distinct keys than that flush early.
  constexpr std::size_t kSecretsBacklog = 4'096;
  constexpr std::size_t kLastUsesBacklog = 32'768;
  const auto period = std::chrono::milliseconds(options_.last_used_flush_ms);
  const auto tick = std::min(period, std::chrono::milliseconds(250));
  auto due = std::chrono::steady_clock::now() + period;
  bool early = true;  // not after a failed flush: the store may be down
  std::unique_lock lock(background_->mu);
  while (!background_->cv.wait_for(lock, tick, [&] { return background_->stop; })) {
    const Verifier::Unflushed waiting = verifier_.unflushed();
    const bool backlog = waiting.signing_secrets >= kSecretsBacklog || waiting.last_uses >= kLastUsesBacklog;
    if (std::chrono::steady_clock::now() < due && !(early && backlog)) continue;
    lock.unlock();
    early = verifier_.FlushLastUsed().ok();
    lock.lock();
    due = std::chrono::steady_clock::now() + period;
  }
}

void Service::Stop() {
  if (!background_) return;
  if (follower_) follower_->Stop();
  {
    std::lock_guard lock(background_->mu);
    background_->stop = true;
  }
  background_->stopping = true;
  background_->cv.notify_all();
  if (background_->last_used.joinable()) background_->last_used.join();
  if (background_->refresher.joinable()) background_->refresher.join();
  background_.reset();
  request_pool_.Stop();     // answer the requests already taken
  compute_.StopAccepting();  // commit the submissions already made
  queue_.StopAccepting();    // and the queue entries
  executor_.Stop();          // finish compute jobs already accepted
  verifier_.FlushLastUsed().IgnoreError();
}

Service::~Service() { Stop(); }

}  // namespace keyward::service
