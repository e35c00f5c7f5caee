// The instance lifecycle table: every (status, command) pair against the expected outcome, the refusal
// messages an operator reads, and the names stored in InstanceRecord::run_status.
#include "nurt/engine/run_status.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace nurt::engine {
namespace {

using S = RunStatus;
using C = RunCommand;

const std::vector<S> kStatuses = {S::kActive, S::kSuspended, S::kCompleted, S::kFailed, S::kCancelled};
const std::vector<C> kCommands = {C::kComplete, C::kFail,  C::kCancel, C::kSuspend,
                                  C::kResume,   C::kForce, C::kSkip,   C::kRetry};

// The lifecycle as the product defines it, written independently of the MSM table.
// nullopt: the command is refused in that status.
std::optional<S> Expected(S from, C command) {
  switch (from) {
    case S::kActive:
      switch (command) {
        case C::kComplete: return S::kCompleted;
        case C::kFail: return S::kFailed;
        case C::kCancel: return S::kCancelled;
        case C::kSuspend: return S::kSuspended;
        case C::kResume: return std::nullopt;
        case C::kForce: return S::kActive;
        case C::kSkip: return S::kActive;
        case C::kRetry: return std::nullopt;  // only a failed instance has something to retry
      }
      break;
    case S::kSuspended:
      switch (command) {
        case C::kResume: return S::kActive;
        case C::kCancel: return S::kCancelled;
        default: return std::nullopt;  // resume first: a suspended instance is frozen, also for force
      }
    case S::kFailed:
      switch (command) {
        case C::kCancel: return S::kCancelled;
        case C::kForce: return S::kActive;
        case C::kSkip: return S::kActive;
        case C::kRetry: return S::kActive;
        default: return std::nullopt;
      }
    case S::kCompleted:
    case S::kCancelled:
      return std::nullopt;
  }
  return std::nullopt;
}

std::string Participle(C command) {
  switch (command) {
    case C::kComplete: return "completed";
    case C::kFail: return "marked failed";
    case C::kCancel: return "cancelled";
    case C::kSuspend: return "suspended";
    case C::kResume: return "resumed";
    case C::kForce: return "forced into a state";
    case C::kSkip: return "skipped ahead";
    case C::kRetry: return "retried";
  }
  return "?";
}

TEST(RunStatusTest, EveryStatusAndCommandPairFollowsTheLifecycleTable) {
  int allowed = 0;
  for (S from : kStatuses) {
    for (C command : kCommands) {
      SCOPED_TRACE(std::string(RunStatusName(from)) + " + " + std::string(RunCommandName(command)));
      const Result<S> got = ApplyRunCommand(from, command);
      const std::optional<S> want = Expected(from, command);
      if (want.has_value()) {
        ASSERT_TRUE(got.ok()) << got.status();
        EXPECT_EQ(RunStatusName(*got), RunStatusName(*want));
        ++allowed;
      } else {
        ASSERT_FALSE(got.ok()) << "allowed, now " << RunStatusName(*got);
        EXPECT_TRUE(got.status().IsFailedPrecondition()) << got.status();
        const std::string prefix = "instance is " + std::string(RunStatusName(from)) +
                                   "; it cannot be " + Participle(command);
        EXPECT_EQ(got.status().message().rfind(prefix, 0), 0u) << got.status();
      }
    }
  }
  EXPECT_EQ(allowed, 12);  // the twelve rows of the table, no more
}

TEST(RunStatusTest, RefusalsSayWhatTheStatusAllows) {
  auto terminal = ApplyRunCommand(S::kCompleted, C::kSuspend);
  ASSERT_TRUE(terminal.status().IsFailedPrecondition());
  EXPECT_EQ(terminal.status().message(),
            "instance is completed; it cannot be suspended (completed is final: no command applies)");

  auto suspended = ApplyRunCommand(S::kSuspended, C::kComplete);
  EXPECT_EQ(suspended.status().message(),
            "instance is suspended; it cannot be completed (a suspended instance can be: cancelled, "
            "resumed)");

  auto active = ApplyRunCommand(S::kActive, C::kResume);
  EXPECT_EQ(active.status().message(),
            "instance is active; it cannot be resumed (an active instance can be: completed, marked "
            "failed, cancelled, suspended, forced into a state, skipped ahead)");

  auto failed = ApplyRunCommand(S::kFailed, C::kSuspend);
  EXPECT_EQ(failed.status().message(),
            "instance is failed; it cannot be suspended (a failed instance can be: cancelled, forced "
            "into a state, skipped ahead, retried)");

  auto retry_active = ApplyRunCommand(S::kActive, C::kRetry);
  EXPECT_EQ(retry_active.status().message().rfind("instance is active; it cannot be retried", 0), 0u);

  auto cancelled = ApplyRunCommand(S::kCancelled, C::kCancel);
  EXPECT_EQ(cancelled.status().message(),
            "instance is cancelled; it cannot be cancelled (cancelled is final: no command applies)");
}

TEST(RunStatusTest, SuspendAndResumeReturnToActive) {
  auto suspended = ApplyRunCommand(S::kActive, C::kSuspend);
  ASSERT_TRUE(suspended.ok());
  auto resumed = ApplyRunCommand(*suspended, C::kResume);
  ASSERT_TRUE(resumed.ok());
  EXPECT_EQ(*resumed, S::kActive);
}

TEST(RunStatusTest, AFailedInstanceIsRepairedOrCancelledNeverLeftFinal) {
  for (C command : {C::kRetry, C::kForce, C::kSkip}) {
    auto repaired = ApplyRunCommand(S::kFailed, command);
    ASSERT_TRUE(repaired.ok()) << RunCommandName(command) << ": " << repaired.status();
    EXPECT_EQ(*repaired, S::kActive);
  }
  EXPECT_EQ(*ApplyRunCommand(S::kFailed, C::kCancel), S::kCancelled);
  EXPECT_FALSE(ApplyRunCommand(S::kFailed, C::kResume).ok());
}

TEST(RunStatusTest, OnlyActiveInstancesAcceptEvents) {
  for (S s : kStatuses) {
    EXPECT_EQ(AcceptsEvents(s), s == S::kActive) << RunStatusName(s);
  }
}

TEST(RunStatusTest, NamesRoundTrip) {
  const std::vector<std::string> names = {"active", "suspended", "completed", "failed", "cancelled"};
  for (std::size_t i = 0; i < kStatuses.size(); ++i) {
    EXPECT_EQ(RunStatusName(kStatuses[i]), names[i]);
    auto parsed = ParseRunStatus(names[i]);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, kStatuses[i]);
  }
  const std::vector<std::string> commands = {"complete", "fail", "cancel", "suspend",
                                             "resume",   "force", "skip",   "retry"};
  for (std::size_t i = 0; i < kCommands.size(); ++i) EXPECT_EQ(RunCommandName(kCommands[i]), commands[i]);
}

TEST(RunStatusTest, UnknownNamesAreRefusedWithTheKnownOnes) {
  for (const char* bad : {"", "Active", "running", "done", "active "}) {
    auto parsed = ParseRunStatus(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_TRUE(parsed.status().IsInvalidArgument());
    EXPECT_NE(parsed.status().message().find(
                  "(expected one of: active, suspended, completed, failed, cancelled)"),
              std::string::npos)
        << parsed.status();
  }
}

}  // namespace
}  // namespace nurt::engine
