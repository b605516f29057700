// metrics.h: the server's Prometheus metrics, declared once as a list and
// rendered as text for /metrics. Counters are lock-free atomics except the
// per-route request counter (a small map under a mutex). Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "keyward/verifier.h"

namespace keyward::http {

// name, help
#define KEYWARD_SERVER_COUNTERS(COUNTER)                                  \
  COUNTER(jobs_created_total, "Compute jobs created")                     \
  COUNTER(jobs_idempotent_replays_total, "Job submissions answered by an existing job_id") \
  COUNTER(connections_total, "TCP connections accepted")                  \
  COUNTER(connections_moved_total, "Keep-alive connections moved to another I/O thread between two requests") \
  COUNTER(tls_handshake_failures_total, "TLS handshakes that failed (bad client, old protocol, no client certificate)") \
  COUNTER(access_log_dropped_lines_total, "Access log lines dropped because the writer fell behind")

class Metrics {
 public:
#define KW_DECLARE_COUNTER(name, help) std::atomic<std::uint64_t> name{0};
  KEYWARD_SERVER_COUNTERS(KW_DECLARE_COUNTER)
#undef KW_DECLARE_COUNTER
  // I/O threads that take connections now (io_balance.h).
  std::atomic<int> io_threads_in_use{0};

  // Declares the routes (method, pattern) that ObserveRoute() counts by
  // position; both views must outlive the Metrics (a Router's routes).
  // Only the first call has an effect.
  void DeclareRoutes(const std::vector<std::pair<std::string_view, std::string_view>>& routes);
  // A request served by declared route `index`: lock-free.
  void ObserveRoute(std::size_t index, int status, double seconds);
  // Any other request (rejected, unmatched, HEAD on a GET route). `route`
  // must outlive the Metrics (a Router pattern or a literal).
  void ObserveRequest(std::string_view method, std::string_view route, int status,
                      double seconds);
  void ObserveOutcome(VerifyOutcome outcome);
  void ObserveLedgerBatch(std::size_t entries);
  // Requests observed so far (every route, rejected ones too).
  std::uint64_t requests_observed() const { return latency_count_.load(std::memory_order_relaxed); }

  // Prometheus text exposition format. `verifier` adds cache statistics.
  std::string Render(const VerifierStats& verifier) const;

 private:
  static constexpr std::array<double, 12> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                      0.01,   0.025,   0.05,   0.1,   0.5,    1.0};
  void ObserveLatency(double seconds);

  // Requests of one declared route by status code (100..599).
  struct RouteCounters {
    std::string_view method, pattern;
    std::array<std::atomic<std::uint64_t>, 500> by_status{};
  };
  std::vector<std::unique_ptr<RouteCounters>> routes_;  // fixed after DeclareRoutes
  std::once_flag declared_;
  mutable std::mutex mu_;
  // Keys are views of literals and Router patterns: no allocation per request.
  std::map<std::tuple<std::string_view, std::string_view, int>, std::uint64_t> requests_;  // guarded by mu_
  std::array<std::atomic<std::uint64_t>, kBuckets.size() + 1> latency_buckets_{};
  std::atomic<std::uint64_t> latency_count_{0};
  std::atomic<std::uint64_t> latency_sum_us_{0};
  std::array<std::atomic<std::uint64_t>, kVerifyOutcomeCount> outcomes_{};
  std::atomic<std::uint64_t> ledger_batches_{0};
  std::atomic<std::uint64_t> ledger_entries_{0};
  std::atomic<std::uint64_t> ledger_max_batch_{0};
};

}  // namespace keyward::http
