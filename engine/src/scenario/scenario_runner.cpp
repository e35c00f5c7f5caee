// Running a scenario (docs/scenarios.md): a fresh SQLite store in a throwaway folder, the real engine and
// timer service on a virtual clock, the scenario's machines published, then each step in order.

#include <date/tz.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <sstream>

#include "nurt/core/duration.hpp"
#include "nurt/dsl/loader.hpp"
#include "nurt/engine/engine.hpp"
#include "nurt/engine/timer_service.hpp"
#include "nurt/env/file_system.hpp"
#include "nurt/dsl/rules.hpp"
#include "nurt/dsl/schedule.hpp"
#include "nurt/notify/template.hpp"
#include "nurt/rules/rules_engine.hpp"
#include "nurt/schedule/scheduler.hpp"
#include "nurt/scenario/scenario.hpp"
#include "nurt/store/store.hpp"

namespace nurt::scenario {
namespace {


constexpr const char* kOrg = "scenario";
constexpr const char* kDefaultActor = "scenario";

class VirtualClock final : public env::Clock {
 public:
  explicit VirtualClock(TimePoint start) : ms_(ToUnixMillis(start)) {}
  TimePoint Now() const override { return FromUnixMillis(ms_.load()); }
  void Set(TimePoint t) { ms_ = std::max(ms_.load(), ToUnixMillis(t)); }

 private:
  std::atomic<std::int64_t> ms_;
};

// A folder that exists for the run and is removed after it.
class ScratchDir {
 public:
  ScratchDir() {
    auto made = env::LocalFileSystem()->MakeScratchDirectory("nurt-scenario-");
    if (made.ok()) {
      path_ = *made;
    } else {
      error_ = made.status().message();
    }
  }
  ~ScratchDir() {
    if (!path_.empty()) env::LocalFileSystem()->RemoveTree(path_);
  }
  const std::string& path() const { return path_; }
  const std::string& error() const { return error_; }

 private:
  std::string path_;
  std::string error_;
};

std::string Text(const Json& j) { return j.is_string() ? j.get<std::string>() : j.dump(); }

// `expected` is contained in `actual`: every key of an expected object matches, arrays and scalars are
// equal (numbers by value, so 1 matches 1.0).
bool Contains(const Json& actual, const Json& expected) {
  if (expected.is_object()) {
    if (!actual.is_object()) return false;
    for (auto it = expected.begin(); it != expected.end(); ++it) {
      if (!actual.contains(it.key()) || !Contains(actual[it.key()], it.value())) return false;
    }
    return true;
  }
  if (expected.is_number() && actual.is_number()) return expected.get<double>() == actual.get<double>();
  if (expected.is_array() && actual.is_array()) {
    if (expected.size() != actual.size()) return false;
    for (std::size_t i = 0; i < expected.size(); ++i) {
      if (!Contains(actual[i], expected[i])) return false;
    }
    return true;
  }
  return expected == actual;
}

std::vector<std::string> Strings(const Json& j) {
  std::vector<std::string> out;
  if (j.is_string()) out.push_back(j.get<std::string>());
  if (j.is_array()) {
    for (const auto& x : j) out.push_back(Text(x));
  }
  return out;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out.empty() ? "(none)" : out;
}

class Runner {
 public:
  Runner(const Scenario& sc, const RunOptions& options)
      : sc_(sc), options_(options), clock_(sc.start_at) {}

  RunResult Run() {
    RunResult result;
    if (auto f = Setup()) {
      result.failures.push_back(*f);
      return result;
    }
    Timeline("scenario " + sc_.name + " (" + sc_.file + ")");
    for (const Step& step : sc_.steps) {
      ++result.steps_run;
      if (auto f = RunStep(step)) {
        result.failures.push_back(*f);
        break;
      }
      PrintNewEvents();
    }
    result.passed = result.failures.empty();
    result.events = events_;
    result.ended_at = clock_.Now();
    return result;
  }

 private:
  std::optional<Failure> Fail(const dsl::SourceLocation& at, const std::string& message,
                              const std::string& alias = "") {
    Failure f;
    f.location = at;
    f.message = message;
    if (!alias.empty() && aliases_.count(alias)) f.history = History(aliases_[alias]);
    return f;
  }

