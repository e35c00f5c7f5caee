#include "nurt/calendar/business_calendar.hpp"

#include <date/date.h>
#include <date/tz.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <set>

namespace nurt::calendar {
namespace {

using LocalMs = date::local_time<std::chrono::milliseconds>;

date::year_month_day ToYmd(const Date& d) {
  return date::year{d.year} / date::month{d.month} / date::day{d.day};
}

Date FromYmd(const date::year_month_day& ymd) {
  return Date{static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
              static_cast<unsigned>(ymd.day())};
}

Date Plus(const Date& d, int days) {
  return FromYmd(date::year_month_day{date::sys_days{ToYmd(d)} + date::days{days}});
}

// A century of days: no real calendar has that many days off in a row, so reaching it is a bug.
constexpr int kMaxDaysScanned = 36600;

}  // namespace

std::string Date::ToString() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", year, month, day);
  return buf;
}

Result<Date> ParseDate(const std::string& text) {
  int y = 0;
  unsigned m = 0, d = 0;
  char tail = 0;
  if (text.size() != 10 || std::sscanf(text.c_str(), "%4d-%2u-%2u%c", &y, &m, &d, &tail) != 3 ||
      text[4] != '-' || text[7] != '-') {
    return Status::InvalidArgument("'" + text + "' is not a date; write YYYY-MM-DD, e.g. 2026-05-04");
  }
  if (!ToYmd(Date{y, m, d}).ok()) {
    return Status::InvalidArgument("'" + text + "' is not a day of the calendar");
  }
  return Date{y, m, d};
}

Date EasterSunday(int year) {
  // The anonymous Gregorian algorithm (Meeus/Jones/Butcher).
  const int a = year % 19, b = year / 100, c = year % 100, d = b / 4, e = b % 4;
  const int f = (b + 8) / 25, g = (b - f + 1) / 3, h = (19 * a + b - d - g + 15) % 30;
  const int i = c / 4, k = c % 4, l = (32 + 2 * e + 2 * i - h - k) % 7;
  const int m = (a + 11 * h + 22 * l) / 451;
  const int month = (h + l - 7 * m + 114) / 31, day = (h + l - 7 * m + 114) % 31 + 1;
  return Date{year, static_cast<unsigned>(month), static_cast<unsigned>(day)};
}

std::vector<Holiday> PolishPublicHolidays(int year) {
  const Date easter = EasterSunday(year);
  std::vector<Holiday> out = {
      {{year, 1, 1}, "Nowy Rok"},
      {{year, 1, 6}, "Święto Trzech Króli"},
      {easter, "Wielkanoc"},
      {Plus(easter, 1), "Poniedziałek Wielkanocny"},
      {{year, 5, 1}, "Święto Pracy"},
      {{year, 5, 3}, "Święto Konstytucji 3 Maja"},
      {Plus(easter, 49), "Zielone Świątki"},
      {Plus(easter, 60), "Boże Ciało"},
      {{year, 8, 15}, "Wniebowzięcie Najświętszej Maryi Panny"},
      {{year, 11, 1}, "Wszystkich Świętych"},
      {{year, 11, 11}, "Narodowe Święto Niepodległości"},
      {{year, 12, 25}, "Boże Narodzenie (pierwszy dzień)"},
      {{year, 12, 26}, "Boże Narodzenie (drugi dzień)"},
  };
  if (year >= 2025) out.push_back({{year, 12, 24}, "Wigilia Bożego Narodzenia"});
  std::sort(out.begin(), out.end(), [](const Holiday& x, const Holiday& y) { return x.date < y.date; });
  return out;
}

struct BusinessCalendar::Impl {
  const date::time_zone* zone = nullptr;
  CalendarSpec spec;
  std::set<Date> extra;
  mutable std::mutex mu;
  mutable std::map<int, std::vector<Holiday>> holidays_by_year;  // filled on first use of a year

  const std::optional<WorkingHours>& HoursOn(const Date& d) const {
    const unsigned iso = date::weekday{date::sys_days{ToYmd(d)}}.iso_encoding();  // Monday = 1
    return spec.week[iso - 1];
  }

  std::string HolidayName(const Date& d) const {
    if (!spec.polish_holidays) return "";
    std::lock_guard<std::mutex> lock(mu);
    auto it = holidays_by_year.find(d.year);
    if (it == holidays_by_year.end()) it = holidays_by_year.emplace(d.year, PolishPublicHolidays(d.year)).first;
    for (const auto& h : it->second) {
      if (h.date == d) return h.name;
    }
    return "";
  }

