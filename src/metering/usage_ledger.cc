// usage_ledger.cc: leader/follower group commit of usage entries.
#include "metering/usage_ledger.h"

namespace keyward::metering {

Status UsageLedger::Record(const UsageEntry& entry) {
  std::unique_lock lock(mu_);
  Waiter me{&entry, OkStatus(), false};
  pending_.push_back(&me);
  // Wait while someone else commits; our entry rides in the next batch.
  cv_.wait(lock, [&] { return me.done || !committing_; });
  if (me.done) return me.result;
  // Leader: commit everything pending, ours included, in one transaction.
  committing_ = true;
  std::vector<Waiter*> batch;
  batch.swap(pending_);
  lock.unlock();
  std::vector<UsageEntry> entries;
  entries.reserve(batch.size());
  for (const Waiter* w : batch) entries.push_back(*w->entry);
  Status st = store_.AppendUsage(entries);
  if (observer_) observer_(batch.size());
  std::vector<Status> results(batch.size(), st);
  if (batch.size() > 1 && (st.code() == StatusCode::kResourceExhausted ||
                           st.code() == StatusCode::kNotFound)) {
    // One entry sank the batch (its user's credits ran out, or its user was
    // deleted): commit them one by one so only that entry fails.
    for (std::size_t i = 0; i < batch.size(); ++i) results[i] = store_.AppendUsage({entries[i]});
  }
  lock.lock();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    batch[i]->result = results[i];
    batch[i]->done = true;
  }
  committing_ = false;
  cv_.notify_all();
  return me.result;  // ours, which after a retry one by one may differ from the batch's
}

}  // namespace keyward::metering
