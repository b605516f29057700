// Tests for the ledger's group commit (src/metering/usage_ledger.h).
#include "metering/usage_ledger.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

namespace keyward::metering {
namespace {

// Refuses every batch of more than one entry, as a store does when one
// charge of the batch passes a user's credits; single entries are written.
// The first call waits until the test lets it go, so that the next callers
// queue up behind it and form one batch.
class RefusingBatches final : public UsageStore {
 public:
  Status AppendUsage(const std::vector<UsageEntry>& entries) override {
    std::unique_lock lock(mu);
    ++calls;
    if (calls == 1) cv.wait(lock, [&] { return released; });
    if (entries.size() > 1) return ResourceExhaustedError("monthly credits exhausted");
    written += entries.size();
    return OkStatus();
  }
  StatusOr<std::int64_t> SumUsage(const std::string&, Environment, UnixMillis, UnixMillis) override {
    return 0;
  }
  StatusOr<std::vector<UsageByKey>> UsageReport(const std::string&, UnixMillis, UnixMillis) override {
    return std::vector<UsageByKey>{};
  }

  std::mutex mu;
  std::condition_variable cv;
  bool released = false;
  int calls = 0;
  std::size_t written = 0;
};

// The leader of a batch that was refused and then written entry by entry
// returned the batch's refusal although its own entry was written: a client
// told QUOTA_EXCEEDED was charged.
TEST(UsageLedger, EveryCallerGetsItsOwnEntrysOutcomeAfterARetryOneByOne) {
  RefusingBatches store;
  UsageLedger ledger(store);
  const UsageEntry e{"usr_a", "key_a", Environment::kLive, 2, "verify", 1};
  Status first, second, third;
  std::thread t1([&] { first = ledger.Record(e); });
  // Wait until the first commit is in the store, then queue two more.
  for (;;) {
    std::lock_guard lock(store.mu);
    if (store.calls == 1) break;
  }
  std::thread t2([&] { second = ledger.Record(e); });
  std::thread t3([&] { third = ledger.Record(e); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let them queue (not a timing assertion)
  {
    std::lock_guard lock(store.mu);
    store.released = true;
  }
  store.cv.notify_all();
  t1.join();
  t2.join();
  t3.join();
  EXPECT_TRUE(first.ok()) << first.ToString();
  EXPECT_TRUE(second.ok()) << second.ToString();
  EXPECT_TRUE(third.ok()) << third.ToString();
  EXPECT_EQ(store.written, 3u);
}

}  // namespace
}  // namespace keyward::metering
