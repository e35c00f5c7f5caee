#pragma once
// Time as nurt stores it: milliseconds since the Unix epoch, UTC.

#include <chrono>
#include <cstdint>
#include <string>

#include "nurt/core/result.hpp"

namespace nurt {

using TimePoint = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;

inline std::int64_t ToUnixMillis(TimePoint t) { return t.time_since_epoch().count(); }
inline TimePoint FromUnixMillis(std::int64_t ms) { return TimePoint(std::chrono::milliseconds(ms)); }

// "2026-11-23T09:35:44.123Z" (always UTC, always milliseconds).
std::string FormatIso8601(TimePoint t);

// Accepts "YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)".
Result<TimePoint> ParseIso8601(const std::string& text);

}  // namespace nurt
