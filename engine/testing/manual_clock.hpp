#pragma once
// A Clock that moves only when told to (virtual time for tests and scenarios).

#include <atomic>
#include <chrono>

#include "nurt/env/clock.hpp"

namespace nurt::testing {

class ManualClock final : public env::Clock {
 public:
  explicit ManualClock(TimePoint start = FromUnixMillis(1'767'225'600'000))  // 2026-01-01T00:00:00Z
      : now_ms_(ToUnixMillis(start)) {}
  TimePoint Now() const override { return FromUnixMillis(now_ms_.load()); }
  void Advance(std::chrono::milliseconds d) { now_ms_ += d.count(); }
  void Set(TimePoint t) { now_ms_ = ToUnixMillis(t); }

 private:
  std::atomic<std::int64_t> now_ms_;
};

}  // namespace nurt::testing
