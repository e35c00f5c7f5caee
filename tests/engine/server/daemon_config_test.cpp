#include "nurt/server/daemon_config.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace nurt::server {
namespace {

using namespace std::chrono_literals;

DaemonConfig Parse(std::string_view yaml, const std::map<std::string, std::string>& env = {}) {
  auto config = ParseDaemonConfig(yaml, "nurt.yaml", env);
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? config.value() : DaemonConfig{};
}

std::string ErrorOf(std::string_view yaml, const std::map<std::string, std::string>& env = {}) {
  auto config = ParseDaemonConfig(yaml, "nurt.yaml", env);
  EXPECT_FALSE(config.ok());
  if (config.ok()) return "";
  EXPECT_TRUE(config.status().IsInvalidArgument());
  return config.status().message();
}

TEST(DaemonConfigTest, EmptyTextGivesDefaults) {
  DaemonConfig config = Parse("");
  EXPECT_EQ(config.listen_address, "127.0.0.1");
  EXPECT_EQ(config.port, 8080);
  EXPECT_EQ(config.threads, 4);
  EXPECT_EQ(config.request_timeout, 30s);
  EXPECT_EQ(config.idle_timeout, 60s);
  EXPECT_EQ(config.shutdown_grace, 20s);
  EXPECT_EQ(config.max_body_bytes, 1048576u);
  EXPECT_EQ(config.sqlite_path, "./nurt.db");
  EXPECT_TRUE(config.fsync);
  EXPECT_EQ(config.SecretFilePath(), "./nurt.db.secret");
  EXPECT_EQ(config.definition_paths, (std::vector<std::string>{"workflows", "examples"}));
  EXPECT_EQ(config.definition_orgs, (std::vector<std::string>{"demo"}));
  EXPECT_EQ(config.log_level, LogLevel::kInfo);
}

TEST(DaemonConfigTest, ReadsEverySection) {
  DaemonConfig config = Parse(R"(
listen: {address: 0.0.0.0, port: 9090}
threads: 8
timeouts: {request: 500ms, idle: 5m, shutdown_grace: 1h}
limits: {max_body_bytes: 2048, max_header_bytes: 4096, rate_limiting: false}
store: {sqlite: /var/lib/nurt/nurt.db, fsync: false}
secret_file: /etc/nurt/secret
definitions: {paths: [a, b/c], orgs: [acme, beta]}
log: {level: debug}
)");
  EXPECT_EQ(config.listen_address, "0.0.0.0");
  EXPECT_EQ(config.port, 9090);
  EXPECT_EQ(config.threads, 8);
  EXPECT_EQ(config.request_timeout, 500ms);
  EXPECT_EQ(config.idle_timeout, 5min);
  EXPECT_EQ(config.shutdown_grace, 1h);
  EXPECT_EQ(config.max_body_bytes, 2048u);
  EXPECT_EQ(config.max_header_bytes, 4096u);
  EXPECT_FALSE(config.rate_limiting);
  EXPECT_EQ(config.sqlite_path, "/var/lib/nurt/nurt.db");
  EXPECT_FALSE(config.fsync);
  EXPECT_EQ(config.SecretFilePath(), "/etc/nurt/secret");
  EXPECT_EQ(config.definition_paths, (std::vector<std::string>{"a", "b/c"}));
  EXPECT_EQ(config.definition_orgs, (std::vector<std::string>{"acme", "beta"}));
  EXPECT_EQ(config.log_level, LogLevel::kDebug);

  HttpServerOptions options = ToServerOptions(config);
  EXPECT_EQ(options.address, "0.0.0.0");
  EXPECT_EQ(options.port, 9090);
  EXPECT_EQ(options.threads, 8);
  EXPECT_EQ(options.request_timeout, 500ms);
  EXPECT_EQ(options.idle_timeout, 5min);
  EXPECT_EQ(options.shutdown_grace, 1h);
  EXPECT_EQ(options.max_body_bytes, 2048u);
  EXPECT_EQ(options.max_header_bytes, 4096u);
}

TEST(DaemonConfigTest, ErrorsNameFileLineAndColumn) {
  EXPECT_EQ(ErrorOf("listen:\n  adress: 0.0.0.0\n"),
            "nurt.yaml:2:3: unknown key 'adress' in listen; did you mean 'address'? (known keys: address, port)");
  EXPECT_EQ(ErrorOf("threds: 2\n"),
            "nurt.yaml:1:1: unknown key 'threds' in the configuration; did you mean 'threads'? (known keys: "
            "listen, threads, timeouts, limits, store, secret_file, definitions, log, timers, calendars)");
  EXPECT_EQ(ErrorOf("listen: {port: 70000}\n"), "nurt.yaml:1:16: listen.port must be between 0 and 65535, got 70000");
  EXPECT_EQ(ErrorOf("threads: many\n"), "nurt.yaml:1:10: threads must be a whole number, got 'many'");
  EXPECT_EQ(ErrorOf("timeouts:\n  idle: 10 minutes\n"),
            "nurt.yaml:2:9: timeouts.idle: '10 minutes' is not a duration; write a whole number and a unit: "
            "500ms, 30s, 5m, 1h");
  EXPECT_EQ(ErrorOf("store: {fsync: maybe}\n"), "nurt.yaml:1:16: store.fsync must be true or false, got 'maybe'");
  EXPECT_EQ(ErrorOf("definitions: {paths: a}\n"),
            "nurt.yaml:1:22: definitions.paths must be a list of text, e.g. [a, b]");
  EXPECT_EQ(ErrorOf("log: {level: loud}\n"),
            "nurt.yaml:1:14: log.level: unknown log level 'loud'; use one of debug, info, warn, error");
  EXPECT_EQ(ErrorOf("listen: [1]\n"), "nurt.yaml:1:9: listen must be a map with keys address, port");
  EXPECT_EQ(ErrorOf("- a\n"), "nurt.yaml:1:1: the configuration must be a map (listen:, threads:, store:, ...)");
  EXPECT_EQ(ErrorOf("listen: {address: x\n").substr(0, 10), "nurt.yaml:");
  EXPECT_NE(ErrorOf("listen: {address: x\n").find("YAML syntax error"), std::string::npos);
}

TEST(DaemonConfigTest, EnvironmentOverridesTheFile) {
  DaemonConfig config = Parse("listen: {port: 9090}\nthreads: 2\n",
                              {{"NURT_LISTEN_ADDRESS", "::1"},
                               {"NURT_PORT", "0"},
                               {"NURT_THREADS", "16"},
                               {"NURT_REQUEST_TIMEOUT", "2s"},
                               {"NURT_IDLE_TIMEOUT", "3s"},
                               {"NURT_SHUTDOWN_GRACE", "4s"},
                               {"NURT_MAX_BODY_BYTES", "100"},
                               {"NURT_DB", "/tmp/x.db"},
                               {"NURT_FSYNC", "0"},
                               {"NURT_DEFINITIONS", "w1:w2"},
                               {"NURT_DEFINITION_ORGS", "o1,o2"},
                               {"NURT_LOG_LEVEL", "warn"},
                               {"HOME", "/root"}});
  EXPECT_EQ(config.listen_address, "::1");
  EXPECT_EQ(config.port, 0);
  EXPECT_EQ(config.threads, 16);
  EXPECT_EQ(config.request_timeout, 2s);
  EXPECT_EQ(config.idle_timeout, 3s);
  EXPECT_EQ(config.shutdown_grace, 4s);
  EXPECT_EQ(config.max_body_bytes, 100u);
  EXPECT_EQ(config.sqlite_path, "/tmp/x.db");
  EXPECT_FALSE(config.fsync);
  EXPECT_EQ(config.SecretFilePath(), "/tmp/x.db.secret");
  EXPECT_EQ(config.definition_paths, (std::vector<std::string>{"w1", "w2"}));
  EXPECT_EQ(config.definition_orgs, (std::vector<std::string>{"o1", "o2"}));
  EXPECT_EQ(config.log_level, LogLevel::kWarn);
  EXPECT_EQ(Parse("", {{"NURT_SECRET_FILE", "/s"}}).SecretFilePath(), "/s");
}

TEST(DaemonConfigTest, BadEnvironmentValuesNameTheVariable) {
  EXPECT_EQ(ErrorOf("", {{"NURT_PORT", "http"}}),
            "environment NURT_PORT: must be a whole number between 0 and 65535, got 'http'");
  EXPECT_EQ(ErrorOf("", {{"NURT_PORT", "65536"}}),
            "environment NURT_PORT: must be a whole number between 0 and 65535, got '65536'");
  EXPECT_EQ(ErrorOf("", {{"NURT_IDLE_TIMEOUT", "5"}}),
            "environment NURT_IDLE_TIMEOUT: '5' is not a duration; write a whole number and a unit: 500ms, 30s, "
            "5m, 1h");
  EXPECT_EQ(ErrorOf("", {{"NURT_FSYNC", "yes"}}), "environment NURT_FSYNC: must be true, false, 1 or 0, got 'yes'");
  EXPECT_EQ(ErrorOf("", {{"NURT_LOG_LEVEL", "x"}}),
            "environment NURT_LOG_LEVEL: unknown log level 'x'; use one of debug, info, warn, error");
}

TEST(DaemonConfigTest, CalendarsPerOrgWithWorkingHoursAndDaysOff) {
  DaemonConfig config = Parse(R"(
timers: {refresh: 5s}
calendars:
  acme:
    time_zone: Europe/Warsaw
    working_hours: {mon: "07:00-15:00", fri: off}
    extra_days_off: [2026-11-10]
)");
  EXPECT_EQ(config.timer_refresh, std::chrono::seconds(5));
  ASSERT_EQ(config.calendars.count("acme"), 1u);
  const auto& spec = config.calendars.at("acme");
  ASSERT_TRUE(spec.week[0].has_value());
  EXPECT_EQ(spec.week[0]->start, std::chrono::hours(7));
  EXPECT_FALSE(spec.week[4].has_value());
  ASSERT_EQ(spec.extra_days_off.size(), 1u);
  EXPECT_EQ(spec.extra_days_off[0].ToString(), "2026-11-10");
}

TEST(DaemonConfigTest, BadCalendarsAreRefusedWithTheirPlace) {
  EXPECT_EQ(ErrorOf("calendars:\n  acme: {time_zone: Europe/Warszawa}\n"),
            "nurt.yaml:2:9: calendars.acme: unknown time zone 'Europe/Warszawa'; use an IANA name such as "
            "Europe/Warsaw");
  EXPECT_EQ(ErrorOf("calendars:\n  acme: {working_hours: {mon: 8-16}}\n"),
            "nurt.yaml:2:31: calendars.acme.working_hours.mon must be working hours like \"08:00-16:00\", or off");
  EXPECT_EQ(ErrorOf("calendars:\n  acme: {extra_days_off: [2026-02-30]}\n"),
            "nurt.yaml:2:27: calendars.acme.extra_days_off: '2026-02-30' is not a day of the calendar");
}

TEST(DaemonConfigTest, Durations) {
  EXPECT_EQ(ParseDuration("0s").value(), 0ms);
  EXPECT_EQ(ParseDuration("250ms").value(), 250ms);
  EXPECT_EQ(ParseDuration("2h").value(), 2h);
  for (const char* bad : {"", "s", "1", "1.5s", "-1s", "1d", "1 s", "99999999999999999999h"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace nurt::server

namespace nurt::server {
namespace {

// schemas/nurt-serve-config.schema.json (editor completion, docs) and the parser agree: every key the
// schema lists is accepted, and its documented default is the parser's default.
TEST(DaemonConfigSchemaTest, SchemaKeysAndDefaultsMatchTheParser) {
  std::ifstream file(std::string(NURT_SOURCE_ROOT) + "/schemas/nurt-serve-config.schema.json");
  ASSERT_TRUE(file) << "schema file missing";
  nurt::Json schema = nurt::Json::parse(file);
  const DaemonConfig defaults;
  int leaves = 0;
  for (const auto& [section, section_schema] : schema["properties"].items()) {
    std::vector<std::pair<std::string, nurt::Json>> keys;  // yaml key path -> default
    if (section_schema.contains("properties")) {
      EXPECT_EQ(section_schema["additionalProperties"], false) << section;
      for (const auto& [key, key_schema] : section_schema["properties"].items()) {
        ASSERT_TRUE(key_schema.contains("default")) << section << "." << key;
        keys.emplace_back(section + ": {" + key + ": " + key_schema["default"].dump() + "}", key_schema["default"]);
      }
    } else {
      ASSERT_TRUE(section_schema.contains("default")) << section;
      keys.emplace_back(section + ": " + section_schema["default"].dump(), section_schema["default"]);
    }
    for (const auto& [yaml, value] : keys) {
      ++leaves;
      auto parsed = ParseDaemonConfig(yaml, "schema.yaml", {});
      ASSERT_TRUE(parsed.ok()) << yaml << ": " << parsed.status();
      const DaemonConfig& c = parsed.value();
      EXPECT_EQ(c.listen_address, defaults.listen_address) << yaml;
      EXPECT_EQ(c.port, defaults.port) << yaml;
      EXPECT_EQ(c.threads, defaults.threads) << yaml;
      EXPECT_EQ(c.request_timeout, defaults.request_timeout) << yaml;
      EXPECT_EQ(c.idle_timeout, defaults.idle_timeout) << yaml;
      EXPECT_EQ(c.shutdown_grace, defaults.shutdown_grace) << yaml;
      EXPECT_EQ(c.max_body_bytes, defaults.max_body_bytes) << yaml;
      EXPECT_EQ(c.max_header_bytes, defaults.max_header_bytes) << yaml;
      EXPECT_EQ(c.rate_limiting, defaults.rate_limiting) << yaml;
      EXPECT_EQ(c.sqlite_path, defaults.sqlite_path) << yaml;
      EXPECT_EQ(c.fsync, defaults.fsync) << yaml;
      EXPECT_EQ(c.secret_file, defaults.secret_file) << yaml;
      EXPECT_EQ(c.definition_paths, defaults.definition_paths) << yaml;
      EXPECT_EQ(c.definition_orgs, defaults.definition_orgs) << yaml;
      EXPECT_EQ(c.log_level, defaults.log_level) << yaml;
      EXPECT_EQ(c.timer_refresh, defaults.timer_refresh) << yaml;
      EXPECT_TRUE(c.calendars.empty()) << yaml;
    }
    auto unknown = ParseDaemonConfig(section_schema.contains("properties") ? section + ": {zzz_unknown: 1}"
                                                                           : "zzz_unknown: 1",
                                     "schema.yaml", {});
    EXPECT_FALSE(unknown.ok()) << section;
  }
  EXPECT_EQ(leaves, 17);  // every DaemonConfig field has its key
}

}  // namespace
}  // namespace nurt::server
