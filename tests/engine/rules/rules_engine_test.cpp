// The rules engine end to end on a real SQLite store, real Lua and a manual clock: matching, `when`
// over state and context, every action's outbox rows (emit/start delivered by the engine), once_per
// per Warsaw calendar day, redelivery and restart, throttles, and a crash before the commit.

#include "nurt/rules/rules_engine.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>

#include "engine_harness.hpp"
#include "forwarding_store.hpp"
#include "nurt/dsl/loader.hpp"
#include "nurt/dsl/rules.hpp"

namespace nurt::rules {
namespace {

using ::testing::HasSubstr;

constexpr const char* kOrg = "acme";

constexpr const char* kInvoice = R"YAML(apiVersion: nurt/v1
kind: Machine
name: invoice
version: 1
context: { initial: { amount: 0, number: "", reminders: 0, handled: 0 } }
states:
  open:
    on:
      invoice.overdue: { actions: [ { assign: { overdue: "true" } } ] }
      invoice.touched: { actions: [ { assign: { touched: "true" } } ] }
      reminder.sent: { actions: [ { assign: { reminders: "ctx.reminders + event.data.n" } } ] }
      reminder.handled: { actions: [ { assign: { handled: "ctx.handled + 1" } } ] }
      pay: paid
  paid:
    on:
      invoice.overdue: { actions: [ { assign: { late: "true" } } ] }
      reminder.handled: { actions: [ { assign: { handled: "ctx.handled + 1" } } ] }
)YAML";

constexpr const char* kCollection = R"YAML(apiVersion: nurt/v1
kind: Machine
name: collection
version: 1
context: { initial: { invoice: "" } }
states:
  working: {}
)YAML";

class RulesEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(h_.Open());
    Publish(kInvoice);
    Publish(kCollection);
    // 2026-01-01T10:00:00Z = 11:00 in Warsaw.
    h_.clock.Set(FromUnixMillis(1'767'261'600'000));
  }

  void Publish(const char* yaml) {
    auto r = dsl::LoadMachineText(yaml, "m.yaml");
    ASSERT_NE(r.definition, nullptr) << (r.diagnostics.empty() ? "" : r.diagnostics[0].ToString());
    ASSERT_TRUE(h_.engine->Publish(kOrg, *r.definition).ok());
  }

  // A rules engine on `store` (default: the harness's) with `rules` loaded for kOrg.
  std::unique_ptr<RulesEngine> Rules(const std::string& rules, store::Store* store = nullptr,
                                     const std::string& evaluator = "rules") {
    auto loaded = dsl::LoadRulesText(rules, "rules.yaml");
    EXPECT_NE(loaded.rules, nullptr) << (loaded.diagnostics.empty() ? "" : loaded.diagnostics[0].ToString());
    RulesEngineOptions o;
    o.store = store ? store : h_.store.get();
    o.clock = &h_.clock;
    o.evaluator = evaluator;
    o.on_error = [this](const std::string&, const Json& fields) { errors_.push_back(fields); };
    auto engine = NewRulesEngine(o);
    EXPECT_TRUE(engine.ok()) << engine.status();
    if (loaded.rules) {
      EXPECT_TRUE((*engine)->SetRules(kOrg, {loaded.rules}).ok());
    }
    return std::move(engine).value();
  }

  std::string Start(const std::string& id, Json data) {
    engine::StartRequest s;
    s.org_id = kOrg;
    s.machine = "invoice";
    s.instance_id = id;
    s.data = std::move(data);
    auto r = h_.engine->Start(s);
    EXPECT_TRUE(r.ok()) << r.status();
    return id;
  }

  void Send(const std::string& id, const std::string& event, Json data = Json::object()) {
    engine::EventRequest e;
    e.org_id = kOrg;
    e.instance_id = id;
    e.event = event;
    e.data = std::move(data);
    auto r = h_.engine->Accept(e);
    ASSERT_TRUE(r.ok()) << r.status();
  }

  RunReport Run(RulesEngine* rules) {
    auto r = rules->RunOnce(500);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : RunReport{};
  }

  std::vector<store::OutboxItem> Outbox(const std::string& kind) {
    auto items = h_.store->ListPendingOutbox({kind}, 1000);
    EXPECT_TRUE(items.ok()) << items.status();
    return items.ok() ? *items : std::vector<store::OutboxItem>{};
  }

  RuleCounters CountersOf(RulesEngine* rules, const std::string& rule) {
    return rules->Counters()[{kOrg, rule}];
  }

  Json Context(const std::string& id) {
    auto r = h_.store->GetInstance(kOrg, id);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->snapshot["context"] : Json();
  }

  testing::EngineHarness h_;
  std::vector<Json> errors_;
};

