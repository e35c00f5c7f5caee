#pragma once
// The in-memory model of one `kind: Machine` document (DSL v1), as produced by the loader and consumed by
// the interpreter, the graph exporter and the validator. See docs/dsl.md for the language itself.
//
// States are stored flat, in document order (a pre-order walk of the YAML), and refer to each other by
// index; index 0 is the synthetic root whose children are the top-level `states`. Document order is the
// tie-breaker for everything in the SCXML algorithm, so the vector order is semantic, not cosmetic.
// The root has an empty id, kind kCompound, depth 0 and `initial` = the machine's `initial:` (default: the
// first top-level state); it has no transitions, actions or output. Every compound state has `initial`
// set (its `initial:` or its first child); parallel, atomic and final states have kNoState.
//
// A Definition is immutable once loaded and safe to share between threads.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nurt/core/json.hpp"
#include "nurt/core/result.hpp"
#include "nurt/dsl/diagnostic.hpp"

namespace nurt::dsl {

using StateIndex = std::int32_t;
inline constexpr StateIndex kNoState = -1;
inline constexpr StateIndex kRootState = 0;

// A Lua snippet with the place it came from, so runtime and syntax errors point into the YAML file.
//
// Line numbering: line k of `source` is line `location.line + k - 1` of `location.file`. For a plain or
// quoted scalar that is the line of the value; for a `|` block it is the line after the key (the first
// content line; `|` keeps every line, so the mapping is exact; `>` folds lines, so only the first line
// maps exactly); for `script:` it is line 1 of the .lua file. `location.column` is where the text itself
// starts (after an opening quote; the block's indentation). Run it with lua::Chunk{source,
// location.file, location.line} and Lua's messages read "file:line: …" with the right line.
struct LuaCode {
  std::string source;      // the Lua text exactly as written (for an expression: without `return`)
  std::string chunk_name;  // "=" + location.file — what Lua prints (as "file:line:") in error messages
  SourceLocation location; // where the snippet starts in the YAML (or in the .lua file for `script:`)
};

// A value that is either a literal JSON value or a Lua expression evaluated at run time.
// In the YAML every string is an expression; numbers, booleans, null, lists and maps are literals (see
// docs/dsl.md "Values"). A literal list or map is taken as is: its strings are text, not expressions. A
// map given for `emit.data`/`spawn.data`/`output` is different — each of its fields is a value of its own:
// see ActionSpec::data_fields and StateSpec::output_fields.
struct ValueSpec {
  bool is_expression = false;
  LuaCode expression;  // when is_expression
  Json literal;        // otherwise
};

struct ActionSpec {
  enum class Kind {
    kAssign,  // assignments: ordered (path, value); path is dotted ("customer.name")
    kEmit,    // raise `event` to this instance (internal queue) or, with `to`, send to another instance
    kSpawn,   // start an instance of `machine` with `data`, idempotent on `key`
    kLua,     // inline Lua statements (`lua:`) or a file from actions/ (`script:`)
    kNotify,  // a notification: an outbox item "nurt.notify" (docs/notifications.md), rendered at send time
    kCall,    // an adapter call: an outbox item of kind `adapter` (docs/effects.md), answered by the
              // event `<step>.done` (output) or `<step>.failed` (a typed error)
    kSend,    // an event through the instance's external queue (SCXML <send>), optionally delayed, with an id
    kCancel,  // cancel a delayed `send` of this instance by its id (SCXML <cancel>)
    kLog,     // a log line: `label: value` (SCXML <log>)
    kIf,      // the first branch whose condition holds runs (SCXML <if>/<elseif>/<else>)
    kForeach, // runs `nested` once per item of a Lua array (SCXML <foreach>)
    kBlock,   // runs `nested`; a failure raises error.execution and skips only the rest of the block
  };
  Kind kind = Kind::kLua;
  SourceLocation location;

