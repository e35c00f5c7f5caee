#pragma once
// Publishing every workflow found in folders (`workflows/`, `examples/`): what the CLI does before a
// command and the daemon does at start.
//
// Only YAML files whose top level says `kind: Machine` are machines; `kind: Rules` documents are loaded
// (and their diagnostics reported like a machine's) for the rules engine; other YAML (configs) is left
// alone. Thread-safety: as the Engine it is given.

#include <memory>
#include <string>
#include <vector>

#include "nurt/dsl/diagnostic.hpp"
#include "nurt/dsl/rules.hpp"
#include "nurt/engine/engine.hpp"
#include "nurt/env/file_system.hpp"

namespace nurt::engine {

struct FolderPublishReport {
  struct Refusal {
    std::string file, machine;
    Status status;  // e.g. AlreadyExists: the version was published with other content
  };
  std::vector<std::string> published;  // "name v3 (path)"
  std::vector<std::string> invalid;    // files that did not validate
  std::vector<dsl::Diagnostic> errors; // their error diagnostics
  std::vector<Refusal> refused;        // valid machines the store refused
  // Valid `kind: Rules` documents (invalid ones are in `invalid`/`errors`), for rules::RulesEngine.
  std::vector<std::shared_ptr<const dsl::RuleSet>> rule_sets;
};

// Loads every machine below `folders` (missing folders are skipped) and publishes it for `org`.
// Returns an error only when a folder cannot be read; invalid files and refused publications are
// reported for the caller to decide (the CLI warns, the daemon refuses to start).
Result<FolderPublishReport> PublishFolders(Engine* engine, const std::string& org,
                                           const std::vector<std::string>& folders, env::FileSystem* fs);

}  // namespace nurt::engine
