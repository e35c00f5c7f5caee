// Scenario files (`nurt test`): loading with file:line:col, running in virtual time on the real engine,
// failures that point at the scenario's line and carry the instance's history.
#include "nurt/scenario/scenario.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "temp_dir.hpp"

namespace nurt::scenario {
namespace {

using ::testing::HasSubstr;

const char* kTicket = R"(apiVersion: nurt/v1
kind: Machine
name: ticket
version: 1
states:
  open:
    after: { delay: PT4H, target: stale }
    on: { close: closed }
  stale:
    on: { close: closed }
  closed: { type: final }
)";

class ScenarioTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_.File(name);
    std::ofstream(path) << text;
    return path;
  }

  RunResult Run(const std::string& scenario_text, std::string* timeline = nullptr) {
    Write("ticket.yaml", kTicket);
    auto loaded = LoadScenarioFile(Write("t.scenario.yaml", scenario_text));
    EXPECT_TRUE(loaded.scenario.has_value()) << (loaded.diagnostics.empty() ? "" : loaded.diagnostics[0].ToString());
    if (!loaded.scenario) return RunResult{};
    std::ostringstream out;
    RunOptions options;
    options.timeline = &out;
    RunResult r = RunScenario(*loaded.scenario, options);
    if (timeline) *timeline = out.str();
    return r;
  }

  testing::TempDir dir_;
};

constexpr const char* kHeader = "apiVersion: nurt/v1\nkind: Scenario\nname: t\nstart_at: \"2026-01-05T09:00:00+01:00\"\n";

TEST_F(ScenarioTest, AdvanceFiresEachTimerAtItsDueTime) {
  std::string timeline;
  RunResult r = Run(std::string(kHeader) + R"(steps:
  - start: { machine: ticket, as: t1 }
  - advance: PT3H59M
  - expect: { t1: { state: open, timers: [after PT4H] } }
  - advance: P1D
  - expect: { t1: { state: stale, events: [nurt.start, nurt.timer.open.0], timers: [] } }
)",
                    &timeline);
  EXPECT_TRUE(r.passed) << (r.failures.empty() ? "" : r.failures[0].message);
  EXPECT_EQ(r.steps_run, 5);
  EXPECT_EQ(r.ended_at, ParseIso8601("2026-01-06T12:59:00+01:00").value());
  // The timer fired at 13:00, not at the end of the advance.
  EXPECT_THAT(timeline, HasSubstr("2026-01-05 13:00 Mon    t1: nurt.timer.open.0 by nurt:timer -> stale"));
}

TEST_F(ScenarioTest, AFailedExpectationPointsAtItsLineAndShowsTheHistory) {
  RunResult r = Run(std::string(kHeader) + R"(steps:
  - start: { machine: ticket, as: t1 }
  - send: { to: t1, event: close, actor: "user:ola" }
  - expect:
      t1:
        state: stale
)");
  ASSERT_FALSE(r.passed);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0].location.line, 10);
  EXPECT_EQ(r.failures[0].message, "'t1' is not in state stale; it is in closed");
  EXPECT_THAT(r.failures[0].history, HasSubstr("#2 2026-01-05 09:00 Mon close by user:ola -> closed"));
}

TEST_F(ScenarioTest, ExpectErrorChecksTheRefusalAndAnUnexpectedSuccessFails) {
  RunResult ok = Run(std::string(kHeader) + R"(steps:
  - start: { machine: ticket, as: t1 }
  - send: { to: t1, event: reopen, expect_error: "accepts" }
)");
  EXPECT_TRUE(ok.passed) << (ok.failures.empty() ? "" : ok.failures[0].message);
  RunResult bad = Run(std::string(kHeader) + R"(steps:
  - start: { machine: ticket, as: t1 }
  - send: { to: t1, event: close, expect_error: "accepts" }
)");
  ASSERT_FALSE(bad.passed);
  EXPECT_THAT(bad.failures[0].message, HasSubstr("expected an error containing 'accepts', but it succeeded"));
}

TEST_F(ScenarioTest, SchedulesRunOnTheVirtualClockAndTheirInstancesAreKnownByTheirIds) {
  Write("nightly.yaml", R"(apiVersion: nurt/v1
kind: Schedule
name: nightly
schedule: "0 2 * * *"
start: { machine: ticket }
)");
  RunResult r = Run(std::string(kHeader) + R"(steps:
  - advance: P1DT18H
  - expect:
      nightly-20260106T0100Z: { state: stale }
      nightly-20260107T0100Z: { state: open }
)");
  EXPECT_TRUE(r.passed) << (r.failures.empty() ? "" : r.failures[0].message);
}

TEST_F(ScenarioTest, MistakesInTheFileAreReportedWithTheirPlace) {
  const std::string path = Write("bad.scenario.yaml", std::string(kHeader) + R"(steps:
  - strat: { machine: ticket }
  - send: { to: t1 }
  - advance: three days
  - expect: { t1: { stat: open } }
)");
  auto loaded = LoadScenarioFile(path);
  EXPECT_FALSE(loaded.scenario.has_value());
  std::vector<std::string> lines;
  for (const auto& d : loaded.diagnostics) lines.push_back(d.ToString());
  EXPECT_THAT(lines, ::testing::ElementsAre(
                         HasSubstr(":6:5: error: unknown step 'strat'; did you mean 'start'?"),
                         HasSubstr(":7:5: error: 'send' needs 'event'"),
                         HasSubstr(":8:14: error: 'advance: three days' is neither an ISO-8601 duration"),
                         HasSubstr(":9:21: error: unknown key 'stat' in the expectations of 't1'; did you mean 'state'?")));
}

TEST_F(ScenarioTest, CompletingATaskNeedsExactlyOneMatch) {
  Write("review.yaml", R"(apiVersion: nurt/v1
kind: Machine
name: review
version: 1
states:
  reviewing:
    type: parallel
    states:
      legal:
        initial: waiting
        states:
          waiting:
            task: { title: Legal review, decisions: { ok: legal.ok } }
            on: { legal.ok: fine }
          fine: {}
      tech:
        initial: waiting_t
        states:
          waiting_t:
            task: { title: Tech review, decisions: { ok: tech.ok } }
            on: { tech.ok: fine_t }
          fine_t: {}
)");
  RunResult r = Run(std::string(kHeader) + R"(steps:
  - start: { machine: review, as: r1 }
  - complete: { instance: r1, decision: ok }
)");
  ASSERT_FALSE(r.passed);
  EXPECT_THAT(r.failures[0].message, HasSubstr("several open tasks of 'r1'"));
  EXPECT_THAT(r.failures[0].message, HasSubstr("(name one with task: TITLE)"));
  RunResult ok = Run(std::string(kHeader) + R"(steps:
  - start: { machine: review, as: r1 }
  - complete: { instance: r1, task: Tech review, decision: ok }
  - expect: { r1: { state: [waiting, fine_t], tasks: [Legal review] } }
)");
  EXPECT_TRUE(ok.passed) << (ok.failures.empty() ? "" : ok.failures[0].message);
}

}  // namespace
}  // namespace nurt::scenario
