#include "nurt/calendar/business_calendar.hpp"

#include <gtest/gtest.h>

#include <map>

namespace nurt::calendar {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

TimePoint At(const std::string& iso) { return ParseIso8601(iso).value(); }

TEST(EasterSunday, KnownYearsIncludingTheExtremes) {
  EXPECT_EQ(EasterSunday(2024), (Date{2024, 3, 31}));
  EXPECT_EQ(EasterSunday(2025), (Date{2025, 4, 20}));
  EXPECT_EQ(EasterSunday(2026), (Date{2026, 4, 5}));
  EXPECT_EQ(EasterSunday(2027), (Date{2027, 3, 28}));
  EXPECT_EQ(EasterSunday(2000), (Date{2000, 4, 23}));
  EXPECT_EQ(EasterSunday(1818), (Date{1818, 3, 22}));  // the earliest possible date
  EXPECT_EQ(EasterSunday(2038), (Date{2038, 4, 25}));  // the latest possible date
}

TEST(PolishPublicHolidays, MovableFeastsFollowEasterAndChristmasEveFrom2025) {
  auto names = [](int year) {
    std::map<std::string, std::string> m;
    for (const auto& h : PolishPublicHolidays(year)) m[h.date.ToString()] = h.name;
    return m;
  };
  auto y2026 = names(2026);
  EXPECT_EQ(y2026.size(), 14u);
  EXPECT_EQ(y2026["2026-04-06"], "Poniedziałek Wielkanocny");
  EXPECT_EQ(y2026["2026-05-24"], "Zielone Świątki");
  EXPECT_EQ(y2026["2026-06-04"], "Boże Ciało");
  EXPECT_EQ(y2026["2026-12-24"], "Wigilia Bożego Narodzenia");
  auto y2024 = names(2024);
  EXPECT_EQ(y2024.size(), 13u);
  EXPECT_EQ(y2024.count("2024-12-24"), 0u);
  EXPECT_EQ(y2024["2024-05-30"], "Boże Ciało");
}

TEST(BusinessCalendar, DaysOffSayWhy) {
  CalendarSpec spec;
  spec.extra_days_off = {Date{2026, 5, 2}, Date{2026, 11, 10}};
  auto c = BusinessCalendar::Create(spec);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->DayOffReason(Date{2026, 6, 4}), "Boże Ciało");
  EXPECT_EQ(c->DayOffReason(Date{2026, 6, 6}), "weekend");
  EXPECT_EQ(c->DayOffReason(Date{2026, 11, 10}), "day off");
  EXPECT_TRUE(c->IsWorkingDay(Date{2026, 6, 5}));
  // Local date, not UTC date: 23:30 UTC on 31 March is already 1 April in Warsaw (CEST).
  EXPECT_EQ(c->LocalDate(At("2026-03-31T23:30:00Z")), (Date{2026, 4, 1}));
}

TEST(BusinessCalendar, WorkingDaysSkipWeekendsHolidaysAndKeepLocalTimeAcrossDst) {
  auto c = BusinessCalendar::Create(CalendarSpec{}).value();
  // Friday before Easter, 10:00 CEST -> Tuesday (Easter Monday is off), 10:00 CEST.
  EXPECT_EQ(c.AddWorkingDays(At("2026-04-03T08:00:00Z"), 1), At("2026-04-07T08:00:00Z"));
  // Friday 27 March 10:00 CET (09:00Z) -> Monday 30 March 10:00 CEST (08:00Z): clocks moved on Sunday.
  EXPECT_EQ(c.AddWorkingDays(At("2026-03-27T09:00:00Z"), 1), At("2026-03-30T08:00:00Z"));
  // From a Saturday, one working day is Monday.
  EXPECT_EQ(c.AddWorkingDays(At("2026-03-07T09:00:00Z"), 1), At("2026-03-09T09:00:00Z"));
  EXPECT_EQ(c.AddWorkingDays(At("2026-03-09T09:00:00Z"), 5), At("2026-03-16T09:00:00Z"));
  EXPECT_EQ(c.AddWorkingDays(At("2026-03-09T09:00:00Z"), 0), At("2026-03-09T09:00:00Z"));
}

