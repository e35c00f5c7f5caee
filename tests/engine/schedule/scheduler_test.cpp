// The scheduler in virtual time on a real SQLite store and a real engine: on-time runs, each missed
// policy after downtime, daylight-saving nights, restarts, a crash between the engine's commit and the
// run's record, emitting to an instance, re-anchoring and disabled schedules.

#include "nurt/schedule/scheduler.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine_harness.hpp"
#include "forwarding_store.hpp"
#include "nurt/dsl/loader.hpp"

namespace nurt::schedule {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kOrg = "acme";

TimePoint At(const std::string& iso) { return ParseIso8601(iso).value(); }

const char* kSyncMachine = R"(apiVersion: nurt/v1
kind: Machine
name: comarch-sync
version: 1
states:
  running:
    on:
      finish: finished
  finished:
    type: final
)";

const char* kTargetMachine = R"(apiVersion: nurt/v1
kind: Machine
name: crm-account
version: 1
states:
  open:
    on:
      sync.requested:
        actions:
          - assign: {last_sync: "event.data.schedule.scheduledFor", day: "event.data.day"}
)";

std::string Nightly(const std::string& missed, const std::string& extra = "", const std::string& cron = "0 2 * * *") {
  return "apiVersion: nurt/v1\nkind: Schedule\nname: comarch-nightly-sync\nschedule: \"" + cron + "\"\n"
         "missed: " + missed + "\n" + extra +
         "start: {machine: comarch-sync, data: {full: false, day: \"{{scheduledDate}}\", note: \"run {{runId}}\"}}\n";
}

std::shared_ptr<const dsl::ScheduleDefinition> Load(const std::string& yaml) {
  auto r = dsl::LoadScheduleText(yaml, "schedule.yaml");
  for (const auto& d : r.diagnostics) ADD_FAILURE() << d.ToString();
  return r.schedule;
}

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(h_.Open());
    Publish(kSyncMachine);
    Publish(kTargetMachine);
  }

  void Publish(const char* yaml) {
    auto m = dsl::LoadMachineText(yaml, "m.yaml");
    ASSERT_NE(m.definition, nullptr) << (m.diagnostics.empty() ? "" : m.diagnostics[0].ToString());
    ASSERT_TRUE(h_.engine->Publish(kOrg, *m.definition).ok());
  }

  std::unique_ptr<Scheduler> NewScheduler(store::Store* store = nullptr) {
    SchedulerOptions o;
    o.engine = h_.engine.get();
    o.store = store ? store : h_.store.get();
    o.clock = &h_.clock;
    o.on_warning = [this](const std::string&, const std::string& name, const std::string& message) {
      warnings_.push_back(name + ": " + message);
    };
    return std::make_unique<Scheduler>(std::move(o));
  }

  RunReport RunDue(Scheduler& s) {
    auto r = s.RunDue();
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : RunReport{};
  }

  std::vector<store::ScheduleRun> Runs(const std::string& name = "comarch-nightly-sync") {
    auto runs = h_.store->ListScheduleRuns(kOrg, name, std::nullopt, 1000);
    EXPECT_TRUE(runs.ok()) << runs.status();
    std::vector<store::ScheduleRun> out = runs.ok() ? *runs : std::vector<store::ScheduleRun>{};
    std::reverse(out.begin(), out.end());  // oldest first
    return out;
  }

  static std::vector<std::string> Outcomes(const std::vector<store::ScheduleRun>& runs) {
    std::vector<std::string> out;
    for (const auto& r : runs) out.push_back(FormatIso8601(r.scheduled_for) + " " + r.outcome);
    return out;
  }

  std::vector<std::string> InstanceIds() {
    store::InstanceFilter f;
    f.machine = "comarch-sync";
    auto list = h_.store->ListInstances(kOrg, f);
    EXPECT_TRUE(list.ok());
    std::vector<std::string> ids;
    for (const auto& i : *list) ids.push_back(i.id);
    return ids;
  }

  testing::EngineHarness h_;  // clock at 2026-01-01T00:00:00Z = 01:00 in Warsaw
  std::vector<std::string> warnings_;
};

