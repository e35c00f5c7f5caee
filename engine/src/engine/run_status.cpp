// The instance lifecycle as a Boost.MSM functor-front-end table (CONVENTIONS item 9).
//
// MSM machines always start in their `initial_state`, and a stored instance can be in any status, so the
// machine is a template over its initial state: the table is written once (LifecycleTable) and each
// instantiation only chooses where it starts. A command the table does not list reaches `no_transition`,
// which turns it into a typed FailedPrecondition instead of letting MSM drop it.

#include "nurt/engine/run_status.hpp"

#include <array>
#include <optional>
#include <string>

#include <boost/mpl/vector.hpp>
#include <boost/msm/back/state_machine.hpp>
#include <boost/msm/front/functor_row.hpp>
#include <boost/msm/front/state_machine_def.hpp>

namespace nurt::engine {
namespace {

namespace msm = boost::msm;
namespace mpl = boost::mpl;
using msm::front::none;
using msm::front::Row;

constexpr std::array<RunStatus, 5> kAllStatuses = {RunStatus::kActive, RunStatus::kSuspended,
                                                   RunStatus::kCompleted, RunStatus::kFailed,
                                                   RunStatus::kCancelled};
constexpr std::array<RunCommand, 8> kAllCommands = {
    RunCommand::kComplete, RunCommand::kFail,  RunCommand::kCancel, RunCommand::kSuspend,
    RunCommand::kResume,   RunCommand::kForce, RunCommand::kSkip,   RunCommand::kRetry};

// What a status is called after a command ("it cannot be <this>").
std::string_view CommandParticiple(RunCommand command) {
  switch (command) {
    case RunCommand::kComplete: return "completed";
    case RunCommand::kFail: return "marked failed";
    case RunCommand::kCancel: return "cancelled";
    case RunCommand::kSuspend: return "suspended";
    case RunCommand::kResume: return "resumed";
    case RunCommand::kForce: return "forced into a state";
    case RunCommand::kSkip: return "skipped ahead";
    case RunCommand::kRetry: return "retried";
  }
  return "changed";
}

// --- events -------------------------------------------------------------------------------------------
template <RunCommand C>
struct CommandEvent {
  static constexpr RunCommand kCommand = C;
};
using Complete = CommandEvent<RunCommand::kComplete>;
using Fail = CommandEvent<RunCommand::kFail>;
using Cancel = CommandEvent<RunCommand::kCancel>;
using Suspend = CommandEvent<RunCommand::kSuspend>;
using Resume = CommandEvent<RunCommand::kResume>;
using Force = CommandEvent<RunCommand::kForce>;
using Skip = CommandEvent<RunCommand::kSkip>;
using Retry = CommandEvent<RunCommand::kRetry>;

// --- states -------------------------------------------------------------------------------------------
// Each state records itself as the machine's status when entered (also for the initial state at start()).
template <RunStatus S>
struct StatusState : msm::front::state<> {
  template <class Event, class Fsm>
  void on_entry(const Event&, Fsm& fsm) {
    fsm.status = S;
  }
};
using Active = StatusState<RunStatus::kActive>;
using Suspended = StatusState<RunStatus::kSuspended>;
using Completed = StatusState<RunStatus::kCompleted>;
using Failed = StatusState<RunStatus::kFailed>;
using Cancelled = StatusState<RunStatus::kCancelled>;

// --- the table ----------------------------------------------------------------------------------------
struct LifecycleTable : mpl::vector<
    //   Start      | Event    | Next       | Action | Guard
    Row< Active,      Complete,  Completed,   none,    none >,
    Row< Active,      Fail,      Failed,      none,    none >,
    Row< Active,      Cancel,    Cancelled,   none,    none >,
    Row< Active,      Suspend,   Suspended,   none,    none >,
    Row< Suspended,   Resume,    Active,      none,    none >,
    Row< Suspended,   Cancel,    Cancelled,   none,    none >,
    // Admin overrides (docs/dsl.md "Admin overrides"): force/skip move the statechart of an active or
    // failed instance and leave it active (a completed result is applied afterwards with kComplete).
    Row< Active,      Force,     Active,      none,    none >,
    Row< Active,      Skip,      Active,      none,    none >,
    Row< Failed,      Force,     Active,      none,    none >,
    Row< Failed,      Skip,      Active,      none,    none >,
    Row< Failed,      Retry,     Active,      none,    none >,
    Row< Failed,      Cancel,    Cancelled,   none,    none >
    // completed, cancelled: terminal, no rows; every command there reaches no_transition.
> {};

template <class Initial>
struct LifecycleDef : msm::front::state_machine_def<LifecycleDef<Initial>> {
  using initial_state = Initial;
  using transition_table = LifecycleTable;

