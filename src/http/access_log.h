// access_log.h: one JSON line per request, formatted on the request's thread
// into one of a few buffers (picked per thread, so I/O threads do not
// contend) and written by a background thread every 100 ms, as soon as a
// buffer passes 64 KiB (so that buffers stay small enough for the CPU's
// cache), and at Stop(), so logging never blocks a request on I/O. The
// buffers are bounded: if the writer falls behind (a full disk, a blocked
// pipe) further lines are dropped and counted, never allowed to grow memory.
// Lines of different threads may reach the file up to one flush period out
// of time order; each carries its own time. Never receives secrets: callers
// pass the key's display form, not the key, and no headers. Thread-safe.
#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

#include "http/metrics.h"
#include "http/types.h"

namespace keyward::http {

class AccessLog {
 public:
  // Writes to `out` (not owned; e.g. stdout). Null disables logging. At most
  // `max_buffered_bytes` wait for the writer; lines beyond are dropped and
  // counted in metrics.access_log_dropped_lines_total.
  // `period`: the longest a line waits for the writer (tests lengthen it).
  AccessLog(std::FILE* out, std::size_t max_buffered_bytes, Metrics& metrics,
            std::chrono::milliseconds period = std::chrono::milliseconds(100));
  ~AccessLog();  // Stop()

  bool enabled() const { return out_ != nullptr; }
  void Log(const HttpRequest& req, const HttpResponse& res, double seconds, long long now_ms);
  // Writes what is buffered and stops the writer thread.
  void Stop();

 private:
  static constexpr std::size_t kShards = 4;
  static constexpr std::size_t kWakeBytes = 64 * 1024;
  struct alignas(64) Shard {
    std::mutex mu;
    std::string buffer;         // guarded by mu
    long long second = -1;      // the second `stamp` formats; guarded by mu
    std::string stamp;          // "YYYY-MM-DDTHH:MM:SS"; guarded by mu
  };
  void Loop();
  std::FILE* out_;
  const std::size_t max_shard_bytes_;
  const std::chrono::milliseconds period_;
  Metrics& metrics_;
  std::array<Shard, kShards> shards_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  bool wake_ = false;      // a shard passed kWakeBytes; guarded by mu_
  std::thread writer_;
};

}  // namespace keyward::http
