#pragma once
// Loading every `kind: Schedule` document found in workflow folders (`workflows/`, `examples/`): what
// the daemon does at start for each of its organisations. Other YAML (machines, rules, configs) is left
// alone. Thread-safety: pure apart from reading files through `fs`.

#include <memory>
#include <string>
#include <vector>

#include "nurt/core/result.hpp"
#include "nurt/dsl/diagnostic.hpp"
#include "nurt/dsl/schedule.hpp"
#include "nurt/env/file_system.hpp"

namespace nurt::schedule {

struct FolderSchedules {
  std::vector<std::shared_ptr<const dsl::ScheduleDefinition>> schedules;  // valid ones, by file path
  std::vector<std::string> invalid;      // files that did not validate
  std::vector<dsl::Diagnostic> errors;   // their error diagnostics, and duplicate names (rule duplicate-schedule)
};

// Loads every schedule below `folders` (missing folders are skipped). Returns an error only when a
// folder or file cannot be read; invalid files are reported for the caller to decide (the daemon
// refuses to start). Two files with the same schedule name: the second is invalid.
Result<FolderSchedules> LoadScheduleFolders(const std::vector<std::string>& folders, env::FileSystem* fs);

}  // namespace nurt::schedule
