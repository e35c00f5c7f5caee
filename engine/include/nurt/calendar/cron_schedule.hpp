#pragma once
// nurt::calendar::CronSchedule — "0 2 * * *" in a time zone: when a scheduled start or event is due.
//
// Five fields, as in Vixie cron: minute (0-59), hour (0-23), day of month (1-31), month (1-12 or
// JAN-DEC), day of week (0-7 or SUN-SAT; 0 and 7 are Sunday). Each is `*`, a value, a range `a-b`, a
// list `a,b`, or a step `*/n` / `a-b/n`. Macros: @yearly, @monthly, @weekly, @daily, @hourly. When
// both day fields are restricted a day matches if either does (cron's rule, e.g. "the 1st and every
// Monday").
//
// Times are local to the schedule's time zone, and daylight saving is handled the way people expect:
// a local time that does not exist (02:30 on the spring-forward night) runs once, at the moment the
// clocks jump; a local time that happens twice (02:30 on the fall-back night) runs once, the first time.
//
// Thread-safety: immutable after Parse.

#include <bitset>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "nurt/core/result.hpp"
#include "nurt/core/time.hpp"

namespace nurt::calendar {

class CronSchedule {
 public:
  // InvalidArgument naming the field and the value ("cron '0 25 * * *': hour 25 is out of range 0-23"),
  // or the unknown time zone.
  static Result<CronSchedule> Parse(std::string_view expression, const std::string& time_zone = "Europe/Warsaw");

  // The first run strictly after `after`; nullopt when none within 5 years (e.g. "0 0 30 2 *").
  std::optional<TimePoint> Next(TimePoint after) const;

  const std::string& expression() const;
  const std::string& time_zone() const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

}  // namespace nurt::calendar
