// worker.cc: claim → unseal → POST /v1/ai/jobs → record the outcome.
#include "jobs/worker.h"

#include <openssl/crypto.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>
#include <vector>

#include "json/parse.h"
#include "keyward/client.h"

namespace keyward::jobs {
namespace {

std::string DefaultWorkerId() {
  char host[256] = "worker";
  gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(getpid());
}

bool IsFinal(const std::string& status) {
  return status == "done" || status == "failed" || status == "dead";
}

}  // namespace

Worker::Worker(Store& store, const Clock& clock, const Sealer& sealer, auth::KeyService& keys,
               WorkerOptions options)
    : store_(store), clock_(clock), sealer_(sealer), keys_(keys), options_([&] {
        if (options.worker_id.empty()) options.worker_id = DefaultWorkerId();
        return options;
      }()) {}

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
}

void Worker::Loop() {
  Client client(ClientOptions{options_.server_url, options_.http_timeout_ms, 2'000});
  while (!stopping_) {
    StatusOr<std::vector<QueueEntry>> claimed = store_.ClaimQueue(
        options_.worker_id, clock_.Now(), options_.lease_ms, std::max(1, options_.claim_batch));
    if (!claimed.ok() || claimed->empty()) {
      if (options_.once && claimed.ok()) {
        StatusOr<std::int64_t> left = store_.CountUnfinished();
        if (left.ok() && *left == 0) return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(options_.poll_ms));
      continue;
    }
    // Claimed entries are all worked off, even after Stop(): they are ours.
    for (QueueEntry& e : *claimed) Process(std::move(e), client);
  }
}

void Worker::Process(QueueEntry e, Client& client) {
  {
    StatusOr<std::string> key = sealer_.Open(e.sealed_key, e.id);
    if (e.attempts > e.max_attempts) {
      e.status = "dead";
      e.last_error = e.last_error.value_or("") + " (lease expired " + std::to_string(e.attempts - 1) + " times)";
    } else if (!key.ok()) {
      e.status = "dead";
      e.last_error = key.status().message();
    } else {
      StatusOr<ClientResponse> r = client.SubmitJob(*key, e.job_id, e.task, e.payload);
      OPENSSL_cleanse(key->data(), key->size());
      if (r.ok() && r->status >= 200 && r->status < 300) {
        e.status = "done";
        e.last_error.reset();
        nlohmann::json j = jsonio::ParseStoredJson(r->body);
        if (j.is_object() && j.contains("job")) e.result_job_id = j["job"].value("id", "");
      } else if (r.ok() && r->status >= 400 && r->status < 500) {
        e.status = "failed";
        nlohmann::json j = jsonio::ParseStoredJson(r->body);
        std::string code = j.is_object() && j.contains("error") ? j["error"].value("code", "") : "";
        e.last_error = (code.empty() ? "HTTP " + std::to_string(r->status) : code) +
                       (j.is_object() && j.contains("error") ? ": " + j["error"].value("message", "") : "");
      } else {
        e.last_error = r.ok() ? "HTTP " + std::to_string(r->status) : r.status().message();
        if (e.attempts >= e.max_attempts) {
          e.status = "dead";
        } else {
          e.status = "queued";
          e.available_at = clock_.Now() + Backoff(e.attempts);
          stats_.retried++;
        }
      }
    }
  }
  Status st = store_.FinishClaim(e, options_.worker_id, clock_.Now());
  if (!st.ok()) {
    stats_.lost_leases++;  // someone else owns it now; their outcome stands
    return;
  }
  if (e.status == "done") stats_.done++;
  if (e.status == "failed") stats_.failed++;
  if (e.status == "dead") stats_.dead++;
  if (IsFinal(e.status) && e.scoped_key_id) keys_.RevokeKey(*e.scoped_key_id).status().IgnoreError();
}

}  // namespace keyward::jobs
