#include "engine/timer_tracker.hpp"

#include <cmath>
#include <map>
#include <set>

#include "engine/macrostep_walk.hpp"

namespace nurt::engine {

using dsl::StateIndex;
using dsl::TimerSpec;

namespace {

const char* KindName(TimerSpec::Kind kind) {
  switch (kind) {
    case TimerSpec::Kind::kAfter:
      return "after";
    case TimerSpec::Kind::kAt:
      return "at";
    case TimerSpec::Kind::kSlaWarning:
      return "sla.warning";
    case TimerSpec::Kind::kSlaBreach:
      return "sla.breach";
    case TimerSpec::Kind::kSlaEscalation:
      return "sla.escalation";
  }
  return "after";
}

}  // namespace

TimePoint ApplyDelay(const dsl::DelaySpec& delay, TimePoint from, const calendar::BusinessCalendar& calendar) {
  if (!delay.business) return delay.negative ? from - delay.elapsed : from + delay.elapsed;
  if (delay.negative) {
    // Going back: whole working days, then the rest as elapsed time (documented in docs/dsl.md).
    return calendar.SubtractWorkingDays(from, delay.working_days) - delay.working_time;
  }
  return calendar.AddWorkingTime(calendar.AddWorkingDays(from, delay.working_days), delay.working_time);
}

Result<TimePoint> TimeFromValue(const Json& value, const calendar::BusinessCalendar& calendar) {
  if (value.is_number()) {
    const double seconds = value.get<double>();
    if (!std::isfinite(seconds)) return Status::InvalidArgument("the time is not a finite number");
    return FromUnixMillis(static_cast<std::int64_t>(std::llround(seconds * 1000.0)));
  }
  if (value.is_string()) {
    const std::string text = value.get<std::string>();
    if (text.size() == 10) {
      auto date = calendar::ParseDate(text);
      if (!date.ok()) return date.status();
      return calendar.StartOfDay(*date);
    }
    auto t = ParseIso8601(text);
    if (t.ok()) return t;
    return Status::InvalidArgument("'" + text +
                                   "' is not a time; give an ISO-8601 date (2026-12-01) or date-time with an "
                                   "offset (2026-12-01T08:00:00+01:00), or seconds since 1970");
  }
  return Status::InvalidArgument("the value " + value.dump() +
                                 " is not a time; give an ISO-8601 date or date-time text, or seconds since 1970");
}

bool TimerTracker::HasTimers(const dsl::Definition& definition) {
  for (const auto& s : definition.states) {
    if (!s.timers.empty()) return true;
  }
  return false;
}

Status TimerTracker::Track(const dsl::Definition& d, const std::vector<std::string>& leaves_before,
                           const calendar::BusinessCalendar& calendar, const AtEvaluator& evaluate_at,
                           store::CommitRequest* commit) const {
  const store::EventEnvelope* event = commit->events.empty() ? nullptr : &commit->events.front();
  const TimePoint now = event ? event->occurred_at : commit->instance.updated_at;
  const std::int64_t sequence = event ? event->sequence : commit->instance.version;

  std::set<StateIndex> entered;           // entered by this macrostep and not left since
  std::set<std::string> cancelled;        // states whose earlier timers this commit cancels
  std::string reason;
  MacrostepVisitor visitor;
  visitor.exited = [&](StateIndex s, const std::string& on_event) {
    if (d.state(s).timers.empty()) return;
    if (entered.erase(s)) return;  // armed and left within this macrostep: never written
    if (cancelled.insert(d.state(s).id).second && reason.empty()) {
      reason = "state " + d.state(s).id + " left on event " + on_event;
    }
  };
  visitor.entered = [&](StateIndex s) {
    if (!d.state(s).timers.empty()) entered.insert(s);
  };
  WalkMacrostep(d, leaves_before, *commit, visitor);

  const std::string& run_status = commit->instance.run_status;
  if (run_status == "completed" || run_status == "cancelled") {
    commit->cancel_all_timers = true;
    commit->cancel_reason = "instance " + run_status + " on event " + (event ? event->type : std::string());
    return Status::Ok();
  }
  // Appended: the step's own `cancel` actions may already be listed (engine_impl.cpp).
  commit->timer_states_cancelled.insert(commit->timer_states_cancelled.end(), cancelled.begin(),
                                        cancelled.end());
  if (cancelled.size() > 1) reason = "state left on event " + (event ? event->type : std::string());
  commit->cancel_reason = reason;

  for (StateIndex s : entered) {
    const dsl::StateSpec& st = d.state(s);
    std::vector<TimePoint> due(st.timers.size());
    for (std::size_t i = 0; i < st.timers.size(); ++i) {
      const TimerSpec& spec = st.timers[i];
      TimePoint base = now;
      if (spec.base_timer >= 0 && static_cast<std::size_t>(spec.base_timer) < i) base = due[spec.base_timer];
      if (spec.kind == TimerSpec::Kind::kAt) {
        if (!spec.at) return Status::Internal("timer without 'time' in state " + st.id);
        auto value = evaluate_at(*spec.at);
        if (!value.ok()) return value.status().WithContext("'at' timer of state " + st.id);
        auto at = TimeFromValue(*value, calendar);
        if (!at.ok()) {
          return Status::InvalidArgument(spec.at->location.ToString() + ": 'time' of the 'at' timer of state " +
                                         st.id + ": " + at.status().message());
        }
        base = *at;
      }
      due[i] = spec.kind == TimerSpec::Kind::kAt && spec.delay.text.empty()
                   ? base
                   : ApplyDelay(spec.delay, base, calendar);
      store::TimerRecord t;
      t.org_id = commit->org_id;
      t.id = ids_->NewId();
      t.instance_id = commit->instance_id;
      t.machine = d.name;
      t.state = st.id;
      t.index = static_cast<int>(i);
      t.kind = KindName(spec.kind);
      t.event = spec.event;
      t.description = spec.Describe();
      t.due_at = due[i];
      t.armed_at = now;
      t.armed_by_sequence = sequence;
      commit->timers_armed.push_back(std::move(t));
    }
  }
  return Status::Ok();
}

}  // namespace nurt::engine
