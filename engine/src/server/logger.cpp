#include "nurt/server/logger.hpp"

#include <algorithm>
#include <cctype>
#include <string>

#include "nurt/core/assert.hpp"
#include "nurt/core/time.hpp"

namespace nurt::server {

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

Result<LogLevel> ParseLogLevel(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (LogLevel level : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    if (lower == LogLevelName(level)) return level;
  }
  return Status::InvalidArgument("unknown log level '" + std::string(text) +
                                 "'; use one of debug, info, warn, error");
}

Logger::Logger(std::ostream* sink, LogLevel min, const env::Clock* clock)
    : sink_(sink), min_(min), clock_(clock) {
  NURT_ASSERT(sink_ != nullptr && clock_ != nullptr, "Logger needs a sink and a clock");
}

void Logger::Log(LogLevel level, std::string_view msg, nurt::Json fields) {
  if (!Enabled(level)) return;
  nurt::Json line = {{"ts", FormatIso8601(clock_->Now())}, {"level", LogLevelName(level)}, {"msg", msg}};
  if (fields.is_object()) {
    for (auto it = fields.begin(); it != fields.end(); ++it) {
      if (it.key() == "ts" || it.key() == "level" || it.key() == "msg") continue;
      line[it.key()] = std::move(it.value());
    }
  } else if (!fields.is_null()) {
    line["fields"] = std::move(fields);
  }
  // Replace invalid UTF-8 rather than throw: log fields may quote bytes a client sent.
  std::string text = line.dump(-1, ' ', false, nurt::Json::error_handler_t::replace);
  text.push_back('\n');
  std::lock_guard<std::mutex> lock(mu_);
  sink_->write(text.data(), static_cast<std::streamsize>(text.size()));
  sink_->flush();
}

}  // namespace nurt::server
