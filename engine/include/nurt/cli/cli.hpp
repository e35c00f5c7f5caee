#pragma once
// The `nurt` command line. main() only forwards to RunCli so tests can drive every command in-process.

#include <iosfwd>
#include <map>
#include <string>
#include <vector>

namespace nurt::cli {

// Environment the CLI reads (injected so tests do not depend on the real environment).
struct CliEnvironment {
  std::string db;        // NURT_DB
  std::string org;       // NURT_ORG
  std::string path;      // NURT_PATH: ':'-separated folders with workflow YAML
  std::string actor;     // NURT_ACTOR
  std::string secret_file;  // NURT_SECRET_FILE: master secret for API keys ("" = "<db>.secret")
  // Every NURT_* variable, for `nurt serve` (its configuration takes environment overrides).
  std::map<std::string, std::string> nurt_variables;
  static CliEnvironment FromProcess();
};

// Runs one command. Returns the process exit status: 0 success, 1 the command failed (invalid
// workflow, refused event, not found, ...), 2 usage error.
int RunCli(const std::vector<std::string>& args, const CliEnvironment& env, std::ostream& out,
           std::ostream& err);

}  // namespace nurt::cli
