#include "nurt/calendar/cron_schedule.hpp"

#include <gtest/gtest.h>

namespace nurt::calendar {
namespace {

TimePoint At(const std::string& iso) { return ParseIso8601(iso).value(); }

std::optional<TimePoint> NextOf(const std::string& expr, const std::string& after,
                                const std::string& zone = "Europe/Warsaw") {
  auto s = CronSchedule::Parse(expr, zone);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? s->Next(At(after)) : std::nullopt;
}

TEST(CronSchedule, NightlyRunInLocalTime) {
  EXPECT_EQ(NextOf("0 2 * * *", "2026-03-10T12:00:00Z"), At("2026-03-11T01:00:00Z"));  // 02:00 CET
  EXPECT_EQ(NextOf("0 2 * * *", "2026-07-10T12:00:00Z"), At("2026-07-11T00:00:00Z"));  // 02:00 CEST
  EXPECT_EQ(NextOf("@daily", "2026-07-10T12:00:00Z", "UTC"), At("2026-07-11T00:00:00Z"));
  // Strictly after: a run exactly now is not "next".
  EXPECT_EQ(NextOf("0 2 * * *", "2026-03-11T01:00:00Z"), At("2026-03-12T01:00:00Z"));
}

TEST(CronSchedule, DaylightSavingRunsOnceAtTheJumpAndOnceOnARepeatedHour) {
  // 29 March 2026: 02:00 CET jumps to 03:00 CEST, so 02:30 does not exist: run when the clocks jump.
  EXPECT_EQ(NextOf("30 2 * * *", "2026-03-28T12:00:00Z"), At("2026-03-29T01:00:00Z"));
  EXPECT_EQ(NextOf("30 2 * * *", "2026-03-29T01:00:00Z"), At("2026-03-30T00:30:00Z"));
  // Every 15 minutes of the missing hour still runs only once that night.
  EXPECT_EQ(NextOf("*/15 2 * * *", "2026-03-29T01:00:00Z"), At("2026-03-30T00:00:00Z"));
  // 25 October 2026: 03:00 CEST falls back to 02:00 CET, so 02:30 happens twice: run the first time only.
  EXPECT_EQ(NextOf("30 2 * * *", "2026-10-24T12:00:00Z"), At("2026-10-25T00:30:00Z"));
  EXPECT_EQ(NextOf("30 2 * * *", "2026-10-25T00:30:00Z"), At("2026-10-26T01:30:00Z"));
}

TEST(CronSchedule, RangesListsStepsNamesAndTheDayRule) {
  // Saturday 14 March 2026 -> Monday 16 March 09:00 CET.
  EXPECT_EQ(NextOf("*/15 9-17 * * MON-FRI", "2026-03-14T10:00:00Z"), At("2026-03-16T08:00:00Z"));
  EXPECT_EQ(NextOf("*/15 9-17 * * mon-fri", "2026-03-16T08:00:00Z"), At("2026-03-16T08:15:00Z"));
  // Both day fields restricted: the 1st OR a Monday. After Tue 3 March -> Mon 9 March.
  EXPECT_EQ(NextOf("0 0 1 * 1", "2026-03-03T12:00:00Z", "UTC"), At("2026-03-09T00:00:00Z"));
  // Day of week 7 is Sunday; a month by name.
  EXPECT_EQ(NextOf("0 12 * JUN 7", "2026-03-03T12:00:00Z", "UTC"), At("2026-06-07T12:00:00Z"));
  EXPECT_EQ(NextOf("0 8 1,15 * *", "2026-03-02T00:00:00Z", "UTC"), At("2026-03-15T08:00:00Z"));
  EXPECT_EQ(NextOf("0 0 29 2 *", "2026-03-01T00:00:00Z", "UTC"), At("2028-02-29T00:00:00Z"));
  EXPECT_EQ(NextOf("0 0 30 2 *", "2026-03-01T00:00:00Z", "UTC"), std::nullopt);
}

TEST(CronSchedule, MistakesNameTheFieldAndTheValue) {
  struct Case {
    const char* expr;
    const char* says;
  };
  for (const Case& c : {Case{"0 25 * * *", "hour 25 is out of range 0-23"}, Case{"* * *", "expected 5 fields"},
                        Case{"0 0 * * FUNDAY", "not a day of week name"}, Case{"5-1 * * * *", "runs backwards"},
                        Case{"*/0 * * * *", "positive number"}, Case{"0 0 0 * *", "day of month 0 is out of range"}}) {
    auto s = CronSchedule::Parse(c.expr);
    ASSERT_FALSE(s.ok()) << c.expr;
    EXPECT_NE(s.status().message().find(c.says), std::string::npos) << s.status().message();
    EXPECT_NE(s.status().message().find(c.expr), std::string::npos) << s.status().message();
  }
  EXPECT_FALSE(CronSchedule::Parse("0 2 * * *", "Mars/Olympus").ok());
}

}  // namespace
}  // namespace nurt::calendar
