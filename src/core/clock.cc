// clock.cc: the system clock.
#include <chrono>

#include "keyward/clock.h"

namespace keyward {
namespace {

class SystemClockImpl final : public Clock {
 public:
  UnixMillis Now() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace

Clock& SystemClock() {
  static SystemClockImpl clock;
  return clock;
}

}  // namespace keyward
