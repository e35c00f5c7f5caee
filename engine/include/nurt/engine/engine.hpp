#pragma once
// nurt::engine::Engine — accepts events for instances and commits everything they cause atomically.
//
//   Accept(org, instance, event, key) -> load snapshot + definition -> Interpreter::Step (pure)
//                                      -> Store::Commit (one transaction: event, transitions,
//                                         snapshot+version, outbox, human tasks opened/closed,
//                                         idempotency record)
//
// Durability: a call returns OK only after its commit is durable. Idempotency: a repeated key for the
// same instance returns the original Outcome (with `replayed = true`) and writes nothing; the same key
// with a different request is IdempotencyMismatch. Concurrency: optimistic on the instance version,
// retried internally (EngineOptions::max_conflict_retries) by re-reading and re-stepping.
//
// Thread-safety: all methods may be called from several threads.
//
// Errors callers branch on:
//   InvalidArgument      bad input (unknown machine, data not matching the context schema, bad JSON)
//   NotFound             no such instance / definition in this org
//   FailedPrecondition   the event is not accepted in the current state (message lists those that are),
//                        or the instance is not active (completed, cancelled, suspended, failed)
//   IdempotencyMismatch  the key was used before with a different request
//   ResourceExhausted    a Lua limit was hit (message says where)
//   Conflict             still conflicting after the retries (heavy contention on one instance)
//   Unavailable          the store is busy or failing: retry later

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nurt/calendar/business_calendar.hpp"
#include "nurt/core/json.hpp"
#include "nurt/core/result.hpp"
#include "nurt/dsl/definition.hpp"
#include "nurt/env/clock.hpp"
#include "nurt/env/id_generator.hpp"
#include "nurt/lua/runtime.hpp"
#include "nurt/store/records.hpp"
#include "nurt/store/store.hpp"

namespace nurt::engine {

// Told of every timer a commit armed, after the commit (the timer service keeps them sorted in memory).
class TimerListener {
 public:
  virtual ~TimerListener() = default;
  virtual void TimersArmed(const std::vector<store::TimerRecord>& timers) = 0;
};

struct EngineOptions {
  store::Store* store = nullptr;                     // required; not owned; must outlive the Engine
  const env::Clock* clock = nullptr;                 // default: env::SystemClock()
  env::IdGenerator* ids = nullptr;                   // default: ULIDs from `clock`
  lua::Limits lua_limits;                            // per guard/action call
  int max_conflict_retries = 8;
  // The business calendar of an org, for working-day timers and SLAs (docs/dsl.md "Timers and SLAs").
  // Default (or a null answer): Europe/Warsaw, Monday–Friday 8:00–16:00, Polish public holidays.
  std::function<std::shared_ptr<const calendar::BusinessCalendar>(const std::string& org_id)> calendar_for;
  TimerListener* timer_listener = nullptr;           // not owned; may be null
};

struct StartRequest {
  std::string org_id;
  std::string machine;
  std::int64_t version = 0;        // 0 = the latest published version
  Json data = Json::object();      // merged over context.initial (top-level keys)
  std::string instance_id;         // "" = generate
  std::string idempotency_key;     // "" = generate (then the start is not retry-safe)
  std::string actor = "system";
  std::string trace_id;
  std::string causation_id;
};

struct EventRequest {
  std::string org_id;
  std::string instance_id;
  std::string event;
  Json data = Json::object();
  std::string idempotency_key;     // "" = generate
  std::string actor = "system";
  std::string trace_id;
  std::string causation_id;
};

// An operator's override of one instance (docs/dsl.md "Admin overrides"). Logged as an event of type
// `nurt.admin.<verb>` with `actor`, the reason and what the override did, so history says who changed
// what and why. Idempotent on the key exactly like EventRequest.
struct AdminRequest {
  std::string org_id;
  std::string instance_id;
  std::string actor;               // "" = "system"
  std::string reason;              // required, not blank: kept in the log and the transition records
  std::string idempotency_key;     // "" = generate
  std::string trace_id;
};

// What Start/Accept answer. Stored with the idempotency key and returned verbatim on a retry.
struct Outcome {
  std::string instance_id;
  std::string machine;
  std::int64_t machine_version = 0;
  std::int64_t version = 0;                 // instance version after the event
  std::int64_t event_sequence = 0;          // the accepted event's place in the log
  std::string event_id;
  std::string run_status;                   // active | completed | ...
  std::vector<std::string> state;           // active atomic states after the event
  Json context;
  Json output;                              // done data when completed, else null
  std::vector<store::TransitionRecord> transitions;
  std::vector<std::string> accepted_events; // events the instance accepts now
  bool replayed = false;                    // true when answered from the idempotency record

