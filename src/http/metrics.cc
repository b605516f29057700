// metrics.cc: counters and their Prometheus rendering.
#include "http/metrics.h"

#include <fmt/format.h>

namespace keyward::http {

namespace {

// A stable view of the method name (the request's own string dies with it).
std::string_view StableMethod(std::string_view m) {
  for (std::string_view known : {"GET", "POST", "PATCH", "DELETE", "HEAD", "PUT", "OPTIONS", "-"}) {
    if (m == known) return known;
  }
  return "OTHER";
}

}  // namespace

void Metrics::DeclareRoutes(const std::vector<std::pair<std::string_view, std::string_view>>& routes) {
  std::call_once(declared_, [&] {
    for (const auto& [method, pattern] : routes) {
      auto c = std::make_unique<RouteCounters>();
      c->method = method;
      c->pattern = pattern;
      routes_.push_back(std::move(c));
    }
  });
}

void Metrics::ObserveRoute(std::size_t index, int status, double seconds) {
  if (index < routes_.size() && status >= 100 && status < 600) {
    routes_[index]->by_status[static_cast<std::size_t>(status - 100)].fetch_add(1, std::memory_order_relaxed);
    ObserveLatency(seconds);
    return;
  }
  ObserveRequest(index < routes_.size() ? routes_[index]->method : "-",
                 index < routes_.size() ? routes_[index]->pattern : "(unknown)", status, seconds);
}

void Metrics::ObserveRequest(std::string_view method, std::string_view route, int status,
                             double seconds) {
  {
    std::lock_guard lock(mu_);
    ++requests_[{StableMethod(method), route, status}];
  }
  ObserveLatency(seconds);
}

void Metrics::ObserveLatency(double seconds) {
  std::size_t i = 0;
  while (i < kBuckets.size() && seconds > kBuckets[i]) ++i;
  latency_buckets_[i].fetch_add(1, std::memory_order_relaxed);
  latency_count_.fetch_add(1, std::memory_order_relaxed);
  latency_sum_us_.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

void Metrics::ObserveOutcome(VerifyOutcome outcome) {
  outcomes_[static_cast<std::size_t>(outcome)].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::ObserveLedgerBatch(std::size_t entries) {
  ledger_batches_.fetch_add(1, std::memory_order_relaxed);
  ledger_entries_.fetch_add(entries, std::memory_order_relaxed);
  std::uint64_t prev = ledger_max_batch_.load();
  while (entries > prev && !ledger_max_batch_.compare_exchange_weak(prev, entries)) {
  }
}

std::string Metrics::Render(const VerifierStats& v) const {
  std::string out;
  auto counter = [&](std::string_view name, std::string_view help, std::uint64_t value) {
    out += fmt::format("# HELP keyward_{0} {1}\n# TYPE keyward_{0} counter\nkeyward_{0} {2}\n",
                       name, help, value);
  };
#define KW_RENDER_COUNTER(name, help) counter(#name, help, name.load());
  KEYWARD_SERVER_COUNTERS(KW_RENDER_COUNTER)
#undef KW_RENDER_COUNTER

  out += "# HELP keyward_http_requests_total HTTP requests by route and status\n"
         "# TYPE keyward_http_requests_total counter\n";
  {
    std::map<std::tuple<std::string_view, std::string_view, int>, std::uint64_t> all;
    for (const auto& r : routes_) {
      for (std::size_t i = 0; i < r->by_status.size(); ++i) {
        if (std::uint64_t n = r->by_status[i].load(std::memory_order_relaxed)) {
          all[{r->method, r->pattern, static_cast<int>(i + 100)}] += n;
        }
      }
    }
    {
      std::lock_guard lock(mu_);
      for (const auto& [k, n] : requests_) all[k] += n;
    }
    for (const auto& [k, n] : all) {
      out += fmt::format("keyward_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{}\"}} {}\n",
                         std::get<0>(k), std::get<1>(k), std::get<2>(k), n);
    }
  }
  out += "# HELP keyward_http_request_duration_seconds Request latency\n"
         "# TYPE keyward_http_request_duration_seconds histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    cumulative += latency_buckets_[i].load();
    out += fmt::format("keyward_http_request_duration_seconds_bucket{{le=\"{}\"}} {}\n", kBuckets[i],
                       cumulative);
  }
  cumulative += latency_buckets_[kBuckets.size()].load();
  out += fmt::format("keyward_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {}\n", cumulative);
  out += fmt::format("keyward_http_request_duration_seconds_sum {:.6f}\n",
                     latency_sum_us_.load() / 1e6);
  out += fmt::format("keyward_http_request_duration_seconds_count {}\n", latency_count_.load());

  out += "# HELP keyward_verifications_total Key verifications by outcome\n"
         "# TYPE keyward_verifications_total counter\n";
  for (std::size_t i = 0; i < outcomes_.size(); ++i) {
    out += fmt::format("keyward_verifications_total{{outcome=\"{}\"}} {}\n",
                       VerifyOutcomeName(static_cast<VerifyOutcome>(i)), outcomes_[i].load());
  }
  counter("key_cache_hits_total", "Verifications answered from the key cache", v.cache_hits);
  counter("key_cache_misses_total", "Verifications that read the store", v.cache_misses);
  counter("key_cache_negative_hits_total", "Unknown keys answered from the negative cache",
          v.negative_hits);
  out += fmt::format(
      "# HELP keyward_key_cache_entries Keys held in the verification cache\n"
      "# TYPE keyward_key_cache_entries gauge\nkeyward_key_cache_entries {}\n",
      v.cached_keys);
  counter("key_cache_refreshes_total",
          "Cached key records re-read ahead of their TTL, off the request path", v.refreshes);
  counter("last_used_flushes_total",
          "Writes of keys' last uses and learned signing secrets (last_used_flush)", v.flushes);
  counter("last_used_flush_failures_total", "Of those, writes the store refused", v.flush_failures);
  counter("ledger_batches_total", "Usage ledger group commits", ledger_batches_.load());
  counter("ledger_entries_total", "Usage entries committed through the ledger",
          ledger_entries_.load());
  out += fmt::format(
      "# HELP keyward_ledger_max_batch_size Largest group commit so far\n"
      "# TYPE keyward_ledger_max_batch_size gauge\nkeyward_ledger_max_batch_size {}\n",
      ledger_max_batch_.load());
  out += fmt::format(
      "# HELP keyward_io_threads_in_use I/O threads that take connections now\n"
      "# TYPE keyward_io_threads_in_use gauge\nkeyward_io_threads_in_use {}\n",
      io_threads_in_use.load());
  return out;
}

}  // namespace keyward::http
