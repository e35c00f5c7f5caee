#include "nurt/schedule/scheduler.hpp"

#include <date/date.h>
#include <date/tz.h>

#include <algorithm>
#include <cstdio>
#include <deque>

namespace nurt::schedule {
namespace {

using dsl::MissedPolicy;
using dsl::ScheduleDefinition;

// How many due times one scan enumerates before it gives up on counting them all (a minutely
// schedule after a week of downtime) and looks for the most recent ones only.
constexpr std::int64_t kScanLimit = 2000;  // > the largest max_catch_up + 1 (1000 + 1)

struct DueTimes {
  std::deque<TimePoint> recent;  // the most recent due times, ascending (at most `keep`)
  std::int64_t total = 0;        // how many are due in all (a lower bound when !exact)
  bool exact = true;
};

// Scans due times in (from, now], at most kScanLimit of them; `ended` tells whether it reached now.
void Scan(const calendar::CronSchedule& cron, TimePoint from, TimePoint now, std::size_t keep, DueTimes* out,
          bool* ended) {
  out->recent.clear();
  out->total = 0;
  TimePoint t = from;
  while (out->total < kScanLimit) {
    const auto next = cron.Next(t);
    if (!next || *next > now) {
      *ended = true;
      return;
    }
    out->recent.push_back(*next);
    if (out->recent.size() > keep) out->recent.pop_front();
    ++out->total;
    t = *next;
  }
  *ended = false;
}

// Due times in (anchor, now]: all of them when there are few, else the `keep` most recent ones found
// by scanning a recent window (an hour holds at most 60 runs, so the first window always ends).
DueTimes Due(const calendar::CronSchedule& cron, TimePoint anchor, TimePoint now, std::size_t keep) {
  DueTimes due;
  bool ended = false;
  Scan(cron, anchor, now, keep, &due, &ended);
  if (ended) return due;
  const std::int64_t at_least = due.total;
  using std::chrono::hours;
  for (const auto window : {hours(1), hours(24), hours(24 * 7), hours(24 * 31), hours(24 * 366)}) {
    const TimePoint from = std::max(anchor, now - std::chrono::duration_cast<std::chrono::milliseconds>(window));
    DueTimes recent;
    bool window_ended = false;
    Scan(cron, from, now, keep, &recent, &window_ended);
    if (window_ended && (recent.recent.size() >= keep || from == anchor)) {
      due = std::move(recent);
      break;
    }
  }
  due.total = at_least;
  due.exact = false;
  return due;
}

std::string UtcMinute(TimePoint t) {
  return date::format("%Y%m%dT%H%MZ", std::chrono::floor<std::chrono::minutes>(t));
}

std::string LocalDate(TimePoint t, const std::string& zone) {
  try {
    const auto local = date::locate_zone(zone)->to_local(t);
    return date::format("%Y-%m-%d", std::chrono::floor<date::days>(local));
  } catch (const std::exception&) {
    return date::format("%Y-%m-%d", std::chrono::floor<date::days>(t));
  }
}

// Failures worth trying again later, as opposed to a refusal that will not change by itself.
bool IsTransient(const Status& s) { return s.IsUnavailable() || s.IsConflict(); }

store::ScheduleState StateOf(const std::string& org, const ScheduleDefinition& def, TimePoint last, TimePoint now) {
  store::ScheduleState s;
  s.org_id = org;
  s.name = def.name;
  s.expression = def.expression;
  s.time_zone = def.time_zone;
  s.enabled = def.enabled;
  s.last_scheduled_for = last;
  s.updated_at = now;
  return s;
}

}  // namespace

std::string RunId(const std::string& schedule_name, TimePoint scheduled_for) {
  return schedule_name + "-" + UtcMinute(scheduled_for);
}

std::string RunIdempotencyKey(const std::string& schedule_name, TimePoint scheduled_for) {
  return "schedule:" + schedule_name + ":" + FormatIso8601(scheduled_for);
}

Scheduler::Scheduler(SchedulerOptions options) : options_(std::move(options)) {
  if (options_.clock == nullptr) options_.clock = env::SystemClock();
}

void Scheduler::SetSchedules(const std::string& org_id,
                             std::vector<std::shared_ptr<const dsl::ScheduleDefinition>> schedules) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& entries = schedules_[org_id];
  entries.clear();
  for (auto& s : schedules) entries.push_back(Entry{org_id, std::move(s)});
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.definition->name < b.definition->name; });
  for (auto it = next_due_.begin(); it != next_due_.end();) {
    it = it->first.first == org_id ? next_due_.erase(it) : std::next(it);
  }
}

