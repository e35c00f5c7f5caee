#include "nurt/dsl/definition.hpp"

#include <string_view>

namespace nurt::dsl {

StateIndex Definition::Find(const std::string& id) const {
  for (std::size_t i = 1; i < states.size(); ++i) {
    if (states[i].id == id) return static_cast<StateIndex>(i);
  }
  return kNoState;
}

std::vector<std::string> Definition::EventNames() const {
  std::vector<std::string> names;
  for (const auto& s : states) {
    for (const auto& t : s.transitions) {
      if (t.event.empty()) continue;
      bool seen = false;
      for (const auto& n : names) {
        if (n == t.event) {
          seen = true;
          break;
        }
      }
      if (!seen) names.push_back(t.event);
    }
  }
  return names;
}

bool EventMatches(const std::string& descriptor, const std::string& event) {
  if (descriptor.empty()) return false;
  if (descriptor == "*") return true;
  std::string_view d = descriptor;
  // SCXML 3.12.1: "payment.*" means the same as "payment".
  if (d.size() > 2 && d.substr(d.size() - 2) == ".*") d.remove_suffix(2);
  if (event.size() < d.size()) return false;
  if (event.compare(0, d.size(), d) != 0) return false;
  return event.size() == d.size() || event[d.size()] == '.';
}

}  // namespace nurt::dsl

namespace nurt::dsl {

std::string TimerEventName(const std::string& state_id, std::size_t index) {
  return "nurt.timer." + state_id + "." + std::to_string(index);
}

std::string TimerSpec::Describe() const {
  switch (kind) {
    case Kind::kAfter:
      return "after " + delay.text;
    case Kind::kAt:
      return "at " + (at ? at->source : std::string("?")) + (delay.text.empty() ? "" : " " + delay.text);
    case Kind::kSlaWarning:
      return "SLA warning after " + delay.text;
    case Kind::kSlaBreach:
      return "SLA target " + delay.text;
    case Kind::kSlaEscalation:
      return "SLA " + level + " after " + delay.text + (base_timer >= 0 ? " more" : "");
  }
  return "timer";
}

}  // namespace nurt::dsl