TEST_F(SchedulerTest, FirstSightAnchorsWithoutBackfillAndAnOnTimeRunStartsOneInstance) {
  auto s = NewScheduler();
  s->SetSchedules(kOrg, {Load(Nightly("run_once"))});
  EXPECT_EQ(s->NextDue(), h_.clock.Now());  // never looked at
  RunReport first = RunDue(*s);
  EXPECT_TRUE(first.runs.empty());
  EXPECT_EQ(s->NextDue(), At("2026-01-01T01:00:00Z"));  // 02:00 CET

  h_.clock.Set(At("2026-01-01T01:00:00.040Z"));
  RunReport r = RunDue(*s);
  EXPECT_EQ(r.started, 1);
  ASSERT_EQ(r.runs.size(), 1u);
  EXPECT_EQ(r.runs[0].instance_id, "comarch-nightly-sync-20260101T0100Z");
  EXPECT_EQ(r.runs[0].lateness_ms, 40);
  EXPECT_EQ(r.runs[0].event_sequence, 1);
  auto shown = h_.engine->Show(kOrg, "comarch-nightly-sync-20260101T0100Z");
  ASSERT_TRUE(shown.ok()) << shown.status();
  const Json& ctx = shown->record.snapshot["context"];
  EXPECT_EQ(ctx["day"], "2026-01-01");
  EXPECT_EQ(ctx["note"], "run comarch-nightly-sync-20260101T0100Z");
  EXPECT_EQ(ctx["full"], false);
  EXPECT_EQ(ctx["schedule"], (Json{{"name", "comarch-nightly-sync"},
                                   {"scheduledFor", "2026-01-01T01:00:00.000Z"},
                                   {"runId", "comarch-nightly-sync-20260101T0100Z"}}));
  auto events = h_.store->ListEvents(kOrg, "comarch-nightly-sync-20260101T0100Z");
  ASSERT_TRUE(events.ok());
  EXPECT_EQ((*events)[0].actor, "schedule:comarch-nightly-sync");
  EXPECT_EQ((*events)[0].idempotency_key, "schedule:comarch-nightly-sync:2026-01-01T01:00:00.000Z");

  EXPECT_TRUE(RunDue(*s).runs.empty());  // nothing twice
  EXPECT_EQ(s->NextDue(), At("2026-01-02T01:00:00Z"));
  EXPECT_THAT(InstanceIds(), ElementsAre("comarch-nightly-sync-20260101T0100Z"));
  EXPECT_TRUE(warnings_.empty());
}

struct PolicyCase {
  const char* missed;
  std::vector<std::string> outcomes;  // of the three nights, oldest first
  int instances;
};

class MissedPolicy : public SchedulerTest, public ::testing::WithParamInterface<PolicyCase> {};

TEST_P(MissedPolicy, AfterThreeDaysOfDowntime) {
  auto s = NewScheduler();
  s->SetSchedules(kOrg, {Load(Nightly(GetParam().missed))});
  RunDue(*s);                            // seen at 2026-01-01T00:00Z
  h_.clock.Advance(hours(24 * 3));        // down until 2026-01-04T00:00Z (01:00 in Warsaw)
  RunReport r = RunDue(*s);
  EXPECT_EQ(Outcomes(Runs()), GetParam().outcomes);
  EXPECT_EQ(static_cast<int>(InstanceIds().size()), GetParam().instances);
  EXPECT_EQ(r.started, GetParam().instances);
  EXPECT_EQ(r.skipped, 3 - GetParam().instances);
  for (const auto& run : Runs()) {
    EXPECT_EQ(run.lateness_ms, ToUnixMillis(h_.clock.Now()) - ToUnixMillis(run.scheduled_for));
    if (run.outcome == "skipped") {
      EXPECT_THAT(run.error, HasSubstr(GetParam().missed));
    }
  }
  // Caught up: nothing more now, and the next night runs normally.
  EXPECT_TRUE(RunDue(*s).runs.empty());
  EXPECT_EQ(s->NextDue(), At("2026-01-04T01:00:00Z"));
  h_.clock.Set(At("2026-01-04T01:00:01Z"));
  EXPECT_EQ(RunDue(*s).started, 1);
}