  LocalMs ToLocal(TimePoint t) const { return zone->to_local(t); }
  TimePoint ToSys(LocalMs local) const {
    // A local time inside a DST gap (02:30 on the spring-forward night) has no instant; take the
    // moment the clocks jump, which is what a person there would call "then".
    return std::chrono::time_point_cast<std::chrono::milliseconds>(zone->to_sys(local, date::choose::earliest));
  }
  static Date DateOf(LocalMs local) {
    return FromYmd(date::year_month_day{std::chrono::floor<date::days>(local)});
  }
  static LocalMs Midnight(const Date& d) { return LocalMs{date::local_days{ToYmd(d)}.time_since_epoch()}; }
};

Result<BusinessCalendar> BusinessCalendar::Create(const CalendarSpec& spec) {
  auto impl = std::make_shared<Impl>();
  try {
    impl->zone = date::locate_zone(spec.time_zone);
  } catch (const std::exception&) {
    return Status::InvalidArgument("unknown time zone '" + spec.time_zone +
                                   "'; use an IANA name such as Europe/Warsaw");
  }
  bool any = false;
  static const char* kDays[] = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
  for (std::size_t i = 0; i < 7; ++i) {
    if (!spec.week[i]) continue;
    any = true;
    const WorkingHours& h = *spec.week[i];
    if (h.start < std::chrono::minutes(0) || h.end > std::chrono::hours(24) || h.start >= h.end) {
      return Status::InvalidArgument(std::string("working hours on ") + kDays[i] +
                                     " must start before they end, within one day");
    }
  }
  if (!any) return Status::InvalidArgument("a business calendar needs at least one working day a week");
  impl->spec = spec;
  impl->extra.insert(spec.extra_days_off.begin(), spec.extra_days_off.end());
  BusinessCalendar c;
  c.impl_ = std::move(impl);
  return c;
}

Date BusinessCalendar::LocalDate(TimePoint t) const { return Impl::DateOf(impl_->ToLocal(t)); }

std::string BusinessCalendar::DayOffReason(const Date& d) const {
  if (!impl_->HoursOn(d)) return "weekend";
  const std::string holiday = impl_->HolidayName(d);
  if (!holiday.empty()) return holiday;
  if (impl_->extra.count(d)) return "day off";
  return "";
}

bool BusinessCalendar::IsWorkingDay(const Date& d) const { return DayOffReason(d).empty(); }

TimePoint BusinessCalendar::AddWorkingDays(TimePoint from, int days) const {
  if (days <= 0) return from;
  const LocalMs local = impl_->ToLocal(from);
  const Date start = Impl::DateOf(local);
  const auto time_of_day = local - Impl::Midnight(start);
  Date d = start;
  for (int scanned = 0; days > 0 && scanned < kMaxDaysScanned; ++scanned) {
    d = Plus(d, 1);
    if (IsWorkingDay(d)) --days;
  }
  return impl_->ToSys(Impl::Midnight(d) + time_of_day);
}

TimePoint BusinessCalendar::SubtractWorkingDays(TimePoint from, int days) const {
  if (days <= 0) return from;
  const LocalMs local = impl_->ToLocal(from);
  const Date start = Impl::DateOf(local);
  const auto time_of_day = local - Impl::Midnight(start);
  Date d = start;
  for (int scanned = 0; days > 0 && scanned < kMaxDaysScanned; ++scanned) {
    d = Plus(d, -1);
    if (IsWorkingDay(d)) --days;
  }
  return impl_->ToSys(Impl::Midnight(d) + time_of_day);
}

TimePoint BusinessCalendar::StartOfDay(const Date& date) const { return impl_->ToSys(Impl::Midnight(date)); }

const std::string& BusinessCalendar::time_zone() const { return impl_->spec.time_zone; }

TimePoint BusinessCalendar::AddWorkingTime(TimePoint from, std::chrono::milliseconds duration) const {
  if (duration <= std::chrono::milliseconds(0)) return from;
  LocalMs cursor = impl_->ToLocal(from);
  Date d = Impl::DateOf(cursor);
  for (int scanned = 0; scanned < kMaxDaysScanned; ++scanned, d = Plus(d, 1)) {
    if (!IsWorkingDay(d)) continue;
    const WorkingHours& h = *impl_->HoursOn(d);
    const LocalMs open = Impl::Midnight(d) + h.start, close = Impl::Midnight(d) + h.end;
    if (cursor < open) cursor = open;
    if (cursor >= close) continue;
    const auto available = std::chrono::duration_cast<std::chrono::milliseconds>(close - cursor);
    if (duration <= available) return impl_->ToSys(cursor + duration);
    duration -= available;
    cursor = close;
  }
  return impl_->ToSys(cursor);
}

}  // namespace nurt::calendar
