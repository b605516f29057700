// access_log.cc: JSON access log lines and their writer thread.
#include "http/access_log.h"

#include <cctype>
#include <nlohmann/json.hpp>

#include "core/time_format.h"
#include "keyward/store.h"

namespace keyward::http {
namespace {

// A key pasted into a URL must not reach the log: keep its display part only.
std::string RedactKeys(std::string path) {
  for (std::string_view prefix : {"kw_live_", "kw_test_"}) {
    std::size_t at = 0;
    while ((at = path.find(prefix, at)) != std::string::npos) {
      std::size_t start = std::min(path.size(), at + prefix.size() + 4);
      std::size_t end = start;
      while (end < path.size() && std::isalnum(static_cast<unsigned char>(path[end]))) ++end;
      path.replace(start, end - start, "...");
      at = start;
    }
  }
  return path;
}

}  // namespace

AccessLog::AccessLog(std::FILE* out, std::size_t max_buffered_bytes, Metrics& metrics)
    : out_(out), max_buffered_bytes_(max_buffered_bytes), metrics_(metrics) {
  if (out_) writer_ = std::thread([this] { Loop(); });
}

AccessLog::~AccessLog() { Stop(); }

void AccessLog::Log(const HttpRequest& req, const HttpResponse& res, double seconds,
                    long long now_ms) {
  if (!out_) return;
  nlohmann::json line{{"time", core::FormatRfc3339(now_ms)},
                      {"method", req.method},
                      {"path", RedactKeys(req.path)},
                      {"route", res.route},
                      {"status", res.status},
                      {"latency_ms", static_cast<double>(static_cast<long long>(seconds * 1e6)) / 1e3},
                      {"remote", req.remote}};
  if (res.identity) {
    line["user_id"] = res.identity->user.id;
    line["key"] = res.identity->key.display;
    line["environment"] = EnvironmentName(res.identity->key.environment);
    if (res.identity->key.environment == Environment::kTest) line["test"] = true;
  }
  if (!res.log_outcome.empty()) line["outcome"] = res.log_outcome;
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text += '\n';
  std::lock_guard lock(mu_);
  if (buffer_.size() + text.size() > max_buffered_bytes_) {
    metrics_.access_log_dropped_lines_total++;
    return;
  }
  buffer_ += text;
}

void AccessLog::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

void AccessLog::Loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait_for(lock, std::chrono::milliseconds(100), [&] { return stopping_; });
    std::string chunk;
    chunk.swap(buffer_);
    bool stop = stopping_;
    lock.unlock();
    if (!chunk.empty()) {
      std::fwrite(chunk.data(), 1, chunk.size(), out_);
      std::fflush(out_);
    }
    lock.lock();
    if (stop && buffer_.empty()) return;
  }
}

}  // namespace keyward::http