TEST(BusinessCalendar, MovableHolidaysAndBothDaylightSavingChangesOverSeveralYears) {
  auto c = BusinessCalendar::Create(CalendarSpec{}).value();
  // 2025: Corpus Christi is Thursday 19 June (Easter 20 April + 60): Wednesday 10:00 + 1 -> Friday 10:00.
  EXPECT_EQ(c.AddWorkingDays(At("2025-06-18T08:00:00Z"), 1), At("2025-06-20T08:00:00Z"));
  // 2027: Easter and the spring change fall on the same Sunday (28 March); Easter Monday is off, so
  // Friday 10:00 CET + 1 -> Tuesday 10:00 CEST.
  EXPECT_EQ(c.AddWorkingDays(At("2027-03-26T09:00:00Z"), 1), At("2027-03-30T08:00:00Z"));
  // 2028: the autumn change (29 October): Friday 10:00 CEST + 1 -> Monday 10:00 CET.
  EXPECT_EQ(c.AddWorkingDays(At("2028-10-27T08:00:00Z"), 1), At("2028-10-30T09:00:00Z"));
  EXPECT_EQ(c.DayOffReason(Date{2028, 6, 15}), "Boże Ciało");
  // Going back: Tuesday after Easter 2026 - 1 -> Good Friday, 3 April (a working day in Poland); and back
  // across the spring change keeps the local time.
  EXPECT_EQ(c.SubtractWorkingDays(At("2026-04-07T08:00:00Z"), 1), At("2026-04-03T08:00:00Z"));
  EXPECT_EQ(c.SubtractWorkingDays(At("2026-03-30T08:00:00Z"), 1), At("2026-03-27T09:00:00Z"));
  EXPECT_EQ(c.StartOfDay(Date{2026, 4, 20}), At("2026-04-19T22:00:00Z"));
}

TEST(BusinessCalendar, WorkingTimeCountsOnlyWorkingHours) {
  auto c = BusinessCalendar::Create(CalendarSpec{}).value();
  // Friday 15:00 CET + 4 h: 1 h on Friday, 3 h on Monday from 8:00 -> Monday 11:00 CET.
  EXPECT_EQ(c.AddWorkingTime(At("2026-03-06T14:00:00Z"), hours(4)), At("2026-03-09T10:00:00Z"));
  // Before opening: the clock starts at 8:00.
  EXPECT_EQ(c.AddWorkingTime(At("2026-03-09T05:00:00Z"), minutes(30)), At("2026-03-09T07:30:00Z"));
  // Exactly to closing time stays on the day.
  EXPECT_EQ(c.AddWorkingTime(At("2026-03-09T07:00:00Z"), hours(8)), At("2026-03-09T15:00:00Z"));
  // Wednesday 23 Dec 15:00 CET + 2 h: Christmas Eve (from 2025), both Christmas days and Sunday are off.
  EXPECT_EQ(c.AddWorkingTime(At("2026-12-23T14:00:00Z"), hours(2)), At("2026-12-28T08:00:00Z"));
}

TEST(BusinessCalendar, ConfigurationErrorsNameTheProblem) {
  CalendarSpec bad_zone;
  bad_zone.time_zone = "Europe/Warszawa";
  auto z = BusinessCalendar::Create(bad_zone);
  ASSERT_FALSE(z.ok());
  EXPECT_NE(z.status().message().find("Europe/Warszawa"), std::string::npos);
  CalendarSpec inverted;
  inverted.week[2] = WorkingHours{minutes(17 * 60), minutes(9 * 60)};
  EXPECT_NE(BusinessCalendar::Create(inverted).status().message().find("Wednesday"), std::string::npos);
  CalendarSpec none;
  none.week = {};
  EXPECT_FALSE(BusinessCalendar::Create(none).ok());
  EXPECT_TRUE(ParseDate("2026-02-28").ok());
  EXPECT_FALSE(ParseDate("2026-02-30").ok());
  EXPECT_FALSE(ParseDate("26-2-3").ok());
}

}  // namespace
}  // namespace nurt::calendar
