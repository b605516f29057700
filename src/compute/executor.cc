// executor.cc: the thread pool.
#include "compute/executor.h"

#include "core/process.h"

namespace keyward::compute {

Executor::Executor(int threads, const char* name, bool background) {
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this, name, background] {
      if (background) {
        core::BackgroundThread(name);
      } else {
        core::NameThread(name);
      }
      Loop();
    });
  }
}

Executor::~Executor() { Stop(); }

bool Executor::Post(std::function<void()> fn) {
  if (threads_.empty()) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return false;
    }
    fn();
    return true;
  }
  {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    queue_.push_back(std::move(fn));
  }
  cv_.notify_one();
  return true;
}

void Executor::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void Executor::Loop() {
  for (;;) {
    std::function<void()> fn;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      fn = std::move(queue_.front());
      queue_.pop_front();
    }
    fn();
  }
}

}  // namespace keyward::compute