void Scheduler::Warn(const Entry& entry, const std::string& message) const {
  if (options_.on_warning) options_.on_warning(entry.org_id, entry.definition->name, message);
}

Result<RunReport> Scheduler::RunDue() {
  std::lock_guard<std::mutex> run_lock(run_mu_);
  std::vector<Entry> entries;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [org, list] : schedules_) entries.insert(entries.end(), list.begin(), list.end());
  }
  RunReport report;
  for (const Entry& entry : entries) {
    const std::optional<TimePoint> next = RunOne(entry, &report);
    std::lock_guard<std::mutex> lock(mu_);
    next_due_[{entry.org_id, entry.definition->name}] = next;
  }
  return report;
}

std::optional<TimePoint> Scheduler::RunOne(const Entry& entry, RunReport* report) {
  const ScheduleDefinition& def = *entry.definition;
  const std::string& org = entry.org_id;
  const TimePoint now = options_.clock->Now();
  const TimePoint retry_at = now + options_.retry_after;
  auto state_or = options_.store->GetScheduleState(org, def.name);
  if (!state_or.ok()) {
    Warn(entry, "cannot read the schedule's state; trying again in " +
                    std::to_string(options_.retry_after.count() / 1000) + " s: " + state_or.status().ToString());
    return retry_at;
  }
  const std::optional<store::ScheduleState> state = *state_or;

  // (Re-)anchoring: nothing before `now` is due for a schedule seen for the first time, whose
  // expression or time zone changed, or that was enabled again.
  const bool changed = state && (state->expression != def.expression || state->time_zone != def.time_zone);
  const bool re_enabled = state && !state->enabled && def.enabled;
  if (!state || changed || re_enabled || (!def.enabled && state->enabled)) {
    if (changed) {
      Warn(entry, "the schedule changed from '" + state->expression + "' (" + state->time_zone + ") to '" +
                      def.expression + "' (" + def.time_zone + "); runs are counted afresh from " +
                      FormatIso8601(now) + ", earlier ones are not caught up");
    }
    Status st = options_.store->RecordScheduleRuns(StateOf(org, def, now, now), {});
    if (!st.ok()) {
      Warn(entry, "cannot write the schedule's state; trying again later: " + st.ToString());
      return retry_at;
    }
    return def.enabled ? def.cron.Next(now) : std::nullopt;
  }
  if (!def.enabled) return std::nullopt;

  const std::size_t keep = static_cast<std::size_t>(def.max_catch_up) + 1;
  const DueTimes due = Due(def.cron, state->last_scheduled_for, now, keep);
  if (due.recent.empty()) return def.cron.Next(state->last_scheduled_for);

  // Decide each due time: run or skip. On time = no later than `grace`; older ones were missed.
  struct Planned {
    TimePoint at;
    bool run;
    std::string why;  // skipped: why
  };
  std::vector<Planned> plan;
  const std::string policy(dsl::MissedPolicyName(def.missed));
  bool any_on_time = false;
  for (TimePoint t : due.recent) any_on_time = any_on_time || now - t <= def.grace;
  std::int64_t beyond_cap = 0;
  for (std::size_t i = 0; i < due.recent.size(); ++i) {
    const TimePoint t = due.recent[i];
    const bool on_time = now - t <= def.grace;
    const bool latest = i + 1 == due.recent.size();
    Planned p{t, on_time, ""};
    if (!on_time) {
      switch (def.missed) {
        case MissedPolicy::kSkip:
          p.why = "missed (policy skip)";
          break;
        case MissedPolicy::kRunOnce:
          p.run = latest && !any_on_time;
          if (!p.run) p.why = "missed; a later run covers it (policy run_once)";
          break;
        case MissedPolicy::kRunAll:
          // The newest max_catch_up runs; `recent` holds one more, the oldest, only to know it exists.
          p.run = due.recent.size() - i <= static_cast<std::size_t>(def.max_catch_up);
          if (!p.run) {
            p.why = "missed; beyond max_catch_up " + std::to_string(def.max_catch_up) + " (policy run_all)";
            ++beyond_cap;
          }
          break;
      }
    }
    plan.push_back(std::move(p));
  }
  const std::int64_t unrecorded = due.total - static_cast<std::int64_t>(due.recent.size());
  if (unrecorded > 0 || beyond_cap > 0) {
    Warn(entry, std::string(due.exact ? "" : "at least ") + std::to_string(due.total) + " runs were due since " +
                    FormatIso8601(state->last_scheduled_for) + "; " + std::to_string(beyond_cap + std::max<std::int64_t>(unrecorded, 0)) +
                    " older ones were not run (max_catch_up " + std::to_string(def.max_catch_up) + ", policy " +
                    policy + ")" + (unrecorded > 0 ? ", of which " + std::to_string(unrecorded) + " are not recorded one by one" : ""));
  }

  // Execute in order. Skipped runs are recorded together with the next run (or at the end), so the
  // anchor only ever moves past runs that are recorded.
  std::vector<store::ScheduleRun> pending;
  TimePoint last = state->last_scheduled_for;
  auto flush = [&](TimePoint new_last) -> bool {
    Status st = options_.store->RecordScheduleRuns(StateOf(org, def, new_last, now), pending);
    if (!st.ok()) {
      Warn(entry, "cannot record runs; they will be handled again in " +
                      std::to_string(options_.retry_after.count() / 1000) + " s: " + st.ToString());
      return false;
    }
    for (const auto& r : pending) {
      report->runs.push_back(r);
      if (r.outcome == "started") ++report->started;
      if (r.outcome == "emitted") ++report->emitted;
      if (r.outcome == "skipped") ++report->skipped;
      if (r.outcome == "failed") ++report->failed;
      if (options_.on_run) options_.on_run(r);
    }
    pending.clear();
    last = new_last;
    return true;
  };
  for (const Planned& p : plan) {
    store::ScheduleRun run;
    run.org_id = org;
    run.name = def.name;
    run.scheduled_for = p.at;
    run.started_at = now;
    run.lateness_ms = ToUnixMillis(now) - ToUnixMillis(p.at);
    if (!p.run) {
      run.outcome = "skipped";
      run.error = p.why;
      pending.push_back(std::move(run));
      continue;
    }
    const std::string run_id = RunId(def.name, p.at);
    const std::string scheduled_for = FormatIso8601(p.at);
    Json data = dsl::ExpandSchedulePlaceholders(def.data, {{"scheduledFor", scheduled_for},
                                                           {"scheduledDate", LocalDate(p.at, def.time_zone)},
                                                           {"runId", run_id},
                                                           {"name", def.name}});
    // No lateness here: the engine compares a retried request with the first one, and a retry after a
    // crash would be later. The workflow computes it as now() minus scheduledFor if it cares.
    data["schedule"] = Json{{"name", def.name}, {"scheduledFor", scheduled_for}, {"runId", run_id}};
    Status failure;
    if (def.action == ScheduleDefinition::Action::kStart) {
      engine::StartRequest req;
      req.org_id = org;
      req.machine = def.machine;
      req.data = std::move(data);
      req.instance_id = run_id;
      req.idempotency_key = RunIdempotencyKey(def.name, p.at);
      req.actor = "schedule:" + def.name;
      auto outcome = options_.engine->Start(req);
      if (outcome.ok()) {
        run.outcome = "started";
        run.instance_id = outcome->instance_id;
        run.event_sequence = outcome->event_sequence;
      } else {
        failure = outcome.status();
      }
    } else {
      engine::EventRequest req;
      req.org_id = org;
      req.instance_id = def.instance_id;
      req.event = def.event;
      req.data = std::move(data);
      req.idempotency_key = RunIdempotencyKey(def.name, p.at);
      req.actor = "schedule:" + def.name;
      auto outcome = options_.engine->Accept(req);
      if (outcome.ok()) {
        run.outcome = "emitted";
        run.instance_id = outcome->instance_id;
        run.event_sequence = outcome->event_sequence;
      } else {
        failure = outcome.status();
      }
    }
    if (!failure.ok()) {
      if (IsTransient(failure)) {
        Warn(entry, "the run scheduled for " + scheduled_for + " could not be done now; trying again in " +
                        std::to_string(options_.retry_after.count() / 1000) + " s: " + failure.ToString());
        if (!pending.empty()) flush(pending.back().scheduled_for);
        return retry_at;
      }
      run.outcome = "failed";
      run.instance_id = def.action == ScheduleDefinition::Action::kEmit ? def.instance_id : run_id;
      run.error = failure.ToString();
      Warn(entry, "the run scheduled for " + scheduled_for + " failed: " + failure.ToString());
    }
    pending.push_back(std::move(run));
    if (!flush(p.at)) return retry_at;
  }
  if (!pending.empty() && !flush(plan.back().at)) return retry_at;
  return def.cron.Next(last);
}

