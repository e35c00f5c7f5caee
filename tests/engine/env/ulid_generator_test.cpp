#include <gtest/gtest.h>

#include <set>

#include "manual_clock.hpp"
#include "nurt/env/id_generator.hpp"

namespace nurt::env {
namespace {

TEST(UlidGeneratorTest, IdsSortInCreationOrderEvenWithinOneMillisecond) {
  testing::ManualClock clock;
  auto gen = NewSeededUlidGenerator(&clock, 42);
  std::string prev;
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    if (i % 100 == 0) clock.Advance(std::chrono::milliseconds(1));
    std::string id = gen->NewId();
    ASSERT_EQ(id.size(), 26u);
    EXPECT_LT(prev, id);
    EXPECT_TRUE(seen.insert(id).second);
    prev = id;
  }
}

TEST(UlidGeneratorTest, SeededGeneratorsAreReproducible) {
  testing::ManualClock c1, c2;
  auto a = NewSeededUlidGenerator(&c1, 7);
  auto b = NewSeededUlidGenerator(&c2, 7);
  EXPECT_EQ(a->NewId(), b->NewId());
}

}  // namespace
}  // namespace nurt::env
