// Durable timers end to end on a real SQLite store in virtual time: armed with the transition that
// enters their state, cancelled when it is left, fired exactly once across restarts (with lateness),
// working-day delays on the Polish calendar, `at:` from context, SLA escalation chains.
#include "nurt/engine/timer_service.hpp"

#include <gtest/gtest.h>

#include "engine_harness.hpp"
#include "nurt/calendar/business_calendar.hpp"
#include "nurt/dsl/loader.hpp"

namespace nurt::engine {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

constexpr const char* kOrg = "acme";

const char* kLead = R"YAML(apiVersion: nurt/v1
kind: Machine
name: lead
version: 1
context:
  initial: { reminders: 0, level: none }
states:
  new:
    after:
      - delay: PT4H
        actions: [ { assign: { reminders: "ctx.reminders + 1" } } ]
      - delay: P2D
        target: stale
    on:
      contact: contacted
  contacted:
    after:
      delay: P3WD
      raise: follow_up.due
    on:
      follow_up.due: follow_up
      won: won
  follow_up:
    at:
      - time: "ctx.installation_date"
        offset: -P3D
        raise: delivery.plan
    on:
      delivery.plan: planning
  planning:
    sla:
      target: PT8H
      warning: PT6H
      on_warning: [ { assign: { level: "'warned'" } } ]
      on_breach: [ { notify: { channel: email, to: "ctx.owner", subject: "SLA breached", body: "{{instance.id}} breached" } } ]
      escalations:
        - { level: L1, after: PT4H, do: [ { assign: { level: "'L1'" } } ] }
        - { level: L2, after: PT2H, do: [ { assign: { level: "'L2'" } } ] }
        - { level: L3, after: PT1H, do: [ { assign: { level: "'L3'" } } ] }
    on:
      done: won
  stale: { type: final }
  won: { type: final }
)YAML";

TimePoint At(const std::string& iso) { return ParseIso8601(iso).value(); }

class TimerServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.clock.Set(At("2026-03-27T09:00:00Z"));  // Friday 10:00 in Warsaw (CET)
    Open();
  }

  // (Re)opens the store file, then builds the timer service on that store and an engine that tells it
  // what each commit arms, as the daemon does.
  void Open() {
    ASSERT_TRUE(h_.Open());
    service_ = std::make_unique<TimerService>(h_.store.get(), &h_.clock);
    EngineOptions eo;
    eo.store = h_.store.get();
    eo.clock = &h_.clock;
    eo.timer_listener = service_.get();
    auto e = NewEngine(eo);
    ASSERT_TRUE(e.ok()) << e.status();
    h_.engine = std::move(e).value();
    engine_ = h_.engine.get();
    service_->Attach(engine_);
    ASSERT_TRUE(service_->Load().ok());
    auto r = dsl::LoadMachineText(kLead, "lead.yaml");
    ASSERT_NE(r.definition, nullptr) << (r.diagnostics.empty() ? "" : r.diagnostics.front().ToString());
    ASSERT_TRUE(engine_->Publish(kOrg, *r.definition).ok());
  }

  // A restarted process: a new store, engine and timer service over the same file.
  void Restart() {
    h_.engine.reset();
    service_.reset();
    h_.store.reset();
    Open();
  }

  std::string StartLead(Json data = Json::object()) {
    StartRequest req;
    req.org_id = kOrg;
    req.machine = "lead";
    req.data = std::move(data);
    auto r = engine_->Start(req);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->instance_id : "";
  }

  Result<Outcome> Send(const std::string& id, const std::string& event, Json data = Json::object()) {
    EventRequest req;
    req.org_id = kOrg;
    req.instance_id = id;
    req.event = event;
    req.data = std::move(data);
    return engine_->Accept(req);
  }

  std::vector<std::string> State(const std::string& id) {
    auto v = engine_->Show(kOrg, id);
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? v->record.state : std::vector<std::string>{};
  }

  std::vector<store::TimerRecord> Timers(const std::string& id, const std::string& status = "") {
    auto all = engine_->ListTimers(kOrg, id);
    EXPECT_TRUE(all.ok()) << all.status();
    std::vector<store::TimerRecord> out;
    for (auto& t : *all) {
      if (status.empty() || t.status == status) out.push_back(t);
    }
    return out;
  }

  int Advance(std::chrono::milliseconds by) {
    h_.clock.Advance(by);
    return service_->FireDue();
  }

  testing::EngineHarness h_;
  std::unique_ptr<TimerService> service_;
  Engine* engine_ = nullptr;
};

