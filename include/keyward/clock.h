// clock.h: an injectable source of wall-clock time, so expiry, rotation grace,
// rate limits and quota months can be tested without sleeping.
#pragma once

#include <cstdint>

namespace keyward {

// Milliseconds since the Unix epoch, UTC.
using UnixMillis = std::int64_t;

// Implementations must be thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual UnixMillis Now() const = 0;
};

// The process-wide system clock (std::chrono::system_clock). Never null.
Clock& SystemClock();

}  // namespace keyward
