// The `kind: Schedule` loader: YAML text -> ScheduleDefinition + every diagnostic (docs/schedules.md).
//
// One pass over the top-level keys in document order, reporting every problem with its place; the
// cron expression and the time zone are checked with calendar::CronSchedule so the loader and the
// scheduler can never disagree about what is valid.

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "dsl/document_reader.hpp"
#include "dsl/loader_impl.hpp"
#include "dsl/file_io.hpp"
#include "dsl/model.hpp"
#include "dsl/yaml_walker.hpp"
#include "nurt/core/duration.hpp"
#include "nurt/core/suggest.hpp"
#include "nurt/dsl/schedule.hpp"

namespace nurt::dsl {
namespace {

using internal::Describe;
using internal::EventNamePattern;
using internal::Join;
using internal::PlaceholderPattern;
using internal::Quote;
using internal::Diagnostics;
using internal::IsText;
using internal::SourceText;
using internal::ToJson;

const std::vector<std::string> kTopKeys = {"apiVersion", "kind",  "name",         "description",
                                           "schedule",   "time_zone", "missed",   "max_catch_up",
                                           "grace",      "enabled", "start",      "emit"};
const std::vector<std::string> kStartKeys = {"machine", "data"};
const std::vector<std::string> kEmitKeys = {"to", "event", "data"};
const std::vector<std::string> kPolicies = {"skip", "run_once", "run_all"};
constexpr int kMaxCatchUpLimit = 1000;  // the scheduler scans at most 2000 due times at once

const std::regex& NamePattern() {
  static const std::regex re("[a-z][a-z0-9_.-]*");
  return re;
}



using internal::DocumentReader;
using internal::Entry;

class ScheduleLoader : public DocumentReader {
 public:
  ScheduleLoader(const std::string& text, const std::string& file)
      : DocumentReader(text, file), text_(text), file_(file) {}

  ScheduleLoadResult Run();

 private:
  void ParseTop(const YAML::Node& root);
  void ParseStart(const Entry& e);
  void ParseEmit(const Entry& e);
  void ParseData(const Entry& e, const std::string& where);
  void CheckPlaceholders(const YAML::Node& node);
  void CheckCron(const Entry* schedule, const Entry* zone);