INSTANTIATE_TEST_SUITE_P(
    Policies, MissedPolicy,
    ::testing::Values(
        PolicyCase{"skip",
                   {"2026-01-01T01:00:00.000Z skipped", "2026-01-02T01:00:00.000Z skipped",
                    "2026-01-03T01:00:00.000Z skipped"},
                   0},
        PolicyCase{"run_once",
                   {"2026-01-01T01:00:00.000Z skipped", "2026-01-02T01:00:00.000Z skipped",
                    "2026-01-03T01:00:00.000Z started"},
                   1},
        PolicyCase{"run_all",
                   {"2026-01-01T01:00:00.000Z started", "2026-01-02T01:00:00.000Z started",
                    "2026-01-03T01:00:00.000Z started"},
                   3}),
    [](const auto& info) { return std::string(info.param.missed); });

TEST_F(SchedulerTest, RunAllRunsInOrderAndIsCappedByMaxCatchUpWithAWarning) {
  auto s = NewScheduler();
  s->SetSchedules(kOrg, {Load(Nightly("run_all", "max_catch_up: 2\n"))});
  RunDue(*s);
  h_.clock.Advance(hours(24 * 3));
  RunReport r = RunDue(*s);
  ASSERT_EQ(r.runs.size(), 3u);
  EXPECT_EQ(r.runs[0].outcome, "skipped");
  EXPECT_THAT(r.runs[0].error, HasSubstr("max_catch_up 2"));
  EXPECT_EQ(r.runs[1].instance_id, "comarch-nightly-sync-20260102T0100Z");
  EXPECT_EQ(r.runs[2].instance_id, "comarch-nightly-sync-20260103T0100Z");
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_THAT(warnings_[0], HasSubstr("3 runs were due"));
  EXPECT_THAT(warnings_[0], HasSubstr("1 older ones were not run"));
}

TEST_F(SchedulerTest, AMinutelyScheduleAfterAMonthDownIsBoundedAndTheNewestRunsWin) {
  auto s = NewScheduler();
  s->SetSchedules(kOrg, {Load("apiVersion: nurt/v1\nkind: Schedule\nname: every-minute\nschedule: \"* * * * *\"\n"
                              "missed: run_all\nmax_catch_up: 3\ngrace: PT0S\nstart: {machine: comarch-sync}\n")});
  RunDue(*s);
  h_.clock.Advance(hours(24 * 31));
  RunReport r = RunDue(*s);
  EXPECT_EQ(r.started, 3);
  EXPECT_EQ(r.skipped, 1);  // one more than the cap is recorded; the rest only counted in the warning
  ASSERT_EQ(r.runs.size(), 4u);
  EXPECT_EQ(r.runs.back().scheduled_for, h_.clock.Now());
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_THAT(warnings_[0], HasSubstr("at least 2000 runs were due"));
  EXPECT_TRUE(RunDue(*s).runs.empty());
}

TEST_F(SchedulerTest, DaylightSavingNightsInWarsawRunOnceEach) {
  h_.clock.Set(At("2026-03-27T12:00:00Z"));
  auto s = NewScheduler();
  s->SetSchedules(kOrg, {Load("apiVersion: nurt/v1\nkind: Schedule\nname: half-past-two\nschedule: \"30 2 * * *\"\n"
                              "time_zone: Europe/Warsaw\nstart: {machine: comarch-sync}\n")});
  RunDue(*s);
  // Follow the daemon: wake at each NextDue, run, until the nights around both clock changes passed.
  auto follow_until = [&](TimePoint end) {
    for (int guard = 0; guard < 20; ++guard) {
      auto next = s->NextDue();
      ASSERT_TRUE(next.has_value());
      if (*next > end) return;
      h_.clock.Set(*next);
      EXPECT_EQ(RunDue(*s).started, 1) << FormatIso8601(*next);
    }
  };
  follow_until(At("2026-03-31T00:00:00Z"));
  EXPECT_THAT(Outcomes(Runs("half-past-two")),
              ElementsAre("2026-03-28T01:30:00.000Z started",   // 02:30 CET
                          "2026-03-29T01:00:00.000Z started",   // 02:30 does not exist: at the jump (03:00 CEST)
                          "2026-03-30T00:30:00.000Z started"));  // 02:30 CEST
  h_.clock.Set(At("2026-10-24T12:00:00Z"));
  RunDue(*s);  // a downtime of months with run_once: the latest missed run, once
  follow_until(At("2026-10-27T00:00:00Z"));
  const auto runs = Runs("half-past-two");
  std::vector<std::string> autumn;
  for (const auto& r : runs) {
    if (r.scheduled_for >= At("2026-10-24T00:00:00Z")) autumn.push_back(FormatIso8601(r.scheduled_for) + " " + r.outcome);
  }
  EXPECT_THAT(autumn, ElementsAre("2026-10-24T00:30:00.000Z started",   // the catch-up (run_once)
                                  "2026-10-25T00:30:00.000Z started",   // 02:30 CEST; the repeated 02:30 CET does not run
                                  "2026-10-26T01:30:00.000Z started"));  // 02:30 CET
}

