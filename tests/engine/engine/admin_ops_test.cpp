// Admin overrides end to end on a real SQLite store: every verb, every refused lifecycle move, the reason
// rule, idempotent replay, the audit trail, Replay == snapshot after each override, SCXML exit/entry order
// for force, and a failed internal delivery repaired by retry with a patch.
#include "nurt/engine/engine.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "engine_harness.hpp"
#include "nurt/dsl/loader.hpp"

namespace nurt::engine {
namespace {

constexpr const char* kOrg = "acme";

// Every entry/exit appends to ctx.trail, so the order of actions is visible in the context.
const char* kClaim = R"YAML(apiVersion: nurt/v1
kind: Machine
name: claim
version: 1
context:
  initial: { trail: [], approved: false }
states:
  intake:
    entry: [ { lua: "table.insert(ctx.trail, 'enter intake')" } ]
    exit: [ { lua: "table.insert(ctx.trail, 'exit intake')" } ]
    on:
      submit:
        target: review
        guard: "event.data.complete == true"
        actions: [ { lua: "table.insert(ctx.trail, 'submit action')" } ]
      pay:
        actions:
          - lua: "if not ctx.approved then error('payment before approval') end; ctx.paid = event.data.amount"
      notify:
        actions: [ { emit: { event: pay, to: "event.data.peer", data: { amount: 100 } } } ]
      error.platform: intake
  review:
    entry: [ { lua: "table.insert(ctx.trail, 'enter review')" } ]
    exit: [ { lua: "table.insert(ctx.trail, 'exit review')" } ]
    states:
      checking:
        entry: [ { lua: "table.insert(ctx.trail, 'enter checking')" } ]
        exit: [ { lua: "table.insert(ctx.trail, 'exit checking')" } ]
        on:
          ok: approving
          reject: rejected
      approving:
        entry: [ { lua: "table.insert(ctx.trail, 'enter approving')" } ]
        exit: [ { lua: "table.insert(ctx.trail, 'exit approving')" } ]
        on:
          approve:
            - target: paid
              guard: "ctx.approved"
            - target: paid
              actions: [ { lua: "table.insert(ctx.trail, 'never on skip')" } ]
  both:
    type: parallel
    entry: [ { lua: "table.insert(ctx.trail, 'enter both')" } ]
    exit: [ { lua: "table.insert(ctx.trail, 'exit both')" } ]
    states:
      left:
        entry: [ { lua: "table.insert(ctx.trail, 'enter left')" } ]
        exit: [ { lua: "table.insert(ctx.trail, 'exit left')" } ]
        states:
          l1:
            entry: [ { lua: "table.insert(ctx.trail, 'enter l1')" } ]
            exit: [ { lua: "table.insert(ctx.trail, 'exit l1')" } ]
          l2:
            entry: [ { lua: "table.insert(ctx.trail, 'enter l2')" } ]
            exit: [ { lua: "table.insert(ctx.trail, 'exit l2')" } ]
      right:
        entry: [ { lua: "table.insert(ctx.trail, 'enter right')" } ]
        exit: [ { lua: "table.insert(ctx.trail, 'exit right')" } ]
        states:
          r1:
            entry: [ { lua: "table.insert(ctx.trail, 'enter r1')" } ]
            exit: [ { lua: "table.insert(ctx.trail, 'exit r1')" } ]
  bounce:
    entry: [ { lua: "table.insert(ctx.trail, 'enter bounce')" } ]
    always: intake
  stuck:
    on:
      go: intake
  paid: { type: final, output: { paid: "ctx.paid or 0" } }
  rejected: { type: final }
)YAML";

class AdminOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(harness_.Open());
    auto r = dsl::LoadMachineText(kClaim, "claim.yaml");
    ASSERT_NE(r.definition, nullptr) << (r.diagnostics.empty() ? "" : r.diagnostics[0].ToString());
    ASSERT_TRUE(engine().Publish(kOrg, *r.definition).ok());
  }

  Engine& engine() { return *harness_.engine; }
  store::Store& store() { return *harness_.store; }

  std::string Start(const std::string& id) {
    StartRequest req;
    req.org_id = kOrg;
    req.machine = "claim";
    req.instance_id = id;
    auto r = engine().Start(req);
    EXPECT_TRUE(r.ok()) << r.status();
    return id;
  }

  Result<Outcome> Send(const std::string& id, const std::string& event, Json data = Json::object()) {
    EventRequest req;
    req.org_id = kOrg;
    req.instance_id = id;
    req.event = event;
    req.data = std::move(data);
    req.actor = "user:ola";
    return engine().Accept(req);
  }

  static AdminRequest Admin(const std::string& id, const std::string& reason = "ticket OPS-7",
                            const std::string& key = "") {
    AdminRequest req;
    req.org_id = kOrg;
    req.instance_id = id;
    req.actor = "admin:eva";
    req.reason = reason;
    req.idempotency_key = key;
    return req;
  }

  store::InstanceRecord Record(const std::string& id) {
    auto rec = store().GetInstance(kOrg, id);
    EXPECT_TRUE(rec.ok()) << rec.status();
    return rec.ok() ? *rec : store::InstanceRecord{};
  }

  std::vector<std::string> Trail(const std::string& id) {
    std::vector<std::string> out;
    const store::InstanceRecord rec = Record(id);  // the loop below must not outlive it
    for (const auto& s : rec.snapshot["context"]["trail"]) out.push_back(s.get<std::string>());
    return out;
  }

  // The trail entries added since `before` entries.
  std::vector<std::string> TrailSince(const std::string& id, std::size_t before) {
    auto all = Trail(id);
    return std::vector<std::string>(
        all.begin() + static_cast<std::ptrdiff_t>(std::min(before, all.size())), all.end());
  }

  void ExpectReplayEqualsSnapshot(const std::string& id) {
    auto replayed = engine().Replay(kOrg, id);
    ASSERT_TRUE(replayed.ok()) << replayed.status();
    EXPECT_EQ(*replayed, Record(id).snapshot);
  }

  std::vector<store::EventEnvelope> Events(const std::string& id) {
    auto e = store().ListEvents(kOrg, id);
    EXPECT_TRUE(e.ok());
    return e.ok() ? *e : std::vector<store::EventEnvelope>{};
  }

  // Puts `id` into the failed status through a real internal delivery: a peer emits `pay` to it
  // before it is approved, and the pay action raises an error nobody handles.
  void FailThroughDelivery(const std::string& id) {
    Start(id);
    const std::string peer = Start(id + "-peer");
    ASSERT_TRUE(Send(peer, "notify", Json{{"peer", id}}).ok());
    auto delivered = engine().DeliverInternalEffects();
    ASSERT_TRUE(delivered.ok()) << delivered.status();
    ASSERT_EQ(*delivered, 1);
    ASSERT_EQ(Record(id).run_status, "failed");
  }

  testing::EngineHarness harness_;
};