  const std::string& text_;
  const std::string file_;
  ScheduleDefinition def_;
};

void ScheduleLoader::ParseTop(const YAML::Node& root) {
  def_.location = root.IsDefined() && !root.IsNull() ? At(root) : source_.At(1, 1);
  if (!root.IsMap()) {
    if (!root.IsDefined() || root.IsNull()) {
      diag_.Error(source_.At(1, 1), "wrong-type",
                  "the file is empty; a schedule is a map with apiVersion: nurt/v1, kind: Schedule, name, "
                  "schedule and start or emit");
    } else {
      WrongType(At(root), "a schedule file", "a map (apiVersion, kind, name, schedule, start/emit, …)", root);
    }
    return;
  }
  std::set<std::string> present;
  const Entry* schedule_entry = nullptr;
  const Entry* zone_entry = nullptr;
  const Entry* start_entry = nullptr;
  const Entry* emit_entry = nullptr;
  const std::vector<Entry> entries = Entries(root);
  for (const Entry& e : entries) {
    present.insert(e.key);
    if (e.key == "apiVersion") {
      if (!IsText(e.value) || e.value.Scalar() != "nurt/v1") {
        diag_.Error(ValueAt(e), "bad-value",
                    "apiVersion " + (e.value.IsScalar() ? Quote(e.value.Scalar()) : Describe(e.value)) +
                        " is not supported; write apiVersion: nurt/v1");
      }
    } else if (e.key == "kind") {
      if (!IsText(e.value) || e.value.Scalar() != "Schedule") {
        diag_.Error(ValueAt(e), "bad-value",
                    "kind " + (e.value.IsScalar() ? Quote(e.value.Scalar()) : Describe(e.value)) +
                        " is not a schedule; this loader reads kind: Schedule");
      }
    } else if (e.key == "name") {
      std::string name;
      if (ReadText(e, "name", &name)) {
        if (!std::regex_match(name, NamePattern())) {
          diag_.Error(ValueAt(e), "bad-value",
                      "schedule name " + Quote(name) +
                          " must start with a lower-case letter and use only a-z, 0-9, '_', '.' and '-'");
        }
        def_.name = name;
      }
    } else if (e.key == "description") {
      ReadText(e, "description", &def_.description);
    } else if (e.key == "schedule") {
      if (ReadText(e, "schedule", &def_.expression)) schedule_entry = &e;
    } else if (e.key == "time_zone") {
      if (ReadText(e, "time_zone", &def_.time_zone)) zone_entry = &e;
    } else if (e.key == "missed") {
      std::string policy;
      if (ReadText(e, "missed", &policy)) {
        if (policy == "skip") def_.missed = MissedPolicy::kSkip;
        else if (policy == "run_once") def_.missed = MissedPolicy::kRunOnce;
        else if (policy == "run_all") def_.missed = MissedPolicy::kRunAll;
        else {
          diag_.Error(ValueAt(e), "bad-value",
                      "missed " + Quote(policy) + " is not a policy" + DidYouMean(policy, kPolicies) +
                          "; write one of: " + Join(kPolicies));
        }
      }
    } else if (e.key == "max_catch_up") {
      const Json v = e.value.IsScalar() ? ToJson(e.value) : Json();
      if (!v.is_number_integer()) {
        WrongType(ValueAt(e), "max_catch_up", "a whole number", e.value);
      } else if (v.get<std::int64_t>() < 1 || v.get<std::int64_t>() > kMaxCatchUpLimit) {
        diag_.Error(ValueAt(e), "bad-value",
                    "max_catch_up must be from 1 to " + std::to_string(kMaxCatchUpLimit) + ", not " + v.dump());
      } else {
        def_.max_catch_up = v.get<int>();
      }
    } else if (e.key == "grace") {
      std::string text;
      if (ReadText(e, "grace", &text)) {
        auto d = ParseIsoDuration(text);
        if (!d.ok()) {
          diag_.Error(ValueAt(e), "bad-value", "grace: " + d.status().message());
        } else if (d->count() < 0) {
          diag_.Error(ValueAt(e), "bad-value", "grace must not be negative");
        } else {
          def_.grace = *d;
        }
      }
    } else if (e.key == "enabled") {
      if (!e.value.IsScalar() || !ToJson(e.value).is_boolean()) {
        WrongType(ValueAt(e), "enabled", "true or false", e.value);
      } else {
        def_.enabled = ToJson(e.value).get<bool>();
      }
    } else if (e.key == "start") {
      start_entry = &e;
      ParseStart(e);
    } else if (e.key == "emit") {
      emit_entry = &e;
      ParseEmit(e);
    } else {
      UnknownKey(e, "the schedule", kTopKeys);
    }
  }
  for (const char* required : {"apiVersion", "kind", "name", "schedule"}) {
    if (present.count(required)) continue;
    std::string what;
    if (std::string(required) == "apiVersion") what = "add apiVersion: nurt/v1";
    if (std::string(required) == "kind") what = "add kind: Schedule";
    if (std::string(required) == "name") what = "add name: <schedule name>, e.g. name: comarch-nightly-sync";
    if (std::string(required) == "schedule") what = "add schedule: \"0 2 * * *\" (every day at 2:00)";
    diag_.Error(def_.location, "missing-key", std::string("the schedule has no '") + required + "' (required); " + what);
  }
  if (start_entry && emit_entry) {
    diag_.Error(emit_entry->key_at, "start-or-emit",
                "a schedule either starts an instance or emits an event, not both: keep 'start' (line " +
                    std::to_string(start_entry->key_at.line) + ") or 'emit'");
  } else if (!start_entry && !emit_entry) {
    diag_.Error(def_.location, "start-or-emit",
                "the schedule does nothing: add start: {machine: <name>} or emit: {to: <instance id>, event: <name>}");
  }
  if (schedule_entry) CheckCron(schedule_entry, zone_entry);
}

void ScheduleLoader::CheckCron(const Entry* schedule, const Entry* zone) {
  std::string zone_name = def_.time_zone;
  if (zone) {
    auto probe = calendar::CronSchedule::Parse("0 0 * * *", zone_name);
    if (!probe.ok()) {
      diag_.Error(ValueAt(*zone), "bad-time-zone", probe.status().message());
      zone_name = "UTC";  // still check the expression itself
    }
  }
  auto cron = calendar::CronSchedule::Parse(def_.expression, zone_name);
  if (!cron.ok()) {
    diag_.Error(ValueAt(*schedule), "bad-cron", cron.status().message());
    return;
  }
  def_.cron = *cron;
  // Next() looks five years ahead; from any fixed day that finds every expression that ever runs.
  if (!cron->Next(FromUnixMillis(1'767'225'600'000)).has_value()) {
    diag_.Error(ValueAt(*schedule), "bad-cron",
                "cron '" + def_.expression + "' never runs (e.g. the 30th of February); check the day and month");
  }
}

void ScheduleLoader::ParseStart(const Entry& e) {
  def_.action = ScheduleDefinition::Action::kStart;
  if (!e.value.IsMap()) {
    WrongType(ValueAt(e), "start", "a map {machine: <name>, data: {…}}", e.value);
    return;
  }
  bool has_machine = false;
  for (const Entry& x : Entries(e.value)) {
    if (x.key == "machine") {
      has_machine = true;
      if (ReadText(x, "start.machine", &def_.machine)) {
        def_.machine_location = ValueAt(x);
        if (!std::regex_match(def_.machine, NamePattern())) {
          diag_.Error(ValueAt(x), "bad-value", "start.machine " + Quote(def_.machine) + " is not a machine name");
        }
      }
    } else if (x.key == "data") {
      ParseData(x, "start.data");
    } else {
      UnknownKey(x, "'start'", kStartKeys);
    }
  }
  if (!has_machine) diag_.Error(e.key_at, "missing-key", "'start' has no 'machine': add the machine to start");
}

void ScheduleLoader::ParseEmit(const Entry& e) {
  def_.action = ScheduleDefinition::Action::kEmit;
  if (!e.value.IsMap()) {
    WrongType(ValueAt(e), "emit", "a map {to: <instance id>, event: <name>, data: {…}}", e.value);
    return;
  }
  bool has_to = false, has_event = false;
  for (const Entry& x : Entries(e.value)) {
    if (x.key == "to") {
      has_to = true;
      if (ReadText(x, "emit.to", &def_.instance_id) && def_.instance_id.empty()) {
        diag_.Error(ValueAt(x), "bad-value", "emit.to is empty; write the id of the instance that gets the event");
      }
    } else if (x.key == "event") {
      has_event = true;
      if (ReadText(x, "emit.event", &def_.event) && !std::regex_match(def_.event, EventNamePattern())) {
        diag_.Error(ValueAt(x), "bad-value",
                    "event name " + Quote(def_.event) + " must be dot-separated words (e.g. sync.requested)");
      }
    } else if (x.key == "data") {
      ParseData(x, "emit.data");
    } else {
      UnknownKey(x, "'emit'", kEmitKeys);
    }
  }
  if (!has_to) diag_.Error(e.key_at, "missing-key", "'emit' has no 'to': add the id of the instance that gets the event");
  if (!has_event) diag_.Error(e.key_at, "missing-key", "'emit' has no 'event': add the event's name");
}

void ScheduleLoader::ParseData(const Entry& e, const std::string& where) {
  if (!e.value.IsMap()) {
    WrongType(ValueAt(e), where, "a map of field -> value", e.value);
    return;
  }
  for (auto it = e.value.begin(); it != e.value.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == "schedule") {
      diag_.Error(At(it->first), "bad-value",
                  where + " must not set 'schedule': the scheduler adds {\"schedule\": {name, scheduledFor, runId}} "
                          "to every run's data; rename the field");
    }
  }
  CheckPlaceholders(e.value);
  def_.data = ToJson(e.value);
}

void ScheduleLoader::CheckPlaceholders(const YAML::Node& node) {
  if (node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it) CheckPlaceholders(it->second);
  } else if (node.IsSequence()) {
    for (const auto& item : node) CheckPlaceholders(item);
  } else if (IsText(node)) {
    const std::string& text = node.Scalar();
    const auto& known = SchedulePlaceholders();
    for (auto it = std::sregex_iterator(text.begin(), text.end(), PlaceholderPattern()); it != std::sregex_iterator();
         ++it) {
      const std::string name = (*it)[1].str();
      if (std::find(known.begin(), known.end(), name) != known.end()) continue;
      const std::string hint = DidYouMean(name, known);
      diag_.Error(internal::TextStart(source_, node), "unknown-placeholder",
                  "unknown placeholder {{" + name + "}}" +
                      (hint.empty() ? "; a schedule's data may use: {{" + Join(known) + "}}" : hint));
    }
  }
}