TEST_F(SchedulerTest, ARestartedSchedulerOnTheSameFileRunsNothingTwice) {
  {
    auto s = NewScheduler();
    s->SetSchedules(kOrg, {Load(Nightly("run_all"))});
    RunDue(*s);
    h_.clock.Advance(hours(24 * 2));
    EXPECT_EQ(RunDue(*s).started, 2);
  }
  ASSERT_TRUE(h_.Open());  // a new process: new store connection and engine on the same file
  auto s = NewScheduler();
  s->SetSchedules(kOrg, {Load(Nightly("run_all"))});
  EXPECT_TRUE(RunDue(*s).runs.empty());
  EXPECT_EQ(s->NextDue(), At("2026-01-03T01:00:00Z"));
  h_.clock.Advance(hours(24));
  EXPECT_EQ(RunDue(*s).started, 1);
  EXPECT_EQ(InstanceIds().size(), 3u);
  EXPECT_EQ(Runs().size(), 3u);
}

// Fails RecordScheduleRuns calls that carry runs while `fail` is set: the engine's commit happened,
// the scheduler's record did not — a crash between the two.
class LosingRecordStore : public testing::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Status RecordScheduleRuns(const store::ScheduleState& s, const std::vector<store::ScheduleRun>& r) override {
    if (fail && !r.empty()) {
      ++failed;
      return Status::Unavailable("disk I/O error (injected)");
    }
    return ForwardingStore::RecordScheduleRuns(s, r);
  }
  bool fail = false;
  int failed = 0;
};

TEST_F(SchedulerTest, ACrashBetweenTheStartCommitAndTheRecordRepeatsNothing) {
  LosingRecordStore losing(h_.store.get());
  auto s = NewScheduler(&losing);
  s->SetSchedules(kOrg, {Load(Nightly("run_all"))});
  RunDue(*s);
  h_.clock.Set(At("2026-01-01T01:00:00Z"));
  losing.fail = true;
  RunReport r = RunDue(*s);
  EXPECT_TRUE(r.runs.empty());
  EXPECT_EQ(losing.failed, 1);
  EXPECT_THAT(InstanceIds(), ElementsAre("comarch-nightly-sync-20260101T0100Z"));  // committed by the engine
  EXPECT_TRUE(Runs().empty());                                                   // but not recorded
  EXPECT_EQ(s->NextDue(), h_.clock.Now() + seconds(30));                         // retried later
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_THAT(warnings_[0], HasSubstr("injected"));

  // The process dies; a new one on the same file handles the run again: the engine answers from its
  // idempotency record, so the run is recorded with the same instance and nothing starts twice.
  losing.fail = false;
  h_.clock.Advance(seconds(5));
  auto restarted = NewScheduler(&losing);
  restarted->SetSchedules(kOrg, {Load(Nightly("run_all"))});
  RunReport again = RunDue(*restarted);
  ASSERT_EQ(again.runs.size(), 1u);
  EXPECT_EQ(again.runs[0].outcome, "started");
  EXPECT_EQ(again.runs[0].instance_id, "comarch-nightly-sync-20260101T0100Z");
  EXPECT_EQ(again.runs[0].event_sequence, 1);
  EXPECT_THAT(InstanceIds(), ElementsAre("comarch-nightly-sync-20260101T0100Z"));
  auto events = h_.store->ListEvents(kOrg, "comarch-nightly-sync-20260101T0100Z");
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), 1u);
  EXPECT_TRUE(RunDue(*restarted).runs.empty());
}

