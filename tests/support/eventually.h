// eventually.h: waiting in tests for what another thread or process makes
// true in its own time (a change feed followed, a flush, a write-back), by
// polling. Bounded so that a broken path fails the test instead of hanging
// it; the bound is generous because sanitizer builds run slowly.
#pragma once

#include <chrono>
#include <thread>

namespace keyward::testing {

// Calls `done` until it returns true (then true) or `within` has passed
// (then false), sleeping `every` between calls.
template <typename Done>
bool Eventually(Done done, std::chrono::milliseconds within = std::chrono::seconds(30),
                std::chrono::milliseconds every = std::chrono::milliseconds(10)) {
  const auto end = std::chrono::steady_clock::now() + within;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(every);
  }
}

}  // namespace keyward::testing
