#include "nurt/calendar/cron_schedule.hpp"

#include <date/date.h>
#include <date/tz.h>

#include <cctype>
#include <vector>

namespace nurt::calendar {
namespace {

struct FieldSpec {
  const char* name;
  int min, max;
  const char* const* names;  // e.g. JAN..DEC for month, SUN..SAT for day of week; null = numbers only
};

const char* const kMonths[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
const char* const kWeekdays[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

const FieldSpec kFields[5] = {{"minute", 0, 59, nullptr},
                              {"hour", 0, 23, nullptr},
                              {"day of month", 1, 31, nullptr},
                              {"month", 1, 12, kMonths},
                              {"day of week", 0, 7, kWeekdays}};

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

using LocalMs = date::local_time<std::chrono::milliseconds>;

}  // namespace

struct CronSchedule::Impl {
  std::string expression, zone_name;
  const date::time_zone* zone = nullptr;
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days;     // 1..31
  std::bitset<13> months;   // 1..12
  std::bitset<7> weekdays;  // 0 = Sunday
  bool days_restricted = false, weekdays_restricted = false;

  bool DayMatches(const date::year_month_day& ymd) const {
    const bool dom = days[static_cast<unsigned>(ymd.day())];
    const bool dow = weekdays[date::weekday{date::sys_days{ymd}}.c_encoding()];
    if (days_restricted && weekdays_restricted) return dom || dow;
    return dom && dow;
  }
};

namespace {

// Parses one value: a number or (for month / day of week) a three-letter name.
Result<int> Value(const std::string& text, const FieldSpec& f, const std::string& where) {
  if (text.empty()) return Status::InvalidArgument(where + ": an empty value");
  if (f.names != nullptr && std::isalpha(static_cast<unsigned char>(text[0]))) {
    std::string upper;
    for (char c : text) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const int count = f.max == 12 ? 12 : 7;
    for (int i = 0; i < count; ++i) {
      if (upper == f.names[i]) return f.max == 12 ? i + 1 : i;
    }
    return Status::InvalidArgument(where + ": '" + text + "' is not a " + f.name + " name");
  }
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      return Status::InvalidArgument(where + ": '" + text + "' is not a number");
    }
  }
  if (text.size() > 4) return Status::InvalidArgument(where + ": '" + text + "' is too large");
  const int v = std::stoi(text);
  if (v < f.min || v > f.max) {
    return Status::InvalidArgument(where + ": " + f.name + " " + text + " is out of range " +
                                   std::to_string(f.min) + "-" + std::to_string(f.max));
  }
  return v;
}

// Sets the bits of one field; returns whether the field restricts anything (is not `*`).
Result<bool> ParseField(const std::string& text, const FieldSpec& f, const std::string& where,
                        std::vector<bool>* bits) {
  bool restricted = false;
  for (const std::string& part : Split(text, ',')) {
    std::string range = part;
    int step = 1;
    const auto slash = part.find('/');
    if (slash != std::string::npos) {
      range = part.substr(0, slash);
      const std::string step_text = part.substr(slash + 1);
      if (step_text.empty() || step_text.find_first_not_of("0123456789") != std::string::npos ||
          step_text.size() > 4 || std::stoi(step_text) == 0) {
        return Status::InvalidArgument(where + ": the step in '" + part + "' must be a positive number");
      }
      step = std::stoi(step_text);
    }
    int lo = f.min, hi = f.max;
    if (range == "*") {
      // `*` and `*/n` leave the field unrestricted for the day-of-month/day-of-week rule, as in cron.
      if (f.max == 7) hi = 6;  // 7 is only another name for Sunday
    } else {
      restricted = true;
      const auto dash = range.find('-');
      NURT_ASSIGN_OR_RETURN(lo, Value(range.substr(0, dash), f, where));
      hi = lo;
      if (dash != std::string::npos) {
        NURT_ASSIGN_OR_RETURN(hi, Value(range.substr(dash + 1), f, where));
        if (hi < lo) return Status::InvalidArgument(where + ": the range '" + range + "' runs backwards");
      } else if (slash != std::string::npos) {
        hi = f.max == 7 ? 6 : f.max;  // "5/15": from 5 to the end, every 15
      }
    }
    for (int v = lo; v <= hi; v += step) (*bits)[static_cast<std::size_t>(f.max == 7 && v == 7 ? 0 : v)] = true;
  }
  return restricted;
}

}  // namespace

Result<CronSchedule> CronSchedule::Parse(std::string_view expression, const std::string& time_zone) {
  auto impl = std::make_shared<Impl>();
  impl->expression = std::string(expression);
  impl->zone_name = time_zone;
  try {
    impl->zone = date::locate_zone(time_zone);
  } catch (const std::exception&) {
    return Status::InvalidArgument("unknown time zone '" + time_zone + "'; use an IANA name such as Europe/Warsaw");
  }
  std::string text(expression);
  if (text == "@yearly" || text == "@annually") text = "0 0 1 1 *";
  else if (text == "@monthly") text = "0 0 1 * *";
  else if (text == "@weekly") text = "0 0 * * 0";
  else if (text == "@daily" || text == "@midnight") text = "0 0 * * *";
  else if (text == "@hourly") text = "0 * * * *";
  std::vector<std::string> fields;
  std::string cur;
  for (char c : text) {
    if (c == ' ' || c == '\t') {
      if (!cur.empty()) fields.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) fields.push_back(cur);
  const std::string where = "cron '" + std::string(expression) + "'";
  if (fields.size() != 5) {
    return Status::InvalidArgument(where + ": expected 5 fields (minute hour day-of-month month day-of-week), got " +
                                   std::to_string(fields.size()) + "; e.g. '0 2 * * *' is every day at 2:00");
  }
  std::vector<bool> bits[5];
  bool restricted[5];
  for (int i = 0; i < 5; ++i) {
    bits[i].assign(static_cast<std::size_t>(kFields[i].max + 1), false);
    NURT_ASSIGN_OR_RETURN(restricted[i], ParseField(fields[static_cast<std::size_t>(i)], kFields[i], where, &bits[i]));
  }
  for (int v = 0; v < 60; ++v) impl->minutes[static_cast<std::size_t>(v)] = bits[0][static_cast<std::size_t>(v)];
  for (int v = 0; v < 24; ++v) impl->hours[static_cast<std::size_t>(v)] = bits[1][static_cast<std::size_t>(v)];
  for (int v = 1; v <= 31; ++v) impl->days[static_cast<std::size_t>(v)] = bits[2][static_cast<std::size_t>(v)];
  for (int v = 1; v <= 12; ++v) impl->months[static_cast<std::size_t>(v)] = bits[3][static_cast<std::size_t>(v)];
  for (int v = 0; v < 7; ++v) impl->weekdays[static_cast<std::size_t>(v)] = bits[4][static_cast<std::size_t>(v)];
  impl->days_restricted = restricted[2];
  impl->weekdays_restricted = restricted[4];
  CronSchedule s;
  s.impl_ = std::move(impl);
  return s;
}

std::optional<TimePoint> CronSchedule::Next(TimePoint after) const {
  const Impl& c = *impl_;
  const LocalMs local_after = c.zone->to_local(after);
  date::local_days day = std::chrono::floor<date::days>(local_after);
  for (int scanned = 0; scanned < 366 * 5 + 2; ++scanned, day += date::days{1}) {
    const date::year_month_day ymd{day};
    if (!c.months[static_cast<unsigned>(ymd.month())] || !c.DayMatches(ymd)) continue;
    for (int h = 0; h < 24; ++h) {
      if (!c.hours[static_cast<std::size_t>(h)]) continue;
      for (int m = 0; m < 60; ++m) {
        if (!c.minutes[static_cast<std::size_t>(m)]) continue;
        const LocalMs local = LocalMs{day.time_since_epoch()} + std::chrono::hours(h) + std::chrono::minutes(m);
        // earliest: a repeated local time runs the first time; a missing one maps to the jump itself.
        const TimePoint at =
            std::chrono::time_point_cast<std::chrono::milliseconds>(c.zone->to_sys(local, date::choose::earliest));
        if (at > after) return at;
      }
    }
  }
  return std::nullopt;
}

const std::string& CronSchedule::expression() const { return impl_->expression; }
const std::string& CronSchedule::time_zone() const { return impl_->zone_name; }

}  // namespace nurt::calendar