TEST_F(SchedulerTest, EmitSendsTheEventToAnInstanceOncePerRun) {
  ASSERT_TRUE(h_.engine->Start({.org_id = kOrg, .machine = "crm-account", .instance_id = "crm-1"}).ok());
  auto s = NewScheduler();
  s->SetSchedules(kOrg, {Load("apiVersion: nurt/v1\nkind: Schedule\nname: crm-sync\nschedule: \"0 6 * * 1-5\"\n"
                              "emit: {to: crm-1, event: sync.requested, data: {day: \"{{scheduledDate}}\"}}\n")})
  ;
  RunDue(*s);
  h_.clock.Set(At("2026-01-01T05:00:00Z"));  // Thursday 06:00 CET
  RunReport r = RunDue(*s);
  EXPECT_EQ(r.emitted, 1);
  ASSERT_EQ(r.runs.size(), 1u);
  EXPECT_EQ(r.runs[0].instance_id, "crm-1");
  EXPECT_EQ(r.runs[0].event_sequence, 2);
  auto shown = h_.engine->Show(kOrg, "crm-1");
  ASSERT_TRUE(shown.ok());
  EXPECT_EQ(shown->record.snapshot["context"]["last_sync"], "2026-01-01T05:00:00.000Z");
  EXPECT_EQ(shown->record.snapshot["context"]["day"], "2026-01-01");
  EXPECT_EQ(s->NextDue(), At("2026-01-02T05:00:00Z"));  // Friday
  h_.clock.Set(At("2026-01-02T05:00:00Z"));
  EXPECT_EQ(RunDue(*s).emitted, 1);
  EXPECT_EQ(s->NextDue(), At("2026-01-05T05:00:00Z"));  // Monday
}

TEST_F(SchedulerTest, ARefusedRunIsRecordedFailedAndNotRetried) {
  auto s = NewScheduler();
  s->SetSchedules(kOrg, {Load("apiVersion: nurt/v1\nkind: Schedule\nname: to-nowhere\nschedule: \"@hourly\"\n"
                              "emit: {to: no-such-instance, event: ping}\n")});
  RunDue(*s);
  h_.clock.Set(At("2026-01-01T01:00:00Z"));
  RunReport r = RunDue(*s);
  EXPECT_EQ(r.failed, 1);
  ASSERT_EQ(Runs("to-nowhere").size(), 1u);
  EXPECT_THAT(Runs("to-nowhere")[0].error, HasSubstr("no-such-instance"));
  EXPECT_TRUE(RunDue(*s).runs.empty());
  EXPECT_EQ(s->NextDue(), At("2026-01-01T02:00:00Z"));
}

TEST_F(SchedulerTest, AChangedExpressionReAnchorsFromNowAndDisabledSchedulesDoNothing) {
  auto s = NewScheduler();
  s->SetSchedules(kOrg, {Load(Nightly("run_all"))});
  RunDue(*s);
  h_.clock.Advance(hours(24 * 3));
  s->SetSchedules(kOrg, {Load(Nightly("run_all", "", "0 3 * * *"))});
  EXPECT_TRUE(RunDue(*s).runs.empty());
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_THAT(warnings_[0], HasSubstr("changed from '0 2 * * *'"));
  EXPECT_EQ(s->NextDue(), At("2026-01-04T02:00:00Z"));  // 03:00 CET

  s->SetSchedules(kOrg, {Load(Nightly("run_all", "enabled: false\n"))});
  h_.clock.Advance(hours(24 * 2));
  EXPECT_TRUE(RunDue(*s).runs.empty());
  EXPECT_EQ(s->NextDue(), std::nullopt);
  auto listed = s->List(kOrg);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_FALSE((*listed)[0].next_run.has_value());
  EXPECT_FALSE((*listed)[0].state->enabled);
  // Enabled again: anchored at that moment, the nights while disabled are not caught up.
  s->SetSchedules(kOrg, {Load(Nightly("run_all"))});
  h_.clock.Advance(hours(1));
  EXPECT_TRUE(RunDue(*s).runs.empty());
  EXPECT_TRUE(Runs().empty());
  EXPECT_EQ(InstanceIds().size(), 0u);
}

TEST(RunNames, AreDeterministicPerScheduledTime) {
  EXPECT_EQ(RunId("nightly", At("2026-03-29T01:00:00Z")), "nightly-20260329T0100Z");
  EXPECT_EQ(RunIdempotencyKey("nightly", At("2026-03-29T01:00:00Z")), "schedule:nightly:2026-03-29T01:00:00.000Z");
}

}  // namespace
}  // namespace nurt::schedule
