// executor.h: a fixed pool of threads running queued closures in FIFO order.
// Stop() lets queued work finish, then joins. With no threads, each closure
// runs at once on the thread that posts it (deterministic: for fuzzing and
// tools). Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace keyward::compute {

class Executor {
 public:
  // `threads` >= 0; 0: run each closure on the posting thread.
  // `name` (a literal) names the threads. `background`: they are
  // background threads (core::BackgroundThread); a pool that answers
  // requests is not.
  explicit Executor(int threads, const char* name = "kw-pool", bool background = true);
  ~Executor();  // Stop()
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Queues `fn`; false (and not queued) after Stop().
  bool Post(std::function<void()> fn);
  // Waits until the queue is empty and every thread has exited.
  void Stop();

 private:
  void Loop();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace keyward::compute
