#pragma once
// A problem found in a workflow file, with the place a designer must look at (uSCXML InterpreterIssue).

#include <string>
#include <vector>

#include "nurt/core/json.hpp"

namespace nurt::dsl {

struct SourceLocation {
  std::string file;  // as given to the loader (relative paths stay relative)
  int line = 0;      // 1-based; 0 = unknown
  int column = 0;    // 1-based; 0 = unknown
  std::string ToString() const;  // "file:line:col"
};

enum class Severity { kError, kWarning };

struct Diagnostic {
  SourceLocation location;
  Severity severity = Severity::kError;
  std::string rule_id;  // stable id, e.g. "unknown-key", "unknown-target" (listed in docs/dsl.md)
  std::string message;  // for the designer: what is wrong and what to do

  // "file:line:col: error: message [rule-id]" — the format of `nurt validate`.
  std::string ToString() const;
  Json ToJson() const;
};

bool HasErrors(const std::vector<Diagnostic>& diagnostics);

}  // namespace nurt::dsl