constexpr const char* kNotifyBig = R"YAML(apiVersion: nurt/v1
kind: Rules
name: reminders
rules:
  - id: overdue-big
    on: invoice.*
    machine: invoice
    when: "event.type == 'invoice.overdue' and context.amount > 1000 and In('open') and entity.state[1] == 'open'"
    do:
      - notify: { channel: email, to: [ops@firma.pl], subject: "Overdue {{context.number}}", body: "Pay {{context.amount}}" }
)YAML";

TEST_F(RulesEngineTest, WhenSeesTheEventTheStateAndTheContextAndNotifyFollowsTheContract) {
  Start("small", Json{{"amount", 500}, {"number", "FV/1"}});
  Start("big", Json{{"amount", 5000}, {"number", "FV/2"}});
  Start("big-paid", Json{{"amount", 9000}, {"number", "FV/3"}});
  Send("big-paid", "pay");
  for (const char* id : {"small", "big", "big-paid"}) Send(id, "invoice.overdue", Json{{"days", 3}});
  Send("big", "invoice.touched");  // matches the glob, fails `when`
  auto rules = Rules(kNotifyBig);
  const RunReport report = Run(rules.get());
  EXPECT_EQ(report.events, 8);  // 3 starts, 1 pay, 3 overdue, 1 touched
  EXPECT_EQ(report.totals.fired, 1);

  auto items = Outbox("nurt.notify");
  ASSERT_EQ(items.size(), 1u);
  const store::OutboxItem& n = items[0];
  EXPECT_EQ(n.instance_id, "big");
  EXPECT_EQ(n.payload["channel"], "email");
  EXPECT_EQ(n.payload["to"], Json::array({"ops@firma.pl"}));
  EXPECT_EQ(n.payload["subject"], "Overdue {{context.number}}");  // producers never render
  EXPECT_EQ(n.payload["body"], "Pay {{context.amount}}");
  EXPECT_EQ(n.payload["vars"]["context"]["number"], "FV/2");
  EXPECT_EQ(n.payload["vars"]["event"]["type"], "invoice.overdue");
  EXPECT_EQ(n.payload["vars"]["event"]["payload"]["days"], 3);
  EXPECT_EQ(n.payload["vars"]["instance"]["id"], "big");
  EXPECT_EQ(n.payload["vars"]["instance"]["machine"], "invoice");
  EXPECT_EQ(n.payload["vars"]["instance"]["state"], Json::array({"open"}));
  EXPECT_EQ(n.payload["origin"]["kind"], "rule");
  EXPECT_EQ(n.payload["origin"]["name"], "overdue-big");
  EXPECT_EQ(n.idempotency_key, "rule:overdue-big:overdue-big:big:2026-01-01:0");

  const RuleCounters c = CountersOf(rules.get(), "overdue-big");
  EXPECT_EQ(c.evaluated, 4);
  EXPECT_EQ(c.fired, 1);
  // Nothing new: a second pass reads nothing and writes nothing.
  EXPECT_EQ(Run(rules.get()).events, 0);
  EXPECT_EQ(Outbox("nurt.notify").size(), 1u);
}

TEST_F(RulesEngineTest, EmitAndStartAreDeliveredByTheEngineExactlyOnce) {
  Start("inv-1", Json{{"amount", 10}});
  Send("inv-1", "invoice.overdue", Json{{"peer", "inv-1"}});
  auto rules = Rules(R"YAML(apiVersion: nurt/v1
kind: Rules
name: r
rules:
  - id: chase
    on: invoice.overdue
    do:
      - emit: { event: reminder.sent, to: "event.payload.peer", data: { n: "2 + 3" } }
      - start: { machine: collection, id: "'col-' .. entity.id", data: { invoice: "entity.id" } }
      - webhook: { channel: crm-hook, data: { invoice: "entity.id", amount: "context.amount" } }
)YAML");
  EXPECT_EQ(Run(rules.get()).totals.fired, 1);
  auto sends = Outbox("nurt.send");
  ASSERT_EQ(sends.size(), 1u);
  EXPECT_EQ(sends[0].payload["to"], "inv-1");
  EXPECT_EQ(sends[0].payload["event"], "reminder.sent");
  EXPECT_EQ(sends[0].payload["data"], (Json{{"n", 5}}));
  auto spawns = Outbox("nurt.spawn");
  ASSERT_EQ(spawns.size(), 1u);
  EXPECT_EQ(spawns[0].payload["machine"], "collection");
  EXPECT_EQ(spawns[0].payload["id"], "col-inv-1");
  auto hooks = Outbox("nurt.notify");
  ASSERT_EQ(hooks.size(), 1u);
  EXPECT_EQ(hooks[0].payload["channel"], "crm-hook");
  EXPECT_EQ(hooks[0].payload["vars"]["data"], (Json{{"invoice", "inv-1"}, {"amount", 10}}));

  auto delivered = h_.engine->DeliverInternalEffects();
  ASSERT_TRUE(delivered.ok()) << delivered.status();
  EXPECT_EQ(*delivered, 2);
  EXPECT_EQ(Context("inv-1")["reminders"], 5);
  EXPECT_EQ(Context("col-inv-1")["invoice"], "inv-1");
  // Delivered once: a second delivery finds nothing, and the rules see the new events but fire nothing
  // (reminder.sent and nurt.start do not match `on`).
  EXPECT_EQ(*h_.engine->DeliverInternalEffects(), 0);
  EXPECT_EQ(Run(rules.get()).totals.fired, 0);
  EXPECT_EQ(Context("inv-1")["reminders"], 5);
}

