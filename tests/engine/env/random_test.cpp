#include "nurt/env/random.hpp"

#include <gtest/gtest.h>

#include <set>

#include "seeded_random.hpp"

namespace nurt::env {
namespace {

TEST(SystemRandom, HexHasTwoDigitsPerByteAndDoesNotRepeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string h = SystemRandom()->Hex(16);
    ASSERT_EQ(h.size(), 32u);
    EXPECT_EQ(h.find_first_not_of("0123456789abcdef"), std::string::npos) << h;
    EXPECT_TRUE(seen.insert(h).second) << "128 random bits repeated: " << h;
  }
}

TEST(SeededRandom, SameSeedSameBytesOtherSeedOtherBytes) {
  testing::SeededRandom a(7), b(7), c(8);
  const std::string ha = a.Hex(16);
  EXPECT_EQ(ha, b.Hex(16));
  EXPECT_NE(ha, c.Hex(16));
}

}  // namespace
}  // namespace nurt::env
