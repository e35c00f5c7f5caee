#pragma once
// nurt::auth::RateLimiter — a token bucket per API key, sized by the key's tier.
//
//   tier      per minute  burst
//   basic             60     10
//   standard         300     50
//   premium         1000    200
//
// A bucket holds up to `burst` requests and refills continuously at per_minute / 60 per second; a
// request takes one. Arithmetic is exact (integer units of 1/60000 request per millisecond), so the
// Retry-After it reports is the true wait, rounded up to whole seconds. Time comes from the
// injected Clock only (tests run in virtual time).
//
// Memory: a bucket that has refilled completely is indistinguishable from no bucket, so full idle
// buckets are dropped in a sweep that runs when the number of tracked keys has doubled since the
// last sweep (amortised O(1) per Take). The map is bounded by the number of keys active within the
// time it takes a bucket to refill (at most 10 s for every tier).
//
// Thread-safety: Take may be called from any thread (one mutex; the critical section is a few
// adds).

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "nurt/core/result.hpp"
#include "nurt/env/clock.hpp"

namespace nurt::auth {

struct TierLimits {
  std::string_view name;
  int per_minute = 0;
  int burst = 0;
};

// basic | standard | premium; InvalidArgument listing the tiers otherwise.
Result<TierLimits> TierByName(std::string_view name);

// What the API puts in RateLimit-* / Retry-After headers.
struct RateDecision {
  bool allowed = false;
  int limit = 0;                // requests per minute of the tier
  int remaining = 0;            // whole requests left in the bucket after this one
  int reset_seconds = 0;        // until the bucket is full again
  int retry_after_seconds = 0;  // 0 when allowed; otherwise until one request is available
};

class RateLimiter {
 public:
  // REQUIRES: clock outlives the limiter. `sweep_floor`: number of tracked keys below which no
  // sweep runs (tests lower it).
  explicit RateLimiter(const env::Clock* clock, std::size_t sweep_floor = 4096);

  // Takes one request from `key_id`'s bucket. An unknown tier gets the basic (strictest) limits:
  // the tier was validated when the key was created, so this only guards against a bug.
  RateDecision Take(const std::string& key_id, std::string_view tier);

  // Keys with a bucket in memory (a test hook for the memory bound).
  std::size_t TrackedKeys() const;

 private:
  struct Bucket {
    std::int64_t units = 0;  // tokens * 60000
    std::int64_t at_ms = 0;  // when `units` was computed
    std::int64_t per_minute = 0;
    std::int64_t capacity = 0;  // burst * 60000
  };

  // Brings `b` up to `now_ms`. REQUIRES: mu_ held.
  static void Refill(Bucket* b, std::int64_t now_ms);
  // Drops buckets that are full at `now_ms`. REQUIRES: mu_ held.
  void SweepLocked(std::int64_t now_ms);

  const env::Clock* clock_;
  const std::size_t sweep_floor_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // guarded by mu_
  std::size_t sweep_at_;                             // guarded by mu_: size that triggers a sweep
};

}  // namespace nurt::auth
