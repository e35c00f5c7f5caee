#pragma once
// nurt::server::DaemonConfig — the configuration of `nurt serve`: a YAML file, then environment overrides.
//
//   listen: {address: 127.0.0.1, port: 8080}
//   threads: 4
//   timeouts: {request: 30s, idle: 60s, shutdown_grace: 20s}   # durations: 500ms, 30s, 5m, 1h
//   limits: {max_body_bytes: 1048576, max_header_bytes: 16384, rate_limiting: true}
//   store: {sqlite: ./nurt.db, fsync: true}
//   secret_file: ""        # "" = "<sqlite path>.secret"
//   definitions: {paths: [workflows, examples], orgs: [demo]}
//   log: {level: info}     # debug, info, warn, error
//   timers: {refresh: 30s}  # how often timers armed by other processes (the CLI) are picked up
//   calendars:             # business calendars per org, for P3WD timers and SLAs ("default": other orgs)
//     demo: {time_zone: Europe/Warsaw, polish_holidays: true, extra_days_off: [2026-11-10],
//            working_hours: {mon: "08:00-16:00", …, sat: off, sun: off}}
//
// Every key is optional (empty text = all defaults). Environment variables override the file:
//   NURT_LISTEN_ADDRESS NURT_PORT NURT_THREADS NURT_REQUEST_TIMEOUT NURT_IDLE_TIMEOUT NURT_SHUTDOWN_GRACE
//   NURT_MAX_BODY_BYTES NURT_DB NURT_FSYNC NURT_SECRET_FILE NURT_LOG_LEVEL
//   NURT_DEFINITIONS (paths separated by ':')  NURT_DEFINITION_ORGS (orgs separated by ',')
//
// Errors: InvalidArgument, "file:line:col: message" for the YAML (syntax, unknown key with a did-you-mean,
// wrong type, bad duration, value out of range) and "environment NURT_PORT: message" for variables.
// Thread-safety: pure functions.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "nurt/calendar/business_calendar.hpp"
#include "nurt/core/result.hpp"
#include "nurt/server/http_server.hpp"
#include "nurt/server/logger.hpp"

namespace nurt::server {

struct DaemonConfig {
  std::string listen_address = "127.0.0.1";
  std::uint16_t port = 8080;  // 0 = ephemeral
  int threads = 4;            // 1..256
  std::chrono::milliseconds request_timeout{30000};
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds shutdown_grace{20000};
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_header_bytes = 16 * 1024;
  // Per-key rate limits (tiers). Off only for trusted single-tenant set-ups and benchmarks: without it
  // no X-RateLimit-* headers are sent and no request is refused with 429.
  bool rate_limiting = true;
  std::string sqlite_path = "./nurt.db";
  bool fsync = true;
  std::string secret_file;  // "" = SecretFilePath() derives it from sqlite_path
  std::vector<std::string> definition_paths{"workflows", "examples"};
  std::vector<std::string> definition_orgs{"demo"};
  LogLevel log_level = LogLevel::kInfo;
  std::chrono::milliseconds timer_refresh{30000};
  // org -> its business calendar (validated: each one builds). "default" applies to orgs not listed;
  // without it they get Europe/Warsaw, Mon–Fri 8:00–16:00, Polish holidays.
  std::map<std::string, calendar::CalendarSpec> calendars;

  // secret_file, or "<sqlite_path>.secret" when it is empty.
  std::string SecretFilePath() const;
};

// `file_name` only labels messages. `env` holds the process environment (only NURT_* keys are read).
Result<DaemonConfig> ParseDaemonConfig(std::string_view yaml_text, std::string_view file_name,
                                       const std::map<std::string, std::string>& env);

// "500ms", "30s", "5m", "1h" (a non-negative integer and a unit) → milliseconds; InvalidArgument otherwise.
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);

HttpServerOptions ToServerOptions(const DaemonConfig& config);

}  // namespace nurt::server
