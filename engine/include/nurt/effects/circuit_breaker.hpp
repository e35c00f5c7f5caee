#pragma once
// nurt::effects::CircuitBreaker — one per adapter endpoint (docs/effects.md "Circuit breaker").
//
//   closed --failure rate >= threshold over the last `window` calls (at least `min_calls`)--> open
//   open --open_for elapsed--> half-open: up to `probes` calls go through
//   half-open --a probe succeeds--> closed (window cleared);  --a probe fails--> open again
// Only failures that say the endpoint is unwell count (retryable ones: timeouts, refused connections,
// 5xx); a 4xx is the endpoint answering. While open, calls fail fast without a try being used up: the
// dispatcher puts the effect back until RetryAt().
//
// Thread-safety: all methods may be called from any thread.

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

#include "nurt/core/json.hpp"
#include "nurt/core/time.hpp"

namespace nurt::effects {

struct BreakerOptions {
  int window = 20;                       // the last N calls
  int min_calls = 5;                     // no verdict on fewer
  double failure_rate = 0.5;             // opens at this share of failures (0..1]
  std::chrono::milliseconds open_for{std::chrono::seconds(30)};
  int probes = 1;                        // calls let through while half-open
};

enum class BreakerState { kClosed, kOpen, kHalfOpen };
const char* BreakerStateName(BreakerState s);  // "closed" | "open" | "half-open"

struct BreakerSnapshot {
  std::string endpoint;
  BreakerState state = BreakerState::kClosed;
  int calls = 0;                         // in the window
  int failures = 0;                      // in the window
  std::int64_t opened = 0;               // times it opened since start
  std::optional<TimePoint> last_success;
  std::optional<TimePoint> last_failure;
  std::optional<TimePoint> retry_at;     // open: when it half-opens

  Json ToJson() const;
};

class CircuitBreaker {
 public:
  CircuitBreaker(std::string endpoint, BreakerOptions options);

  // True when a call may go now (closed, or a half-open probe slot is free; taking the slot).
  bool Allow(TimePoint now);
  // The outcome of a call Allow() let through. `counts` = false for answers that say nothing about
  // the endpoint's health (a 4xx): it frees a probe slot and closes a half-open breaker.
  void Record(bool success, bool counts, TimePoint now);
  // When an open breaker lets the next probe through.
  TimePoint RetryAt() const;
  BreakerSnapshot Snapshot(TimePoint now) const;

 private:
  void OpenLocked(TimePoint now);

  const std::string endpoint_;
  const BreakerOptions options_;
  mutable std::mutex mu_;
  BreakerState state_ = BreakerState::kClosed;
  std::deque<bool> window_;  // true = failure
  TimePoint opened_at_{};
  int probes_in_flight_ = 0;
  std::int64_t opened_count_ = 0;
  std::optional<TimePoint> last_success_, last_failure_;
};

}  // namespace nurt::effects
