// The DSL parts SCXML needs (docs/dsl.md "SCXML executable content", "History states", "Machine data
// and errors"), one test per rule, run through the real loader, interpreter and Lua runtime.
#include <gtest/gtest.h>

#include "nurt/dsl/loader.hpp"
#include "nurt/interp/interpreter.hpp"

namespace nurt::interp {
namespace {

class ScxmlActionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto rt = lua::NewRuntime();
    ASSERT_TRUE(rt.ok()) << rt.status();
    lua_ = std::move(rt).value();
  }

  void Load(const std::string& body) {
    const std::string text = "apiVersion: nurt/v1\nkind: Machine\nname: t\nversion: 1\n" + body;
    dsl::LoadResult r = dsl::LoadMachineText(text, "t.yaml");
    std::string problems;
    for (const auto& d : r.diagnostics) problems += d.ToString() + "\n";
    ASSERT_NE(r.definition, nullptr) << problems;
    def_ = r.definition;
    interp_ = std::make_unique<Interpreter>(def_, lua_.get());
  }

  StepOptions Opts() {
    StepOptions o;
    o.instance_id = "i-1";
    o.sequence = ++sequence_;
    o.now = FromUnixMillis(1'700'000'000'000);
    return o;
  }

  Result<StepResult> Start() {
    return interp_->Start(def_->initial_context, Event{"nurt.start", Json::object(), "test"}, Opts());
  }

  StepResult MustStart() {
    auto r = Start();
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? std::move(r).value() : StepResult{};
  }

  StepResult MustSend(const Snapshot& s, Event e) {
    auto r = interp_->Step(s, std::move(e), Opts());
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? std::move(r).value() : StepResult{};
  }

  std::vector<std::string> Leaves(const Snapshot& s) { return s.ActiveLeaves(*def_); }

  std::unique_ptr<lua::Runtime> lua_;
  std::shared_ptr<const dsl::Definition> def_;
  std::unique_ptr<Interpreter> interp_;
  std::int64_t sequence_ = 0;
};

using Strings = std::vector<std::string>;

TEST_F(ScxmlActionsTest, SendBecomesAnEffectToThisInstanceWithDelayAndId) {
  Load(R"Y(
states:
  a:
    entry:
      - send: { event: ping, data: { n: 1 }, delay: "'1.5s'", id: "'p1'" }
      - send: { event: now, id_location: sent_id }
      - send: { event: iso, delay: "'PT2M'" }
      - send: { event: millis, delay: 250 }
)Y");
  StepResult r = MustStart();
  ASSERT_EQ(r.effects.size(), 4u);
  EXPECT_EQ(r.effects[0].kind, Effect::Kind::kSend);
  EXPECT_EQ(r.effects[0].name, "ping");
  EXPECT_EQ(r.effects[0].to, "i-1") << "no `to`: the instance's own external queue";
  EXPECT_EQ(r.effects[0].delay_ms, 1500);
  EXPECT_EQ(r.effects[0].send_id, "p1");
  EXPECT_EQ(r.effects[0].data, (Json{{"n", 1}}));
  EXPECT_EQ(r.effects[1].delay_ms, 0);
  EXPECT_FALSE(r.effects[1].send_id.empty()) << "id_location asks for a generated id";
  EXPECT_EQ(r.snapshot.context["sent_id"], r.effects[1].send_id);
  EXPECT_EQ(r.effects[2].delay_ms, 120000);
  EXPECT_EQ(r.effects[3].delay_ms, 250);
  EXPECT_TRUE(r.effects[3].send_id.empty()) << "no id given: SCXML's sendid is blank";
}

TEST_F(ScxmlActionsTest, DelayedSendToAnotherInstanceIsAnExecutionError) {
  Load(R"Y(
states:
  a:
    entry:
      - send: { event: ping, to: "'other'", delay: "'1s'" }
    on:
      error.execution: { target: b, actions: [ { assign: { why: "event.data.message" } } ] }
  b: {}
)Y");
  StepResult r = MustStart();
  EXPECT_EQ(Leaves(r.snapshot), Strings{"b"});
  EXPECT_NE(r.snapshot.context["why"].get<std::string>().find("delayed send goes to this instance only"),
            std::string::npos);
  EXPECT_TRUE(r.effects.empty());
}

TEST_F(ScxmlActionsTest, SendToInternalRaisesAndScxmlTargetNamesAnInstance) {
  Load(R"Y(
states:
  a:
    entry:
      - send: { event: inside, to: "'#_internal'" }
      - send: { event: out, to: "'#_scxml_i-9'" }
    on: { inside: b }
  b: {}
)Y");
  StepResult r = MustStart();
  EXPECT_EQ(Leaves(r.snapshot), Strings{"b"});
  ASSERT_EQ(r.effects.size(), 1u);
  EXPECT_EQ(r.effects[0].to, "i-9");
}