  RunStatus status = RunStatus::kActive;  // set by the entered state's on_entry
  std::optional<Status> refusal;          // set when a command is not in the table

  // A command with no row for the current state: refused with a typed error, never dropped.
  template <class Fsm, class Event>
  void no_transition(const Event&, Fsm&, int /*state id*/) {
    refusal = Status::FailedPrecondition("instance is " + std::string(RunStatusName(status)) +
                                         "; it cannot be " +
                                         std::string(CommandParticiple(Event::kCommand)));
  }
};

template <class Initial>
using Lifecycle = msm::back::state_machine<LifecycleDef<Initial>>;

template <class Initial>
std::optional<Status> Run(RunCommand command, RunStatus* status) {
  Lifecycle<Initial> machine;
  machine.start();
  switch (command) {
    case RunCommand::kComplete: machine.process_event(Complete{}); break;
    case RunCommand::kFail: machine.process_event(Fail{}); break;
    case RunCommand::kCancel: machine.process_event(Cancel{}); break;
    case RunCommand::kSuspend: machine.process_event(Suspend{}); break;
    case RunCommand::kResume: machine.process_event(Resume{}); break;
    case RunCommand::kForce: machine.process_event(Force{}); break;
    case RunCommand::kSkip: machine.process_event(Skip{}); break;
    case RunCommand::kRetry: machine.process_event(Retry{}); break;
  }
  *status = machine.status;
  return machine.refusal;
}

// Runs `command` on a machine started in `current`. On success *next is the new status; otherwise the
// refusal built by no_transition is returned.
std::optional<Status> Dispatch(RunStatus current, RunCommand command, RunStatus* next) {
  switch (current) {
    case RunStatus::kActive: return Run<Active>(command, next);
    case RunStatus::kSuspended: return Run<Suspended>(command, next);
    case RunStatus::kCompleted: return Run<Completed>(command, next);
    case RunStatus::kFailed: return Run<Failed>(command, next);
    case RunStatus::kCancelled: return Run<Cancelled>(command, next);
  }
  return Status::Internal("run status " + std::to_string(static_cast<int>(current)) + " is not known");
}

// "(a suspended instance can be: resumed, cancelled)" / "(completed is final: no command applies)",
// read from the table by trying every command.
std::string AllowedHint(RunStatus current) {
  std::string allowed;
  for (RunCommand c : kAllCommands) {
    RunStatus ignored = current;
    if (Dispatch(current, c, &ignored).has_value()) continue;
    if (!allowed.empty()) allowed += ", ";
    allowed += CommandParticiple(c);
  }
  const std::string name(RunStatusName(current));
  if (allowed.empty()) return " (" + name + " is final: no command applies)";
  const char* article = name.find_first_of("aeiou") == 0 ? "an " : "a ";
  return " (" + std::string(article) + name + " instance can be: " + allowed + ")";
}

}  // namespace

std::string_view RunStatusName(RunStatus status) {
  switch (status) {
    case RunStatus::kActive: return "active";
    case RunStatus::kSuspended: return "suspended";
    case RunStatus::kCompleted: return "completed";
    case RunStatus::kFailed: return "failed";
    case RunStatus::kCancelled: return "cancelled";
  }
  return "unknown";
}

std::string_view RunCommandName(RunCommand command) {
  switch (command) {
    case RunCommand::kComplete: return "complete";
    case RunCommand::kFail: return "fail";
    case RunCommand::kCancel: return "cancel";
    case RunCommand::kSuspend: return "suspend";
    case RunCommand::kResume: return "resume";
    case RunCommand::kForce: return "force";
    case RunCommand::kSkip: return "skip";
    case RunCommand::kRetry: return "retry";
  }
  return "unknown";
}

Result<RunStatus> ParseRunStatus(std::string_view name) {
  std::string known;
  for (RunStatus s : kAllStatuses) {
    if (RunStatusName(s) == name) return s;
    if (!known.empty()) known += ", ";
    known += RunStatusName(s);
  }
  return Status::InvalidArgument("unknown run status '" + std::string(name) +
                                 "' (expected one of: " + known + ")");
}

Result<RunStatus> ApplyRunCommand(RunStatus current, RunCommand command) {
  RunStatus next = current;
  std::optional<Status> refusal = Dispatch(current, command, &next);
  if (!refusal.has_value()) return next;
  if (!refusal->IsFailedPrecondition()) return *refusal;
  return Status::FailedPrecondition(refusal->message() + AllowedHint(current));
}

bool AcceptsEvents(RunStatus status) { return status == RunStatus::kActive; }

}  // namespace nurt::engine
