#include "nurt/core/duration.hpp"

#include <cmath>
#include <cstdint>

namespace nurt {
namespace {

Status Bad(std::string_view text, const std::string& why) {
  return Status::InvalidArgument("'" + std::string(text) + "' is not an ISO-8601 duration: " + why +
                                 " (examples: P2D, PT4H, P1DT12H, PT30M, P1W)");
}

}  // namespace

Result<std::chrono::milliseconds> ParseIsoDuration(std::string_view text) {
  if (text.size() < 3 || text[0] != 'P') return Bad(text, "it must start with P and name at least one amount");
  bool in_time = false;
  bool any = false;
  double total_ms = 0;
  // Units must come in this order; `rank` rejects "PT1S2H" and repeated units.
  int last_rank = -1;
  std::size_t i = 1;
  while (i < text.size()) {
    if (text[i] == 'T') {
      if (in_time) return Bad(text, "T appears twice");
      in_time = true;
      ++i;
      if (i == text.size()) return Bad(text, "T must be followed by hours, minutes or seconds");
      continue;
    }
    std::size_t j = i;
    while (j < text.size() && ((text[j] >= '0' && text[j] <= '9') || text[j] == '.' || text[j] == ',')) ++j;
    if (j == i) return Bad(text, std::string("expected a number before '") + text[i] + "'");
    if (j == text.size()) return Bad(text, "the last number has no unit");
    std::string number(text.substr(i, j - i));
    for (char& c : number) c = c == ',' ? '.' : c;
    double value = 0;
    try {
      std::size_t used = 0;
      value = std::stod(number, &used);
      if (used != number.size()) return Bad(text, "'" + number + "' is not a number");
    } catch (const std::exception&) {
      return Bad(text, "'" + number + "' is not a number");
    }
    const char unit = text[j];
    int rank = 0;
    double ms_per_unit = 0;
    if (!in_time) {
      if (unit == 'Y') return Bad(text, "years have no fixed length; write days (P365D)");
      if (unit == 'M') return Bad(text, "months have no fixed length; write days (P30D) (minutes are PT…M)");
      if (unit == 'W') rank = 0, ms_per_unit = 7 * 86400e3;
      else if (unit == 'D') rank = 1, ms_per_unit = 86400e3;
      else return Bad(text, std::string("unknown date unit '") + unit + "' (W or D; hours and less go after T)");
    } else {
      if (unit == 'H') rank = 2, ms_per_unit = 3600e3;
      else if (unit == 'M') rank = 3, ms_per_unit = 60e3;
      else if (unit == 'S') rank = 4, ms_per_unit = 1e3;
      else return Bad(text, std::string("unknown time unit '") + unit + "' (H, M or S)");
    }
    if (rank <= last_rank) return Bad(text, "units must appear once each, largest first");
    if (number.find('.') != std::string::npos && unit != 'S') {
      return Bad(text, "only seconds may have a fraction");
    }
    last_rank = rank;
    total_ms += value * ms_per_unit;
    any = true;
    i = j + 1;
  }
  if (!any) return Bad(text, "no amount given");
  if (total_ms > 100.0 * 365 * 86400e3) return Bad(text, "longer than 100 years");
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(total_ms)));
}

std::string FormatIsoDuration(std::chrono::milliseconds duration) {
  std::int64_t ms = duration.count();
  if (ms <= 0) return "PT0S";
  std::string out = "P";
  const std::int64_t days = ms / 86400000;
  ms %= 86400000;
  if (days > 0) out += std::to_string(days) + "D";
  if (ms == 0) return out;
  out += "T";
  const std::int64_t h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60, frac = ms % 1000;
  if (h > 0) out += std::to_string(h) + "H";
  if (m > 0) out += std::to_string(m) + "M";
  if (s > 0 || frac > 0) {
    out += std::to_string(s);
    if (frac > 0) {
      char buf[8];
      std::snprintf(buf, sizeof buf, ".%03lld", static_cast<long long>(frac));
      std::string f(buf);
      while (f.back() == '0') f.pop_back();
      out += f;
    }
    out += "S";
  }
  return out;
}

}  // namespace nurt