using V = std::vector<std::string>;

// --- reason, lifecycle ----------------------------------------------------------------------------

TEST_F(AdminOpsTest, EveryVerbNeedsANonBlankReasonAndWritesNothingWithout) {
  const std::string id = Start("c-1");
  const std::vector<std::function<Result<Outcome>(const AdminRequest&)>> verbs = {
      [&](const AdminRequest& r) { return engine().Cancel(r); },
      [&](const AdminRequest& r) { return engine().Suspend(r); },
      [&](const AdminRequest& r) { return engine().Resume(r); },
      [&](const AdminRequest& r) { return engine().ForceState(r, "stuck"); },
      [&](const AdminRequest& r) { return engine().Skip(r); },
      [&](const AdminRequest& r) { return engine().Retry(r, Json::object()); },
  };
  for (const std::string& blank : {std::string(""), std::string("   "), std::string("\t\n")}) {
    for (const auto& verb : verbs) {
      auto r = verb(Admin(id, blank));
      ASSERT_FALSE(r.ok());
      EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status();
      EXPECT_NE(r.status().message().find("needs a reason"), std::string::npos) << r.status();
    }
  }
  EXPECT_EQ(Events(id).size(), 1u);
  EXPECT_EQ(Record(id).version, 1);
}

TEST_F(AdminOpsTest, RefusedLifecycleMovesSayWhatIsAllowedAndWriteNothing) {
  // active: resume and retry are refused.
  const std::string active = Start("c-active");
  auto resume = engine().Resume(Admin(active));
  ASSERT_TRUE(resume.status().IsFailedPrecondition()) << resume.status();
  EXPECT_NE(resume.status().message().find("instance is active; it cannot be resumed"), std::string::npos);
  EXPECT_TRUE(engine().Retry(Admin(active)).status().IsFailedPrecondition());

  // suspended: force, skip, retry, suspend are refused; ordinary events too.
  const std::string suspended = Start("c-suspended");
  ASSERT_TRUE(engine().Suspend(Admin(suspended)).ok());
  EXPECT_TRUE(engine().ForceState(Admin(suspended), "stuck").status().IsFailedPrecondition());
  EXPECT_TRUE(engine().Skip(Admin(suspended)).status().IsFailedPrecondition());
  EXPECT_TRUE(engine().Retry(Admin(suspended)).status().IsFailedPrecondition());
  EXPECT_TRUE(engine().Suspend(Admin(suspended)).status().IsFailedPrecondition());
  EXPECT_TRUE(Send(suspended, "submit", Json{{"complete", true}}).status().IsFailedPrecondition());

  // failed: suspend and resume are refused.
  FailThroughDelivery("c-failed");
  EXPECT_TRUE(engine().Suspend(Admin("c-failed")).status().IsFailedPrecondition());
  EXPECT_TRUE(engine().Resume(Admin("c-failed")).status().IsFailedPrecondition());
  EXPECT_TRUE(Send("c-failed", "submit", Json{{"complete", true}}).status().IsFailedPrecondition());

  // cancelled and completed: every verb is refused.
  const std::string cancelled = Start("c-cancelled");
  ASSERT_TRUE(engine().Cancel(Admin(cancelled)).ok());
  const std::string completed = Start("c-completed");
  ASSERT_TRUE(engine().ForceState(Admin(completed), "rejected").ok());
  ASSERT_EQ(Record(completed).run_status, "completed");
  for (const std::string& id : {cancelled, completed}) {
    const std::int64_t version = Record(id).version;
    EXPECT_TRUE(engine().Cancel(Admin(id)).status().IsFailedPrecondition()) << id;
    EXPECT_TRUE(engine().Suspend(Admin(id)).status().IsFailedPrecondition()) << id;
    EXPECT_TRUE(engine().Resume(Admin(id)).status().IsFailedPrecondition()) << id;
    EXPECT_TRUE(engine().ForceState(Admin(id), "intake").status().IsFailedPrecondition()) << id;
    EXPECT_TRUE(engine().Skip(Admin(id)).status().IsFailedPrecondition()) << id;
    EXPECT_TRUE(engine().Retry(Admin(id)).status().IsFailedPrecondition()) << id;
    EXPECT_TRUE(Send(id, "submit", Json{{"complete", true}}).status().IsFailedPrecondition()) << id;
    EXPECT_EQ(Record(id).version, version) << id;
  }
  EXPECT_TRUE(engine().Cancel(Admin("no-such")).status().IsNotFound());
}