  Json ToJson() const;
  static Outcome FromJson(const Json& j);
};

// Completing a human task (Engine::CompleteTask). `data` holds the form's fields; `checklist_done` the
// checklist items the person ticked; `actor` is who completes it (the same string ClaimTask got as
// the user when the task is claimed).
struct CompleteTaskRequest {
  std::string org_id;
  std::string task_id;
  std::string decision;
  Json data = Json::object();
  std::vector<std::string> checklist_done;
  std::string actor;
  std::string idempotency_key;     // "" = generate (then the completion is not retry-safe)
  std::string trace_id;
};

struct InstanceView {
  store::InstanceRecord record;
  std::vector<std::string> accepted_events;
};

class Engine {
 public:
  virtual ~Engine() = default;

  // Stores a definition version for `org` (no-op when already stored with the same content;
  // AlreadyExists when the same name+version was published with different content).
  virtual Status Publish(const std::string& org_id, const dsl::Definition& definition) = 0;

  virtual Result<Outcome> Start(const StartRequest& request) = 0;
  virtual Result<Outcome> Accept(const EventRequest& request) = 0;

  // Accepts several events with ONE store transaction (one fsync) for all of them. Each request
  // succeeds or fails on its own, exactly as Accept would answer it; requests for the same instance are
  // applied in the order given. A request whose commit loses a race is retried alone (same key), so
  // none is lost or applied twice. Returns one result per request, in order.
  virtual std::vector<Result<Outcome>> AcceptBatch(const std::vector<EventRequest>& requests) = 0;

  virtual Result<InstanceView> Show(const std::string& org_id, const std::string& instance_id) = 0;

  // Rebuilds the instance's snapshot from its event log alone, applying events with sequence <= until
  // (0 = all). Replaying everything equals the stored snapshot (tests check this).
  virtual Result<Json> Replay(const std::string& org_id, const std::string& instance_id,
                              std::int64_t until_sequence = 0) = 0;

  // Executes committed engine-internal effects (`emit ... to:` and `spawn`), each idempotent on its
  // key, so running it twice or after a crash delivers each exactly once. Returns how many it ran.
  // An event delivered here that cannot be processed (an unhandled error.execution, a Lua limit) is
  // not lost: it is committed with the target instance's run status set to `failed` and the snapshot's
  // `failure` record naming it, for an operator to Retry (or force, skip, cancel). Spawns that fail and
  // events the target does not accept (or cannot, being inactive) mark the outbox item failed instead.
  virtual Result<int> DeliverInternalEffects(int limit = 1000) = 0;

  // --- admin overrides (docs/dsl.md "Admin overrides") ------------------------------------------------
  // Each is committed like an event (log entry `nurt.admin.<verb>`, transition records tagged
  // {"override": verb, "reason": ...}, new snapshot, idempotency record) and answers an Outcome.
  // Errors: InvalidArgument (blank reason, unknown state, bad patch), NotFound (no such instance),
  // FailedPrecondition (the run status does not allow the verb, skip has no single destination, retry
  // failed again), IdempotencyMismatch, Conflict, Unavailable as for Accept.

