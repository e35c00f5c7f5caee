#pragma once
// nurt::scenario — designers' scenario tests in virtual time (`nurt test`, `nurt simulate`).
//
// A scenario file (`kind: Scenario`, docs/scenarios.md) starts instances, sends events as given actors,
// completes human tasks, advances virtual time (`advance: P3D` fires every timer on the way, each at its
// due time, in order) and asserts states, context fields, events, open tasks, timers and notifications.
// Each run uses a fresh store in a throwaway folder and the real engine (real SQLite, real Lua): a month of
// a process takes milliseconds and behaves exactly as it would in the daemon.
//
// Failures say where (the scenario's file:line) and why, followed by the history of the instance concerned.
// Thread-safety: independent runs may run on different threads.

#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "nurt/core/json.hpp"
#include "nurt/core/time.hpp"
#include "nurt/dsl/diagnostic.hpp"

namespace nurt::scenario {

struct Step {
  enum class Kind { kStart, kSend, kAdvance, kComplete, kExpect };
  Kind kind = Kind::kStart;
  Json args;                     // the step's map as written (scalars as JSON)
  dsl::SourceLocation location;  // where the step starts
  // For kExpect: where each asserted key is written ("lead.state" -> location), for precise failures.
  std::vector<std::pair<std::string, dsl::SourceLocation>> places;
};

struct Scenario {
  std::string name;
  std::string file;
  std::vector<std::string> machine_files;   // resolved paths
  std::vector<std::string> rule_files;      // kind: Rules documents evaluated in the scenario's world
  std::vector<std::string> schedule_files;  // kind: Schedule documents run on the virtual clock
  TimePoint start_at{};
  std::vector<Step> steps;
};

struct LoadResult {
  std::optional<Scenario> scenario;  // absent when diagnostics hold an error
  std::vector<dsl::Diagnostic> diagnostics;
};

// Reads one scenario file. `machines:`, `rules:` and `schedules:` paths are relative to the file; without
// `machines:` every `kind: Machine`, `kind: Rules` and `kind: Schedule` file in the scenario's folder is used.
LoadResult LoadScenarioFile(const std::string& path);

// True when the YAML file's top level says `kind: Scenario` (how `nurt test DIR` finds them).
bool IsScenarioFile(const std::string& path);

struct Failure {
  dsl::SourceLocation location;
  std::string message;
  std::string history;  // the instance's events and transitions, for the person reading the failure
};

struct RunResult {
  bool passed = false;
  std::vector<Failure> failures;  // the run stops at the first failing step (later steps depend on it)
  int steps_run = 0;
  int events = 0;                 // events committed during the run
  TimePoint ended_at{};           // virtual time at the end
};

struct RunOptions {
  // When set, the timeline is written here as it happens (`nurt simulate`): every step and every event
  // committed, with its virtual time, instance, actor and the states it led to.
  std::ostream* timeline = nullptr;
  std::string time_zone = "Europe/Warsaw";  // how the timeline shows times
};

RunResult RunScenario(const Scenario& scenario, const RunOptions& options = {});

}  // namespace nurt::scenario