  std::optional<Failure> Setup() {
    const dsl::SourceLocation top{sc_.file, 1, 1};
    if (dir_.path().empty()) return Fail(top, "no scratch folder for the scenario's store: " + dir_.error());
    store::SqliteOptions so;
    so.path = dir_.path() + "/scenario.db";
    so.fsync_on_commit = false;  // a throwaway store: durability is not what a scenario checks
    auto st = store::NewSqliteStore(so);
    if (!st.ok()) return Fail(top, st.status().ToString());
    store_ = std::move(st).value();
    timers_ = std::make_unique<engine::TimerService>(store_.get(), &clock_);
    engine::EngineOptions eo;
    eo.store = store_.get();
    eo.clock = &clock_;
    eo.timer_listener = timers_.get();
    auto e = engine::NewEngine(eo);
    if (!e.ok()) return Fail(top, e.status().ToString());
    engine_ = std::move(e).value();
    timers_->Attach(engine_.get());
    if (sc_.machine_files.empty()) {
      return Fail(top, "no machine to test: list them under 'machines:' or put the scenario next to them");
    }
    for (const auto& file : sc_.machine_files) {
      auto loaded = dsl::LoadMachineFile(file);
      if (!loaded.definition) {
        std::string why;
        for (const auto& d : loaded.diagnostics) {
          if (d.severity == dsl::Severity::kError) why += "\n  " + d.ToString();
        }
        return Fail(top, "machine file " + file + " does not validate:" + why);
      }
      Status published = engine_->Publish(kOrg, *loaded.definition);
      if (!published.ok()) return Fail(top, published.ToString());
    }
    std::vector<std::shared_ptr<const dsl::RuleSet>> rule_sets;
    for (const auto& file : sc_.rule_files) {
      auto loaded = dsl::LoadRulesFile(file);
      if (!loaded.rules) return Fail(top, "rules file " + file + " does not validate:" + Errors(loaded.diagnostics));
      rule_sets.push_back(loaded.rules);
    }
    if (!rule_sets.empty()) {
      rules::RulesEngineOptions ro;
      ro.store = store_.get();
      ro.clock = &clock_;
      auto r = rules::NewRulesEngine(ro);
      if (!r.ok()) return Fail(top, r.status().ToString());
      rules_ = std::move(r).value();
      if (Status st = rules_->SetRules(kOrg, rule_sets); !st.ok()) return Fail(top, st.ToString());
    }
    std::vector<std::shared_ptr<const dsl::ScheduleDefinition>> schedules;
    for (const auto& file : sc_.schedule_files) {
      auto loaded = dsl::LoadScheduleFile(file);
      if (!loaded.schedule) {
        return Fail(top, "schedule file " + file + " does not validate:" + Errors(loaded.diagnostics));
      }
      schedules.push_back(loaded.schedule);
    }
    if (!schedules.empty()) {
      schedule::SchedulerOptions so2;
      so2.engine = engine_.get();
      so2.store = store_.get();
      so2.clock = &clock_;
      scheduler_ = std::make_unique<schedule::Scheduler>(so2);
      scheduler_->SetSchedules(kOrg, schedules);
      if (auto first = scheduler_->RunDue(); !first.ok()) return Fail(top, first.status().ToString());
    }
    return std::nullopt;
  }

  static std::string Errors(const std::vector<dsl::Diagnostic>& diagnostics) {
    std::string why;
    for (const auto& d : diagnostics) {
      if (d.severity == dsl::Severity::kError) why += "\n  " + d.ToString();
    }
    return why;
  }

  // The earliest moment something is due: a timer or a scheduled run.
  std::optional<TimePoint> NextDue() const {
    std::optional<TimePoint> next = timers_->NextDue();
    if (scheduler_) {
      auto s = scheduler_->NextDue();
      if (s && (!next || *s < *next)) next = s;
    }
    return next;
  }

  std::string Actor(const Json& args) const { return args.value("actor", std::string(kDefaultActor)); }

