#pragma once
// nurt::env::Clock — the one source of "now" for the engine (leveldb Env style).
//
// Nothing in nurt reads the system clock except the implementation behind SystemClock(); tests and
// scenario runs inject a ManualClock (engine/testing/manual_clock.hpp) and skip time in milliseconds.
// Thread-safety: implementations must be safe to call from any thread.

#include "nurt/core/time.hpp"

namespace nurt::env {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

// The process-wide wall clock. Never null; lives for the whole process.
Clock* SystemClock();

}  // namespace nurt::env
