#pragma once
// TimerTracker — turns one macrostep into the timers it arms and cancels (private to the engine).
//
// A state's timers (`after:`, `at:`, `sla:`) are armed when the macrostep that entered the state commits
// and cancelled by the commit that leaves it, so an armed timer always belongs to an active state. Due
// times are computed here, once, from the event's time and the org's business calendar, and stored:
// a timer never moves when the calendar changes later. `at:` expressions are evaluated against the
// context as the macrostep leaves it. A timer armed and left within one macrostep is never written.
// When the instance stops running (completed, cancelled) every armed timer is cancelled; a failed or
// suspended instance keeps its timers (they fire once it runs again).
//
// Pure apart from the injected id generator and Lua evaluator. Thread-safety: const methods only.

#include <functional>
#include <string>
#include <vector>

#include "nurt/calendar/business_calendar.hpp"
#include "nurt/core/result.hpp"
#include "nurt/dsl/definition.hpp"
#include "nurt/env/id_generator.hpp"
#include "nurt/store/store.hpp"

namespace nurt::engine {

// When a delay written in the DSL ends, counted from `from` (working time for business delays).
TimePoint ApplyDelay(const dsl::DelaySpec& delay, TimePoint from, const calendar::BusinessCalendar& calendar);

// The value of an `at:` expression as a time: ISO-8601 date-time text with an offset, a date
// ("2026-12-01": midnight in the calendar's time zone) or a number of seconds since 1970.
Result<TimePoint> TimeFromValue(const Json& value, const calendar::BusinessCalendar& calendar);

class TimerTracker {
 public:
  explicit TimerTracker(env::IdGenerator* ids) : ids_(ids) {}

  static bool HasTimers(const dsl::Definition& definition);

  // Evaluates an `at:` expression (the engine runs it in its Lua runtime against the step's context).
  using AtEvaluator = std::function<Result<Json>(const dsl::LuaCode& expression)>;

  // Adds timers_armed, timer_states_cancelled / cancel_all_timers and cancel_reason to `commit` (filled
  // by the engine: instance, events, transitions). Errors: InvalidArgument when an `at:` expression fails
  // or gives no time (file:line of the expression).
  Status Track(const dsl::Definition& definition, const std::vector<std::string>& leaves_before,
               const calendar::BusinessCalendar& calendar, const AtEvaluator& evaluate_at,
               store::CommitRequest* commit) const;

 private:
  env::IdGenerator* ids_;
};

}  // namespace nurt::engine