  // After each step, at the current virtual time: engine-internal sends and spawns, timers and scheduled
  // runs due now, and the rules over the events committed so far, until nothing moves.
  void Settle() {
    for (int round = 0; round < 100; ++round) {
      bool moved = false;
      auto delivered = engine_->DeliverInternalEffects(1000);
      moved = moved || (delivered.ok() && *delivered > 0);
      moved = timers_->FireDue() > 0 || moved;
      if (scheduler_) {
        auto ran = scheduler_->RunDue();
        moved = (ran.ok() && !ran->runs.empty()) || moved;
      }
      if (rules_) {
        auto pass = rules_->RunOnce(10000);
        moved = (pass.ok() && pass->totals.fired > 0) || moved;
      }
      if (!moved) return;
    }
  }

  std::optional<Failure> CheckError(const Step& step, const Status& status, const std::string& alias) {
    const std::string expected = step.args.value("expect_error", "");
    if (status.ok()) {
      if (expected.empty()) return std::nullopt;
      return Fail(step.location, "expected an error containing '" + expected + "', but it succeeded", alias);
    }
    if (!expected.empty() && status.ToString().find(expected) != std::string::npos) return std::nullopt;
    return Fail(step.location,
                (expected.empty() ? "" : "expected an error containing '" + expected + "', got: ") +
                    status.ToString(),
                alias);
  }

  std::optional<Failure> RunStep(const Step& step) {
    const Json& a = step.args;
    switch (step.kind) {
      case Step::Kind::kStart: {
        const std::string machine = a.value("machine", "");
        const std::string alias = a.value("as", machine);
        if (aliases_.count(alias)) {
          return Fail(step.location, "an instance named '" + alias + "' is already started; give this one 'as:'");
        }
        engine::StartRequest req;
        req.org_id = kOrg;
        req.machine = machine;
        req.version = a.value("version", 0);
        req.data = a.value("data", Json::object());
        req.instance_id = alias;
        req.actor = Actor(a);
        Timeline("start " + machine + " as " + alias + " by " + req.actor);
        auto r = engine_->Start(req);
        if (!r.ok()) return Fail(step.location, "start of '" + machine + "' failed: " + r.status().ToString());
        aliases_[alias] = r->instance_id;
        Settle();
        return std::nullopt;
      }
      case Step::Kind::kSend: {
        const std::string alias = a.value("to", "");
        auto id = Instance(alias, step.location);
        if (!id.ok()) return Fail(step.location, id.status().message());
        engine::EventRequest req;
        req.org_id = kOrg;
        req.instance_id = *id;
        req.event = a.value("event", "");
        req.data = a.value("data", Json::object());
        req.actor = Actor(a);
        Timeline("send " + req.event + " to " + alias + " by " + req.actor);
        auto r = engine_->Accept(req);
        if (auto f = CheckError(step, r.status(), alias)) return f;
        Settle();
        return std::nullopt;
      }
      case Step::Kind::kAdvance: {
        const std::string text = Text(a);
        TimePoint target;
        if (auto d = ParseIsoDuration(text); d.ok()) {
          target = clock_.Now() + *d;
        } else {
          target = ParseIso8601(text).value();
        }
        Timeline("advance " + text + " to " + Format(target));
        // Every timer due on the way fires at its own due time, in order.
        for (int guard = 0; guard < 1'000'000; ++guard) {
          auto next = NextDue();
          if (!next || *next > target) break;
          clock_.Set(*next);
          Settle();
          PrintNewEvents();
        }
        clock_.Set(target);
        Settle();
        return std::nullopt;
      }
      case Step::Kind::kComplete: {
        const std::string alias = a.value("instance", "");
        auto id = Instance(alias, step.location);
        if (!id.ok()) return Fail(step.location, id.status().message());
        store::TaskFilter filter;
        filter.instance_id = *id;
        filter.only_active = true;
        auto tasks = engine_->ListTasks(kOrg, filter);
        if (!tasks.ok()) return Fail(step.location, tasks.status().ToString(), alias);
        const std::string wanted = a.value("task", "");
        std::vector<store::TaskRecord> matching;
        for (const auto& t : *tasks) {
          if (wanted.empty() || t.title == wanted || t.state == wanted) matching.push_back(t);
        }
        if (matching.size() != 1) {
          std::vector<std::string> titles;
          for (const auto& t : *tasks) titles.push_back("'" + t.title + "' (state " + t.state + ")");
          return Fail(step.location,
                      std::string(matching.empty() ? "no open task" : "several open tasks") + " of '" + alias + "'" +
                          (wanted.empty() ? "" : " match '" + wanted + "'") + "; open: " + Join(titles) +
                          (matching.size() > 1 ? " (name one with task: TITLE)" : ""),
                      alias);
        }
        engine::CompleteTaskRequest req;
        req.org_id = kOrg;
        req.task_id = matching.front().id;
        req.decision = a.value("decision", "");
        req.data = a.value("data", Json::object());
        for (const auto& item : a.value("checklist", Json::array())) req.checklist_done.push_back(Text(item));
        req.actor = Actor(a);
        Timeline("complete '" + matching.front().title + "' of " + alias + " with " + req.decision + " by " +
                 req.actor);
        auto r = engine_->CompleteTask(req);
        if (auto f = CheckError(step, r.status(), alias)) return f;
        Settle();
        return std::nullopt;
      }
      case Step::Kind::kExpect:
        return Expect(step);
    }
    return std::nullopt;
  }

