#include "nurt/dsl/definition.hpp"

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
  if (event.size() < descriptor.size()) return false;
  if (event.compare(0, descriptor.size(), descriptor) != 0) return false;
  return event.size() == descriptor.size() || event[descriptor.size()] == '.';
}

}  // namespace nurt::dsl