TEST_F(AdminOpsTest, CallersCannotSendAdminEventsAsOrdinaryEvents) {
  const std::string id = Start("c-1");
  for (const char* name : {"nurt.admin.force", "nurt.admin.cancel", "nurt.admin.anything"}) {
    auto r = Send(id, name, Json{{"reason", "sneaky"}, {"state", "paid"}});
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status();
    EXPECT_NE(r.status().message().find("reserved"), std::string::npos) << r.status();
  }
  EXPECT_EQ(Events(id).size(), 1u);
}

// --- cancel, suspend, resume ----------------------------------------------------------------------

TEST_F(AdminOpsTest, CancelKeepsTheConfigurationRunsNoExitActionAndAcceptsNothingAfter) {
  const std::string id = Start("c-1");
  ASSERT_TRUE(Send(id, "submit", Json{{"complete", true}}).ok());
  const auto before = Trail(id);
  auto r = engine().Cancel(Admin(id, "customer withdrew"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->run_status, "cancelled");
  EXPECT_EQ(r->state, (V{"checking"}));
  EXPECT_TRUE(r->accepted_events.empty());
  EXPECT_EQ(Trail(id), before);  // no exit action ran
  EXPECT_EQ(Record(id).state, (V{"checking"}));
  auto view = engine().Show(kOrg, id);
  ASSERT_TRUE(view.ok());
  EXPECT_TRUE(view->accepted_events.empty());
  EXPECT_TRUE(Send(id, "ok").status().IsFailedPrecondition());

  const auto events = Events(id);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events.back().type, "nurt.admin.cancel");
  EXPECT_EQ(events.back().actor, "admin:eva");
  EXPECT_EQ(events.back().payload["reason"], "customer withdrew");
  EXPECT_EQ(events.back().payload["state"], Json::array({"checking"}));
  ExpectReplayEqualsSnapshot(id);
}