  dsl::SourceLocation Place(const Step& step, const std::string& key) const {
    for (const auto& [k, at] : step.places) {
      if (k == key) return at;
    }
    return step.location;
  }

  std::optional<Failure> Expect(const Step& step) {
    for (auto it = step.args.begin(); it != step.args.end(); ++it) {
      const std::string alias = it.key();
      if (alias == "notifications") {
        if (auto f = ExpectNotifications(it.value(), Place(step, alias))) return f;
        continue;
      }
      auto id = Instance(alias, Place(step, alias));
      if (!id.ok()) return Fail(Place(step, alias), id.status().message());
      auto view = engine_->Show(kOrg, *id);
      if (!view.ok()) return Fail(Place(step, alias), view.status().ToString(), alias);
      const store::InstanceRecord& rec = view->record;
      const Json& want = it.value();
      for (auto w = want.begin(); w != want.end(); ++w) {
        const dsl::SourceLocation at = Place(step, alias + "." + w.key());
        const std::string who = "'" + alias + "'";
        if (w.key() == "state") {
          const Json config = rec.snapshot.value("configuration", Json::array());
          if (w.value().is_string()) {
            const bool active = std::find(config.begin(), config.end(), w.value()) != config.end();
            if (!active) {
              return Fail(at, who + " is not in state " + Text(w.value()) + "; it is in " + Join(rec.state), alias);
            }
          } else if (Strings(w.value()) != rec.state) {
            return Fail(at, who + " is in " + Join(rec.state) + ", expected " + Join(Strings(w.value())), alias);
          }
        } else if (w.key() == "status") {
          if (rec.run_status != Text(w.value())) {
            return Fail(at, who + " is " + rec.run_status + ", expected " + Text(w.value()), alias);
          }
        } else if (w.key() == "context") {
          const Json ctx = rec.snapshot.value("context", Json::object());
          if (!Contains(ctx, w.value())) {
            return Fail(at, "the data of " + who + " does not contain " + w.value().dump() + "; it is " + ctx.dump(),
                        alias);
          }
        } else if (w.key() == "events") {
          auto events = store_->ListEvents(kOrg, *id);
          if (!events.ok()) return Fail(at, events.status().ToString(), alias);
          std::vector<std::string> types;
          for (const auto& e : *events) types.push_back(e.type);
          const std::vector<std::string> expected = Strings(w.value());
          std::size_t i = 0;
          for (const auto& t : types) {
            if (i < expected.size() && t == expected[i]) ++i;
          }
          if (i < expected.size()) {
            return Fail(at, "the events of " + who + " do not include, in this order, " + Join(expected) +
                                " (missing from '" + expected[i] + "'); they are " + Join(types),
                        alias);
          }
        } else if (w.key() == "tasks") {
          store::TaskFilter filter;
          filter.instance_id = *id;
          filter.only_active = true;
          auto tasks = engine_->ListTasks(kOrg, filter);
          if (!tasks.ok()) return Fail(at, tasks.status().ToString(), alias);
          std::multiset<std::string> open, expected;
          for (const auto& t : *tasks) open.insert(t.title);
          for (const auto& t : Strings(w.value())) expected.insert(t);
          if (open != expected) {
            return Fail(at, "the open tasks of " + who + " are " + Join({open.begin(), open.end()}) + ", expected " +
                                Join({expected.begin(), expected.end()}),
                        alias);
          }
        } else if (w.key() == "timers") {
          auto timers = engine_->ListTimers(kOrg, *id);
          if (!timers.ok()) return Fail(at, timers.status().ToString(), alias);
          std::multiset<std::string> armed, expected;
          for (const auto& t : *timers) {
            if (t.status == "armed") armed.insert(t.description);
          }
          for (const auto& t : Strings(w.value())) expected.insert(t);
          if (armed != expected) {
            return Fail(at, "the armed timers of " + who + " are " + Join({armed.begin(), armed.end()}) +
                                ", expected " + Join({expected.begin(), expected.end()}),
                        alias);
          }
        }
      }
    }
    return std::nullopt;
  }

