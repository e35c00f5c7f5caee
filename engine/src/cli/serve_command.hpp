#pragma once
// `nurt serve [--config FILE]`: runs the daemon until SIGTERM or SIGINT, then shuts down gracefully and
// returns 0. Configuration: FILE (YAML, see docs/daemon.md) with NURT_* environment overrides.

#include <map>
#include <ostream>
#include <string>

namespace nurt::cli {

int RunServe(const std::string& config_path, const std::map<std::string, std::string>& environment,
             std::ostream& out, std::ostream& err);

}  // namespace nurt::cli