TEST_F(TimerServiceTest, AfterTimersAreArmedWithTheTransitionThatEntersTheStateAndFireOnTime) {
  const std::string id = StartLead();
  auto armed = Timers(id, "armed");
  ASSERT_EQ(armed.size(), 2u);
  EXPECT_EQ(armed[0].due_at, At("2026-03-27T13:00:00Z"));
  EXPECT_EQ(armed[0].description, "after PT4H");
  EXPECT_EQ(armed[1].due_at, At("2026-03-29T09:00:00Z"));
  EXPECT_EQ(service_->NextDue(), At("2026-03-27T13:00:00Z"));

  EXPECT_EQ(Advance(hours(3) + minutes(59)), 0);
  EXPECT_EQ(Advance(minutes(1)), 1);
  auto shown = engine_->Show(kOrg, id);
  ASSERT_TRUE(shown.ok());
  EXPECT_EQ(shown->record.snapshot["context"]["reminders"], 1);
  EXPECT_EQ(State(id), std::vector<std::string>{"new"});  // a targetless timer: the state stays

  auto fired = Timers(id, "fired");
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].lateness_ms, 0);
  auto events = h_.store->ListEvents(kOrg, id);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ(events->back().actor, "nurt:timer");
  EXPECT_EQ(events->back().payload["timer"]["description"], "after PT4H");

  EXPECT_EQ(Advance(hours(44)), 1);  // P2D after the start
  EXPECT_EQ(State(id), std::vector<std::string>{"stale"});
  EXPECT_TRUE(Timers(id, "armed").empty());
}

TEST_F(TimerServiceTest, LeavingTheStateCancelsItsTimersAndTheyNeverFire) {
  const std::string id = StartLead();
  ASSERT_TRUE(Send(id, "contact").ok());
  auto cancelled = Timers(id, "cancelled");
  ASSERT_EQ(cancelled.size(), 2u);
  EXPECT_EQ(cancelled[0].detail, "state new left on event contact");
  EXPECT_EQ(cancelled[0].finished_by_sequence, 2);
  EXPECT_EQ(Advance(hours(5)), 0);
  EXPECT_EQ(Advance(hours(48)), 0);
  EXPECT_EQ(State(id), std::vector<std::string>{"contacted"});
  EXPECT_EQ(service_->stats().dropped, 2);  // found cancelled when due, without firing
}

TEST_F(TimerServiceTest, WorkingDaysSkipTheWeekendAndEasterMonday) {
  // Thursday 2026-04-02 10:00 in Warsaw (CEST): + 3 working days = Fri 3rd, (Easter Monday 6th is a
  // holiday) Tue 7th, Wed 8th.
  h_.clock.Set(At("2026-04-02T08:00:00Z"));
  const std::string id = StartLead();
  ASSERT_TRUE(Send(id, "contact").ok());
  auto armed = Timers(id, "armed");
  ASSERT_EQ(armed.size(), 1u);
  EXPECT_EQ(armed[0].due_at, At("2026-04-08T08:00:00Z"));
  EXPECT_EQ(armed[0].event, "follow_up.due");
}

