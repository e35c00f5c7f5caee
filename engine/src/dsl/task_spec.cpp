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


}  // namespace nurt::dsl