  // kAssign
  std::vector<std::pair<std::string, ValueSpec>> assignments;
  // kEmit
  std::string event;                 // event name
  std::optional<ValueSpec> to;       // target instance id (expression or literal); none = this instance
  // Payload (kEmit and kSpawn). Three cases:
  //   no `data`          -> data empty, data_is_map false, data_fields empty: the payload is null;
  //   `data:` a map      -> data empty, data_is_map true, data_fields = (field, value) in written order:
  //                         the payload is an object built from the fields ({} when there are none);
  //   any other `data:`  -> data set (a string is an expression, anything else a literal).
  std::optional<ValueSpec> data;
  std::vector<std::pair<std::string, ValueSpec>> data_fields;
  bool data_is_map = false;
  // kSpawn
  std::string machine;               // machine name to start
  std::optional<ValueSpec> key;      // idempotency key; default "<this instance id>/<action location>"
  std::optional<ValueSpec> id;       // id of the new instance; default generated
  // kLua
  LuaCode code;                      // statements
  std::string script_path;           // for `script:` — path under actions/, for messages and the graph
  // kNotify: `channel` (a name from the org's channel configuration) and templates with {{placeholders}}
  // that the dispatcher renders; `to` (optional) is a value: a literal list of recipients or an expression.
  std::string channel;
  std::optional<ValueSpec> notify_to;
  std::string subject;
  std::string body;
  // kCall: the adapter, the step name (prefix of the answer events), the input (in data / data_fields /
  // data_is_map, exactly like emit's `data`) and the retry policy (ParseRetryPolicy form; null = the
  // dispatcher's default for the adapter).
  std::string adapter;
  std::string step;
  Json retry;
  // kSend: `event`, `data`/`data_fields`, `to` as for kEmit (no `to`: this instance, through its external
  // queue, i.e. after the current macrostep); `delay` evaluates to milliseconds or a duration text
  // ("PT1.5S", "1.5s", "200ms"); `send_id` names the send for kCancel (default: generated); `id_location`
  // (a ctx path, "" = none) receives the id. kCancel: `send_id` is the id to cancel.
  std::optional<ValueSpec> delay;
  std::optional<ValueSpec> send_id;
  std::string id_location;
  std::optional<LuaCode> event_expr;  // kSend: the event name computed at run time (instead of `event`)
  // kLog: `label` (text) and the value in `data` (optional).
  std::string label;
  // kIf: `conditions[i]` guards `blocks[i]`; a missing condition (the `else`) always holds.
  std::vector<std::optional<LuaCode>> conditions;
  std::vector<std::vector<ActionSpec>> blocks;
  // kForeach: `code` is the array expression; each item is assigned to ctx path `item` (and its 1-based
  // position to `index`, when given) before `nested` runs. kBlock: `nested` are the block's actions.
  std::string item;
  std::string index;
  std::vector<ActionSpec> nested;
};

// A delay as written in `after:`, `at: … offset:` and `sla:`: elapsed time ("PT4H", "P3D") or working
// time against the org's business calendar ("P3WD" = three working days; any duration with
// `business: true`, where days are working days and hours/minutes are working hours).
struct DelaySpec {
  std::string text;                         // as written, e.g. "P3WD", "-P3D"
  bool negative = false;                    // only `at: … offset:` may go back in time
  bool business = false;
  std::chrono::milliseconds elapsed{0};     // !business: the whole delay
  int working_days = 0;                     // business: whole working days first…
  std::chrono::milliseconds working_time{0};  // …then this much working time
};

// One durable timer of a state (docs/dsl.md "Timers and SLAs"): armed when the macrostep that entered
// the state commits, cancelled when the state is left, and fired at most once as the event `event`.
struct TimerSpec {
  enum class Kind {
    kAfter,          // `after:` — `delay` after entering the state
    kAt,             // `at:` — the time the Lua expression `at` gives, shifted by `delay` (may be negative)
    kSlaWarning,     // `sla.warning` — `delay` after entering the state
    kSlaBreach,      // `sla.target`
    kSlaEscalation,  // `sla.escalations[i]` — `delay` after the previous escalation (the first: after entry)
  };
  Kind kind = Kind::kAfter;
  DelaySpec delay;
  std::optional<LuaCode> at;   // kAt
  std::string event;           // the event the timer raises (a synthetic nurt.timer.* one for `target:`)
  std::string level;           // escalations: the level's name ("L1")
  int base_timer = -1;         // index in the state's `timers` whose due time this one counts from; -1 = entry
  SourceLocation location;
  std::string Describe() const;  // "after P3WD", "at ctx.installation_date -P3D", "SLA L1 after PT4H"
};

struct TransitionSpec {
  std::string event;                    // empty for eventless (`always:`); "*" matches every event
  std::vector<StateIndex> targets;      // empty = targetless (actions only, no exit/entry)
  std::vector<std::string> target_ids;  // as written, for messages
  std::optional<LuaCode> guard;         // a Lua expression
  std::vector<ActionSpec> actions;
  bool internal = false;                // `type: internal` (SCXML): do not exit the source compound state
  StateIndex source = kNoState;
  std::int32_t document_order = 0;      // global order: 0, 1, … over states in document order, each
                                        // state's `transitions` in vector order
  SourceLocation location;
};

// kHistory: an SCXML history pseudo-state. It is never active: a transition targeting it enters the
// configuration its parent had when it was last left (shallow: the parent's active children; deep: the
// active atomic descendants), or, the first time, the targets of its default transition
// (StateSpec::transitions[0], eventless, never selected as such).
enum class StateKind { kAtomic, kCompound, kParallel, kFinal, kHistory };

// The roles a task can be assigned to (`assignee: {role: …}`) and an API key can carry, in this order.
// One constant list for the DSL, the store and the auth code.
const std::vector<std::string>& KnownRoles();

// The field types a task form may use (docs/dsl.md "Human tasks").
const std::vector<std::string>& TaskFieldTypes();

// One field of a task's form: what the person fills in when completing the task.
struct TaskFieldSpec {
  std::string name;                  // key in the completion data, unique in the form
  std::string type;                  // string | number | integer | boolean | date | enum
  std::string label;                 // for display; "" = use the name
  bool required = false;
  std::vector<std::string> options;  // enum only: the allowed values, in written order
  SourceLocation location;