  // The notifications produced since the previous `notifications:` expectation, rendered as they would
  // be sent (templates filled in; as plain text), each matched against one expected entry, in order.
  std::optional<Failure> ExpectNotifications(const Json& expected, const dsl::SourceLocation& at) {
    auto items = store_->ListPendingOutbox({"nurt.notify"}, 100000);
    if (!items.ok()) return Fail(at, items.status().ToString());
    std::vector<Json> fresh;
    for (const auto& item : *items) {
      if (seen_notifications_.insert(item.id).second) fresh.push_back(Rendered(item.payload));
    }
    std::string got;
    for (const auto& n : fresh) got += "\n  " + n.dump();
    if (fresh.size() != expected.size()) {
      return Fail(at, std::to_string(fresh.size()) + " notification(s) were sent since the last check, expected " +
                          std::to_string(expected.size()) + ":" + (got.empty() ? " (none)" : got));
    }
    for (std::size_t i = 0; i < fresh.size(); ++i) {
      const Json& want = expected[i];
      const Json& n = fresh[i];
      for (auto w = want.begin(); w != want.end(); ++w) {
        bool ok = true;
        if (w.key() == "channel") ok = n.value("channel", "") == Text(w.value());
        if (w.key() == "to") ok = Strings(n.value("to", Json::array())) == Strings(w.value());
        if (w.key() == "subject" || w.key() == "body") {
          ok = n.value(w.key(), "").find(Text(w.value())) != std::string::npos;
        }
        if (!ok) {
          return Fail(at, "notification " + std::to_string(i + 1) + " does not match " + want.dump() +
                              " (its " + w.key() + (w.key() == "subject" || w.key() == "body" ? " lacks it" : " differs") +
                              "); sent:" + got);
        }
      }
    }
    return std::nullopt;
  }

  static Json Rendered(const Json& payload) {
    Json out{{"channel", payload.value("channel", "")}, {"to", payload.value("to", Json::array())}};
    const Json vars = payload.value("vars", Json::object());
    for (const char* field : {"subject", "body"}) {
      auto r = notify::RenderTemplate(payload.value(field, ""), vars, notify::Escaping::kText);
      out[field] = r.ok() ? r->text : payload.value(field, "");
    }
    return out;
  }

  // Instances the scenario did not start itself (spawned by a machine, started by a rule or a schedule)
  // are known by their ids.
  void DiscoverInstances() {
    std::set<std::string> known;
    for (const auto& [alias, id] : aliases_) known.insert(id);
    store::InstanceFilter filter;
    filter.limit = 1000;
    for (;;) {
      auto page = store_->ListInstances(kOrg, filter);
      if (!page.ok() || page->empty()) return;
      for (const auto& rec : *page) {
        if (!known.count(rec.id) && !aliases_.count(rec.id)) aliases_[rec.id] = rec.id;
      }
      filter.after_id = page->back().id;
    }
  }

