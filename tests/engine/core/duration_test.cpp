#include "nurt/core/duration.hpp"

#include <gtest/gtest.h>

namespace nurt {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;

TEST(ParseIsoDuration, FixedLengthUnits) {
  EXPECT_EQ(*ParseIsoDuration("P3D"), hours(72));
  EXPECT_EQ(*ParseIsoDuration("PT4H"), hours(4));
  EXPECT_EQ(*ParseIsoDuration("P1W"), hours(168));
  EXPECT_EQ(*ParseIsoDuration("P1DT12H"), hours(36));
  EXPECT_EQ(*ParseIsoDuration("PT30M"), minutes(30));
  EXPECT_EQ(*ParseIsoDuration("PT0.5S"), milliseconds(500));
  EXPECT_EQ(*ParseIsoDuration("PT1,25S"), milliseconds(1250));
}

TEST(ParseIsoDuration, RefusesWithAReason) {
  for (const char* bad : {"", "P", "PT", "3D", "P3", "P1M", "P1Y", "PT1S2H", "P1DT", "P1.5D", "P3X", "PTT1H",
                          "P1D1D", "P-1D"}) {
    auto r = ParseIsoDuration(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_TRUE(r.status().IsInvalidArgument());
      EXPECT_NE(r.status().message().find("ISO-8601"), std::string::npos) << r.status().message();
    }
  }
  EXPECT_NE(ParseIsoDuration("P1M").status().message().find("P30D"), std::string::npos);
}

TEST(FormatIsoDuration, ShortestFormRoundTrips) {
  EXPECT_EQ(FormatIsoDuration(minutes(90)), "PT1H30M");
  EXPECT_EQ(FormatIsoDuration(hours(48)), "P2D");
  EXPECT_EQ(FormatIsoDuration(milliseconds(0)), "PT0S");
  EXPECT_EQ(FormatIsoDuration(milliseconds(1500)), "PT1.5S");
  for (const char* text : {"P1DT2H3M4.5S", "PT4H", "P9D"}) {
    EXPECT_EQ(FormatIsoDuration(*ParseIsoDuration(text)), text);
  }
}

}  // namespace
}  // namespace nurt