constexpr const char* kDaily = R"YAML(apiVersion: nurt/v1
kind: Rules
name: r
rules:
  - id: daily
    on: invoice.overdue
    do:
      - notify: { channel: email, body: "overdue" }
)YAML";

TEST_F(RulesEngineTest, OncePerDefaultIsOnePerEntityPerWarsawCalendarDay) {
  auto rules = Rules(kDaily);
  Start("a", Json::object());
  Start("b", Json::object());
  Send("a", "invoice.overdue");
  Send("a", "invoice.overdue");
  Send("b", "invoice.overdue");
  Run(rules.get());
  EXPECT_EQ(Outbox("nurt.notify").size(), 2u);  // one for a, one for b
  // 22:59:59Z = 23:59:59 in Warsaw: still 1 January there.
  h_.clock.Set(FromUnixMillis(1'767'308'399'000));
  Send("a", "invoice.overdue");
  Run(rules.get());
  EXPECT_EQ(Outbox("nurt.notify").size(), 2u);
  // Two seconds later it is 00:00:01 on 2 January in Warsaw (still 1 January in UTC): fires again.
  h_.clock.Advance(std::chrono::seconds(2));
  Send("a", "invoice.overdue");
  Run(rules.get());
  auto items = Outbox("nurt.notify");
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[2].idempotency_key, "rule:daily:daily:a:2026-01-02:0");
  const RuleCounters c = CountersOf(rules.get(), "daily");
  EXPECT_EQ(c.fired, 3);
  EXPECT_EQ(c.suppressed, 2);
}

TEST_F(RulesEngineTest, RedeliveryAndRestartFireNothingTwice) {
  Start("a", Json::object());
  Send("a", "invoice.overdue");
  {
    auto rules = Rules(kDaily);
    Run(rules.get());
  }
  ASSERT_EQ(Outbox("nurt.notify").size(), 1u);
  // Redelivery: another evaluator replays the whole feed from position 0 — every event is seen again.
  {
    auto replay = Rules(kDaily, nullptr, "replay");
    const RunReport r = Run(replay.get());
    EXPECT_EQ(r.events, 2);
    EXPECT_EQ(r.totals.fired, 0);
    EXPECT_EQ(r.totals.suppressed, 1);
  }
  EXPECT_EQ(Outbox("nurt.notify").size(), 1u);
  // Restart: a new store and engines over the same file; the cursor survived, so nothing is re-read,
  // and a new event of the same entity on the same day is suppressed by the stored key.
  ASSERT_TRUE(h_.Open());
  auto rules = Rules(kDaily);
  EXPECT_EQ(Run(rules.get()).events, 0);
  Send("a", "invoice.overdue");
  const RunReport r = Run(rules.get());
  EXPECT_EQ(r.events, 1);
  EXPECT_EQ(r.totals.suppressed, 1);
  EXPECT_EQ(Outbox("nurt.notify").size(), 1u);
}

// Fails CommitRuleEvaluation `fail` times (as a crash between evaluation and commit would: nothing
// written), then lets it through.
class FailingCommitStore : public testing::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  std::atomic<int> fail{0};
  Status CommitRuleEvaluation(const store::RuleEvaluationCommit& c) override {
    if (fail > 0) {
      --fail;
      return Status::Unavailable("injected: the process died before the rule commit");
    }
    return inner_->CommitRuleEvaluation(c);
  }
};