ScheduleLoadResult ScheduleLoader::Run() {
  def_.source_file = file_;
  const auto root = ParseSingleDocument(text_, "a file holds one schedule");
  if (!root) return ScheduleLoadResult{nullptr, TakeSortedDiagnostics()};
  ReadDocument(*root, [this](const YAML::Node& r) { ParseTop(r); });
  ScheduleLoadResult result;
  result.diagnostics = TakeSortedDiagnostics();
  if (!HasErrors(result.diagnostics)) result.schedule = std::make_shared<const ScheduleDefinition>(std::move(def_));
  return result;
}

}  // namespace

std::string_view MissedPolicyName(MissedPolicy policy) {
  switch (policy) {
    case MissedPolicy::kSkip:
      return "skip";
    case MissedPolicy::kRunOnce:
      return "run_once";
    case MissedPolicy::kRunAll:
      return "run_all";
  }
  return "run_once";
}

bool IsScheduleDocument(const std::string& text) {
  static const std::regex kind(R"((^|\n)kind:[ \t]*["']?Schedule["']?[ \t]*(#.*)?(\r?\n|$))");
  return std::regex_search(text, kind);
}

ScheduleLoadResult LoadScheduleText(const std::string& text, const std::string& file_name) {
  ScheduleLoader loader(text, file_name);
  return loader.Run();
}

ScheduleLoadResult LoadScheduleFile(const std::string& path) {
  auto text = internal::ReadRegularFile(path);
  if (!text) {
    ScheduleLoadResult result;
    result.diagnostics.push_back(Diagnostic{SourceLocation{path, 0, 0}, Severity::kError, "unreadable-file",
                                            "cannot read " + path +
                                                ": it does not exist, is not a regular file or is not readable"});
    return result;
  }
  return LoadScheduleText(*text, path);
}

std::vector<Diagnostic> CheckScheduleMachines(const std::vector<std::shared_ptr<const ScheduleDefinition>>& schedules,
                                              const std::vector<std::string>& machines) {
  std::vector<Diagnostic> out;
  for (const auto& s : schedules) {
    if (s->action != ScheduleDefinition::Action::kStart) continue;
    if (std::find(machines.begin(), machines.end(), s->machine) != machines.end()) continue;
    const std::string hint = DidYouMean(s->machine, machines);
    out.push_back(Diagnostic{s->machine_location, Severity::kError, "unknown-machine",
                             "schedule '" + s->name + "' starts machine '" + s->machine +
                                 "', which is not published" +
                                 (hint.empty() ? "; the machines are: " + Join(machines) : hint)});
  }
  return out;
}

const std::vector<std::string>& SchedulePlaceholders() {
  static const std::vector<std::string> kNames = {"scheduledFor", "scheduledDate", "runId", "name"};
  return kNames;
}

Json ExpandSchedulePlaceholders(const Json& data, const std::map<std::string, std::string>& values) {
  if (data.is_object()) {
    Json out = Json::object();
    for (const auto& [k, v] : data.items()) out[k] = ExpandSchedulePlaceholders(v, values);
    return out;
  }
  if (data.is_array()) {
    Json out = Json::array();
    for (const auto& v : data) out.push_back(ExpandSchedulePlaceholders(v, values));
    return out;
  }
  if (!data.is_string()) return data;
  const std::string text = data.get<std::string>();
  std::string out;
  auto last = text.cbegin();
  for (auto it = std::sregex_iterator(text.begin(), text.end(), PlaceholderPattern()); it != std::sregex_iterator();
       ++it) {
    const auto& m = *it;
    out.append(last, m[0].first);
    auto found = values.find(m[1].str());
    out += found != values.end() ? found->second : m[0].str();
    last = m[0].second;
  }
  out.append(last, text.cend());
  return out;
}

}  // namespace nurt::dsl
