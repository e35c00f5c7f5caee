#pragma once
// `kind: Schedule` documents (docs/schedules.md): a cron expression in a time zone that starts an
// instance of a machine or sends an event to one instance, with a policy for runs missed while the
// daemon was down.
//
//   apiVersion: nurt/v1
//   kind: Schedule
//   name: comarch-nightly-sync
//   schedule: "0 2 * * *"           # 5-field cron or @daily, @hourly, ...
//   time_zone: Europe/Warsaw        # default Europe/Warsaw
//   missed: run_once                # skip | run_once | run_all (default run_once)
//   start: {machine: comarch-sync, data: {full: false, day: "{{scheduledDate}}"}}
//
// `data` is literal JSON (numbers, booleans, lists, maps and text as written: no Lua, so a schedule
// needs no interpreter to fire); text may contain the placeholders {{scheduledFor}}, {{scheduledDate}},
// {{runId}} and {{name}}, replaced for each run. The loader returns every problem as a Diagnostic with
// its file:line:col, like the machine loader. Whether `start.machine` names a published machine is
// checked later, against the machines of the same folders (CheckScheduleMachines).
//
// Thread-safety: the functions are pure; a ScheduleDefinition is immutable once loaded.

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "nurt/calendar/cron_schedule.hpp"
#include "nurt/core/json.hpp"
#include "nurt/dsl/diagnostic.hpp"

namespace nurt::dsl {

// What to do with runs that were due more than `grace` ago (the daemon was down or stopped).
enum class MissedPolicy {
  kSkip,     // record them as skipped; run nothing late
  kRunOnce,  // run the latest one, record the older ones as skipped
  kRunAll,   // run each, oldest first (at most max_catch_up; the older ones are skipped with a warning)
};
std::string_view MissedPolicyName(MissedPolicy policy);  // "skip", "run_once", "run_all"

struct ScheduleDefinition {
  enum class Action { kStart, kEmit };

  std::string name;
  std::string description;
  std::string expression;                  // as written: "0 2 * * *", "@daily"
  std::string time_zone = "Europe/Warsaw";  // IANA name
  calendar::CronSchedule cron;             // `expression` parsed in `time_zone`
  MissedPolicy missed = MissedPolicy::kRunOnce;
  int max_catch_up = 100;                  // run_all: at most this many late runs per catch-up
  std::chrono::milliseconds grace{std::chrono::minutes(5)};  // later than this a run counts as missed
  bool enabled = true;

  Action action = Action::kStart;
  std::string machine;      // start: the machine to start
  std::string instance_id;  // emit: the instance that receives the event (`to`)
  std::string event;        // emit: the event's name
  Json data = Json::object();  // start data / event data, before placeholders are replaced

  std::string source_file;
  SourceLocation location;          // the document's first key
  SourceLocation machine_location;  // where start.machine is written
};

struct ScheduleLoadResult {
  std::shared_ptr<const ScheduleDefinition> schedule;  // null when diagnostics contain an error
  std::vector<Diagnostic> diagnostics;                 // sorted by line, then column
};

// True when the YAML text's top level says `kind: Schedule` (how nurt validate and the daemon route a
// file to this loader rather than the machine loader).
bool IsScheduleDocument(const std::string& text);

ScheduleLoadResult LoadScheduleText(const std::string& text, const std::string& file_name);
// File-system errors become a diagnostic at file:0:0.
ScheduleLoadResult LoadScheduleFile(const std::string& path);

// Error diagnostics (rule unknown-machine, at start.machine, with "did you mean") for schedules that
// start a machine not in `machines`.
std::vector<Diagnostic> CheckScheduleMachines(const std::vector<std::shared_ptr<const ScheduleDefinition>>& schedules,
                                              const std::vector<std::string>& machines);

// The placeholders `data` text may use.
const std::vector<std::string>& SchedulePlaceholders();

// `data` with every "{{placeholder}}" in its text (values and nested values, not keys) replaced by
// values[placeholder]. A placeholder missing from `values` is left as written.
Json ExpandSchedulePlaceholders(const Json& data, const std::map<std::string, std::string>& values);

}  // namespace nurt::dsl
