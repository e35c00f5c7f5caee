// RateLimiter in virtual time: each tier's burst, continuous refill, exact Retry-After and reset,
// independent keys, tier changes and the memory bound.
#include "nurt/auth/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "manual_clock.hpp"

namespace nurt::auth {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(TierByName, KnowsTheThreeTiers) {
  EXPECT_EQ(TierByName("basic")->per_minute, 60);
  EXPECT_EQ(TierByName("basic")->burst, 10);
  EXPECT_EQ(TierByName("standard")->per_minute, 300);
  EXPECT_EQ(TierByName("standard")->burst, 50);
  EXPECT_EQ(TierByName("premium")->per_minute, 1000);
  EXPECT_EQ(TierByName("premium")->burst, 200);
  auto unknown = TierByName("gold");
  EXPECT_TRUE(unknown.status().IsInvalidArgument());
  EXPECT_NE(unknown.status().message().find("basic (60/min), standard (300/min), premium"),
            std::string::npos);
}

TEST(RateLimiter, BasicBurstThenRefillOnePerSecond) {
  testing::ManualClock clock;
  RateLimiter limiter(&clock);
  for (int i = 0; i < 10; ++i) {
    const RateDecision d = limiter.Take("k", "basic");
    ASSERT_TRUE(d.allowed) << "request " << i;
    EXPECT_EQ(d.limit, 60);
    EXPECT_EQ(d.remaining, 9 - i);
    EXPECT_EQ(d.retry_after_seconds, 0);
    EXPECT_EQ(d.reset_seconds, i + 1);  // one request refills per second
  }
  RateDecision denied = limiter.Take("k", "basic");
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.remaining, 0);
  EXPECT_EQ(denied.retry_after_seconds, 1);
  EXPECT_EQ(denied.reset_seconds, 10);

  clock.Advance(milliseconds(999));  // not yet
  denied = limiter.Take("k", "basic");
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.retry_after_seconds, 1);  // 1 ms left, rounded up to a whole second

  clock.Advance(milliseconds(1));
  EXPECT_TRUE(limiter.Take("k", "basic").allowed);
  EXPECT_FALSE(limiter.Take("k", "basic").allowed);

  clock.Advance(seconds(10));  // full again, and never more than the burst
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(limiter.Take("k", "basic").allowed);
  EXPECT_FALSE(limiter.Take("k", "basic").allowed);
}

TEST(RateLimiter, RetryAfterIsTheExactWaitRoundedUp) {
  testing::ManualClock clock;
  RateLimiter limiter(&clock);
  // standard: 300/min = one request per 200 ms.
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(limiter.Take("s", "standard").allowed);
  RateDecision d = limiter.Take("s", "standard");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_seconds, 1);
  EXPECT_EQ(d.reset_seconds, 10);  // 50 requests * 200 ms
  clock.Advance(milliseconds(199));
  EXPECT_FALSE(limiter.Take("s", "standard").allowed);
  clock.Advance(milliseconds(1));
  d = limiter.Take("s", "standard");
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 0);

  // premium: 1000/min = one request per 60 ms; a drained bucket waits 60 ms -> "1 s".
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(limiter.Take("p", "premium").allowed);
  d = limiter.Take("p", "premium");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.limit, 1000);
  EXPECT_EQ(d.retry_after_seconds, 1);
  EXPECT_EQ(d.reset_seconds, 12);  // 200 * 60 ms
  clock.Advance(milliseconds(60));
  EXPECT_TRUE(limiter.Take("p", "premium").allowed);
}

TEST(RateLimiter, KeysHaveTheirOwnBuckets) {
  testing::ManualClock clock;
  RateLimiter limiter(&clock);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(limiter.Take("a", "basic").allowed);
  EXPECT_FALSE(limiter.Take("a", "basic").allowed);
  EXPECT_TRUE(limiter.Take("b", "basic").allowed);
}

TEST(RateLimiter, ATierChangeResizesTheBucket) {
  testing::ManualClock clock;
  RateLimiter limiter(&clock);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(limiter.Take("k", "premium").allowed);
  RateDecision d = limiter.Take("k", "basic");  // 195 left, clamped to basic's 10, minus this one
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 9);
  EXPECT_EQ(d.limit, 60);
}

TEST(RateLimiter, FullIdleBucketsAreForgotten) {
  testing::ManualClock clock;
  RateLimiter limiter(&clock, /*sweep_floor=*/8);
  for (int i = 0; i < 7; ++i) limiter.Take("key-" + std::to_string(i), "basic");
  EXPECT_EQ(limiter.TrackedKeys(), 7u);
  clock.Advance(seconds(1));       // the first seven are full again
  limiter.Take("key-7", "basic");  // the eighth key triggers a sweep
  EXPECT_EQ(limiter.TrackedKeys(), 1u);
  // A forgotten bucket behaves as a full one.
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(limiter.Take("key-0", "basic").allowed);
  EXPECT_FALSE(limiter.Take("key-0", "basic").allowed);
}

TEST(RateLimiter, ManyKeysStayBounded) {
  testing::ManualClock clock;
  RateLimiter limiter(&clock, /*sweep_floor=*/64);
  for (int round = 0; round < 100; ++round) {
    for (int i = 0; i < 50; ++i)
      limiter.Take("r" + std::to_string(round) + "-" + std::to_string(i), "basic");
    clock.Advance(seconds(1));
  }
  EXPECT_LE(limiter.TrackedKeys(), 128u);
}

}  // namespace
}  // namespace nurt::auth