  Result<std::string> Instance(const std::string& alias, const dsl::SourceLocation&) {
    if (!aliases_.count(alias)) DiscoverInstances();
    auto it = aliases_.find(alias);
    if (it != aliases_.end()) return it->second;
    std::vector<std::string> known;
    for (const auto& [a, id] : aliases_) known.push_back(a);
    return Status::NotFound("no instance named '" + alias + "' was started in this scenario (started: " +
                            Join(known) + ")");
  }

  std::string History(const std::string& id) {
    std::ostringstream out;
    auto events = store_->ListEvents(kOrg, id);
    auto transitions = store_->ListTransitions(kOrg, id);
    if (!events.ok() || !transitions.ok()) return "";
    out << "history of '" << id << "':\n";
    for (const auto& e : *events) {
      out << "  #" << e.sequence << " " << Format(e.occurred_at) << " " << e.type << " by " << e.actor;
      for (const auto& t : *transitions) {
        if (t.event_sequence == e.sequence && !t.to.empty()) {
          out << " -> " << Join(t.to);
          break;
        }
      }
      out << "\n";
    }
    return out.str();
  }

  std::string Format(TimePoint t) const {
    try {
      const auto* zone = date::locate_zone(options_.time_zone);
      return date::format("%Y-%m-%d %H:%M %a", date::make_zoned(zone, t).get_local_time());
    } catch (const std::exception&) {
      return FormatIso8601(t);
    }
  }

  void Timeline(const std::string& line) {
    if (options_.timeline) *options_.timeline << Format(clock_.Now()) << "  " << line << "\n";
  }

  // The events committed since the last call, every instance, in time order.
  void PrintNewEvents() {
    DiscoverInstances();
    std::vector<std::tuple<TimePoint, std::string, std::string>> lines;
    for (const auto& [alias, id] : aliases_) {
      auto events = store_->ListEvents(kOrg, id, last_sequence_[id]);
      if (!events.ok()) continue;
      auto transitions = store_->ListTransitions(kOrg, id);
      for (const auto& e : *events) {
        last_sequence_[id] = e.sequence;
        ++events_;
        std::string states;
        if (transitions.ok()) {
          for (const auto& t : *transitions) {
            if (t.event_sequence == e.sequence) states = Join(t.to);
          }
        }
        lines.emplace_back(e.occurred_at, alias, "    " + alias + ": " + e.type + " by " + e.actor + " -> " + states);
      }
    }
    std::stable_sort(lines.begin(), lines.end(),
                     [](const auto& x, const auto& y) { return std::get<0>(x) < std::get<0>(y); });
    if (!options_.timeline) return;
    for (const auto& [t, alias, text] : lines) *options_.timeline << Format(t) << text << "\n";
    // Notifications are not sent in a scenario: the timeline shows what would have been.
    auto items = store_->ListPendingOutbox({"nurt.notify"}, 100000);
    if (!items.ok()) return;
    for (const auto& item : *items) {
      if (!printed_notifications_.insert(item.id).second) continue;
      const Json n = Rendered(item.payload);
      *options_.timeline << Format(item.created_at) << "    notify " << n.value("channel", "") << " "
                         << n.value("to", Json::array()).dump() << ": " << n.value("subject", "")
                         << (n.value("subject", "").empty() ? "" : " | ") << n.value("body", "") << "\n";
    }
  }

  const Scenario& sc_;
  const RunOptions& options_;
  ScratchDir dir_;
  VirtualClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<engine::TimerService> timers_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<rules::RulesEngine> rules_;
  std::unique_ptr<schedule::Scheduler> scheduler_;
  std::map<std::string, std::string> aliases_;  // alias -> instance id
  std::map<std::string, std::int64_t> last_sequence_;
  std::set<std::string> seen_notifications_;
  std::set<std::string> printed_notifications_;
  int events_ = 0;
};

}  // namespace

RunResult RunScenario(const Scenario& scenario, const RunOptions& options) {
  Runner runner(scenario, options);
  return runner.Run();
}

}  // namespace nurt::scenario