  // active | suspended | failed -> cancelled. The configuration is kept and no exit action runs.
  virtual Result<Outcome> Cancel(const AdminRequest& request) = 0;
  // active -> suspended: ordinary events are refused until Resume.
  virtual Result<Outcome> Suspend(const AdminRequest& request) = 0;
  // suspended -> active.
  virtual Result<Outcome> Resume(const AdminRequest& request) = 0;
  // active | failed: leaves the configuration for `state_id` (exit/entry actions, no guards), then
  // eventless transitions run; a top-level final state completes the instance.
  virtual Result<Outcome> ForceState(const AdminRequest& request, const std::string& state_id) = 0;
  // active | failed: leaves the single active atomic state along its only destination.
  virtual Result<Outcome> Skip(const AdminRequest& request) = 0;
  // failed: merges `context_patch` (top-level keys) over the context and re-applies the failed event.
  // Success -> active. Failing again -> FailedPrecondition with the new error; nothing is recorded.
  virtual Result<Outcome> Retry(const AdminRequest& request, const Json& context_patch = Json::object()) = 0;

  // --- Human tasks (docs/dsl.md "Human tasks"). Every commit opens a task for each entered state
  // with `task:` and closes the active task of each exited one, in the same transaction.

  // Claims an open task for `user` (claimed by `user` already: answered as is). Errors: NotFound;
  // FailedPrecondition when someone else holds it (named) or it is completed/closed.
  virtual Result<store::TaskRecord> ClaimTask(const std::string& org_id, const std::string& task_id,
                                              const std::string& user) = 0;
  // Gives a task claimed by `user` back (open already: answered as is). Errors as ClaimTask.
  virtual Result<store::TaskRecord> ReleaseTask(const std::string& org_id, const std::string& task_id,
                                                const std::string& user) = 0;
  // Completes a task: accepts the decision's event on the task's instance exactly like Accept (same
  // idempotency rules: the same key with the same request replays the Outcome) with payload = the form
  // data plus {"task": {"id", "decision", "checklist"}} and actor = request.actor, and closes the task
  // as completed in THAT commit. Errors (nothing changes):
  //   NotFound             no such task in this org
  //   FailedPrecondition   the task is completed/closed or claimed by someone else; or its instance
  //                        does not accept the event any more (the state changed meanwhile)
  //   InvalidArgument      unknown decision (the message lists the decisions); data not matching the
  //                        form: one problem per line, each starting with a JSON pointer ("/data/x: …")
  //   IdempotencyMismatch  the key was used before with a different request
  virtual Result<Outcome> CompleteTask(const CompleteTaskRequest& request) = 0;
  // Pass-throughs to the store (NotFound across orgs).
  virtual Result<std::vector<store::TaskRecord>> ListTasks(const std::string& org_id,
                                                           const store::TaskFilter& filter) = 0;
  virtual Result<store::TaskRecord> GetTask(const std::string& org_id, const std::string& task_id) = 0;

  // --- Timers (docs/dsl.md "Timers and SLAs"). Armed and cancelled by the commits that enter and leave
  // their states; fired by the timer service through FireTimer.

  // Fires an armed timer: accepts its event on its instance exactly like an event delivered by the
  // engine (actor "nurt:timer", payload {"timer": {id, state, kind, description, dueAt, firedAt, lateMs}},
  // idempotency key "timer:<id>"), and marks the timer fired, with its lateness, in THAT commit — so it
  // fires at most once whatever crashes. A step that fails is committed as the instance's failure.
  // Errors:
  //   NotFound             no such timer in this org
  //   FailedPrecondition   the timer is no longer armed (fired, cancelled, failed): nothing to do; or its
  //                        instance is suspended or failed: the timer stays armed, fire it again later
  //   others as Accept (Unavailable, Conflict: retry later). An event the instance does not accept marks
  //   the timer failed (with the reason) and returns the error.
  virtual Result<Outcome> FireTimer(const std::string& org_id, const std::string& timer_id) = 0;
  // Every timer of an instance (armed, fired, cancelled, failed), in arming order.
  virtual Result<std::vector<store::TimerRecord>> ListTimers(const std::string& org_id,
                                                             const std::string& instance_id) = 0;
};

// The calendar used when EngineOptions::calendar_for gives none: Europe/Warsaw, Mon–Fri 8–16, Polish holidays.
std::shared_ptr<const calendar::BusinessCalendar> DefaultBusinessCalendar();

Result<std::unique_ptr<Engine>> NewEngine(const EngineOptions& options);

}  // namespace nurt::engine
