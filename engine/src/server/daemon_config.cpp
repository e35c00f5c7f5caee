#include "nurt/server/daemon_config.hpp"

#include <cstdio>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <limits>
#include <optional>

#include "nurt/core/suggest.hpp"

namespace nurt::server {
namespace {

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

std::optional<std::int64_t> ParseInteger(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::optional<bool> ParseBool(std::string_view text) {
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  return std::nullopt;
}

std::vector<std::string> Split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(separator, start);
    if (end == std::string::npos) end = text.size();
    if (end > start) parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

class YamlReader {
 public:
  explicit YamlReader(std::string file) : file_(std::move(file)) {}

  Status At(const YAML::Node& node, const std::string& message) const {
    const YAML::Mark mark = node.Mark();
    return At(mark, message);
  }
  Status At(const YAML::Mark& mark, const std::string& message) const {
    if (mark.is_null()) return Status::InvalidArgument(file_ + ": " + message);
    return Status::InvalidArgument(file_ + ":" + std::to_string(mark.line + 1) + ":" +
                                   std::to_string(mark.column + 1) + ": " + message);
  }

  // Calls `on_key(key, value)` for each entry of a map; unknown keys are errors.
  Status ForEachKey(const YAML::Node& map, const std::string& where, const std::vector<std::string>& known,
                    const std::function<Status(const std::string&, const YAML::Node&)>& on_key) const {
    if (map.IsNull()) return Status::Ok();
    if (!map.IsMap()) return At(map, where + " must be a map with keys " + Join(known));
    for (auto it = map.begin(); it != map.end(); ++it) {
      std::string key = it->first.Scalar();
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        return At(it->first, "unknown key '" + key + "' in " + where + DidYouMean(key, known) +
                                 " (known keys: " + Join(known) + ")");
      }
      NURT_RETURN_IF_ERROR(on_key(key, it->second));
    }
    return Status::Ok();
  }

  Result<std::string> Text(const YAML::Node& node, const std::string& name) const {
    if (node.IsNull()) return std::string();
    if (!node.IsScalar()) return At(node, name + " must be text");
    return node.Scalar();
  }

  Result<std::int64_t> Integer(const YAML::Node& node, const std::string& name, std::int64_t min,
                               std::int64_t max) const {
    std::optional<std::int64_t> value = node.IsScalar() ? ParseInteger(node.Scalar()) : std::nullopt;
    if (!value) return At(node, name + " must be a whole number, got '" + Describe(node) + "'");
    if (*value < min || *value > max) {
      return At(node, name + " must be between " + std::to_string(min) + " and " + std::to_string(max) +
                          ", got " + std::to_string(*value));
    }
    return *value;
  }

  Result<bool> Boolean(const YAML::Node& node, const std::string& name) const {
    std::optional<bool> value = node.IsScalar() ? ParseBool(node.Scalar()) : std::nullopt;
    if (!value) return At(node, name + " must be true or false, got '" + Describe(node) + "'");
    return *value;
  }

  Result<std::chrono::milliseconds> Duration(const YAML::Node& node, const std::string& name) const {
    if (!node.IsScalar()) return At(node, name + " must be a duration such as 500ms, 30s, 5m or 1h");
    Result<std::chrono::milliseconds> value = ParseDuration(node.Scalar());
    if (!value.ok()) return At(node, name + ": " + value.status().message());
    return value;
  }

  Result<std::vector<std::string>> TextList(const YAML::Node& node, const std::string& name) const {
    std::vector<std::string> items;
    if (node.IsNull()) return items;
    if (!node.IsSequence()) return At(node, name + " must be a list of text, e.g. [a, b]");
    for (const YAML::Node& item : node) {
      if (!item.IsScalar()) return At(item, name + " must contain only text");
      items.push_back(item.Scalar());
    }
    return items;
  }

 private:
  static std::string Describe(const YAML::Node& node) {
    if (node.IsScalar()) return node.Scalar();
    if (node.IsMap()) return "a map";
    if (node.IsSequence()) return "a list";
    return "nothing";
  }
  std::string file_;
};

#define NURT_ASSIGN_FIELD(field, expr) \
  do {                                 \
    auto _r = (expr);                  \
    if (!_r.ok()) return _r.status();  \
    field = std::move(_r).value();     \
  } while (0)

// "08:00-16:00" -> working hours; "off" -> not a working day.
Result<std::optional<calendar::WorkingHours>> ParseHours(const YamlReader& r, const YAML::Node& n,
                                                         const std::string& name) {
  const std::string text = n.IsScalar() ? n.Scalar() : std::string();
  if (text == "off" || text == "false") return std::optional<calendar::WorkingHours>();
  int h1 = 0, m1 = 0, h2 = 0, m2 = 0;
  char tail = 0;
  if (std::sscanf(text.c_str(), "%d:%d-%d:%d%c", &h1, &m1, &h2, &m2, &tail) != 4 || h1 < 0 || h1 > 24 ||
      h2 < 0 || h2 > 24 || m1 < 0 || m1 > 59 || m2 < 0 || m2 > 59) {
    return r.At(n, name + " must be working hours like \"08:00-16:00\", or off");
  }
  calendar::WorkingHours h;
  h.start = std::chrono::minutes(h1 * 60 + m1);
  h.end = std::chrono::minutes(h2 * 60 + m2);
  return std::optional<calendar::WorkingHours>(h);
}

Result<calendar::CalendarSpec> ParseCalendar(const YamlReader& r, const YAML::Node& node, const std::string& where) {
  calendar::CalendarSpec spec;
  static const std::vector<std::string> kDays = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  Status st = r.ForEachKey(
      node, where, {"time_zone", "working_hours", "polish_holidays", "extra_days_off"},
      [&](const std::string& k, const YAML::Node& n) -> Status {
        if (k == "time_zone") NURT_ASSIGN_FIELD(spec.time_zone, r.Text(n, where + ".time_zone"));
        if (k == "polish_holidays") NURT_ASSIGN_FIELD(spec.polish_holidays, r.Boolean(n, where + "." + k));
        if (k == "extra_days_off") {
          std::vector<std::string> days;
          NURT_ASSIGN_FIELD(days, r.TextList(n, where + "." + k));
          std::size_t i = 0;
          for (const auto& d : days) {
            auto date = calendar::ParseDate(d);
            if (!date.ok()) return r.At(n[i], where + "." + k + ": " + date.status().message());
            spec.extra_days_off.push_back(*date);
            ++i;
          }
        }
        if (k == "working_hours") {
          return r.ForEachKey(n, where + ".working_hours", kDays,
                              [&](const std::string& day, const YAML::Node& h) -> Status {
                                const auto index = static_cast<std::size_t>(
                                    std::find(kDays.begin(), kDays.end(), day) - kDays.begin());
                                NURT_ASSIGN_FIELD(spec.week[index], ParseHours(r, h, where + ".working_hours." + day));
                                return Status::Ok();
                              });
        }
        return Status::Ok();
      });
  if (!st.ok()) return st;
  auto built = calendar::BusinessCalendar::Create(spec);
  if (!built.ok()) return r.At(node, where + ": " + built.status().message());
  return spec;
}

Status ApplyYaml(const YamlReader& r, const YAML::Node& root, DaemonConfig& c) {
  const std::vector<std::string> top = {"listen",  "threads",     "timeouts",    "limits", "store",
                                        "secret_file", "definitions", "log", "timers", "calendars"};
  return r.ForEachKey(root, "the configuration", top, [&](const std::string& key, const YAML::Node& v) -> Status {
    if (key == "listen") {
      return r.ForEachKey(v, "listen", {"address", "port"}, [&](const std::string& k, const YAML::Node& n) -> Status {
        if (k == "address") NURT_ASSIGN_FIELD(c.listen_address, r.Text(n, "listen.address"));
        if (k == "port") NURT_ASSIGN_FIELD(c.port, r.Integer(n, "listen.port", 0, 65535));
        return Status::Ok();
      });
    }
    if (key == "threads") NURT_ASSIGN_FIELD(c.threads, r.Integer(v, "threads", 1, 256));
    if (key == "timeouts") {
      return r.ForEachKey(v, "timeouts", {"request", "idle", "shutdown_grace"},
                          [&](const std::string& k, const YAML::Node& n) -> Status {
                            std::string name = "timeouts." + k;
                            if (k == "request") NURT_ASSIGN_FIELD(c.request_timeout, r.Duration(n, name));
                            if (k == "idle") NURT_ASSIGN_FIELD(c.idle_timeout, r.Duration(n, name));
                            if (k == "shutdown_grace") NURT_ASSIGN_FIELD(c.shutdown_grace, r.Duration(n, name));
                            return Status::Ok();
                          });
    }
    if (key == "limits") {
      return r.ForEachKey(v, "limits", {"max_body_bytes", "max_header_bytes", "rate_limiting"},
                          [&](const std::string& k, const YAML::Node& n) -> Status {
                            if (k == "max_body_bytes") {
                              NURT_ASSIGN_FIELD(c.max_body_bytes, r.Integer(n, "limits." + k, 1, 1LL << 40));
                            }
                            if (k == "max_header_bytes") {
                              NURT_ASSIGN_FIELD(c.max_header_bytes, r.Integer(n, "limits." + k, 1024, 1 << 20));
                            }
                            if (k == "rate_limiting") NURT_ASSIGN_FIELD(c.rate_limiting, r.Boolean(n, "limits." + k));
                            return Status::Ok();
                          });
    }
    if (key == "store") {
      return r.ForEachKey(v, "store", {"sqlite", "fsync"}, [&](const std::string& k, const YAML::Node& n) -> Status {
        if (k == "sqlite") NURT_ASSIGN_FIELD(c.sqlite_path, r.Text(n, "store.sqlite"));
        if (k == "fsync") NURT_ASSIGN_FIELD(c.fsync, r.Boolean(n, "store.fsync"));
        return Status::Ok();
      });
    }
    if (key == "secret_file") NURT_ASSIGN_FIELD(c.secret_file, r.Text(v, "secret_file"));
    if (key == "definitions") {
      return r.ForEachKey(v, "definitions", {"paths", "orgs"}, [&](const std::string& k, const YAML::Node& n) -> Status {
        if (k == "paths") NURT_ASSIGN_FIELD(c.definition_paths, r.TextList(n, "definitions.paths"));
        if (k == "orgs") NURT_ASSIGN_FIELD(c.definition_orgs, r.TextList(n, "definitions.orgs"));
        return Status::Ok();
      });
    }
    if (key == "timers") {
      return r.ForEachKey(v, "timers", {"refresh"}, [&](const std::string&, const YAML::Node& n) -> Status {
        NURT_ASSIGN_FIELD(c.timer_refresh, r.Duration(n, "timers.refresh"));
        return Status::Ok();
      });
    }
    if (key == "calendars") {
      if (!v.IsMap()) return r.At(v, "calendars must be a map of org -> calendar");
      for (auto it = v.begin(); it != v.end(); ++it) {
        const std::string org = it->first.Scalar();
        NURT_ASSIGN_FIELD(c.calendars[org], ParseCalendar(r, it->second, "calendars." + org));
      }
      return Status::Ok();
    }
    if (key == "log") {
      return r.ForEachKey(v, "log", {"level"}, [&](const std::string&, const YAML::Node& n) -> Status {
        Result<LogLevel> level = n.IsScalar() ? ParseLogLevel(n.Scalar())
                                              : Result<LogLevel>(Status::InvalidArgument("log.level must be text"));
        if (!level.ok()) return r.At(n, "log.level: " + level.status().message());
        c.log_level = *level;
        return Status::Ok();
      });
    }
    return Status::Ok();
  });
}

Status ApplyEnvironment(const std::map<std::string, std::string>& env, DaemonConfig& c) {
  auto get = [&](const char* name) -> const std::string* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : &it->second;
  };
  auto fail = [](const char* name, const std::string& message) {
    return Status::InvalidArgument(std::string("environment ") + name + ": " + message);
  };
  auto integer = [&](const char* name, std::int64_t min, std::int64_t max) -> Result<std::int64_t> {
    std::optional<std::int64_t> value = ParseInteger(*get(name));
    if (!value || *value < min || *value > max) {
      return fail(name, "must be a whole number between " + std::to_string(min) + " and " + std::to_string(max) +
                            ", got '" + *get(name) + "'");
    }
    return *value;
  };
  auto duration = [&](const char* name) -> Result<std::chrono::milliseconds> {
    Result<std::chrono::milliseconds> value = ParseDuration(*get(name));
    if (!value.ok()) return fail(name, value.status().message());
    return value;
  };
  if (get("NURT_LISTEN_ADDRESS")) c.listen_address = *get("NURT_LISTEN_ADDRESS");
  if (get("NURT_PORT")) NURT_ASSIGN_FIELD(c.port, integer("NURT_PORT", 0, 65535));
  if (get("NURT_THREADS")) NURT_ASSIGN_FIELD(c.threads, integer("NURT_THREADS", 1, 256));
  if (get("NURT_REQUEST_TIMEOUT")) NURT_ASSIGN_FIELD(c.request_timeout, duration("NURT_REQUEST_TIMEOUT"));
  if (get("NURT_IDLE_TIMEOUT")) NURT_ASSIGN_FIELD(c.idle_timeout, duration("NURT_IDLE_TIMEOUT"));
  if (get("NURT_SHUTDOWN_GRACE")) NURT_ASSIGN_FIELD(c.shutdown_grace, duration("NURT_SHUTDOWN_GRACE"));
  if (get("NURT_MAX_BODY_BYTES")) NURT_ASSIGN_FIELD(c.max_body_bytes, integer("NURT_MAX_BODY_BYTES", 1, 1LL << 40));
  if (get("NURT_DB")) c.sqlite_path = *get("NURT_DB");
  if (get("NURT_FSYNC")) {
    std::optional<bool> value = ParseBool(*get("NURT_FSYNC"));
    if (*get("NURT_FSYNC") == "1") value = true;
    if (*get("NURT_FSYNC") == "0") value = false;
    if (!value) return fail("NURT_FSYNC", "must be true, false, 1 or 0, got '" + *get("NURT_FSYNC") + "'");
    c.fsync = *value;
  }
  if (get("NURT_SECRET_FILE")) c.secret_file = *get("NURT_SECRET_FILE");
  if (get("NURT_DEFINITIONS")) c.definition_paths = Split(*get("NURT_DEFINITIONS"), ':');
  if (get("NURT_DEFINITION_ORGS")) c.definition_orgs = Split(*get("NURT_DEFINITION_ORGS"), ',');
  if (get("NURT_LOG_LEVEL")) {
    Result<LogLevel> level = ParseLogLevel(*get("NURT_LOG_LEVEL"));
    if (!level.ok()) return fail("NURT_LOG_LEVEL", level.status().message());
    c.log_level = *level;
  }
  return Status::Ok();
}

}  // namespace