TEST_F(ScxmlActionsTest, CancelIsAnEffectNamingTheSend) {
  Load(R"Y(
states:
  a:
    entry:
      - cancel: { id: "'p' .. 1" }
)Y");
  StepResult r = MustStart();
  ASSERT_EQ(r.effects.size(), 1u);
  EXPECT_EQ(r.effects[0].kind, Effect::Kind::kCancel);
  EXPECT_EQ(r.effects[0].send_id, "p1");
}

TEST_F(ScxmlActionsTest, LogIfAndForeach) {
  Load(R"Y(
data:
  items: "{10, 20, 30}"
  sum: 0
states:
  a:
    entry:
      - foreach:
          array: "ctx.items"
          item: it
          index: i
          do: [ { lua: "ctx.sum = ctx.sum + ctx.it * ctx.i" } ]
      - if:
          cond: "ctx.sum > 1000"
          then: [ { assign: { size: "'big'" } } ]
          else_if:
            - { cond: "ctx.sum > 100", then: [ { assign: { size: "'medium'" } } ] }
          else: [ { assign: { size: "'small'" } } ]
      - log: { label: sum, value: "ctx.sum" }
)Y");
  StepResult r = MustStart();
  EXPECT_EQ(r.snapshot.context["sum"], 140);  // 10*1 + 20*2 + 30*3
  EXPECT_EQ(r.snapshot.context["size"], "medium");
  EXPECT_EQ(r.log, Strings{"sum: 140"});
}

TEST_F(ScxmlActionsTest, ABlockKeepsItsErrorToItself) {
  Load(R"Y(
states:
  a:
    entry:
      - block: [ { lua: "error('first')" }, { assign: { skipped: true } } ]
      - block: [ { assign: { second: true } } ]
    on:
      error.execution: { actions: [ { assign: { errors: "(ctx.errors or 0) + 1" } } ] }
)Y");
  StepResult r = MustStart();
  EXPECT_FALSE(r.snapshot.context.contains("skipped"));
  EXPECT_EQ(r.snapshot.context["second"], true) << "the second block runs after the first one failed";
  EXPECT_EQ(r.snapshot.context["errors"], 1);
}

TEST_F(ScxmlActionsTest, MachineDataIsComputedInOrderBeforeTheFirstEntry) {
  Load(R"Y(
data:
  a: 2
  b: "ctx.a * 10"
states:
  s:
    entry: [ { assign: { c: "ctx.b + 1" } } ]
)Y");
  StepResult r = MustStart();
  EXPECT_EQ(r.snapshot.context, (Json{{"a", 2}, {"b", 20}, {"c", 21}}));
}

TEST_F(ScxmlActionsTest, UnhandledErrorsRejectByDefaultAndAreDroppedWithErrorsIgnore) {
  const std::string states = R"Y(
states:
  s:
    entry: [ { lua: "error('boom')" }, { assign: { never: true } } ]
)Y";
  Load(states);
  auto strict = Start();
  ASSERT_FALSE(strict.ok());
  EXPECT_NE(strict.status().message().find("boom"), std::string::npos);
  Load("errors: ignore\n" + states);
  StepResult lenient = MustStart();
  EXPECT_EQ(Leaves(lenient.snapshot), Strings{"s"});
  EXPECT_FALSE(lenient.snapshot.context.contains("never"));
}

TEST_F(ScxmlActionsTest, EventFieldsTypeSendidOriginAreVisibleInLua) {
  Load(R"Y(
states:
  s:
    entry: [ { emit: { event: inner } } ]
    on:
      inner: { actions: [ { assign: { inner_type: "event.type" } } ] }
      outer:
        actions:
          - assign: { t: "event.type", sid: "event.sendid", origin: "event.origin" }
          - lua: "ctx.no_data = (event.data == nil)"
)Y");
  StepResult started = MustStart();
  EXPECT_EQ(started.snapshot.context["inner_type"], "internal");
  Event e;
  e.name = "outer";
  e.data = nullptr;
  e.send_id = "x1";
  e.origin = "#_scxml_i-1";
  StepResult r = MustSend(started.snapshot, e);
  EXPECT_EQ(r.snapshot.context["t"], "external");
  EXPECT_EQ(r.snapshot.context["sid"], "x1");
  EXPECT_EQ(r.snapshot.context["origin"], "#_scxml_i-1");
  EXPECT_EQ(r.snapshot.context["no_data"], true);
}

