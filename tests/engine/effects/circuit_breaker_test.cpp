// CircuitBreaker: opens at the failure rate over the window, fails fast while open, half-opens after
// open_for with a limited number of probes, closes on a good probe and opens again on a bad one; answers
// that say nothing about the endpoint's health (4xx) do not count.

#include "nurt/effects/circuit_breaker.hpp"

#include <gtest/gtest.h>

namespace nurt::effects {
namespace {

const TimePoint kT0 = FromUnixMillis(1'700'000'000'000);

BreakerOptions Options() {
  BreakerOptions o;
  o.window = 4;
  o.min_calls = 4;
  o.failure_rate = 0.5;
  o.open_for = std::chrono::seconds(30);
  o.probes = 1;
  return o;
}

TEST(CircuitBreaker, OpensAtTheFailureRateAndRecoversThroughAProbe) {
  CircuitBreaker b("http://partner", Options());
  for (bool ok : {true, false, true}) {
    ASSERT_TRUE(b.Allow(kT0));
    b.Record(ok, true, kT0);
  }
  EXPECT_EQ(b.Snapshot(kT0).state, BreakerState::kClosed);  // 1 of 3: fewer than min_calls
  ASSERT_TRUE(b.Allow(kT0));
  b.Record(false, true, kT0);  // 2 of 4 = 0.5
  EXPECT_EQ(b.Snapshot(kT0).state, BreakerState::kOpen);
  EXPECT_EQ(b.RetryAt(), kT0 + std::chrono::seconds(30));
  EXPECT_FALSE(b.Allow(kT0 + std::chrono::seconds(29)));

  const TimePoint later = kT0 + std::chrono::seconds(30);
  EXPECT_EQ(b.Snapshot(later).state, BreakerState::kHalfOpen);
  ASSERT_TRUE(b.Allow(later));   // the probe
  EXPECT_FALSE(b.Allow(later));  // only one at a time
  b.Record(false, true, later);  // a bad probe: open again
  EXPECT_EQ(b.Snapshot(later).state, BreakerState::kOpen);
  EXPECT_EQ(b.Snapshot(later).opened, 2);

  const TimePoint again = later + std::chrono::seconds(30);
  ASSERT_TRUE(b.Allow(again));
  b.Record(true, true, again);
  const BreakerSnapshot s = b.Snapshot(again);
  EXPECT_EQ(s.state, BreakerState::kClosed);
  EXPECT_EQ(s.calls, 0);  // a fresh window
  ASSERT_TRUE(s.last_success.has_value());
  EXPECT_EQ(*s.last_success, again);
  EXPECT_EQ(s.ToJson()["state"], "closed");
}

TEST(CircuitBreaker, ClientErrorsDoNotCountAsTheEndpointFailing) {
  CircuitBreaker b("http://partner", Options());
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(b.Allow(kT0));
    b.Record(false, false, kT0);  // 4xx: the endpoint answered
  }
  EXPECT_EQ(b.Snapshot(kT0).state, BreakerState::kClosed);
  EXPECT_EQ(b.Snapshot(kT0).failures, 0);
}

}  // namespace
}  // namespace nurt::effects
