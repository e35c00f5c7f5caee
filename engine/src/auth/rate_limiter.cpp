#include "nurt/auth/rate_limiter.hpp"

#include <algorithm>
#include <array>

namespace nurt::auth {
namespace {

constexpr std::int64_t kUnitsPerToken = 60000;  // per_minute units refill per millisecond
constexpr std::array<TierLimits, 3> kTiers = {{
    {"basic", 60, 10},
    {"standard", 300, 50},
    {"premium", 1000, 200},
}};

// Whole seconds (rounded up) to gather `missing_units` at `per_minute` units per millisecond.
int SecondsToRefill(std::int64_t missing_units, std::int64_t per_minute) {
  if (missing_units <= 0) return 0;
  const std::int64_t ms = (missing_units + per_minute - 1) / per_minute;
  return static_cast<int>((ms + 999) / 1000);
}

}  // namespace

Result<TierLimits> TierByName(std::string_view name) {
  for (const TierLimits& t : kTiers) {
    if (t.name == name) return t;
  }
  return Status::InvalidArgument("unknown tier '" + std::string(name) +
                                 "'; tiers are: basic (60/min), standard (300/min), premium "
                                 "(1000/min)");
}

RateLimiter::RateLimiter(const env::Clock* clock, std::size_t sweep_floor)
    : clock_(clock), sweep_floor_(sweep_floor), sweep_at_(sweep_floor) {}

void RateLimiter::Refill(Bucket* b, std::int64_t now_ms) {
  // A clock stepping backwards refills nothing (and never drains).
  const std::int64_t elapsed = std::max<std::int64_t>(0, now_ms - b->at_ms);
  // Elapsed time is capped before multiplying so that a bucket idle for years cannot overflow.
  const std::int64_t cap_ms = b->capacity / b->per_minute + 1;
  b->units = std::min(b->capacity, b->units + std::min(elapsed, cap_ms) * b->per_minute);
  b->at_ms = std::max(b->at_ms, now_ms);
}

RateDecision RateLimiter::Take(const std::string& key_id, std::string_view tier) {
  auto limits = TierByName(tier);
  const TierLimits t = limits.ok() ? *limits : kTiers[0];
  const std::int64_t capacity = static_cast<std::int64_t>(t.burst) * kUnitsPerToken;
  const std::int64_t now_ms = ToUnixMillis(clock_->Now());

  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] =
      buckets_.try_emplace(key_id, Bucket{capacity, now_ms, t.per_minute, capacity});
  Bucket& b = it->second;
  if (!inserted) {
    Refill(&b, now_ms);
    if (b.per_minute !=
        t.per_minute) {  // the key's tier changed: keep the level, clamp to the new size
      b.per_minute = t.per_minute;
      b.capacity = capacity;
      b.units = std::min(b.units, capacity);
    }
  }
  RateDecision d;
  d.limit = t.per_minute;
  d.allowed = b.units >= kUnitsPerToken;
  if (d.allowed) {
    b.units -= kUnitsPerToken;
  } else {
    d.retry_after_seconds = SecondsToRefill(kUnitsPerToken - b.units, b.per_minute);
  }
  d.remaining = static_cast<int>(b.units / kUnitsPerToken);
  d.reset_seconds = SecondsToRefill(b.capacity - b.units, b.per_minute);
  if (buckets_.size() >= sweep_at_) SweepLocked(now_ms);
  return d;
}

void RateLimiter::SweepLocked(std::int64_t now_ms) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    Refill(&it->second, now_ms);
    it = it->second.units >= it->second.capacity ? buckets_.erase(it) : std::next(it);
  }
  sweep_at_ = std::max(sweep_floor_, buckets_.size() * 2);
}

std::size_t RateLimiter::TrackedKeys() const {
  std::lock_guard<std::mutex> lock(mu_);
  return buckets_.size();
}

}  // namespace nurt::auth
