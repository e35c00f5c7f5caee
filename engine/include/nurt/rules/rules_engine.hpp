#pragma once
// nurt::rules::RulesEngine — evaluates `kind: Rules` documents (docs/rules.md) against the committed
// event log, exactly once per event.
//
//   RunOnce(limit): read the evaluator's cursor -> release queued firings whose throttle window has
//   room -> read up to `limit` events after the cursor (Store::ListEventsAfter) -> for each event, the
//   rules of its org whose `on` matches its type (and `machine` its entity) -> `when` (sandboxed Lua,
//   over the event and the entity's CURRENT state and context) -> once_per key -> throttle -> effects
//   (outbox items nurt.notify / nurt.send / nurt.spawn, rule tasks) -> ONE Store::CommitRuleEvaluation
//   that moves the cursor past the events together with everything they caused.
//
// Exactly once: a crash before the commit re-evaluates the events (nothing of them was written); a
// crash after it never sees them again (the cursor moved in the same transaction). The once_per key is
// also unique in the store, so replaying the feed from an older cursor fires nothing twice.
// Emits and starts are executed by Engine::DeliverInternalEffects like a machine's own, notifications
// by the notification dispatcher; both are idempotent on the outbox item's key.
//
// Thread-safety: SetRules, Counters and RunOnce may be called from different threads; RunOnce calls
// are serialised internally (one pass at a time per RulesEngine).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nurt/core/json.hpp"
#include "nurt/core/result.hpp"
#include "nurt/dsl/rules.hpp"
#include "nurt/env/clock.hpp"
#include "nurt/env/id_generator.hpp"
#include "nurt/lua/runtime.hpp"
#include "nurt/store/store.hpp"

namespace nurt::rules {

struct RulesEngineOptions {
  store::Store* store = nullptr;      // required; not owned; must outlive the engine
  const env::Clock* clock = nullptr;  // default: env::SystemClock(); drives throttle windows
  env::IdGenerator* ids = nullptr;    // default: ULIDs from `clock` (outbox item and task ids)
  lua::Limits lua_limits;             // per `when` / value evaluation
  std::string evaluator = "rules";    // the cursor's name in the store
  // Called for every rule error (a failing `when`, an unknown entity) besides the counter and the
  // firing row with status error; e.g. the daemon's logger. May be empty.
  std::function<void(const std::string& message, const Json& fields)> on_error;
};

// Per rule, since the engine was created (the store keeps the durable record: rule_firings).
struct RuleCounters {
  std::int64_t evaluated = 0;   // events whose type and machine matched the rule
  std::int64_t fired = 0;       // firings whose effects were written (released ones included)
  std::int64_t suppressed = 0;  // `when` held but the once_per key had fired already
  std::int64_t queued = 0;      // held back by a throttle with policy queue
  std::int64_t released = 0;    // queued firings sent later (also counted in fired)
  std::int64_t dropped = 0;     // held back by a throttle with policy drop
  std::int64_t errors = 0;      // `when` or an action value failed
};

struct RunReport {
  int events = 0;               // events read from the feed
  std::int64_t position = 0;    // the cursor after the pass
  RuleCounters totals;          // what this pass did, all rules together
};

class RulesEngine {
 public:
  virtual ~RulesEngine() = default;

  // Replaces the rule sets evaluated for `org_id`'s events (none = the org has no rules). Sets whose
  // `org:` names another org are ignored. Errors: InvalidArgument when two sets use the same rule id
  // (the id keys the once_per record), nothing changes then.
  virtual Status SetRules(const std::string& org_id,
                          const std::vector<std::shared_ptr<const dsl::RuleSet>>& sets) = 0;

  // One pass over at most `limit` events (1..10000). Errors: Unavailable (store busy; nothing was
  // committed, call again), Conflict (another evaluator of the same name committed; call again),
  // DataLoss. A failing rule is not an error of the pass: it is recorded and the feed moves on.
  virtual Result<RunReport> RunOnce(int limit = 500) = 0;

  // (org, rule id) -> counters.
  virtual std::map<std::pair<std::string, std::string>, RuleCounters> Counters() const = 0;
};

Result<std::unique_ptr<RulesEngine>> NewRulesEngine(const RulesEngineOptions& options);

}  // namespace nurt::rules
