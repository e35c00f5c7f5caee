#pragma once
// nurt::calendar — working days and working hours in a time zone, for SLAs and "P3WD" deadlines.
//
// A BusinessCalendar knows a time zone (IANA name; Europe/Warsaw by default, DST-correct through the
// operating system's tz database via Howard Hinnant's date library), the working hours of each weekday,
// Polish public holidays (computed for any year, including those that move with Easter) and extra days
// off of one organisation. It answers in absolute time (TimePoint, UTC): callers never see local time.
//
//   AddWorkingDays(t, 3)      the same local time of day on the 3rd working day after t's local date
//                             (Friday 10:00 + 1 → Monday 10:00; Saturday 10:00 + 1 → Monday 10:00)
//   AddWorkingTime(t, 4h)     4 hours of working time after t, skipping nights, weekends and holidays
//
// Thread-safety: a BusinessCalendar is immutable after Create; share it freely.

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nurt/core/result.hpp"
#include "nurt/core/time.hpp"

namespace nurt::calendar {

// A calendar date (proleptic Gregorian).
struct Date {
  int year = 1970;
  unsigned month = 1;  // 1..12
  unsigned day = 1;    // 1..31
  friend bool operator==(const Date&, const Date&) = default;
  friend auto operator<=>(const Date&, const Date&) = default;
  std::string ToString() const;  // "2026-05-03"
};

// "2026-05-03" -> Date; InvalidArgument for anything else (including 2026-02-30).
Result<Date> ParseDate(const std::string& text);

// Easter Sunday (Gregorian computus, valid for every year from 1583).
Date EasterSunday(int year);

struct Holiday {
  Date date;
  std::string name;  // Polish name, e.g. "Boże Ciało"
};

// Poland's statutory days off work (ustawa o dniach wolnych od pracy) in `year`, in date order:
// the fixed ones, Easter Sunday and Monday, Pentecost Sunday and Corpus Christi (Easter + 60), and
// Christmas Eve from 2025 on (the 2024 amendment).
std::vector<Holiday> PolishPublicHolidays(int year);

struct WorkingHours {
  std::chrono::minutes start{8 * 60};  // local time of day the work starts
  std::chrono::minutes end{16 * 60};   // and ends; start < end, both within one day
};

struct CalendarSpec {
  std::string time_zone = "Europe/Warsaw";
  // Index 0 = Monday … 6 = Sunday; nullopt = not a working day. Default: Monday–Friday 8:00–16:00.
  std::array<std::optional<WorkingHours>, 7> week = {WorkingHours{}, WorkingHours{}, WorkingHours{},
                                                     WorkingHours{}, WorkingHours{}, std::nullopt,
                                                     std::nullopt};
  bool polish_holidays = true;
  std::vector<Date> extra_days_off;  // the organisation's own (e.g. a bridge day after a holiday)
};

class BusinessCalendar {
 public:
  // InvalidArgument for an unknown time zone (naming it), hours with start >= end or outside a day,
  // or a week without any working day.
  static Result<BusinessCalendar> Create(const CalendarSpec& spec);

  // The local date of `t` in the calendar's time zone.
  Date LocalDate(TimePoint t) const;
  bool IsWorkingDay(const Date& date) const;
  // Why `date` is not a working day ("Boże Ciało", "weekend", "day off"), or "" when it is one.
  std::string DayOffReason(const Date& date) const;

  // REQUIRES: days >= 0.
  TimePoint AddWorkingDays(TimePoint from, int days) const;
  // REQUIRES: duration >= 0.
  TimePoint AddWorkingTime(TimePoint from, std::chrono::milliseconds duration) const;
  // The same local time of day on the `days`-th working day before t's local date (Monday 10:00 - 1 ->
  // Friday 10:00). REQUIRES: days >= 0.
  TimePoint SubtractWorkingDays(TimePoint from, int days) const;
  // Local midnight of `date` in the calendar's time zone (the first instant of that day).
  TimePoint StartOfDay(const Date& date) const;
  const std::string& time_zone() const;

 private:
  BusinessCalendar() = default;
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

}  // namespace nurt::calendar
