#pragma once
// ISO-8601 durations as designers write them in workflows and API bodies: P3D, PT4H, P1W, PT30M,
// P1DT12H, PT0.5S.
//
// Only fixed-length units are accepted (weeks, days, hours, minutes, seconds): a "month" or "year" has no
// fixed length, so P1M / P1Y are refused with a message suggesting days. Days are 24 hours of elapsed
// time here; calendar- and business-day arithmetic belongs to the calendar (time-zone aware) code.

#include <chrono>
#include <string>
#include <string_view>

#include "nurt/core/result.hpp"

namespace nurt {

// InvalidArgument ("'P3X' is not an ISO-8601 duration: ...") for anything else, including negative
// or empty durations ("P", "PT").
Result<std::chrono::milliseconds> ParseIsoDuration(std::string_view text);

// The shortest ISO-8601 text for a duration: 90 minutes -> "PT1H30M", 2 days -> "P2D", 0 -> "PT0S".
std::string FormatIsoDuration(std::chrono::milliseconds duration);

}  // namespace nurt
