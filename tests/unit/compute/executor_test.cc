// Tests for the compute executor (src/compute/executor.h).
#include "compute/executor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace keyward::compute {
namespace {

TEST(Executor, RunsEverythingPostedBeforeStopReturns) {
  std::atomic<int> ran{0};
  Executor e(3);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(e.Post([&] { ran++; }));
  e.Stop();
  EXPECT_EQ(ran.load(), 1000);
  EXPECT_FALSE(e.Post([&] { ran++; }));
  EXPECT_EQ(ran.load(), 1000);
}

TEST(Executor, OneThreadRunsInPostingOrder) {
  std::vector<int> order;
  Executor e(1);
  for (int i = 0; i < 100; ++i) e.Post([&order, i] { order.push_back(i); });
  e.Stop();
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
}

TEST(Executor, StopIsIdempotent) {
  std::atomic<int> ran{0};
  Executor e(2);
  e.Post([&] { ran++; });
  e.Stop();
  e.Stop();
  EXPECT_EQ(ran.load(), 1);
}

}  // namespace
}  // namespace keyward::compute
