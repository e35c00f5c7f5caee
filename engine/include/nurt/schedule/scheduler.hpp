#pragma once
// nurt::schedule::Scheduler — fires `kind: Schedule` documents (docs/schedules.md): starts an instance
// or sends an event when a cron schedule is due, and decides what happens to runs missed while the
// daemon was down.
//
//   RunDue():  for each schedule:  state (store) ─▶ due times in (last_scheduled_for, now]
//                                ─▶ missed policy ─▶ Engine::Start / Engine::Accept (idempotent key)
//                                ─▶ Store::RecordScheduleRuns (run rows + new last_scheduled_for, ONE tx)
//
// Exactly once: each run's Start/Accept carries the key "schedule:<name>:<scheduled time, ISO UTC>"
// (a start also the instance id "<name>-<yyyymmddThhmmZ>"), and the run is recorded only after the
// engine answered. A crash between the engine's commit and the record makes the run due again; the
// engine then answers from its idempotency record and nothing is started or sent twice.
//
// Time: all from the injected Clock; nothing sleeps. First sight of a schedule anchors it at "now"
// (no backfill); a changed expression, time zone or re-enabling re-anchors at "now" the same way.
//
// Thread-safety: every method may be called from any thread; RunDue calls are serialised.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nurt/core/result.hpp"
#include "nurt/dsl/schedule.hpp"
#include "nurt/engine/engine.hpp"
#include "nurt/env/clock.hpp"
#include "nurt/store/store.hpp"

namespace nurt::schedule {

struct SchedulerOptions {
  engine::Engine* engine = nullptr;   // required; not owned
  store::Store* store = nullptr;      // required; not owned (the engine's store, or a decorator of it)
  const env::Clock* clock = nullptr;  // default env::SystemClock()
  // After a transient failure (store busy, engine conflict) the schedule is tried again this much later.
  std::chrono::milliseconds retry_after{std::chrono::seconds(30)};
  // Called on the RunDue thread for every run recorded (metrics), and with each warning an operator
  // should see (a run_all catch-up capped, an expression re-anchored, a transient failure).
  std::function<void(const store::ScheduleRun&)> on_run;
  std::function<void(const std::string& org, const std::string& schedule, const std::string& message)> on_warning;
};

// One schedule as the API and the CLI show it.
struct ScheduleView {
  std::string org_id;
  std::shared_ptr<const dsl::ScheduleDefinition> definition;
  std::optional<store::ScheduleState> state;  // nullopt until the scheduler first saw it
  std::optional<TimePoint> next_run;          // nullopt when disabled or the expression never runs again
};

struct RunReport {
  int started = 0, emitted = 0, skipped = 0, failed = 0;
  std::vector<store::ScheduleRun> runs;  // every run recorded by this call, in order
};

// The deterministic names of one run: "<name>-<yyyymmddThhmmZ>" (a start's instance id) and the
// engine idempotency key "schedule:<name>:<ISO-8601 UTC>".
std::string RunId(const std::string& schedule_name, TimePoint scheduled_for);
std::string RunIdempotencyKey(const std::string& schedule_name, TimePoint scheduled_for);

class Scheduler {
 public:
  explicit Scheduler(SchedulerOptions options);
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Replaces the org's schedules. REQUIRES: unique names within the org.
  void SetSchedules(const std::string& org_id, std::vector<std::shared_ptr<const dsl::ScheduleDefinition>> schedules);

  // Handles every run due at clock->Now(), for every org. A run whose start/event the engine refuses
  // (unknown machine, event not accepted, bad data) is recorded as failed and not retried; a transient
  // failure records nothing and is retried after options.retry_after. Errors: none today (failures
  // are per run, in the report and on_warning); the Result leaves room for a store that cannot be read.
  Result<RunReport> RunDue();

  // The earliest time RunDue has something to do: now when a schedule was never looked at, otherwise
  // the next run (or retry) of any enabled schedule; nullopt when nothing will ever be due.
  std::optional<TimePoint> NextDue() const;

  // The org's schedules by name, with their state. Unavailable when the store cannot be read.
  Result<std::vector<ScheduleView>> List(const std::string& org_id);
  // NotFound when the org has no schedule of that name.
  Result<ScheduleView> Get(const std::string& org_id, const std::string& name);

 private:
  using Key = std::pair<std::string, std::string>;  // org, name
  struct Entry {
    std::string org_id;
    std::shared_ptr<const dsl::ScheduleDefinition> definition;
  };

  // Handles one schedule; returns when it is next due (nullopt: never).
  std::optional<TimePoint> RunOne(const Entry& entry, RunReport* report);
  ScheduleView View(const Entry& entry, const std::optional<store::ScheduleState>& state) const;
  void Warn(const Entry& entry, const std::string& message) const;

  SchedulerOptions options_;
  std::mutex run_mu_;  // serialises RunDue
  mutable std::mutex mu_;
  std::map<std::string, std::vector<Entry>> schedules_;  // GUARDED_BY(mu_), by org
  // When each schedule is next due, as RunDue last computed; absent = not looked at yet.
  std::map<Key, std::optional<TimePoint>> next_due_;  // GUARDED_BY(mu_)
};

}  // namespace nurt::schedule
