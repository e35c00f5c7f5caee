#pragma once
// Admin overrides (cancel, suspend, resume, force, skip, retry) as pure plans over a snapshot: what
// the statechart does and what the `nurt.admin.*` event records. Engine::Cancel & co. commit a plan
// like an event; Engine::Replay applies the logged payload through the same function, so both agree
// by construction. Private to the engine library.
//
// Thread-safety: pure functions; the Interpreter's lua::Runtime must be serialised by the caller.

#include <optional>
#include <string>
#include <string_view>

#include "nurt/core/json.hpp"
#include "nurt/core/result.hpp"
#include "nurt/engine/run_status.hpp"
#include "nurt/interp/interpreter.hpp"

namespace nurt::engine {

enum class AdminVerb { kCancel, kSuspend, kResume, kForce, kSkip, kRetry };

// "nurt.admin.cancel", ... : the event type logged for the verb.
std::string AdminEventType(AdminVerb verb);
// The verb of a logged event type; nullopt for every other event.
std::optional<AdminVerb> AdminVerbOfEventType(std::string_view type);
// The lifecycle command the verb applies through ApplyRunCommand.
RunCommand AdminRunCommand(AdminVerb verb);

struct AdminPlan {
  interp::StepResult step;  // new snapshot and transition records (the first one tagged "override")
  Json payload;             // the logged event's payload: the request plus what the override did
};

// Plans `verb` on `snapshot`. `request` is the payload as far as the caller knows it: {"reason"}
// and
// {"state"} (force) or {"patch"} (retry); a payload read back from the log plans the same way
// again. `event` is the admin event as Lua sees it (retry instead re-applies the failed event, with
// its actor). Errors: InvalidArgument (unknown state, non-object patch), FailedPrecondition (skip
// has no single destination; retry with no failure recorded), and the interpreter's errors for the
// re-applied event.
Result<AdminPlan> PlanAdmin(AdminVerb verb, const interp::Interpreter& interpreter,
                            const interp::Snapshot& snapshot, const Json& request,
                            const interp::Event& event, const interp::StepOptions& options);

// The snapshot's `failure` record for an event that could not be processed.
Json FailureRecord(const std::string& event, const Json& data, const std::string& actor,
                   const std::string& error, std::int64_t sequence);

}  // namespace nurt::engine