TEST_F(AdminOpsTest, SuspendFreezesUntilResumeAndACancelAlsoEndsASuspendedInstance) {
  const std::string id = Start("c-1");
  auto s = engine().Suspend(Admin(id, "waiting for legal"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->run_status, "suspended");
  EXPECT_TRUE(s->accepted_events.empty());
  auto refused = Send(id, "submit", Json{{"complete", true}});
  EXPECT_TRUE(refused.status().IsFailedPrecondition()) << refused.status();
  auto r = engine().Resume(Admin(id, "legal said yes"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->run_status, "active");
  EXPECT_FALSE(r->accepted_events.empty());
  ASSERT_TRUE(Send(id, "submit", Json{{"complete", true}}).ok());
  ExpectReplayEqualsSnapshot(id);

  const std::string other = Start("c-2");
  ASSERT_TRUE(engine().Suspend(Admin(other)).ok());
  auto c = engine().Cancel(Admin(other));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->run_status, "cancelled");
  ExpectReplayEqualsSnapshot(other);
}

// --- idempotency, audit ---------------------------------------------------------------------------

TEST_F(AdminOpsTest, SameKeyReplaysTheOutcomeAndADifferentRequestIsAMismatch) {
  const std::string id = Start("c-1");
  auto first = engine().ForceState(Admin(id, "stuck at intake", "k-1"), "stuck");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->replayed);
  auto again = engine().ForceState(Admin(id, "stuck at intake", "k-1"), "stuck");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->version, first->version);
  EXPECT_EQ(again->event_id, first->event_id);
  EXPECT_EQ(Events(id).size(), 2u);

  EXPECT_TRUE(engine().ForceState(Admin(id, "stuck at intake", "k-1"), "intake")
                  .status()
                  .IsIdempotencyMismatch());
  EXPECT_TRUE(engine().ForceState(Admin(id, "another reason", "k-1"), "stuck")
                  .status()
                  .IsIdempotencyMismatch());
  EXPECT_TRUE(engine().Suspend(Admin(id, "stuck at intake", "k-1")).status().IsIdempotencyMismatch());

  // Without a key, each call is a new override.
  ASSERT_TRUE(engine().Suspend(Admin(id)).ok());
  ASSERT_TRUE(engine().Resume(Admin(id)).ok());
  EXPECT_EQ(Events(id).size(), 4u);
}

TEST_F(AdminOpsTest, HistoryShowsWhoChangedWhatAndWhy) {
  const std::string id = Start("c-1");
  ASSERT_TRUE(engine().ForceState(Admin(id, "moved by hand, ticket 42"), "approving").ok());
  ASSERT_TRUE(engine().Suspend(Admin(id, "pause for audit")).ok());
  auto transitions = store().ListTransitions(kOrg, id);
  ASSERT_TRUE(transitions.ok());
  std::vector<const store::TransitionRecord*> overrides;
  for (const auto& t : *transitions) {
    if (t.detail.contains("override")) overrides.push_back(&t);
  }
  ASSERT_EQ(overrides.size(), 2u);
  EXPECT_EQ(overrides[0]->detail["override"], "force");
  EXPECT_EQ(overrides[0]->detail["reason"], "moved by hand, ticket 42");
  EXPECT_EQ(overrides[0]->event, "nurt.admin.force");
  EXPECT_EQ(overrides[0]->from, (V{"intake"}));
  EXPECT_EQ(overrides[0]->to, (V{"approving"}));
  EXPECT_EQ(overrides[0]->targets, (V{"approving"}));
  EXPECT_EQ(overrides[1]->detail["override"], "suspend");
  EXPECT_EQ(overrides[1]->detail["reason"], "pause for audit");

  const auto events = Events(id);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1].type, "nurt.admin.force");
  EXPECT_EQ(events[1].actor, "admin:eva");
  EXPECT_EQ(events[1].payload,
            (Json{{"reason", "moved by hand, ticket 42"}, {"state", "approving"}, {"from", {"intake"}}}));
  EXPECT_EQ(events[2].type, "nurt.admin.suspend");
}