  Json ToJson() const;  // {"name","type","required"[,"label"][,"options"]}
};

// `task:` of a state: a human task opened each time the state is entered and closed when it is left.
struct TaskSpec {
  std::string title;
  std::string description;
  std::string assignee_role;         // exactly one of assignee_role / assignee_user is set
  std::string assignee_user;
  std::vector<TaskFieldSpec> form;
  std::vector<std::string> checklist;
  std::optional<std::int64_t> due_ms;  // `due:` as milliseconds after entering the state
  std::string due;                     // `due:` as written (ISO-8601 duration), "" when absent
  // decision -> event raised on the instance when the task is completed with it; written order.
  std::vector<std::pair<std::string, std::string>> decisions;
  SourceLocation location;           // where `task:` is written

  Json FormJson() const;       // [field.ToJson(), …]
  Json ChecklistJson() const;  // ["item", …]
  Json DecisionsJson() const;  // {"decision": "event", …}
};

struct StateSpec {
  std::string id;                     // unique in the machine
  StateKind kind = StateKind::kAtomic;
  std::string description;
  StateIndex parent = kNoState;       // kNoState only for the root
  std::vector<StateIndex> children;   // document order
  StateIndex initial = kNoState;      // compound: the initial child (default: first child)
  std::int32_t depth = 0;             // root = 0, top-level states = 1
  std::vector<TransitionSpec> transitions;  // document order: `on:` entries first, then `always:`
  std::vector<ActionSpec> entry;
  std::vector<ActionSpec> exit;
  // Final states: the done data. `output:` given as a map -> output_is_map is true, output_fields holds
  // (field, value) in written order (evaluate each: a string is an expression) and `output` holds the map
  // exactly as written, as a literal, for display only (its strings are the unevaluated expressions).
  // `output:` given as anything else -> output_is_map is false and `output` is the value (a string is an
  // expression, anything else a literal). No `output:` -> `output` is empty.
  std::optional<ValueSpec> output;
  std::vector<std::pair<std::string, ValueSpec>> output_fields;
  bool output_is_map = false;
  std::optional<TaskSpec> task;       // `task:` (atomic and compound states only)
  // `after:`, `at:` and `sla:` (including the task's `sla:`), in written order. A timer that takes a
  // transition raises a synthetic event (TimerEventName) that one of this state's `transitions` handles.
  std::vector<TimerSpec> timers;
  bool deep_history = false;          // kHistory: `history: deep`
  SourceLocation location;            // where the state's key is written
};

// "nurt.timer.<state id>.<index>": the event of the `index`-th timer of a state whose timer takes a
// transition (`target:`) rather than raising a named event. Reserved: clients cannot send it.
std::string TimerEventName(const std::string& state_id, std::size_t index);

struct Definition {
  std::string api_version;   // "nurt/v1"
  std::string name;          // machine name, e.g. "invoice"
  std::int64_t version = 1;
  std::string description;
  Json initial_context = Json::object();  // `context.initial`
  std::optional<Json> context_schema;     // `context.schema` (JSON Schema draft 7 subset: see docs/dsl.md)
  // `data:` — fields of the instance data computed at start, in written order, before the first state is
  // entered (SCXML early binding); each value follows docs/dsl.md "Values" and may use earlier fields.
  std::vector<std::pair<std::string, ValueSpec>> data;
  // `init:` — actions run once at start, after `data:` and before the first state is entered (SCXML's
  // top-level <script>). A failure raises error.execution, like any block.
  std::vector<ActionSpec> init;
  // `errors: ignore` — an error.* event no active state handles is dropped (SCXML) instead of rejecting
  // the whole event (the default, `errors: reject`).
  bool ignore_unhandled_errors = false;
  std::vector<StateSpec> states;          // [0] = root
  std::string source_file;                // path as given to the loader
  std::string source_text;                // the YAML exactly as loaded (stored with each version)
  std::vector<std::pair<std::string, std::string>> scripts;  // actions/ files used: (path, content)

  // Index of the state with `id`, or kNoState.
  StateIndex Find(const std::string& id) const;
  const StateSpec& state(StateIndex i) const { return states[static_cast<std::size_t>(i)]; }
  // Every event name some transition listens for (no duplicates, in document order).
  std::vector<std::string> EventNames() const;
};

// SCXML event matching: `descriptor` (a transition's event) matches `event` when it is "*", equal to it,
// or a prefix of it ending at a dot ("payment" matches "payment.received", not "payments");
// a trailing ".*" is ignored ("payment.*" is "payment"). An empty
// descriptor (eventless transition) matches nothing.
bool EventMatches(const std::string& descriptor, const std::string& event);

}  // namespace nurt::dsl
