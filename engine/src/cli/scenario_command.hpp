#pragma once
// `nurt test PATH…` and `nurt simulate FILE` (private to nurt_cli): designers' scenario tests in virtual
// time (docs/scenarios.md).
//
//   nurt test PATH…        every scenario file given, or found under each folder (kind: Scenario), run on a
//                          fresh store; "ok"/"FAIL" per scenario, failures as file:line plus history
//   nurt simulate FILE     one scenario, printing its timeline (every step and event, in virtual time)
//
// Exit status: 0 every scenario passed, 1 one failed or does not load, 2 usage.

#include <ostream>
#include <string>
#include <vector>

namespace nurt::cli {

const char* ScenarioUsage();

int RunTestCommand(const std::vector<std::string>& paths, bool json, std::ostream& out, std::ostream& err);
int RunSimulateCommand(const std::vector<std::string>& paths, std::ostream& out, std::ostream& err);

}  // namespace nurt::cli