std::optional<TimePoint> Scheduler::NextDue() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<TimePoint> earliest;
  for (const auto& [org, list] : schedules_) {
    for (const Entry& e : list) {
      auto it = next_due_.find({org, e.definition->name});
      if (it == next_due_.end()) return options_.clock->Now();  // never looked at: now
      if (it->second && (!earliest || *it->second < *earliest)) earliest = it->second;
    }
  }
  return earliest;
}

ScheduleView Scheduler::View(const Entry& entry, const std::optional<store::ScheduleState>& state) const {
  ScheduleView v;
  v.org_id = entry.org_id;
  v.definition = entry.definition;
  v.state = state;
  if (entry.definition->enabled) {
    const bool anchored = state && state->enabled && state->expression == entry.definition->expression &&
                          state->time_zone == entry.definition->time_zone;
    v.next_run = entry.definition->cron.Next(anchored ? state->last_scheduled_for : options_.clock->Now());
  }
  return v;
}

Result<std::vector<ScheduleView>> Scheduler::List(const std::string& org_id) {
  std::vector<Entry> entries;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = schedules_.find(org_id);
    if (it != schedules_.end()) entries = it->second;
  }
  NURT_ASSIGN_OR_RETURN(auto states, options_.store->ListScheduleStates(org_id));
  std::vector<ScheduleView> out;
  for (const Entry& e : entries) {
    std::optional<store::ScheduleState> state;
    for (const auto& s : states) {
      if (s.name == e.definition->name) state = s;
    }
    out.push_back(View(e, state));
  }
  return out;
}

Result<ScheduleView> Scheduler::Get(const std::string& org_id, const std::string& name) {
  std::optional<Entry> entry;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = schedules_.find(org_id);
    if (it != schedules_.end()) {
      for (const Entry& e : it->second) {
        if (e.definition->name == name) entry = e;
      }
    }
  }
  if (!entry) return Status::NotFound("schedule '" + name + "' does not exist");
  NURT_ASSIGN_OR_RETURN(auto state, options_.store->GetScheduleState(org_id, name));
  return View(*entry, state);
}

}  // namespace nurt::schedule
