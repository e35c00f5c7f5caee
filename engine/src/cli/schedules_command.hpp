#pragma once
// `nurt schedules …`: the `kind: Schedule` documents of the path folders with their state in the
// store, and each schedule's runs (private to nurt_cli). The daemon fires schedules; the CLI only
// shows them (docs/schedules.md).
//
//   nurt schedules [ls]                 every schedule: cron, zone, policy, action, last and next run
//   nurt schedules runs NAME [--limit N]  its runs, newest first
//
// Exit status as RunCli: 0 done, 1 refused (invalid schedule files, unknown schedule), 2 usage.

#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "nurt/engine/engine.hpp"
#include "nurt/store/store.hpp"

namespace nurt::cli {

struct SchedulesCommand {
  engine::Engine* engine = nullptr;
  store::Store* store = nullptr;
  std::string org;
  std::vector<std::string> folders;             // --path
  bool json = false;
  std::vector<std::string> positional;          // after "schedules": subcommand, then its arguments
  std::map<std::string, std::string> options;   // --limit
  std::function<int(const Status&)> fail;       // prints an error the CLI's way; returns 1
  std::function<int(const std::string&)> usage; // prints a usage error; returns 2
};

// Usage lines of the `schedules` commands, for the CLI's help.
const char* SchedulesUsage();

int RunSchedulesCommand(const SchedulesCommand& command, std::ostream& out);

}  // namespace nurt::cli
