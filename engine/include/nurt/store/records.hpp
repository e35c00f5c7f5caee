#pragma once
// Value types that cross the Store interface. The SQL layout behind them is specified in docs/store.md.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nurt/core/json.hpp"
#include "nurt/core/time.hpp"

namespace nurt::store {

// The event envelope (docs/event-envelope.md, schemas/event-envelope.schema.json).
struct EventEnvelope {
  std::string id;              // ULID
  std::string org_id;
  std::string type;            // event name, e.g. "invoice.paid"; "nurt.start" for the start event
  TimePoint occurred_at{};
  std::string actor;           // who caused it ("cli:alice", "system", "instance:<id>")
  std::string entity_type;     // machine name
  std::string entity_id;       // instance id
  Json payload = Json::object();
  int schema_version = 1;
  std::string trace_id;
  std::string causation_id;    // id of the event/effect that caused this one ("" if external)
  std::string idempotency_key;
  std::int64_t sequence = 0;   // position in the instance's log: 1, 2, 3, ... (set by the engine)

  Json ToJson() const;                 // the envelope as documented
  static EventEnvelope FromJson(const Json& j);
};

// One microstep's transition, as written to the transition log.
struct TransitionRecord {
  std::int64_t event_sequence = 0;  // the accepted event that caused it
  int step = 0;                     // order within that event's macrostep, from 0
  std::string event;                // event name that triggered it ("" for eventless)
  std::vector<std::string> from;    // active atomic states before
  std::vector<std::string> to;      // active atomic states after
  std::string source;               // the transition's source state id
  std::vector<std::string> targets; // its target ids as written (empty: targetless)
  Json detail = Json::object();     // e.g. {"internal":true} or log lines
};

// An effect to execute after commit (the outbox pattern).
struct OutboxItem {
  std::string id;              // ULID
  std::string org_id;
  std::string instance_id;     // the instance whose transition requested it
  std::int64_t event_sequence = 0;
  std::string kind;            // "nurt.send", "nurt.spawn", or an adapter name (later issues)
  Json payload = Json::object();
  std::string idempotency_key; // stable; passed on to whoever executes it
  TimePoint created_at{};
  std::string status = "pending";  // pending | done | failed
  Json result;                 // null until done/failed
};

struct InstanceRecord {
  std::string org_id;
  std::string id;
  std::string machine;
  std::int64_t machine_version = 0;
  std::string run_status;          // active | suspended | completed | failed | cancelled
  std::vector<std::string> state;  // active atomic state ids, document order (for filters and lists)
  Json snapshot;                   // the interpreter's full snapshot (docs/store.md)
  std::int64_t version = 0;        // number of events applied; optimistic concurrency token
  TimePoint created_at{};
  TimePoint updated_at{};
};

// What a request with an idempotency key produced; a retry gets `response` back verbatim.
struct IdempotencyRecord {
  std::string org_id;
  std::string instance_id;
  std::string key;
  std::string request_hash;  // SHA-256 of the canonical request
  Json response;
  TimePoint created_at{};
};

struct DefinitionRecord {
  std::string org_id;
  std::string name;
  std::int64_t version = 0;
  std::string source_file;
  std::string source_text;    // the YAML exactly as loaded
  Json scripts = Json::object();  // actions/ files it uses: path -> content
  std::string content_hash;   // SHA-256 of source_text + scripts; same version + other hash = error
  TimePoint created_at{};
};

// A human task (`task:` of a state, docs/dsl.md "Human tasks"): opened when its state is entered, closed
// when the state is left or when someone completes it. Lifecycle (docs/store.md "tasks"):
//   open --claim--> claimed --release--> open;  open|claimed --complete--> completed;
//   open|claimed --state left--> closed.   completed and closed are final.
struct TaskRecord {
  std::string org_id;
  std::string id;               // ULID
  std::string instance_id;
  std::string machine;
  std::string state;            // the state id whose `task:` this is
  std::string title;
  std::string description;
  std::string assignee_role;    // exactly one of role/user is set by the DSL ("" = not by role)
  std::string assignee_user;
  Json form = Json::array();       // [{"name","type","required"[,"label"][,"options"]}]
  Json checklist = Json::array();  // ["item", …]
  Json decisions = Json::object(); // {"decision": "event", …}
  std::optional<TimePoint> due_at;
  std::string status = "open";  // open | claimed | completed | closed
  std::string claimed_by;       // "" unless claimed (kept when completed by the claimer)
  std::optional<TimePoint> claimed_at;
  std::string decision;         // completed: the decision taken
  std::string completed_by;     // completed: the actor
  Json result;                  // completed: {"data": {...}, "checklist": [...]}; else null
  TimePoint opened_at{};
  std::optional<TimePoint> closed_at;  // completed or closed
  std::string close_reason;     // closed: why ("state review left on event offer.withdrawn")
  std::int64_t opened_by_sequence = 0;  // the event (instance log sequence) that opened it
  std::int64_t closed_by_sequence = 0;  // the event that completed/closed it (0 while active)

  // The task as the API shows it: camelCase keys, times as ISO-8601, absent optionals as null.
  Json ToJson() const;
};

// How a commit ends a task. `status` completed (a person decided: decision, actor, result) or closed
// (its state was left: reason). The store sets closed_at and closed_by_sequence from the commit.
struct TaskClosure {
  std::string task_id;
  std::string status;    // completed | closed
  std::string actor;     // completed: who completed it (must be the claimer when claimed)
  std::string decision;  // completed
  std::string reason;    // closed
  Json result;           // completed: {"data": {...}, "checklist": [...]}
};

// A durable timer (docs/dsl.md "Timers and SLAs", docs/store.md "timers"): armed in the commit of the
// macrostep that entered its state, cancelled in the commit that leaves it, fired at most once.
//   armed --fired by its event's commit--> fired;  armed --state left / instance ended--> cancelled;
//   armed --its event could not be applied--> failed.   fired, cancelled and failed are final.
struct TimerRecord {
  std::string org_id;
  std::string id;                 // ULID
  std::string instance_id;
  std::string machine;
  std::string state;              // the state whose `after:`/`at:`/`sla:` armed it
  int index = 0;                  // its place in that state's timers
  std::string kind;               // after | at | sla.warning | sla.breach | sla.escalation
  std::string event;              // the event it raises when it fires
  std::string description;        // what the designer wrote ("after P3WD")
  TimePoint due_at{};
  TimePoint armed_at{};
  std::int64_t armed_by_sequence = 0;
  std::string status = "armed";   // armed | fired | cancelled | failed
  std::optional<TimePoint> finished_at;
  std::int64_t lateness_ms = 0;   // fired: how long after due_at it fired (a daemon that was down: long)
  std::int64_t finished_by_sequence = 0;  // fired/cancelled by this event (0 otherwise)
  std::string detail;             // cancelled: why; failed: the error
  std::int64_t position = 0;      // store order of arming (for incremental reloads); set by the store

  Json ToJson() const;            // camelCase, times ISO-8601
};

// The timer an accepted event fires (Engine::FireTimer): marked fired in the same commit.
struct TimerFiring {
  std::string timer_id;
  TimePoint fired_at{};
  std::int64_t lateness_ms = 0;
};

}  // namespace nurt::store
