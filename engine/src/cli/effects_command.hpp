#pragma once
// `nurt effects …`: the retry queue and dead-letter queue of adapter effects, and an operator's actions
// on them (private to nurt_cli; docs/effects.md). Works on the store file like the other commands; a
// running daemon picks retried effects up at its next pass.
//
//   nurt effects [ls] [--status pending|dead|done] [--adapter A] [--instance I] [--limit N]
//   nurt effects dlq [--adapter A] [--instance I]      the dead-letter queue
//   nurt effects retry ID [--reason R]                 dead or pending -> due now
//   nurt effects skip ID --reason R                    pending -> dead
//   nurt effects delete ID [--reason R]                dead -> removed
//   nurt effects retry-all [--adapter A] [--instance I] [--reason R]
//
// Every action is audited (actor = --actor). Exit status as RunCli: 0 done, 1 refused, 2 usage.

#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "nurt/store/store.hpp"

namespace nurt::cli {

struct EffectsCommand {
  store::Store* store = nullptr;
  std::string org;
  std::string actor;
  bool json = false;
  std::vector<std::string> positional;          // after "effects": subcommand, then its arguments
  std::map<std::string, std::string> options;   // --status --adapter --instance --limit --reason
  std::function<int(const Status&)> fail;       // prints an error the CLI's way; returns 1
  std::function<int(const std::string&)> usage; // prints a usage error; returns 2
};

const char* EffectsUsage();

int RunEffectsCommand(const EffectsCommand& command, std::ostream& out);

}  // namespace nurt::cli