TEST_F(RulesEngineTest, ACrashBeforeTheCommitReEvaluatesExactlyOnce) {
  FailingCommitStore failing(h_.store.get());
  failing.fail = 2;
  auto rules = Rules(kDaily, &failing);
  Start("a", Json::object());
  Send("a", "invoice.overdue");
  for (int i = 0; i < 2; ++i) {
    auto r = rules->RunOnce(500);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.status().IsUnavailable()) << r.status();
    EXPECT_EQ(Outbox("nurt.notify").size(), 0u);
  }
  EXPECT_EQ(CountersOf(rules.get(), "daily").fired, 0);  // a failed pass counts nothing
  EXPECT_EQ(Run(rules.get()).totals.fired, 1);
  EXPECT_EQ(Run(rules.get()).events, 0);
  EXPECT_EQ(Outbox("nurt.notify").size(), 1u);
  EXPECT_EQ(CountersOf(rules.get(), "daily").fired, 1);
}

std::string Throttled(const std::string& policy) {
  return R"YAML(apiVersion: nurt/v1
kind: Rules
name: r
rules:
  - id: burst
    on: invoice.overdue
    once_per: every_event
    throttle: { limit: 2, per: PT1H, policy: )YAML" +
         policy + R"YAML( }
    do:
      - notify: { channel: email, body: "overdue" }
)YAML";
}

TEST_F(RulesEngineTest, ThrottleQueueHoldsFiringsBackAndReleasesThemInOrder) {
  auto rules = Rules(Throttled("queue"));
  Start("a", Json::object());
  for (int i = 0; i < 5; ++i) Send("a", "invoice.overdue", Json{{"i", i}});
  RunReport r = Run(rules.get());
  EXPECT_EQ(r.totals.fired, 2);
  EXPECT_EQ(r.totals.queued, 3);
  EXPECT_EQ(Outbox("nurt.notify").size(), 2u);
  h_.clock.Advance(std::chrono::minutes(59));
  EXPECT_EQ(Run(rules.get()).totals.released, 0);
  // A new event meanwhile queues behind the backlog.
  Send("a", "invoice.overdue", Json{{"i", 5}});
  EXPECT_EQ(Run(rules.get()).totals.queued, 1);
  h_.clock.Advance(std::chrono::minutes(1));
  r = Run(rules.get());
  EXPECT_EQ(r.totals.released, 2);
  auto items = Outbox("nurt.notify");
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[2].payload["vars"]["event"]["payload"]["i"], 2);  // in order
  EXPECT_EQ(items[3].payload["vars"]["event"]["payload"]["i"], 3);
  // Restart: the queue and the window are in the store.
  ASSERT_TRUE(h_.Open());
  auto restarted = Rules(Throttled("queue"));
  EXPECT_EQ(Run(restarted.get()).totals.released, 0);
  h_.clock.Advance(std::chrono::hours(1));
  EXPECT_EQ(Run(restarted.get()).totals.released, 2);
  EXPECT_EQ(Outbox("nurt.notify").size(), 6u);
  const RuleCounters c = CountersOf(rules.get(), "burst");
  EXPECT_EQ(c.fired, 4);
  EXPECT_EQ(c.queued, 4);
  EXPECT_EQ(c.released, 2);
}

TEST_F(RulesEngineTest, ThrottleDropCountsWhatItDropsAndFiresAgainWhenTheWindowHasRoom) {
  auto rules = Rules(Throttled("drop"));
  Start("a", Json::object());
  for (int i = 0; i < 5; ++i) Send("a", "invoice.overdue");
  RunReport r = Run(rules.get());
  EXPECT_EQ(r.totals.fired, 2);
  EXPECT_EQ(r.totals.dropped, 3);
  EXPECT_EQ(Outbox("nurt.notify").size(), 2u);
  h_.clock.Advance(std::chrono::hours(1));
  Send("a", "invoice.overdue");
  EXPECT_EQ(Run(rules.get()).totals.fired, 1);
  EXPECT_EQ(Outbox("nurt.notify").size(), 3u);
  const RuleCounters c = CountersOf(rules.get(), "burst");
  EXPECT_EQ(c.fired, 3);
  EXPECT_EQ(c.dropped, 3);
}

TEST_F(RulesEngineTest, DocumentThrottleLimitsAllItsRulesTogether) {
  auto rules = Rules(R"YAML(apiVersion: nurt/v1
kind: Rules
name: r
throttle: { limit: 3, per: PT1H, policy: drop }
rules:
  - id: one
    on: invoice.overdue
    once_per: every_event
    do: [ { notify: { channel: email, body: "1" } } ]
  - id: two
    on: invoice.*
    once_per: every_event
    do: [ { notify: { channel: email, body: "2" } } ]
)YAML");
  Start("a", Json::object());
  Send("a", "invoice.overdue");
  Send("a", "invoice.overdue");
  const RunReport r = Run(rules.get());
  EXPECT_EQ(r.totals.fired, 3);
  EXPECT_EQ(r.totals.dropped, 1);
}

