#include "nurt/dsl/diagnostic.hpp"

namespace nurt::dsl {

std::string SourceLocation::ToString() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

std::string Diagnostic::ToString() const {
  return location.ToString() + (severity == Severity::kError ? ": error: " : ": warning: ") + message +
         " [" + rule_id + "]";
}

Json Diagnostic::ToJson() const {
  return Json{{"file", location.file},
              {"line", location.line},
              {"column", location.column},
              {"severity", severity == Severity::kError ? "error" : "warning"},
              {"rule", rule_id},
              {"message", message}};
}

bool HasErrors(const std::vector<Diagnostic>& diagnostics) {
  for (const auto& d : diagnostics) {
    if (d.severity == Severity::kError) return true;
  }
  return false;
}

}  // namespace nurt::dsl