TEST_F(TimerServiceTest, WorkingDaysAcrossTheSpringDaylightSavingChangeKeepTheLocalTime) {
  // Friday 2026-03-27 10:00 CET; clocks go forward on Sunday 29th: Wednesday 10:00 CEST is 08:00Z.
  const std::string id = StartLead(Json{{"installation_date", "2026-05-04"}});
  ASSERT_TRUE(Send(id, "contact").ok());
  auto armed = Timers(id, "armed");
  ASSERT_EQ(armed.size(), 1u);
  EXPECT_EQ(armed[0].due_at, At("2026-04-01T08:00:00Z"));
  EXPECT_EQ(Advance(std::chrono::milliseconds(At("2026-04-01T08:00:00Z") - h_.clock.Now())), 1);
  EXPECT_EQ(State(id), std::vector<std::string>{"follow_up"});
}

TEST_F(TimerServiceTest, AtTimersComeFromTheContextWithANegativeOffset) {
  const std::string id = StartLead(Json{{"installation_date", "2026-04-20"}});
  ASSERT_TRUE(Send(id, "contact").ok());
  ASSERT_EQ(Advance(hours(24 * 6)), 1);  // follow_up.due
  ASSERT_EQ(State(id), std::vector<std::string>{"follow_up"});
  auto armed = Timers(id, "armed");
  ASSERT_EQ(armed.size(), 1u);
  // Midnight of 2026-04-20 in Warsaw (CEST) is 2026-04-19T22:00Z; three days before.
  EXPECT_EQ(armed[0].due_at, At("2026-04-16T22:00:00Z"));
  h_.clock.Set(At("2026-04-16T22:00:00Z"));
  EXPECT_EQ(service_->FireDue(), 1);
  EXPECT_EQ(State(id), std::vector<std::string>{"planning"});
}

TEST_F(TimerServiceTest, AnAtExpressionThatGivesNoTimeRefusesTheEventWithItsPlace) {
  const std::string id = StartLead(Json{{"installation_date", "soon"}});
  ASSERT_TRUE(Send(id, "contact").ok());
  h_.clock.Advance(hours(24 * 6));
  EXPECT_EQ(service_->FireDue(), 0);
  auto failed = Timers(id, "failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_NE(failed[0].detail.find("lead.yaml:"), std::string::npos) << failed[0].detail;
  EXPECT_NE(failed[0].detail.find("'soon' is not a time"), std::string::npos) << failed[0].detail;
  EXPECT_EQ(State(id), std::vector<std::string>{"contacted"});  // nothing half-done
}

TEST_F(TimerServiceTest, EscalationChainCountsEachLevelFromThePreviousOne) {
  const std::string id = StartLead(Json{{"installation_date", "2026-03-28"}, {"owner", "ola@firma.pl"}});
  ASSERT_TRUE(Send(id, "contact").ok());
  h_.clock.Set(At("2026-04-01T08:00:00Z"));
  ASSERT_EQ(service_->FireDue(), 1);  // follow_up.due; the `at:` is in the past: fires at once
  ASSERT_EQ(service_->FireDue(), 1);
  ASSERT_EQ(State(id), std::vector<std::string>{"planning"});
  auto level = [&] { return engine_->Show(kOrg, id)->record.snapshot["context"]["level"]; };
  const TimePoint entered = h_.clock.Now();
  std::map<std::string, TimePoint> due;
  for (const auto& t : Timers(id, "armed")) due[t.event] = t.due_at;
  EXPECT_EQ(due["sla.warning.planning"], entered + hours(6));
  EXPECT_EQ(due["sla.breached.planning"], entered + hours(8));
  EXPECT_EQ(due["sla.escalated.planning.L1"], entered + hours(4));
  EXPECT_EQ(due["sla.escalated.planning.L2"], entered + hours(6));
  EXPECT_EQ(due["sla.escalated.planning.L3"], entered + hours(7));

  EXPECT_EQ(Advance(hours(4)), 1);
  EXPECT_EQ(level(), "L1");
  EXPECT_EQ(Advance(hours(2)), 2);  // the warning and L2 are both due
  EXPECT_EQ(Advance(hours(1)), 1);
  EXPECT_EQ(level(), "L3");
  EXPECT_EQ(Advance(hours(1)), 1);  // breached: a notification in the outbox, in the same commit
  auto outbox = h_.store->ListPendingOutbox({"nurt.notify"}, 10);
  ASSERT_TRUE(outbox.ok());
  ASSERT_EQ(outbox->size(), 1u);
  const Json& n = outbox->front().payload;
  EXPECT_EQ(n["channel"], "email");
  EXPECT_EQ(n["to"], Json::array({"ola@firma.pl"}));
  EXPECT_EQ(n["vars"]["instance"]["id"], id);
  EXPECT_EQ(n["vars"]["event"]["type"], "sla.breached.planning");
  EXPECT_EQ(n["vars"]["timer"]["description"], "SLA target PT8H");
  EXPECT_EQ(n["origin"]["kind"], "machine");
}

TEST_F(TimerServiceTest, ATimerThatCameDueWhileTheDaemonWasDownFiresOnceAtStartWithItsLateness) {
  const std::string id = StartLead();
  Restart();  // killed between arming and firing
  h_.clock.Advance(hours(6));  // down for two hours past the PT4H reminder
  Restart();
  EXPECT_EQ(service_->stats().pending, 2u);
  EXPECT_EQ(service_->FireDue(), 1);
  auto fired = Timers(id, "fired");
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].lateness_ms, 2 * 3600 * 1000);
  auto events = h_.store->ListEvents(kOrg, id);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->back().payload["timer"]["lateMs"], 2 * 3600 * 1000);
  Restart();
  EXPECT_EQ(service_->FireDue(), 0);  // fired once, never again
  EXPECT_EQ(Timers(id, "fired").size(), 1u);
}

