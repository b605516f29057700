// Tests for core::GroupCommitter (src/core/group_commit.h): items that
// arrive while a commit runs share the next one; each caller hears its own
// result; nothing is lost at Stop().
#include "core/group_commit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>

namespace keyward::core {
namespace {

TEST(GroupCommitter, ItemsArrivingDuringACommitShareTheNextOne) {
  std::promise<void> first_started, release_first;
  std::shared_future<void> released = release_first.get_future().share();
  std::vector<std::size_t> batch_sizes;
  std::atomic<int> calls{0};
  GroupCommitter<int, int> committer(
      [&](std::vector<int>& batch) {
        if (calls++ == 0) {
          first_started.set_value();
          released.wait();  // the first commit is slow
        }
        batch_sizes.push_back(batch.size());
        std::vector<int> out;
        for (int v : batch) out.push_back(v * 10);
        return out;
      },
      -1, /*threaded=*/true);
  std::vector<std::promise<int>> results(51);
  committer.Submit(0, [&](int r) { results[0].set_value(r); });
  first_started.get_future().wait();
  for (int i = 1; i <= 50; ++i) committer.Submit(i, [&results, i](int r) { results[i].set_value(r); });
  release_first.set_value();
  for (int i = 0; i <= 50; ++i) EXPECT_EQ(results[i].get_future().get(), i * 10);
  committer.Stop();
  ASSERT_EQ(batch_sizes.size(), 2u);
  EXPECT_EQ(batch_sizes[0], 1u);
  EXPECT_EQ(batch_sizes[1], 50u);  // one commit for everything that waited
}

TEST(GroupCommitter, StopCommitsWhatIsQueuedAndRefusesTheRest) {
  std::atomic<int> committed{0};
  GroupCommitter<int, std::string> committer(
      [&](std::vector<int>& batch) {
        committed += static_cast<int>(batch.size());
        return std::vector<std::string>(batch.size(), "ok");
      },
      "stopped", /*threaded=*/true);
  std::atomic<int> ok{0};
  for (int i = 0; i < 100; ++i) committer.Submit(i, [&](const std::string& r) { ok += r == "ok"; });
  committer.Stop();
  EXPECT_EQ(committed.load(), 100);
  EXPECT_EQ(ok.load(), 100);
  std::string late;
  committer.Submit(1, [&](const std::string& r) { late = r; });
  EXPECT_EQ(late, "stopped");
}

TEST(GroupCommitter, WithoutAThreadEachItemCommitsOnTheCaller) {
  std::thread::id committer_thread;
  GroupCommitter<int, int> committer(
      [&](std::vector<int>& batch) {
        committer_thread = std::this_thread::get_id();
        return std::vector<int>(batch.size(), 7);
      },
      -1, /*threaded=*/false);
  int got = 0;
  committer.Submit(3, [&](int r) { got = r; });
  EXPECT_EQ(got, 7);  // answered before Submit returned
  EXPECT_EQ(committer_thread, std::this_thread::get_id());
}

// Kick(): a commit with no item (for work the commit collects itself), on
// the committer thread; on the caller without a thread; refused after Stop().
TEST(GroupCommitter, KickCommitsWithoutAnItem) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::size_t> sizes;
  GroupCommitter<int, int> committer(
      [&](std::vector<int>& batch) {
        std::lock_guard lock(mu);
        sizes.push_back(batch.size());
        cv.notify_all();
        return std::vector<int>(batch.size(), 1);
      },
      -1, /*threaded=*/true);
  ASSERT_TRUE(committer.Kick());
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return !sizes.empty(); }));
    EXPECT_EQ(sizes[0], 0u);
  }
  committer.Stop();
  EXPECT_FALSE(committer.Kick());

  int calls = 0;
  GroupCommitter<int, int> inline_committer(
      [&](std::vector<int>& batch) {
        ++calls;
        return std::vector<int>(batch.size(), 1);
      },
      -1, /*threaded=*/false);
  EXPECT_TRUE(inline_committer.Kick());
  EXPECT_EQ(calls, 1);  // committed before Kick returned

  // Without a thread a callback may kick (or submit) again: as a job that
  // runs within its submission hands its outcome back.
  bool answered = false;
  inline_committer.Submit(1, [&](int) {
    EXPECT_TRUE(inline_committer.Kick());
    answered = true;
  });
  EXPECT_TRUE(answered);
  EXPECT_EQ(calls, 3);
}

// With `deliver`, a batch's answers run where it puts them, after the
// commit; when it refuses, on the committer.
TEST(GroupCommitter, DeliverHandsAnswersToAnotherThread) {
  std::mutex mu;
  std::vector<std::function<void()>> handed;
  bool refuse = false;
  GroupCommitter<int, int> committer(
      [](std::vector<int>& batch) { return std::vector<int>(batch.size(), 5); }, -1,
      /*threaded=*/true, "kw-commit",
      [&](std::function<void()> answers) {
        std::lock_guard lock(mu);
        if (refuse) return false;
        handed.push_back(std::move(answers));
        return true;
      });
  std::promise<int> first;
  committer.Submit(1, [&](int r) { first.set_value(r); });
  std::future<int> got = first.get_future();
  for (int i = 0; i < 3000; ++i) {  // until the commit is done and handed over
    {
      std::lock_guard lock(mu);
      if (!handed.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(got.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);  // not yet given
  std::function<void()> answers;
  {
    std::lock_guard lock(mu);
    ASSERT_EQ(handed.size(), 1u);
    answers = std::move(handed[0]);
    refuse = true;
  }
  answers();
  EXPECT_EQ(got.get(), 5);

  std::promise<int> second;
  committer.Submit(2, [&](int r) { second.set_value(r); });
  EXPECT_EQ(second.get_future().get(), 5);  // refused: given on the committer
}

}  // namespace
}  // namespace keyward::core
