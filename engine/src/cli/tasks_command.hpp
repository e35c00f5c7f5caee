#pragma once
// `nurt tasks …`: the human-task inbox from the command line (private to nurt_cli).
//
//   nurt tasks ls [--role R] [--user U] [--instance I] [--machine M] [--status S] [--after ID] [--limit N]
//   nurt tasks show ID
//   nurt tasks claim ID           (as --actor)
//   nurt tasks release ID         (as --actor)
//   nurt tasks complete ID --decision D [--data JSON] [--check ITEM]... [--key KEY]
//
// Exit status as RunCli: 0 done, 1 refused (not found, claimed by someone else, bad data…), 2 usage.

#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "nurt/engine/engine.hpp"

namespace nurt::cli {

struct TasksCommand {
  engine::Engine* engine = nullptr;
  std::string org;
  std::string actor;
  bool json = false;
  std::vector<std::string> positional;              // after "tasks": subcommand, then its arguments
  std::map<std::string, std::string> options;       // --role, --decision, --data, …
  std::vector<std::string> checks;                  // every --check, in order
  std::function<int(const Status&)> fail;           // prints an error the CLI's way; returns 1
  std::function<int(const std::string&)> usage;     // prints a usage error; returns 2
  std::function<int(const engine::Outcome&, const std::string& verb)> print_outcome;
};

// Usage text of the `tasks` commands, for the CLI's help.
const char* TasksUsage();

int RunTasksCommand(const TasksCommand& command, std::ostream& out);

}  // namespace nurt::cli