TEST_F(TimerServiceTest, TwoServicesRacingForTheSameTimerFireItOnce) {
  const std::string id = StartLead();
  TimerService rival(h_.store.get(), &h_.clock);
  rival.Attach(engine_);
  ASSERT_TRUE(rival.Load().ok());
  h_.clock.Advance(hours(4));
  EXPECT_EQ(rival.FireDue(), 1);
  EXPECT_EQ(service_->FireDue(), 0);
  EXPECT_EQ(service_->stats().dropped, 1);
  auto events = h_.store->ListEvents(kOrg, id);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), 2u);
}

TEST_F(TimerServiceTest, RefreshPicksUpTimersArmedByAnotherProcess) {
  TimerService other(h_.store.get(), &h_.clock);  // e.g. the daemon, while the CLI starts an instance
  other.Attach(engine_);
  ASSERT_TRUE(other.Load().ok());
  StartLead();
  EXPECT_EQ(other.stats().pending, 0u);
  ASSERT_TRUE(other.Refresh().ok());
  EXPECT_EQ(other.stats().pending, 2u);
}

TEST_F(TimerServiceTest, ASuspendedInstanceKeepsItsTimerWhichFiresAfterResume) {
  const std::string id = StartLead();
  AdminRequest admin;
  admin.org_id = kOrg;
  admin.instance_id = id;
  admin.reason = "customer on holiday";
  ASSERT_TRUE(engine_->Suspend(admin).ok());
  EXPECT_EQ(Advance(hours(4)), 0);
  EXPECT_EQ(service_->stats().deferred, 1);
  EXPECT_EQ(Timers(id, "armed").size(), 2u);
  ASSERT_TRUE(engine_->Resume(admin).ok());
  EXPECT_EQ(Advance(std::chrono::seconds(59)), 0);
  EXPECT_EQ(Advance(std::chrono::seconds(1)), 1);  // a blocked timer is tried again after a minute
  EXPECT_EQ(Timers(id, "fired").size(), 1u);
}

