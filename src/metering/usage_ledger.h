// usage_ledger.h: appends usage entries to the Store with group commit.
//
// Record() returns only once the entry is committed, so an acknowledged
// charge survives a crash of the process right after the response. Callers
// that arrive while a commit is running queue up; the next commit takes all
// of them in one transaction (leader/follower), so the cost of a commit is
// shared by every request waiting on it. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "store/usage_store.h"

namespace keyward::metering {

class UsageLedger {
 public:
  explicit UsageLedger(UsageStore& store) : store_(store) {}

  // Called after each commit with the batch size (for metrics).
  void set_batch_observer(std::function<void(std::size_t)> f) { observer_ = std::move(f); }

  // Blocks until `entry` is committed; returns the commit's Status, e.g.
  // kResourceExhausted when the store refused a live charge past the user's
  // monthly credits (nothing written for that entry).
  Status Record(const UsageEntry& entry);

 private:
  // A caller waiting in Record(); lives on its stack until `done`.
  struct Waiter {
    const UsageEntry* entry;
    Status result;
    bool done = false;
  };

  UsageStore& store_;
  std::function<void(std::size_t)> observer_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Waiter*> pending_;  // guarded by mu_
  bool committing_ = false;       // guarded by mu_
};

}  // namespace keyward::metering
