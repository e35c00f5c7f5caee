#include "cli/schedules_command.hpp"

#include <exception>

#include "nurt/core/json.hpp"
#include "nurt/env/file_system.hpp"
#include "nurt/schedule/schedule_folders.hpp"
#include "nurt/schedule/scheduler.hpp"

namespace nurt::cli {
namespace {

std::string Opt(const SchedulesCommand& c, const std::string& name, const std::string& def = "") {
  auto it = c.options.find(name);
  return it == c.options.end() ? def : it->second;
}

std::string Action(const dsl::ScheduleDefinition& d) {
  if (d.action == dsl::ScheduleDefinition::Action::kStart) return "start " + d.machine;
  return "emit " + d.event + " to " + d.instance_id;
}

int List(const SchedulesCommand& c, std::ostream& out) {
  if (c.positional.size() > 1) return c.usage("schedules ls takes no arguments");
  auto loaded = schedule::LoadScheduleFolders(c.folders, env::LocalFileSystem());
  if (!loaded.ok()) return c.fail(loaded.status());
  if (!loaded->errors.empty()) {
    std::string msg = "schedule files do not validate (run: nurt validate FILE):";
    for (const auto& d : loaded->errors) msg += "\n  " + d.ToString();
    return c.fail(Status::InvalidArgument(msg));
  }
  schedule::SchedulerOptions so;
  so.engine = c.engine;
  so.store = c.store;
  schedule::Scheduler scheduler(so);
  scheduler.SetSchedules(c.org, loaded->schedules);
  auto views = scheduler.List(c.org);
  if (!views.ok()) return c.fail(views.status());
  Json items = Json::array();
  for (const auto& v : *views) {
    const dsl::ScheduleDefinition& d = *v.definition;
    const std::string last = v.state ? FormatIso8601(v.state->last_scheduled_for) : "";
    const std::string next = v.next_run ? FormatIso8601(*v.next_run) : "";
    if (c.json) {
      items.push_back(Json{{"name", d.name}, {"schedule", d.expression}, {"timeZone", d.time_zone},
                           {"missed", std::string(dsl::MissedPolicyName(d.missed))}, {"enabled", d.enabled},
                           {"action", Action(d)}, {"lastScheduledFor", last.empty() ? Json(nullptr) : Json(last)},
                           {"nextRunAt", next.empty() ? Json(nullptr) : Json(next)}, {"source", d.source_file}});
      continue;
    }
    out << d.name << "  \"" << d.expression << "\" " << d.time_zone << "  " << dsl::MissedPolicyName(d.missed) << "  "
        << Action(d) << "  " << (d.enabled ? "next " + (next.empty() ? std::string("never") : next) : "disabled")
        << (last.empty() ? "  (not seen by the daemon yet)" : "  counted from " + last) << "\n";
  }
  if (c.json) {
    out << Json{{"items", items}}.dump(2) << "\n";
  } else {
    out << views->size() << (views->size() == 1 ? " schedule" : " schedules") << "\n";
  }
  return 0;
}

int Runs(const SchedulesCommand& c, std::ostream& out) {
  if (c.positional.size() != 2) return c.usage("name one schedule: nurt schedules runs NAME");
  const std::string& name = c.positional[1];
  int limit = 20;
  try {
    std::size_t used = 0;
    limit = std::stoi(Opt(c, "--limit", "20"), &used);
    if (used != Opt(c, "--limit", "20").size() || limit < 1 || limit > 1000) limit = 0;
  } catch (const std::exception&) {
    limit = 0;
  }
  if (limit == 0) return c.usage("--limit is a whole number from 1 to 1000");
  auto runs = c.store->ListScheduleRuns(c.org, name, std::nullopt, limit);
  if (!runs.ok()) return c.fail(runs.status());
  if (runs->empty()) {
    auto state = c.store->GetScheduleState(c.org, name);
    if (!state.ok()) return c.fail(state.status());
    if (!state->has_value()) {
      return c.fail(Status::NotFound("schedule '" + name + "' has never been seen by the daemon in org '" + c.org +
                                     "' (nurt schedules ls lists the schedules of the path folders)"));
    }
  }
  Json items = Json::array();
  for (const auto& r : *runs) {
    if (c.json) {
      items.push_back(Json{{"scheduledFor", FormatIso8601(r.scheduled_for)}, {"startedAt", FormatIso8601(r.started_at)},
                           {"lateMs", r.lateness_ms}, {"outcome", r.outcome}, {"instanceId", r.instance_id},
                           {"eventSequence", r.event_sequence}, {"error", r.error}});
      continue;
    }
    out << FormatIso8601(r.scheduled_for) << "  " << r.outcome;
    if (!r.instance_id.empty()) out << "  " << r.instance_id << " (event #" << r.event_sequence << ")";
    out << "  late " << r.lateness_ms << " ms";
    if (!r.error.empty()) out << "  " << r.error;
    out << "\n";
  }
  if (c.json) {
    out << Json{{"items", items}}.dump(2) << "\n";
  } else {
    out << runs->size() << (runs->size() == 1 ? " run" : " runs") << " (newest first)\n";
  }
  return 0;
}

}  // namespace

const char* SchedulesUsage() {
  return "  schedules [ls]                        schedules of the path folders, their last and next run\n"
         "  schedules runs NAME [--limit N]       a schedule's runs, newest first (the daemon fires them)\n";
}

int RunSchedulesCommand(const SchedulesCommand& c, std::ostream& out) {
  const std::string sub = c.positional.empty() ? "ls" : c.positional[0];
  if (sub == "ls") return List(c, out);
  if (sub == "runs") return Runs(c, out);
  return c.usage("unknown schedules command '" + sub + "'; use ls or runs NAME");
}

}  // namespace nurt::cli