std::string DaemonConfig::SecretFilePath() const {
  return secret_file.empty() ? sqlite_path + ".secret" : secret_file;
}

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  std::string_view unit = text.substr(digits);
  std::optional<std::int64_t> number = ParseInteger(text.substr(0, digits));
  std::int64_t scale = unit == "ms" ? 1 : unit == "s" ? 1000 : unit == "m" ? 60'000 : unit == "h" ? 3'600'000 : 0;
  if (!number || scale == 0) {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is not a duration; write a whole number and a unit: 500ms, 30s, 5m, 1h");
  }
  if (*number > std::numeric_limits<std::int64_t>::max() / scale) {
    return Status::InvalidArgument("duration '" + std::string(text) + "' is too large");
  }
  return std::chrono::milliseconds(*number * scale);
}

Result<DaemonConfig> ParseDaemonConfig(std::string_view yaml_text, std::string_view file_name,
                                       const std::map<std::string, std::string>& env) {
  DaemonConfig config;
  YamlReader reader{std::string(file_name)};
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    return reader.At(e.mark, "YAML syntax error: " + e.msg);
  }
  if (root.IsDefined() && !root.IsNull()) {
    if (!root.IsMap()) return reader.At(root, "the configuration must be a map (listen:, threads:, store:, ...)");
    try {
      NURT_RETURN_IF_ERROR(ApplyYaml(reader, root, config));
    } catch (const YAML::Exception& e) {
      return reader.At(e.mark, e.msg);
    }
  }
  NURT_RETURN_IF_ERROR(ApplyEnvironment(env, config));
  return config;
}

HttpServerOptions ToServerOptions(const DaemonConfig& config) {
  HttpServerOptions options;
  options.address = config.listen_address;
  options.port = config.port;
  options.threads = config.threads;
  options.request_timeout = config.request_timeout;
  options.idle_timeout = config.idle_timeout;
  options.shutdown_grace = config.shutdown_grace;
  options.max_body_bytes = config.max_body_bytes;
  options.max_header_bytes = config.max_header_bytes;
  return options;
}

}  // namespace nurt::server
