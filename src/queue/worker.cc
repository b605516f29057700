// worker.cc: claim → unseal → POST /v1/ai/jobs → record the outcome.
#include "queue/worker.h"

#include <openssl/crypto.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>
#include <vector>

#include "json/parse.h"
#include "keyward/client.h"

namespace keyward::queue {
namespace {

std::string DefaultWorkerId() {
  char host[256] = "worker";
  gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(getpid());
}

// "code: message" from a keyward error body, or "HTTP <status>".
std::string ErrorOf(const ClientResponse& r) {
  nlohmann::json j = jsonio::ParseStoredJson(r.body);
  if (j.is_object() && j.contains("error") && j["error"].is_object()) {
    const nlohmann::json& e = j["error"];
    std::string code = e.contains("code") && e["code"].is_string() ? e["code"].get<std::string>() : "";
    std::string message = e.contains("message") && e["message"].is_string() ? e["message"].get<std::string>() : "";
    if (!code.empty()) return (code + ": " + message).substr(0, 500);
  }
  return "HTTP " + std::to_string(r.status);
}

// Retry-After in milliseconds (whole seconds in the header), or `fallback`.
std::int64_t RetryAfterMs(const ClientResponse& r, std::int64_t fallback) {
  std::string v = r.Header("Retry-After");
  if (v.empty() || v.size() > 10 || v.find_first_not_of("0123456789") != std::string::npos) return fallback;
  return std::stoll(v) * 1000;
}

}  // namespace

Worker::Worker(QueueStore& store, const Clock& clock, const core::Sealer& sealer, WorkerOptions options)
    : store_(store), clock_(clock), sealer_(sealer), options_([&] {
        if (options.worker_id.empty()) options.worker_id = DefaultWorkerId();
        return options;
      }()),
      finisher_(
          [this](std::vector<QueueEntry>& batch) {
            std::vector<Status> recorded;
            if (!batch.empty()) recorded = store_.FinishClaims(batch, options_.worker_id, clock_.Now());
            Refill();
            return recorded;
          },
          UnavailableError("the worker is stopping"), /*threaded=*/true, "kw-finish") {}

std::int64_t Worker::Backoff(int attempt) const {
  thread_local std::mt19937_64 rng(std::random_device{}());
  std::int64_t base = options_.backoff_base_ms << std::min(attempt - 1, 20);
  base = std::min(base, options_.backoff_max_ms);
  std::uniform_int_distribution<std::int64_t> jitter(-base / 4, base / 4);
  return std::max<std::int64_t>(1, base + jitter(rng));
}

void Worker::Run() {
  std::vector<std::thread> threads;
  for (int i = 0; i < std::max(1, options_.concurrency); ++i) threads.emplace_back([this] { Loop(); });
  for (auto& t : threads) t.join();
  finisher_.Stop();  // every outcome recorded before Run() returns
}

void Worker::Stop() {
  stopping_ = true;
  { std::lock_guard lock(ready_mu_); }  // a thread between its check and its wait sees it
  ready_cv_.notify_all();
}

void Worker::Loop() {
  Client client(ClientOptions{options_.server_url, options_.http_timeout_ms, 2'000, options_.ca_file,
                              options_.client_cert_file, options_.client_key_file,
                              options_.insecure_skip_tls_verify});
  QueueEntry e;
  while (Next(&e)) Process(std::move(e), client);
}

std::size_t Worker::LowWater() const {
  return static_cast<std::size_t>(std::max(1, options_.concurrency / 2));
}

bool Worker::Next(QueueEntry* e) {
  const std::size_t low = LowWater();
  std::unique_lock lock(ready_mu_);
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    if (!ready_.empty()) {
      *e = std::move(ready_.front());
      ready_.pop_front();
      // Running low: claim more before the list runs out.
      if (ready_.size() < low && !refill_asked_ && !claiming_ && now >= next_poll_ && !stopping_) {
        refill_asked_ = true;
        lock.unlock();
        finisher_.Kick();
      }
      return true;
    }
    // Claimed entries are all worked off, even after Stop(): they are ours.
    if (claiming_) {
      ready_cv_.wait(lock);
      continue;
    }
    if (stopping_ || drained_) return false;
    if (!refill_asked_ && now >= next_poll_) {
      refill_asked_ = true;
      lock.unlock();
      finisher_.Kick();
      lock.lock();
      continue;
    }
    ready_cv_.wait_until(lock, refill_asked_ ? now + std::chrono::milliseconds(options_.poll_ms) : next_poll_);
  }
}

