// access_log.cc: JSON access log lines and their writer thread.
#include "http/access_log.h"

#include <atomic>
#include <cctype>
#include <charconv>

#include "core/process.h"
#include "core/time_format.h"
#include "core/utf8.h"
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

void AppendInt(std::string& out, long long v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// Appends v (0..999) as three digits: the fraction after a decimal point.
void AppendThreeDigits(std::string& out, long long v) {
  const char digits[3] = {static_cast<char>('0' + v / 100), static_cast<char>('0' + v / 10 % 10),
                          static_cast<char>('0' + v % 10)};
  out.append(digits, 3);
}

void AppendField(std::string& out, std::string_view name, std::string_view value) {
  out += ",\"";
  out += name;
  out += "\":";
  core::AppendJsonString(&out, value);
}

// Which shard this thread writes to: threads take them in turn.
std::size_t ThreadShard(std::size_t shards) {
  static std::atomic<std::size_t> next{0};
  thread_local const std::size_t mine = next.fetch_add(1, std::memory_order_relaxed);
  return mine % shards;
}

}  // namespace

AccessLog::AccessLog(std::FILE* out, std::size_t max_buffered_bytes, Metrics& metrics,
                     std::chrono::milliseconds period)
    : out_(out), max_shard_bytes_(std::max<std::size_t>(1, max_buffered_bytes / kShards)),
      period_(period), metrics_(metrics) {
  if (out_) {
    writer_ = std::thread([this] {
      core::BackgroundThread("kw-access-log");
      Loop();
    });
  }
}

AccessLog::~AccessLog() { Stop(); }

void AccessLog::Log(const HttpRequest& req, const HttpResponse& res, double seconds,
                    long long now_ms) {
  if (!out_) return;
  Shard& shard = shards_[ThreadShard(kShards)];
  std::unique_lock lock(shard.mu);
  std::string& out = shard.buffer;
  const std::size_t start = out.size();
  long long second = now_ms >= 0 ? now_ms / 1000 : (now_ms - 999) / 1000;
  if (second != shard.second) {
    shard.second = second;
    shard.stamp = core::FormatRfc3339(second * 1000);
    shard.stamp.pop_back();  // the 'Z'
  }
  out += "{\"time\":\"";
  out += shard.stamp;
  out += '.';
  AppendThreeDigits(out, now_ms - second * 1000);
  out += "Z\"";
  AppendField(out, "method", req.method);
  if (req.path.find("kw_") == std::string::npos) {
    AppendField(out, "path", req.path);
  } else {
    AppendField(out, "path", RedactKeys(req.path));
  }
  AppendField(out, "route", res.route);
  out += ",\"status\":";
  AppendInt(out, res.status);
  const long long micros = std::max(0LL, static_cast<long long>(seconds * 1e6));
  out += ",\"latency_ms\":";
  AppendInt(out, micros / 1000);
  out += '.';
  AppendThreeDigits(out, micros % 1000);
  AppendField(out, "remote", req.remote);
  if (res.identity) {
    AppendField(out, "user_id", res.identity->user.id);
    AppendField(out, "key", res.identity->key.display);
    AppendField(out, "environment", EnvironmentName(res.identity->key.environment));
    if (res.identity->key.environment == Environment::kTest) out += ",\"test\":true";
  }
  if (!res.log_outcome.empty()) AppendField(out, "outcome", res.log_outcome);
  out += "}\n";
  if (out.size() > max_shard_bytes_) {
    out.resize(start);
    metrics_.access_log_dropped_lines_total++;
  }
  // A buffer that has just grown past kWakeBytes is written now rather than
  // at the next tick: the buffers stay small enough to stay in the cache.
  const bool wake = start < kWakeBytes && out.size() >= kWakeBytes;
  lock.unlock();
  if (wake) {
    {
      std::lock_guard writer_lock(mu_);
      wake_ = true;
    }
    cv_.notify_one();
  }
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
  std::string chunk;
  for (;;) {
    bool stop;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, period_, [&] { return stopping_ || wake_; });
      stop = stopping_;
      wake_ = false;
    }
    for (Shard& s : shards_) {
      chunk.clear();
      {
        std::lock_guard lock(s.mu);
        chunk.swap(s.buffer);
      }
      if (!chunk.empty()) std::fwrite(chunk.data(), 1, chunk.size(), out_);
    }
    std::fflush(out_);
    if (stop) {
      // Lines logged while the last chunks were written.
      bool empty = true;
      for (Shard& s : shards_) {
        std::lock_guard lock(s.mu);
        empty = empty && s.buffer.empty();
      }
      if (empty) return;
    }
  }
}

}  // namespace keyward::http