TEST_F(TimerServiceTest, CancellingTheInstanceCancelsEveryTimer) {
  const std::string id = StartLead();
  AdminRequest admin;
  admin.org_id = kOrg;
  admin.instance_id = id;
  admin.reason = "duplicate lead";
  ASSERT_TRUE(engine_->Cancel(admin).ok());
  auto cancelled = Timers(id, "cancelled");
  ASSERT_EQ(cancelled.size(), 2u);
  EXPECT_EQ(cancelled[0].detail, "instance cancelled on event nurt.admin.cancel");
  EXPECT_EQ(Advance(hours(72)), 0);
}

TEST_F(TimerServiceTest, ClientsCannotSendTheSyntheticTimerEvents) {
  const std::string id = StartLead();
  auto r = Send(id, "nurt.timer.new.1");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status();
}

TEST_F(TimerServiceTest, ReplayingTheLogReproducesTheSnapshotIncludingTimerFirings) {
  const std::string id = StartLead();
  EXPECT_EQ(Advance(hours(4)), 1);
  EXPECT_EQ(Advance(hours(44)), 1);
  auto replayed = engine_->Replay(kOrg, id);
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  EXPECT_EQ(*replayed, engine_->Show(kOrg, id)->record.snapshot);
}


// A `send` with a delay (docs/dsl.md "SCXML executable content") is a durable timer of the instance:
// armed in the commit that runs the action, fired with the data it was sent with, cancelled by `cancel`
// with its id (even in the same step, where it is then never armed).
constexpr const char* kPinger = R"(apiVersion: nurt/v1
kind: Machine
name: pinger
version: 1
states:
  waiting:
    entry:
      - send: { event: ping, data: { n: 7 }, delay: "'PT10M'", id: "'p1'" }
      - send: { event: late, delay: "'PT20M'", id: "'p2'" }
      - send: { event: late, delay: "'PT5M'", id: "'p3'" }
      - cancel: { id: "'p3'" }
    on:
      ping: { target: pinged, actions: [ { assign: { n: "event.data.n" } }, { cancel: { id: "'p2'" } } ] }
      late: failed
  pinged: {}
  failed: {}
)";

TEST_F(TimerServiceTest, DelayedSendsAreInstanceTimersThatCancelFinds) {
  auto def = dsl::LoadMachineText(kPinger, "pinger.yaml");
  ASSERT_NE(def.definition, nullptr) << (def.diagnostics.empty() ? "" : def.diagnostics.front().ToString());
  ASSERT_TRUE(engine_->Publish(kOrg, *def.definition).ok());
  StartRequest req;
  req.org_id = kOrg;
  req.machine = "pinger";
  auto started = engine_->Start(req);
  ASSERT_TRUE(started.ok()) << started.status();
  const std::string id = started->instance_id;
  auto armed = Timers(id, "armed");
  ASSERT_EQ(armed.size(), 2u) << "p3 was cancelled in the step that sent it";
  EXPECT_EQ(armed[0].kind, "send");
  EXPECT_EQ(armed[0].event, "ping");
  EXPECT_EQ(armed[0].due_at, At("2026-03-27T09:10:00Z"));
  EXPECT_EQ(armed[0].description, "send p1 after PT10M");

  EXPECT_EQ(Advance(minutes(9)), 0);
  EXPECT_EQ(Advance(minutes(1)), 1);
  EXPECT_EQ(State(id), std::vector<std::string>{"pinged"});
  auto shown = engine_->Show(kOrg, id);
  ASSERT_TRUE(shown.ok());
  EXPECT_EQ(shown->record.snapshot["context"]["n"], 7) << "the event carries the data it was sent with";
  auto cancelled = Timers(id, "cancelled");
  ASSERT_EQ(cancelled.size(), 1u);
  EXPECT_EQ(cancelled[0].event, "late");
  EXPECT_EQ(Advance(minutes(30)), 0);
  EXPECT_EQ(State(id), std::vector<std::string>{"pinged"});
}

}  // namespace
}  // namespace nurt::engine
