#pragma once
// nurt::server::Logger — structured logs, one JSON object per line.
//
//   {"ts":"2026-01-01T00:00:00.000Z","level":"info","msg":"request", ...fields}
//
// `ts` comes from the injected Clock (UTC, milliseconds). Fields keep their order after ts/level/msg; a
// field named ts, level or msg is ignored (the line's own values win) so a caller cannot forge them.
// Thread-safety: Log() may be called from any thread; each line is written and flushed whole under a
// mutex, so lines never interleave. The sink and clock must outlive the Logger.

#include <mutex>
#include <ostream>
#include <string_view>

#include "nurt/core/json.hpp"
#include "nurt/core/result.hpp"
#include "nurt/env/clock.hpp"

namespace nurt::server {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// "debug", "info", "warn", "error".
std::string_view LogLevelName(LogLevel level);
// Parses the names above (case-insensitive); InvalidArgument listing them otherwise.
Result<LogLevel> ParseLogLevel(std::string_view text);

class Logger {
 public:
  // REQUIRES: sink and clock non-null.
  Logger(std::ostream* sink, LogLevel min, const env::Clock* clock);

  bool Enabled(LogLevel level) const { return level >= min_; }
  // Writes one line when `level` >= the minimum. `fields` should be an object; anything else is logged
  // under the key "fields".
  void Log(LogLevel level, std::string_view msg, nurt::Json fields = nurt::Json::object());

 private:
  std::ostream* sink_;
  LogLevel min_;
  const env::Clock* clock_;
  std::mutex mu_;  // guards writes to *sink_
};

}  // namespace nurt::server