// --- force ----------------------------------------------------------------------------------------

TEST_F(AdminOpsTest, ForceRunsExitThenEntryActionsInScxmlOrderWithoutGuards) {
  const std::string id = Start("c-1");
  std::size_t mark = Trail(id).size();
  // intake -> approving: exit intake, enter review (ancestor), enter approving; no guard, no action.
  auto r = engine().ForceState(Admin(id), "approving");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->run_status, "active");
  EXPECT_EQ(r->state, (V{"approving"}));
  EXPECT_EQ(TrailSince(id, mark), (V{"exit intake", "enter review", "enter approving"}));
  ExpectReplayEqualsSnapshot(id);

  // Within the compound state: review stays entered.
  mark = Trail(id).size();
  ASSERT_TRUE(engine().ForceState(Admin(id), "checking").ok());
  EXPECT_EQ(TrailSince(id, mark), (V{"exit approving", "enter checking"}));

  // Into the compound state itself: left and re-entered through its initial child (SCXML external).
  mark = Trail(id).size();
  ASSERT_TRUE(engine().ForceState(Admin(id), "review").ok());
  EXPECT_EQ(TrailSince(id, mark), (V{"exit checking", "exit review", "enter review", "enter checking"}));

  // Into one region of a parallel state: every region is entered, the others at their initial child.
  mark = Trail(id).size();
  auto p = engine().ForceState(Admin(id), "l2");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->state, (V{"l2", "r1"}));
  EXPECT_EQ(TrailSince(id, mark), (V{"exit checking", "exit review", "enter both", "enter left",
                                     "enter l2", "enter right", "enter r1"}));

  // Out of a parallel state: deepest first, later regions first.
  mark = Trail(id).size();
  ASSERT_TRUE(engine().ForceState(Admin(id), "intake").ok());
  EXPECT_EQ(TrailSince(id, mark), (V{"exit r1", "exit right", "exit l2", "exit left", "exit both",
                                     "enter intake"}));
  ExpectReplayEqualsSnapshot(id);
}

TEST_F(AdminOpsTest, ForceThenEventlessTransitionsRunAndAFinalStateCompletes) {
  const std::string id = Start("c-1");
  const std::size_t mark = Trail(id).size();
  auto r = engine().ForceState(Admin(id), "bounce");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->state, (V{"intake"}));  // bounce's `always: intake` was taken
  EXPECT_EQ(TrailSince(id, mark), (V{"exit intake", "enter bounce", "enter intake"}));
  ASSERT_GE(r->transitions.size(), 2u);
  EXPECT_EQ(r->transitions[0].detail["override"], "force");
  EXPECT_EQ(r->transitions[1].detail["eventless"], true);
  EXPECT_FALSE(r->transitions[1].detail.contains("override"));

  auto done = engine().ForceState(Admin(id), "paid");
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->run_status, "completed");
  EXPECT_EQ(done->output, (Json{{"paid", 0}}));
  ExpectReplayEqualsSnapshot(id);
}

TEST_F(AdminOpsTest, ForceIntoAnUnknownStateSuggestsTheNearestId) {
  const std::string id = Start("c-1");
  auto r = engine().ForceState(Admin(id), "aproving");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status();
  EXPECT_NE(r.status().message().find("no state 'aproving'"), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find("did you mean 'approving'?"), std::string::npos) << r.status();
  EXPECT_TRUE(engine().ForceState(Admin(id), "").status().IsInvalidArgument());
  EXPECT_EQ(Events(id).size(), 1u);
}

// --- skip -----------------------------------------------------------------------------------------

