// usage_ledger.cc: leader/follower group commit of usage entries.
#include "auth/usage_ledger.h"

#include <map>

namespace keyward::auth {

Status UsageLedger::Record(const UsageEntry& entry) {
  std::unique_lock lock(mu_);
  pending_.push_back(entry);
  const std::uint64_t my_batch = next_batch_;
  // Wait while someone else commits; our entry rides in the next batch.
  cv_.wait(lock, [&] { return done_batch_ > my_batch || !committing_; });
  if (done_batch_ > my_batch) return results_[my_batch % results_.size()];
  // Leader: take everything pending as batch `my_batch`.
  committing_ = true;
  std::vector<UsageEntry> batch;
  batch.swap(pending_);
  ++next_batch_;
  lock.unlock();
  Status st = store_.AppendUsage(batch);
  if (observer_) observer_(batch.size());
  lock.lock();
  if (results_.empty()) results_.resize(64);
  results_[my_batch % results_.size()] = st;
  done_batch_ = my_batch + 1;
  committing_ = false;
  cv_.notify_all();
  return st;
}

}  // namespace keyward::auth
