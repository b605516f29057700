// group_commit.h: one write transaction for everything that arrived while
// the previous one ran. Callers Submit() an item with a callback and return
// at once; one committer thread takes all items queued, commits them with
// one call of `commit`, and calls each item's callback with its own result.
// No caller thread ever waits for storage, and the cost of a commit (the
// fsync, the lock) is shared by every request that arrived meanwhile, across
// connections.
//
// `commit` gets the batch in arrival order and returns one result per item,
// in the same order; it decides what a failure means for each item (e.g. by
// retrying them one by one). Callbacks run on the committer thread and must
// not block for long, unless `deliver` hands them to other threads: then
// the committer goes back to committing while a batch's answers are given
// elsewhere (if `deliver` refuses, they run on the committer). Without a
// thread (threaded = false) Submit() commits on the calling thread and
// answers after releasing its lock (deterministic: for fuzzing and tools). Stop()
// commits what is queued, then joins; items submitted after it get
// `stopped` at once. Kick() asks for a commit with no new item, for work
// that `commit` collects by itself (written in the same transaction as the
// next items, or alone if none come). Thread-safe.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "core/process.h"

namespace keyward::core {

template <typename Item, typename Result>
class GroupCommitter {
 public:
  using Done = std::function<void(Result)>;
  using Commit = std::function<std::vector<Result>(std::vector<Item>& batch)>;
  // Runs `answers` on another thread, or returns false.
  using Deliver = std::function<bool(std::function<void()> answers)>;

  // `name` (a literal) names the committer thread.
  GroupCommitter(Commit commit, Result stopped, bool threaded, const char* name = "kw-commit",
                 Deliver deliver = nullptr)
      : commit_(std::move(commit)), stopped_(std::move(stopped)), deliver_(std::move(deliver)) {
    if (threaded) {
      thread_ = std::thread([this, name] {
        BackgroundThread(name);
        Loop();
      });
    }
  }
  ~GroupCommitter() { Stop(); }
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  void Submit(Item item, Done done) {
    std::vector<Result> r;
    {
      std::lock_guard lock(mu_);
      if (stopping_) {
        r.push_back(stopped_);
      } else if (thread_.joinable()) {
        items_.push_back(std::move(item));
        done_.push_back(std::move(done));
        if (items_.size() == 1) cv_.notify_one();
        return;
      } else {
        // No thread: commit now, alone.
        std::vector<Item> one;
        one.push_back(std::move(item));
        r = commit_(one);
      }
    }
    // Outside the lock: the callback may submit or kick again.
    done(r.empty() ? stopped_ : std::move(r[0]));
  }

  // A commit soon, even if no item is queued (`commit` then gets an empty
  // batch); without a thread, a commit now on the calling thread. False
  // after Stop(): the caller must write that work itself.
  bool Kick() {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    if (!thread_.joinable()) {
      std::vector<Item> none;
      commit_(none);
      return true;
    }
    if (!kicked_ && items_.empty()) cv_.notify_one();
    kicked_ = true;
    return true;
  }

  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Loop() {
    std::vector<Item> items;
    std::vector<Done> done;
    for (;;) {
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || kicked_ || !items_.empty(); });
        if (items_.empty() && !kicked_) return;  // stopping, and everything is committed
        kicked_ = false;
        items.swap(items_);
        done.swap(done_);
      }
      auto answers = std::make_shared<Answers>(stopped_);
      answers->results = commit_(items);
      answers->done.swap(done);
      items.clear();
      if (!deliver_ || !deliver_([answers] { answers->Give(); })) answers->Give();
    }
  }

  // One batch's callbacks with their results.
  struct Answers {
    explicit Answers(const Result& stopped) : stopped(stopped) {}
    void Give() {
      for (std::size_t i = 0; i < done.size(); ++i) {
        done[i](i < results.size() ? std::move(results[i]) : stopped);
      }
      done.clear();
    }
    const Result stopped;
    std::vector<Done> done;
    std::vector<Result> results;
  };

  const Commit commit_;
  const Result stopped_;
  const Deliver deliver_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Item> items_;  // guarded by mu_
  std::vector<Done> done_;   // guarded by mu_
  bool stopping_ = false;    // guarded by mu_
  bool kicked_ = false;      // guarded by mu_
  std::thread thread_;
};

}  // namespace keyward::core