TEST_F(AdminOpsTest, SkipFollowsTheOnlyDestinationWithoutGuardOrActions) {
  const std::string id = Start("c-1");
  // intake: submit -> review (guarded: complete == true) is the only eventful transition with a target
  // (pay and notify are targetless; error.* is excluded).
  std::size_t mark = Trail(id).size();
  auto r = engine().Skip(Admin(id, "paper form received"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->state, (V{"checking"}));
  EXPECT_EQ(TrailSince(id, mark), (V{"exit intake", "enter review", "enter checking"}));  // no action
  EXPECT_EQ(r->transitions.front().detail["override"], "skip");
  EXPECT_EQ(r->transitions.front().detail["skipped"], "intake");
  EXPECT_EQ(r->transitions.front().detail["reason"], "paper form received");
  EXPECT_EQ(Events(id).back().payload["skipped"], "intake");
  EXPECT_EQ(Events(id).back().payload["target"], Json::array({"review"}));
  ExpectReplayEqualsSnapshot(id);

  // checking: ok -> approving, reject -> rejected: two destinations.
  auto two = engine().Skip(Admin(id));
  ASSERT_FALSE(two.ok());
  EXPECT_TRUE(two.status().IsFailedPrecondition()) << two.status();
  EXPECT_NE(two.status().message().find("(approving, rejected)"), std::string::npos) << two.status();
  EXPECT_NE(two.status().message().find("use force with one of them"), std::string::npos);

  // approving: two transitions, one destination; neither guard nor the second one's action runs.
  ASSERT_TRUE(engine().ForceState(Admin(id), "approving").ok());
  mark = Trail(id).size();
  auto paid = engine().Skip(Admin(id));
  ASSERT_TRUE(paid.ok()) << paid.status();
  EXPECT_EQ(paid->run_status, "completed");
  EXPECT_EQ(TrailSince(id, mark), (V{"exit approving", "exit review"}));
  ExpectReplayEqualsSnapshot(id);
}

TEST_F(AdminOpsTest, SkipRefusesParallelStatesAndDeadEnds) {
  const std::string id = Start("c-1");
  ASSERT_TRUE(engine().ForceState(Admin(id), "both").ok());
  auto parallel = engine().Skip(Admin(id));
  ASSERT_TRUE(parallel.status().IsFailedPrecondition()) << parallel.status();
  EXPECT_NE(parallel.status().message().find("2 states are active (l1, r1)"), std::string::npos)
      << parallel.status();
  EXPECT_NE(parallel.status().message().find("use force"), std::string::npos);

  ASSERT_TRUE(engine().ForceState(Admin(id), "l1").ok());  // l1 has no transition at all
  EXPECT_TRUE(engine().Skip(Admin(id)).status().IsFailedPrecondition());
}

// --- failed delivery and retry -------------------------------------------------------------------

TEST_F(AdminOpsTest, AFailedInternalDeliveryIsCommittedAsFailureNotLost) {
  FailThroughDelivery("c-1");
  const auto rec = Record("c-1");
  EXPECT_EQ(rec.state, (V{"intake"}));
  const Json& failure = rec.snapshot["failure"];
  EXPECT_EQ(failure["event"], "pay");
  EXPECT_EQ(failure["data"], (Json{{"amount", 100}}));
  EXPECT_EQ(failure["actor"], "instance:c-1-peer");
  EXPECT_EQ(failure["sequence"], 2);
  EXPECT_NE(failure["error"].get<std::string>().find("payment before approval"), std::string::npos)
      << failure;
  EXPECT_FALSE(rec.snapshot["context"].contains("paid"));  // otherwise unchanged
  const auto events = Events("c-1");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].type, "pay");
  auto view = engine().Show(kOrg, "c-1");
  ASSERT_TRUE(view.ok());
  EXPECT_TRUE(view->accepted_events.empty());
  ExpectReplayEqualsSnapshot("c-1");

  // Delivering again finds nothing pending: the message was consumed, by the failure record.
  EXPECT_EQ(*engine().DeliverInternalEffects(), 0);

  // The same error from a caller is still refused, not recorded.
  const std::string direct = Start("c-direct");
  auto refused = Send(direct, "pay", Json{{"amount", 5}});
  EXPECT_TRUE(refused.status().IsInvalidArgument()) << refused.status();
  EXPECT_EQ(Record(direct).run_status, "active");
  EXPECT_EQ(Events(direct).size(), 1u);
}

