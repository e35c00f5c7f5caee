#pragma once
// nurt::interp::Interpreter — one statechart step, pure (uSCXML `step()`; SCXML 1.0 Appendix D).
//
// Given a snapshot, an event and the time, it returns what should change: the new snapshot, one record per
// transition taken, and the effects to execute after the commit. It does no IO and reads no clock; Lua
// guards and actions run in the injected lua::Runtime, which is deterministic, so replaying the same
// events over the same definition reproduces every state exactly. The rules it implements are listed in
// docs/dsl.md "Run-to-completion semantics", each with its test in tests/engine/interp/.
//
// Thread-safety: an Interpreter holds no mutable state of its own, but the lua::Runtime it uses is not
// thread-safe: callers serialise calls that share a Runtime.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nurt/core/json.hpp"
#include "nurt/core/result.hpp"
#include "nurt/core/time.hpp"
#include "nurt/dsl/definition.hpp"
#include "nurt/lua/runtime.hpp"
#include "nurt/store/records.hpp"

namespace nurt::interp {

// The durable state of one instance. Stored as JSON (docs/store.md "snapshot").
struct Snapshot {
  std::vector<dsl::StateIndex> configuration;  // every active state, document order (root excluded)
  Json context = Json::object();
  bool done = false;                           // a top-level final state was entered
  Json output;                                 // its done data (null when none)
  // Set while the instance is `failed`: the engine-delivered event it could not process,
  // {"event", "data", "actor", "error", "sequence"} (docs/dsl.md "Admin overrides"). Null otherwise.
  // A step never carries it over: whatever moves the instance on (retry, force, skip) clears it.
  Json failure;
  // History states' stored configurations: {"<history id>": ["<state id>", …]} (SCXML history value).
  // Empty until a state with a history child is left.
  Json history = Json::object();

  // {"configuration":[ids], "context":{}, "done":false, "output":null} plus "failure" and "history"
  // when set.
  Json ToJson(const dsl::Definition& definition) const;
  // InvalidArgument/DataLoss when the JSON names states the definition does not have.
  static Result<Snapshot> FromJson(const dsl::Definition& definition, const Json& json);
  // Active atomic (and final) state ids, document order.
  std::vector<std::string> ActiveLeaves(const dsl::Definition& definition) const;
};

struct Event {
  std::string name;
  Json data = Json::object();
  std::string actor;
  // SCXML's _event fields, seen in Lua as event.type, event.sendid, event.origin, event.origintype and
  // event.invokeid. `type` is "external" for events given to Start/Step; the interpreter sets "internal"
  // for raised events and "platform" for done.* and error.* events it generates.
  std::string type = "external";
  std::string send_id;
  std::string origin;
  std::string origin_type;
  std::string invoke_id;
};

// Work for after the commit: `emit … to:` and `send` (kSend), `spawn` (kSpawn), `notify` (kNotify) and
// `cancel` (kCancel).
struct Effect {
  enum class Kind { kSend, kSpawn, kNotify, kCall, kCancel };
  Kind kind = Kind::kSend;
  std::string name;  // event name (send), machine name (spawn), channel name (notify), adapter (call)
  std::string to;    // send: target instance id; spawn: requested child id ("" = generate)
  std::string key;   // idempotency key, stable across replays
  Json data;         // notify: {"channel", "to" (when given), "subject", "body"} — templates, not rendered;
                     // call: {"step", "input", "retry"} (retry null = the adapter's default policy)
  // kSend from a `send` action: deliver `delay_ms` after the event's time (0 = as soon as committed);
  // `send_id` names it for a later kCancel (whose only field it is). `to` is the instance's own id when
  // the action gave none (SCXML: the session's external queue).
  std::int64_t delay_ms = 0;
  std::string send_id;
};

struct StepResult {
  Snapshot snapshot;
  std::vector<store::TransitionRecord> transitions;  // event_sequence left 0: the engine sets it
  std::vector<Effect> effects;
  std::vector<std::string> log;                      // log(...) lines from Lua, in order
};

struct StepOptions {
  std::string instance_id;          // for instance_id() and default spawn keys
  std::int64_t sequence = 0;        // the event's place in the instance log (keys of effects)
  TimePoint now{};                  // the event's time: now() in Lua
  int max_microsteps = 1000;        // a macrostep that does not settle is an error
};

class Interpreter {
 public:
  // REQUIRES: definition loaded without errors; lua outlives the Interpreter.
  Interpreter(std::shared_ptr<const dsl::Definition> definition, lua::Runtime* lua);

  // Enters the initial configuration with `context` as instance data and runs to completion.
  // `start` is the event visible to entry actions (name "nurt.start", data = the start data).
  Result<StepResult> Start(const Json& context, const Event& start, const StepOptions& options) const;

  // Processes one external event to completion (one macrostep).
  // Errors: FailedPrecondition when no transition takes the event (message lists the accepted events)
  //         or the instance is done; InvalidArgument for an unhandled guard/action error (file:line);
  //         ResourceExhausted for Lua limits or a macrostep that does not settle.
  Result<StepResult> Step(const Snapshot& snapshot, const Event& event,
                          const StepOptions& options) const;

  // Admin override (docs/dsl.md "Admin overrides"): leaves the configuration for `state_id` (with its
  // ancestors and default descendants), running exit then entry actions in SCXML order and no guard,
  // then runs eventless transitions and raised events to completion like any step. `event` is what Lua
  // sees as the current event; the first transition record has detail {"override":"force"}.
  // Errors: InvalidArgument for an unknown state id (with did-you-mean) or a failing exit/entry action;
  //         FailedPrecondition when the snapshot is done; ResourceExhausted as for Step.
  Result<StepResult> Force(const Snapshot& snapshot, const std::string& state_id, const Event& event,
                           const StepOptions& options) const;

  // Admin override: leaves the single active atomic state along its only destination, as if its step
  // had been done: exit/entry actions run, the transition's guard and actions do not. The destination
  // must be unique over the state's own eventful transitions (error.* excluded, targetless ignored).
  // Errors: FailedPrecondition naming the candidates ("use force with one of them") when there are
  //         several or none, or when several atomic states are active (parallel); others as Force.
  Result<StepResult> Skip(const Snapshot& snapshot, const Event& event,
                          const StepOptions& options) const;

  // Event names some active state has a transition for (sorted, no done.*/error.* events, no "*").
  std::vector<std::string> AcceptedEvents(const Snapshot& snapshot) const;

  const dsl::Definition& definition() const { return *definition_; }

 private:
  std::shared_ptr<const dsl::Definition> definition_;
  lua::Runtime* lua_;
};

}  // namespace nurt::interp