TEST_F(RulesEngineTest, AFailingWhenIsRecordedAndDoesNotBlockTheFeed) {
  auto rules = Rules(R"YAML(apiVersion: nurt/v1
kind: Rules
name: r
rules:
  - id: broken
    on: invoice.overdue
    when: "context.customer.name == 'x'"
    do: [ { notify: { channel: email, body: "never" } } ]
  - id: fine
    on: invoice.overdue
    do: [ { notify: { channel: email, body: "ok" } } ]
)YAML");
  Start("a", Json::object());
  Send("a", "invoice.overdue");
  const RunReport r = Run(rules.get());
  EXPECT_EQ(r.totals.errors, 1);
  EXPECT_EQ(r.totals.fired, 1);
  EXPECT_EQ(CountersOf(rules.get(), "broken").errors, 1);
  ASSERT_EQ(errors_.size(), 1u);
  EXPECT_EQ(errors_[0]["rule"], "broken");
  EXPECT_THAT(errors_[0]["error"].get<std::string>(), HasSubstr("rules.yaml:7:"));
  EXPECT_EQ(Run(rules.get()).events, 0);  // the feed moved on
}

TEST_F(RulesEngineTest, RuleTasksSurviveStateChangesAndCompleteThroughTheEngine) {
  auto rules = Rules(R"YAML(apiVersion: nurt/v1
kind: Rules
name: r
rules:
  - id: call
    on: invoice.overdue
    do:
      - task: { title: Call the customer, assignee: { role: finance }, due: P2D, decisions: { called: reminder.handled } }
)YAML");
  Start("a", Json::object());
  Send("a", "invoice.overdue");
  Run(rules.get());
  store::TaskFilter f;
  f.instance_id = "a";
  auto tasks = h_.engine->ListTasks(kOrg, f);
  ASSERT_TRUE(tasks.ok()) << tasks.status();
  ASSERT_EQ(tasks->size(), 1u);
  const store::TaskRecord t = (*tasks)[0];
  EXPECT_EQ(t.state, "rule:call");
  EXPECT_EQ(t.status, "open");
  EXPECT_EQ(t.assignee_role, "finance");
  ASSERT_TRUE(t.due_at.has_value());
  EXPECT_EQ(*t.due_at - t.opened_at, std::chrono::hours(48));
  // Leaving the state the instance was in does not close the rule's task.
  Send("a", "pay");
  auto still = h_.engine->GetTask(kOrg, t.id);
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->status, "open");
  engine::CompleteTaskRequest done;
  done.org_id = kOrg;
  done.task_id = t.id;
  done.decision = "called";
  done.actor = "user:ola";
  auto outcome = h_.engine->CompleteTask(done);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(Context("a")["handled"], 1);
  EXPECT_EQ(h_.engine->GetTask(kOrg, t.id)->status, "completed");
}

TEST_F(RulesEngineTest, OncePerTemplateOnAPayloadFieldAndRuleIdsUniquePerOrg) {
  auto rules = Rules(R"YAML(apiVersion: nurt/v1
kind: Rules
name: r
rules:
  - id: per-invoice
    on: invoice.overdue
    once_per: "{{rule}}:{{event.payload.invoice_id}}"
    do: [ { notify: { channel: email, body: "x" } } ]
)YAML");
  Start("a", Json::object());
  Start("b", Json::object());
  Send("a", "invoice.overdue", Json{{"invoice_id", "FV/1"}});
  Send("b", "invoice.overdue", Json{{"invoice_id", "FV/1"}});  // same key from another entity
  Send("b", "invoice.overdue", Json{{"invoice_id", "FV/2"}});
  const RunReport r = Run(rules.get());
  EXPECT_EQ(r.totals.fired, 2);
  EXPECT_EQ(r.totals.suppressed, 1);

  auto set = dsl::LoadRulesText(kDaily, "one.yaml").rules;
  auto again = dsl::LoadRulesText(kDaily, "two.yaml").rules;
  const Status st = rules->SetRules(kOrg, {set, again});
  EXPECT_TRUE(st.IsInvalidArgument()) << st;
  EXPECT_THAT(st.message(), HasSubstr("rule id 'daily' is used in one.yaml and in two.yaml"));
}

}  // namespace
}  // namespace nurt::rules
