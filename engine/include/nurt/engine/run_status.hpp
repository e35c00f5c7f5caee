#pragma once
// The run status of an instance (the engine's own lifecycle, not the designer's statechart) and the
// commands that move it.
//
//            suspend            complete / fail / cancel
//   active ───────────▶ suspended        active ─────────▶ completed | failed | cancelled
//          ◀───────────
//             resume            suspended ── cancel ──▶ cancelled
//
//   active ── force / skip ──▶ active          failed ── force / skip / retry ──▶ active
//                                              failed ── cancel ──▶ cancelled
//
// `completed` and `cancelled` are terminal: no command leaves them. `failed` (an event delivered by the
// engine itself could not be processed) waits for an operator: retry, force, skip or cancel. Only an
// `active` instance accepts events. The table itself lives in run_status.cpp (a Boost.MSM state
// machine); this header is the whole interface, so callers never see MSM.
//
// Thread-safety: pure functions over values; safe from any thread.

#include <string_view>

#include "nurt/core/result.hpp"

namespace nurt::engine {

enum class RunStatus { kActive, kSuspended, kCompleted, kFailed, kCancelled };

enum class RunCommand { kComplete, kFail, kCancel, kSuspend, kResume, kForce, kSkip, kRetry };

// "active", "suspended", "completed", "failed", "cancelled": the text stored in InstanceRecord::run_status.
std::string_view RunStatusName(RunStatus status);

// "complete", "fail", "cancel", "suspend", "resume", "force", "skip", "retry".
std::string_view RunCommandName(RunCommand command);

// The inverse of RunStatusName. InvalidArgument (listing the known names) for any other text.
Result<RunStatus> ParseRunStatus(std::string_view name);

// The status after `command` is applied to an instance in `current`.
// FailedPrecondition when the lifecycle does not allow it, e.g. "instance is completed; it cannot be
// suspended (completed is final: no command applies)" or "instance is suspended; it cannot be completed
// (a suspended instance can be: resumed, cancelled)".
Result<RunStatus> ApplyRunCommand(RunStatus current, RunCommand command);

// True only for kActive: suspended and terminal instances refuse every event.
bool AcceptsEvents(RunStatus status);

}  // namespace nurt::engine