TEST_F(AdminOpsTest, RetryWithAPatchReappliesTheFailedEventAndReactivates) {
  FailThroughDelivery("c-1");

  // Without a fix it fails again: refused with the new error, nothing recorded, still failed.
  auto again = engine().Retry(Admin("c-1", "try once more"));
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(again.status().IsFailedPrecondition()) << again.status();
  EXPECT_NE(again.status().message().find("event 2 ('pay') failed again"), std::string::npos)
      << again.status();
  EXPECT_NE(again.status().message().find("payment before approval"), std::string::npos);
  EXPECT_EQ(Record("c-1").run_status, "failed");
  EXPECT_EQ(Events("c-1").size(), 2u);

  EXPECT_TRUE(engine().Retry(Admin("c-1"), Json::array()).status().IsInvalidArgument());

  auto fixed = engine().Retry(Admin("c-1", "approved by phone"), Json{{"approved", true}});
  ASSERT_TRUE(fixed.ok()) << fixed.status();
  EXPECT_EQ(fixed->run_status, "active");
  EXPECT_EQ(fixed->context["approved"], true);
  EXPECT_EQ(fixed->context["paid"], 100);
  EXPECT_FALSE(fixed->accepted_events.empty());
  const auto rec = Record("c-1");
  EXPECT_FALSE(rec.snapshot.contains("failure"));
  const auto events = Events("c-1");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].type, "nurt.admin.retry");
  EXPECT_EQ(events[2].payload["patch"], (Json{{"approved", true}}));
  EXPECT_EQ(events[2].payload["retried"], (Json{{"event", "pay"}, {"sequence", 2}}));
  EXPECT_EQ(fixed->transitions.front().detail["override"], "retry");
  EXPECT_EQ(fixed->transitions.front().detail["reason"], "approved by phone");
  ExpectReplayEqualsSnapshot("c-1");

  // Active again: ordinary events are accepted.
  ASSERT_TRUE(Send("c-1", "submit", Json{{"complete", true}}).ok());
  ExpectReplayEqualsSnapshot("c-1");
}

TEST_F(AdminOpsTest, AFailedInstanceCanBeForcedSkippedOrCancelled) {
  FailThroughDelivery("f-force");
  auto forced = engine().ForceState(Admin("f-force"), "approving");
  ASSERT_TRUE(forced.ok()) << forced.status();
  EXPECT_EQ(forced->run_status, "active");
  EXPECT_FALSE(Record("f-force").snapshot.contains("failure"));
  ExpectReplayEqualsSnapshot("f-force");

  FailThroughDelivery("f-skip");
  auto skipped = engine().Skip(Admin("f-skip"));
  ASSERT_TRUE(skipped.ok()) << skipped.status();
  EXPECT_EQ(skipped->run_status, "active");
  EXPECT_EQ(skipped->state, (V{"checking"}));
  ExpectReplayEqualsSnapshot("f-skip");

  FailThroughDelivery("f-cancel");
  auto cancelled = engine().Cancel(Admin("f-cancel"));
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->run_status, "cancelled");
  EXPECT_TRUE(Record("f-cancel").snapshot.contains("failure"));  // kept: it says why it stopped
  ExpectReplayEqualsSnapshot("f-cancel");
}

TEST_F(AdminOpsTest, ReplayReproducesAHistoryWithEveryKindOfOverride) {
  FailThroughDelivery("c-1");
  ASSERT_TRUE(engine().Retry(Admin("c-1"), Json{{"approved", true}}).ok());
  ASSERT_TRUE(engine().Suspend(Admin("c-1")).ok());
  ASSERT_TRUE(engine().Resume(Admin("c-1")).ok());
  ASSERT_TRUE(engine().Skip(Admin("c-1")).ok());
  ASSERT_TRUE(engine().ForceState(Admin("c-1"), "both").ok());
  ASSERT_TRUE(engine().ForceState(Admin("c-1"), "bounce").ok());
  ASSERT_TRUE(Send("c-1", "submit", Json{{"complete", true}}).ok());
  ASSERT_TRUE(engine().Cancel(Admin("c-1")).ok());
  ExpectReplayEqualsSnapshot("c-1");
  // Every prefix replays too (what `nurt replay --until` shows).
  const auto events = Events("c-1");
  for (const auto& e : events) {
    auto partial = engine().Replay(kOrg, "c-1", e.sequence);
    EXPECT_TRUE(partial.ok()) << e.sequence << ": " << partial.status();
  }
}

}  // namespace
}  // namespace nurt::engine
