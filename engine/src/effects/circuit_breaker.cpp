#include "nurt/effects/circuit_breaker.hpp"

#include <algorithm>
#include <utility>

namespace nurt::effects {

const char* BreakerStateName(BreakerState s) {
  switch (s) {
    case BreakerState::kClosed:
      return "closed";
    case BreakerState::kOpen:
      return "open";
    case BreakerState::kHalfOpen:
      return "half-open";
  }
  return "closed";
}

Json BreakerSnapshot::ToJson() const {
  auto time = [](const std::optional<TimePoint>& t) { return t ? Json(FormatIso8601(*t)) : Json(nullptr); };
  return Json{{"endpoint", endpoint},         {"state", BreakerStateName(state)},
              {"calls", calls},               {"failures", failures},
              {"opened", opened},             {"lastSuccess", time(last_success)},
              {"lastFailure", time(last_failure)}, {"retryAt", time(retry_at)}};
}

CircuitBreaker::CircuitBreaker(std::string endpoint, BreakerOptions options)
    : endpoint_(std::move(endpoint)), options_(options) {}

bool CircuitBreaker::Allow(TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (state_ == BreakerState::kOpen && now >= opened_at_ + options_.open_for) {
    state_ = BreakerState::kHalfOpen;
    probes_in_flight_ = 0;
  }
  if (state_ == BreakerState::kClosed) return true;
  if (state_ == BreakerState::kHalfOpen && probes_in_flight_ < options_.probes) {
    ++probes_in_flight_;
    return true;
  }
  return false;
}

void CircuitBreaker::OpenLocked(TimePoint now) {
  state_ = BreakerState::kOpen;
  opened_at_ = now;
  probes_in_flight_ = 0;
  ++opened_count_;
}

void CircuitBreaker::Record(bool success, bool counts, TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (success) last_success_ = now;
  if (!success && counts) last_failure_ = now;
  if (state_ == BreakerState::kHalfOpen) {
    probes_in_flight_ = std::max(0, probes_in_flight_ - 1);
    if (success || !counts) {
      state_ = BreakerState::kClosed;
      window_.clear();
    } else {
      OpenLocked(now);
    }
    return;
  }
  if (state_ == BreakerState::kOpen) return;  // a call let through before it opened
  window_.push_back(!success && counts);
  while (static_cast<int>(window_.size()) > options_.window) window_.pop_front();
  const int failures = static_cast<int>(std::count(window_.begin(), window_.end(), true));
  if (static_cast<int>(window_.size()) >= options_.min_calls &&
      failures >= options_.failure_rate * static_cast<double>(window_.size())) {
    OpenLocked(now);
    window_.clear();
  }
}

TimePoint CircuitBreaker::RetryAt() const {
  std::lock_guard<std::mutex> lock(mu_);
  return opened_at_ + options_.open_for;
}

BreakerSnapshot CircuitBreaker::Snapshot(TimePoint now) const {
  std::lock_guard<std::mutex> lock(mu_);
  BreakerSnapshot s;
  s.endpoint = endpoint_;
  s.state = state_;
  if (state_ == BreakerState::kOpen && now >= opened_at_ + options_.open_for) s.state = BreakerState::kHalfOpen;
  s.calls = static_cast<int>(window_.size());
  s.failures = static_cast<int>(std::count(window_.begin(), window_.end(), true));
  s.opened = opened_count_;
  s.last_success = last_success_;
  s.last_failure = last_failure_;
  if (state_ == BreakerState::kOpen) s.retry_at = opened_at_ + options_.open_for;
  return s;
}

}  // namespace nurt::effects
