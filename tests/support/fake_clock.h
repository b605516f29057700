// fake_clock.h: a Clock that moves only when a test says so.
#pragma once

#include <atomic>

#include "keyward/clock.h"

namespace keyward::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(UnixMillis start = 1'800'000'000'000) : now_(start) {}
  UnixMillis Now() const override { return now_.load(); }
  void Advance(std::int64_t ms) { now_ += ms; }
  void Set(UnixMillis t) { now_ = t; }

 private:
  std::atomic<UnixMillis> now_;
};

}  // namespace keyward::testing