void Worker::Refill() {
  const std::size_t n = static_cast<std::size_t>(std::max(1, options_.concurrency));
  const std::size_t low = LowWater();
  std::size_t want = 0;
  {
    std::lock_guard lock(ready_mu_);
    const bool due = refill_asked_ || ready_.size() < low;
    refill_asked_ = false;
    if (stopping_ || drained_ || !due || ready_.size() >= n ||
        std::chrono::steady_clock::now() < next_poll_) {
      return;
    }
    claiming_ = true;
    want = n - ready_.size();
  }
  StatusOr<std::vector<QueueEntry>> claimed =
      store_.ClaimQueue(options_.worker_id, sealer_.fingerprint(), clock_.Now(), options_.lease_ms,
                        static_cast<int>(want));
  const bool none = !claimed.ok() || claimed->empty();
  bool drained = false;
  if (none && options_.once && claimed.ok()) {
    // Nothing claimable: done once nothing is queued, backing off or in flight.
    StatusOr<std::int64_t> left = store_.CountUnfinished();
    drained = left.ok() && *left == 0;
  }
  {
    std::lock_guard lock(ready_mu_);
    claiming_ = false;
    if (!none) {
      for (QueueEntry& e : *claimed) ready_.push_back(std::move(e));
    } else {
      next_poll_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.poll_ms);
    }
    drained_ = drained_ || drained;
  }
  ready_cv_.notify_all();
}

void Worker::Process(QueueEntry e, Client& client) {
  {
    StatusOr<std::string> key = e.sealed_key ? sealer_.Open(*e.sealed_key, e.id)
                                             : StatusOr<std::string>(PermissionDeniedError("no sealed credential"));
    if (e.attempts > e.max_attempts) {
      e.status = QueueStatus::kDead;
      e.last_error = e.last_error.value_or("") + " (lease expired " + std::to_string(e.attempts - 1) + " times)";
    } else if (!key.ok()) {
      e.status = QueueStatus::kDead;
      e.last_error = key.status().message();
    } else {
      const bool sign = options_.sign && e.scoped_key_id.has_value();
      StatusOr<ClientResponse> r = client.SubmitJob(
          sign ? Credential(*key, *e.scoped_key_id) : Credential(*key), e.job_id, e.task, e.payload);
      OPENSSL_cleanse(key->data(), key->size());
      if (r.ok() && r->status >= 200 && r->status < 300) {
        e.status = QueueStatus::kDone;
        e.last_error.reset();
        nlohmann::json j = jsonio::ParseStoredJson(r->body);
        if (j.is_object() && j.contains("job") && j["job"].is_object() && j["job"].contains("id") &&
            j["job"]["id"].is_string()) {
          e.result_job_id = j["job"]["id"].get<std::string>();
        }
      } else if (r.ok() && r->status == 429) {
        // Limited, not wrong: wait as long as the server asks, uncounted.
        e.status = QueueStatus::kQueued;
        e.attempts -= 1;
        e.last_error = ErrorOf(*r);
        std::int64_t wait = RetryAfterMs(*r, Backoff(1));
        e.available_at = clock_.Now() + wait + Backoff(1) / 4;
        stats_.throttled++;
      } else if (r.ok() && r->status >= 400 && r->status < 500) {
        e.status = QueueStatus::kFailed;
        e.last_error = ErrorOf(*r);
      } else {
        e.last_error = r.ok() ? ErrorOf(*r) : r.status().message();
        if (e.attempts >= e.max_attempts) {
          e.status = QueueStatus::kDead;
        } else {
          e.status = QueueStatus::kQueued;
          e.available_at = clock_.Now() + Backoff(e.attempts);
          stats_.retried++;
        }
      }
    }
  }
  e.sealed_key.reset();  // not written back; the store erases it when final
  const QueueStatus status = e.status;
  finisher_.Submit(std::move(e), [this, status](const Status& st) { Recorded(status, st); });
}

void Worker::Recorded(QueueStatus status, const Status& st) {
  if (!st.ok()) {
    stats_.lost_leases++;  // someone else owns it now (or the store failed); theirs stands
    return;
  }
  if (status == QueueStatus::kDone) stats_.done++;
  if (status == QueueStatus::kFailed) stats_.failed++;
  if (status == QueueStatus::kDead) stats_.dead++;
}

}  // namespace keyward::queue