// SCXML 3.10: history restores the configuration its parent was left in.
TEST_F(ScxmlActionsTest, ShallowAndDeepHistory) {
  Load(R"Y(
states:
  p:
    initial: a
    states:
      h: { type: history, target: a }
      hd: { type: history, history: deep, target: a, actions: [ { assign: { defaulted: true } } ] }
      a: { on: { next: b } }
      b:
        initial: b1
        states:
          b1: { on: { next: b2 } }
          b2: {}
    on:
      out: q
  q:
    on:
      shallow: h
      deep: hd
)Y");
  StepResult s = MustStart();
  s = MustSend(s.snapshot, Event{"next"});
  s = MustSend(s.snapshot, Event{"next"});
  EXPECT_EQ(Leaves(s.snapshot), Strings{"b2"});
  s = MustSend(s.snapshot, Event{"out"});
  EXPECT_EQ(Leaves(s.snapshot), Strings{"q"});
  EXPECT_EQ(s.snapshot.history["hd"], (Json{"b2"}));
  EXPECT_EQ(s.snapshot.history["h"], (Json{"b"}));
  StepResult shallow = MustSend(s.snapshot, Event{"shallow"});
  EXPECT_EQ(Leaves(shallow.snapshot), Strings{"b1"}) << "shallow: b again, at its initial child";
  StepResult deep = MustSend(s.snapshot, Event{"deep"});
  EXPECT_EQ(Leaves(deep.snapshot), Strings{"b2"}) << "deep: exactly where it was";
  EXPECT_FALSE(deep.snapshot.context.contains("defaulted")) << "stored history: no default actions";
  // The snapshot keeps the history across a store round trip.
  auto round = Snapshot::FromJson(*def_, s.snapshot.ToJson(*def_));
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->history, s.snapshot.history);
}

TEST_F(ScxmlActionsTest, HistoryWithoutStoredValueTakesItsDefaultTransitionAndActions) {
  Load(R"Y(
states:
  q:
    on: { go: hd }
  p:
    states:
      hd: { type: history, history: deep, target: b, actions: [ { assign: { defaulted: true } } ] }
      a: {}
      b: {}
)Y");
  StepResult s = MustStart();
  s = MustSend(s.snapshot, Event{"go"});
  EXPECT_EQ(Leaves(s.snapshot), Strings{"b"});
  EXPECT_EQ(s.snapshot.context["defaulted"], true);
}

// `transitions:` keeps the written order across events; `on:` groups them by event.
TEST_F(ScxmlActionsTest, TransitionListKeepsDocumentOrderAcrossEvents) {
  Load(R"Y(
data: { n: 3 }
states:
  s:
    transitions:
      - { event: entering.a, guard: "ctx.n == 1", target: one }
      - { event: entering, guard: "ctx.n == 2", target: two }
      - { event: entering.b, guard: "ctx.n == 3", target: three }
      - { event: entering, guard: "ctx.n == 3", target: wrong }
      - { guard: "ctx.n == 0", target: one }
  one: {}
  two: {}
  three: {}
  wrong: {}
)Y");
  StepResult s = MustStart();
  StepResult r = MustSend(s.snapshot, Event{"entering.b"});
  EXPECT_EQ(Leaves(r.snapshot), Strings{"three"}) << "the third transition is written before the fourth";
}

TEST(ScxmlLoaderTest, ReportsBadSendHistoryAndErrorsValues) {
  const std::string text = R"Y(apiVersion: nurt/v1
kind: Machine
name: t
version: 1
errors: sometimes
states:
  p:
    states:
      h: { type: history, history: medium }
      a:
        entry:
          - send: { data: 1 }
          - cancel: {}
          - foreach: { array: "ctx.x" }
)Y";
  dsl::LoadResult r = dsl::LoadMachineText(text, "t.yaml");
  EXPECT_EQ(r.definition, nullptr);
  std::string all;
  for (const auto& d : r.diagnostics) all += d.ToString() + "\n";
  EXPECT_NE(all.find("t.yaml:5:9: error: errors 'sometimes' is not known"), std::string::npos) << all;
  EXPECT_NE(all.find("history depth 'medium'"), std::string::npos) << all;
  EXPECT_NE(all.find("history state 'h' has no 'target'"), std::string::npos) << all;
  EXPECT_NE(all.find("'send' has no 'event'"), std::string::npos) << all;
  EXPECT_NE(all.find("'cancel' has no 'id'"), std::string::npos) << all;
  EXPECT_NE(all.find("'foreach' has no 'item'"), std::string::npos) << all;
  EXPECT_NE(all.find("event name 'bad event' is not valid"), std::string::npos) << all;
}

}  // namespace
}  // namespace nurt::interp
