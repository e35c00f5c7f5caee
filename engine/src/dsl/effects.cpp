#include "nurt/dsl/effects.hpp"

#include <string>

#include "nurt/core/duration.hpp"
#include "nurt/core/suggest.hpp"

namespace nurt::dsl {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using std::chrono::hours;

const AdapterCatalog& BuiltinAdapters() {
  static const AdapterCatalog kCatalog = {
      {"http", Json::parse(R"({
        "type": "object",
        "required": ["url"],
        "additionalProperties": false,
        "properties": {
          "method": {"enum": ["GET", "POST", "PUT", "PATCH", "DELETE"]},
          "url": {"type": "string", "pattern": "^https?://"},
          "headers": {"type": "object", "additionalProperties": {"type": "string"}},
          "body": {},
          "timeoutMs": {"type": "integer", "minimum": 1, "maximum": 300000}
        }
      })")},
  };
  return kCatalog;
}

const std::vector<std::string>& RetryPolicyNames() {
  static const std::vector<std::string> kNames = {"immediate", "exponential", "manual"};
  return kNames;
}

Json RetryPolicy::ToJson() const {
  Json d = Json::array();
  for (milliseconds x : delays) d.push_back(FormatIsoDuration(x));
  return Json{{"name", name}, {"tries", tries}, {"delays", d}, {"jitter", jitter}};
}

Result<RetryPolicy> ParseRetryPolicy(const Json& spec) {
  RetryPolicy p;
  if (spec.is_string()) {
    const std::string name = spec.get<std::string>();
    p.name = name;
    if (name == "immediate") {
      p.tries = 3;
      p.delays = {seconds(5)};
    } else if (name == "exponential") {
      p.tries = 6;
      p.delays = {seconds(5), seconds(30), minutes(5), minutes(30), hours(2)};
      p.jitter = 0.2;
    } else if (name == "manual") {
      p.tries = 1;
    } else {
      return Status::InvalidArgument("unknown retry policy '" + name + "'" + DidYouMean(name, RetryPolicyNames()) +
                                     " (use immediate, exponential, manual or {tries, delays, jitter})");
    }
    return p;
  }
  if (!spec.is_object()) {
    return Status::InvalidArgument("a retry policy is a name (immediate, exponential, manual) or a map "
                                   "{tries, delays, jitter}, got " + spec.dump());
  }
  p.name = spec.value("name", std::string("custom"));
  for (const auto& [key, value] : spec.items()) {
    if (key == "tries") {
      if (!value.is_number_integer() || value.get<int>() < 1 || value.get<int>() > 100) {
        return Status::InvalidArgument("retry 'tries' must be a whole number 1..100, got " + value.dump());
      }
      p.tries = value.get<int>();
    } else if (key == "delays") {
      if (!value.is_array()) {
        return Status::InvalidArgument("retry 'delays' must be a list of ISO durations (e.g. [PT5S, PT1M])");
      }
      for (const Json& d : value) {
        if (!d.is_string()) return Status::InvalidArgument("retry delay " + d.dump() + " is not an ISO duration");
        auto ms = ParseIsoDuration(d.get<std::string>());
        if (!ms.ok()) return Status::InvalidArgument("retry delay: " + ms.status().message());
        if (ms->count() < 0) return Status::InvalidArgument("retry delay " + d.dump() + " is negative");
        p.delays.push_back(*ms);
      }
    } else if (key == "jitter") {
      if (!value.is_number() || value.get<double>() < 0 || value.get<double>() > 1) {
        return Status::InvalidArgument("retry 'jitter' must be a number 0..1 (a fraction of the delay), got " +
                                       value.dump());
      }
      p.jitter = value.get<double>();
    } else if (key != "name") {
      return Status::InvalidArgument("unknown retry key '" + key + "'" +
                                     DidYouMean(key, {"tries", "delays", "jitter"}) +
                                     " (allowed: tries, delays, jitter)");
    }
  }
  if (p.tries > 1 && p.delays.empty()) {
    return Status::InvalidArgument("a retry policy with " + std::to_string(p.tries) +
                                   " tries needs 'delays' (e.g. delays: [PT30S]; the last one repeats)");
  }
  return p;
}

}  // namespace nurt::dsl
