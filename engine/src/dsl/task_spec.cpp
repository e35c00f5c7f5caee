// Human tasks in the DSL: the constant lists (roles, field types), the JSON forms a task is stored in,
// and `due:` durations.

#include <cctype>
#include <cstdint>
#include <string>

#include "nurt/dsl/definition.hpp"

namespace nurt::dsl {

const std::vector<std::string>& KnownRoles() {
  static const std::vector<std::string> kRoles = {"architect", "installer", "coordinator", "finance",
                                                  "admin"};
  return kRoles;
}

const std::vector<std::string>& TaskFieldTypes() {
  static const std::vector<std::string> kTypes = {"string", "number", "integer",
                                                  "boolean", "date",  "enum"};
  return kTypes;
}

Json TaskFieldSpec::ToJson() const {
  Json j{{"name", name}, {"type", type}, {"required", required}};
  if (!label.empty()) j["label"] = label;
  if (type == "enum") j["options"] = options;
  return j;
}

Json TaskSpec::FormJson() const {
  Json j = Json::array();
  for (const auto& f : form) j.push_back(f.ToJson());
  return j;
}

Json TaskSpec::ChecklistJson() const {
  Json j = Json::array();
  for (const auto& item : checklist) j.push_back(item);
  return j;
}

Json TaskSpec::DecisionsJson() const {
  Json j = Json::object();
  for (const auto& [decision, event] : decisions) j[decision] = event;
  return j;
}

Result<std::int64_t> ParseDurationMillis(const std::string& text) {
  const std::string hint =
      "; write an ISO-8601 duration such as P2D (2 days), PT4H (4 hours), P1DT12H or P1W";
  if (text.size() < 2 || text[0] != 'P') {
    return Status::InvalidArgument("'" + text + "' is not a duration" + hint);
  }
  std::int64_t total = 0;
  bool in_time = false;
  bool any = false;
  std::size_t i = 1;
  std::string last_units;
  while (i < text.size()) {
    if (text[i] == 'T') {
      if (in_time) return Status::InvalidArgument("'" + text + "' has 'T' twice" + hint);
      in_time = true;
      ++i;
      if (i == text.size()) {
        return Status::InvalidArgument("'" + text + "' ends after 'T' with no hours, minutes or seconds" +
                                       hint);
      }
      continue;
    }
    const std::size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (start == i || i == text.size()) {
      return Status::InvalidArgument("'" + text + "' is not a duration" + hint);
    }
    const std::string number = text.substr(start, i - start);
    const char unit = text[i++];
    if (number.size() > 12) return Status::InvalidArgument("'" + text + "' is too long a duration" + hint);
    const bool fraction = number.find('.') != std::string::npos;
    if (fraction && !(in_time && unit == 'S')) {
      return Status::InvalidArgument("'" + text + "': only seconds may have a fraction" + hint);
    }
    double value = 0;
    try {
      value = std::stod(number);
    } catch (const std::exception&) {
      return Status::InvalidArgument("'" + text + "' is not a duration" + hint);
    }
    std::int64_t unit_ms = 0;
    if (!in_time && unit == 'W') unit_ms = 7LL * 86400000;
    if (!in_time && unit == 'D') unit_ms = 86400000;
    if (in_time && unit == 'H') unit_ms = 3600000;
    if (in_time && unit == 'M') unit_ms = 60000;
    if (in_time && unit == 'S') unit_ms = 1000;
    if (!in_time && (unit == 'Y' || unit == 'M')) {
      return Status::InvalidArgument("'" + text +
                                     "' uses years or months, whose length varies; give days or weeks "
                                     "instead (P30D, P4W)");
    }
    if (unit_ms == 0) {
      return Status::InvalidArgument("'" + text + "' has an unknown unit '" + std::string(1, unit) + "'" +
                                     hint);
    }
    const std::string units = std::string(in_time ? "T" : "") + unit;
    const std::string order = "WDTHTMTS";
    if (!last_units.empty() && order.find(units) <= order.find(last_units)) {
      return Status::InvalidArgument("'" + text + "' repeats a unit or has them out of order" + hint);
    }
    last_units = units;
    total += static_cast<std::int64_t>(value * static_cast<double>(unit_ms));
    any = true;
  }
  if (!any) return Status::InvalidArgument("'" + text + "' gives no amount" + hint);
  return total;
}

}  // namespace nurt::dsl
