// One test (at least) per rule of docs/dsl.md "Run-to-completion semantics".
#include "nurt/interp/interpreter.hpp"

#include <gtest/gtest.h>

#include <set>

#include "nurt/dsl/loader.hpp"

namespace nurt::interp {
namespace {

class InterpreterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto rt = lua::NewRuntime();
    ASSERT_TRUE(rt.ok()) << rt.status();
    lua_ = std::move(rt).value();
  }

  // Loads a machine from YAML text (the header lines are added here).
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

  // Starts with `context.initial` overlaid by `data` (what the engine does).
  StepResult Start(const Json& data = Json::object()) {
    Json ctx = def_->initial_context;
    for (auto it = data.begin(); it != data.end(); ++it) ctx[it.key()] = it.value();
    auto r = interp_->Start(ctx, Event{"nurt.start", Json::object(), "test"}, Opts());
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? std::move(r).value() : StepResult{};
  }

  Result<StepResult> Send(const Snapshot& s, const std::string& name, Json data = Json::object()) {
    return interp_->Step(s, Event{name, std::move(data), "tester"}, Opts());
  }

  StepResult MustSend(const Snapshot& s, const std::string& name, Json data = Json::object()) {
    auto r = Send(s, name, std::move(data));
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

TEST(EventMatchesTest, PrefixMatchingOnWholeTokens) {
  using dsl::EventMatches;
  EXPECT_TRUE(EventMatches("payment", "payment"));
  EXPECT_TRUE(EventMatches("payment", "payment.received"));
  EXPECT_TRUE(EventMatches("payment.*", "payment.received"));
  EXPECT_TRUE(EventMatches("payment.*", "payment"));
  EXPECT_FALSE(EventMatches("payment", "payments"));
  EXPECT_FALSE(EventMatches("payment.received", "payment"));
  EXPECT_TRUE(EventMatches("*", "anything.at.all"));
}

TEST_F(InterpreterTest, StartEntersInitialChainsOfCompoundStates) {
  Load(R"YAML(
initial: outer
states:
  outer:
    initial: b
    states:
      a: {}
      b:
        states:
          b1: {}
          b2: {}
)YAML");
  StepResult r = Start();
  EXPECT_EQ(Leaves(r.snapshot), Strings{"b1"});
  EXPECT_EQ(r.snapshot.ToJson(*def_)["configuration"], Json::parse(R"(["outer","b","b1"])"));
}

TEST_F(InterpreterTest, DocumentOrderFirstEnabledTransitionWins) {
  Load(R"YAML(
states:
  s:
    on:
      go:
        - target: first
          guard: "ctx.n > 0"
        - target: second
        - target: third
  first: {}
  second: {}
  third: {}
)YAML");
  StepResult start = Start(Json{{"n", 0}});
  EXPECT_EQ(Leaves(MustSend(start.snapshot, "go").snapshot), Strings{"second"});
  start.snapshot.context["n"] = 1;
  EXPECT_EQ(Leaves(MustSend(start.snapshot, "go").snapshot), Strings{"first"});
}

TEST_F(InterpreterTest, DescendantTransitionPreemptsAncestor) {
  Load(R"YAML(
states:
  parent:
    on: { go: elsewhere }
    states:
      child:
        on: { go: sibling }
      sibling: {}
  elsewhere: {}
)YAML");
  StepResult start = Start();
  EXPECT_EQ(Leaves(MustSend(start.snapshot, "go").snapshot), Strings{"sibling"});
}

TEST_F(InterpreterTest, ExitDeepestFirstThenTransitionActionsThenEntryShallowestFirst) {
  Load(R"YAML(
context: { initial: { log: [] } }
states:
  p:
    exit: [ { lua: "table.insert(ctx.log, 'exit p')" } ]
    states:
      a:
        exit: [ { lua: "table.insert(ctx.log, 'exit a')" } ]
        states:
          a1:
            exit: [ { lua: "table.insert(ctx.log, 'exit a1')" } ]
            on:
              go:
                target: b1
                actions: [ { lua: "table.insert(ctx.log, 'transition')" } ]
  q:
    entry: [ { lua: "table.insert(ctx.log, 'enter q')" } ]
    states:
      b:
        entry: [ { lua: "table.insert(ctx.log, 'enter b')" } ]
        states:
          b1:
            entry: [ { lua: "table.insert(ctx.log, 'enter b1')" } ]
)YAML");
  StepResult start = Start();
  StepResult r = MustSend(start.snapshot, "go");
  EXPECT_EQ(r.snapshot.context["log"],
            Json::parse(R"(["exit a1","exit a","exit p","transition","enter q","enter b","enter b1"])"));
  ASSERT_EQ(r.transitions.size(), 1u);
  EXPECT_EQ(r.transitions[0].from, Strings{"a1"});
  EXPECT_EQ(r.transitions[0].to, Strings{"b1"});
  EXPECT_EQ(r.transitions[0].source, "a1");
}

TEST_F(InterpreterTest, ParallelRegionsAreAllEnteredAndTransitionTogether) {
  Load(R"YAML(
context: { initial: { log: [] } }
states:
  work:
    type: parallel
    states:
      left:
        states:
          l1: { on: { tick: { target: l2, actions: [ { lua: "table.insert(ctx.log, 'left')" } ] } } }
          l2: {}
      right:
        states:
          r1: { on: { tick: { target: r2, actions: [ { lua: "table.insert(ctx.log, 'right')" } ] } } }
          r2: {}
)YAML");
  StepResult start = Start();
  EXPECT_EQ(Leaves(start.snapshot), (Strings{"l1", "r1"}));
  StepResult r = MustSend(start.snapshot, "tick");
  EXPECT_EQ(Leaves(r.snapshot), (Strings{"l2", "r2"}));
  EXPECT_EQ(r.snapshot.context["log"], Json::parse(R"(["left","right"])"));  // document order
  EXPECT_EQ(r.transitions.size(), 2u);
}

TEST_F(InterpreterTest, ConflictingTransitionsInParallelRegionsFirstInDocumentOrderWins) {
  Load(R"YAML(
states:
  work:
    type: parallel
    states:
      left: { states: { l1: { on: { stop: out_left } } } }
      right: { states: { r1: { on: { stop: out_right } } } }
  out_left: {}
  out_right: {}
)YAML");
  StepResult start = Start();
  StepResult r = MustSend(start.snapshot, "stop");
  EXPECT_EQ(Leaves(r.snapshot), Strings{"out_left"});
  EXPECT_EQ(r.transitions.size(), 1u);
}

TEST_F(InterpreterTest, FinalChildRaisesDoneStateWithOutputAndTopLevelFinalCompletes) {
  Load(R"YAML(
states:
  review:
    states:
      checking: { on: { ok: approved } }
      approved: { type: final, output: { verdict: "'yes'", by: "event.actor" } }
    on:
      done.state.review:
        target: finished
        actions: [ { assign: { verdict: "event.data.verdict", by: "event.data.by" } } ]
  finished: { type: final, output: "{ total = 3 }" }
)YAML");
  StepResult start = Start();
  StepResult r = MustSend(start.snapshot, "ok");
  EXPECT_EQ(Leaves(r.snapshot), Strings{"finished"});
  EXPECT_EQ(r.snapshot.context["verdict"], "yes");
  EXPECT_EQ(r.snapshot.context["by"], "tester");
  EXPECT_TRUE(r.snapshot.done);
  EXPECT_EQ(r.snapshot.output, Json::parse(R"({"total":3})"));
  EXPECT_TRUE(interp_->AcceptedEvents(r.snapshot).empty());
  auto again = Send(r.snapshot, "ok");
  EXPECT_TRUE(again.status().IsFailedPrecondition());
}

TEST_F(InterpreterTest, ParallelStateIsDoneWhenEveryRegionIsFinal) {
  Load(R"YAML(
states:
  both:
    type: parallel
    states:
      ksef: { states: { pending: { on: { accepted: k_done } }, k_done: { type: final } } }
      money: { states: { unpaid: { on: { paid: m_done } }, m_done: { type: final } } }
    on: { done.state.both: closed }
  closed: { type: final }
)YAML");
  StepResult s = Start();
  StepResult r1 = MustSend(s.snapshot, "accepted");
  EXPECT_EQ(Leaves(r1.snapshot), (Strings{"k_done", "unpaid"}));
  EXPECT_FALSE(r1.snapshot.done);
  StepResult r2 = MustSend(r1.snapshot, "paid");
  EXPECT_EQ(Leaves(r2.snapshot), Strings{"closed"});
  EXPECT_TRUE(r2.snapshot.done);
}

TEST_F(InterpreterTest, EventlessTransitionsChainUntilSettledAndLoopsAreStopped) {
  Load(R"YAML(
states:
  a:
    on: { bump: { actions: [ { assign: { n: "ctx.n + 1" } } ] } }
    always: { target: b, guard: "ctx.n >= 2" }
  b:
    always: [ { target: c } ]
  c:
    on: { spin: d }
  d:
    always: { target: e }
  e:
    always: { target: d }
)YAML");
  StepResult s = Start(Json{{"n", 0}});
  StepResult r1 = MustSend(s.snapshot, "bump");
  EXPECT_EQ(Leaves(r1.snapshot), Strings{"a"});  // targetless: a is not exited
  StepResult r2 = MustSend(r1.snapshot, "bump");
  EXPECT_EQ(Leaves(r2.snapshot), Strings{"c"});  // a -> b -> c in one macrostep
  ASSERT_EQ(r2.transitions.size(), 3u);
  EXPECT_EQ(r2.transitions[1].event, "");
  EXPECT_TRUE(r2.transitions[1].detail.value("eventless", false));
  auto loop = Send(r2.snapshot, "spin");
  ASSERT_FALSE(loop.ok());
  EXPECT_TRUE(loop.status().IsResourceExhausted()) << loop.status();
  EXPECT_NE(loop.status().message().find("did not settle"), std::string::npos);
}

TEST_F(InterpreterTest, InternalEventsAreProcessedBeforeTheMacrostepEndsAndAfterEventless) {
  Load(R"YAML(
context: { initial: { log: [] } }
states:
  idle:
    on:
      go:
        target: working
        actions:
          - emit: { event: second }
          - emit: { event: first_internal }
          - lua: "table.insert(ctx.log, 'go')"
  working:
    entry: [ { lua: "table.insert(ctx.log, 'enter working')" } ]
    always: { target: checked, guard: "not ctx.checked", actions: [ { assign: { checked: true } } ] }
    on:
      second: { actions: [ { lua: "table.insert(ctx.log, 'second in working')" } ] }
  checked:
    entry: [ { lua: "table.insert(ctx.log, 'enter checked')" } ]
    on:
      second: { actions: [ { lua: "table.insert(ctx.log, 'second')" } ] }
      first_internal: { actions: [ { lua: "table.insert(ctx.log, 'first_internal')" } ] }
)YAML");
  StepResult s = Start(Json{{"checked", false}});
  StepResult r = MustSend(s.snapshot, "go");
  // The eventless transition runs before the queued internal events, which run in the order raised.
  EXPECT_EQ(r.snapshot.context["log"],
            Json::parse(R"(["go","enter working","enter checked","second","first_internal"])"));
}

TEST_F(InterpreterTest, InternalTransitionDoesNotExitItsSource) {
  Load(R"YAML(
context: { initial: { log: [] } }
states:
  parent:
    entry: [ { lua: "table.insert(ctx.log, 'enter parent')" } ]
    exit: [ { lua: "table.insert(ctx.log, 'exit parent')" } ]
    on:
      inner: { target: two, type: internal }
      outer: { target: two }
    states:
      one: {}
      two: {}
)YAML");
  StepResult s = Start();
  StepResult r1 = MustSend(s.snapshot, "inner");
  EXPECT_EQ(r1.snapshot.context["log"], Json::parse(R"(["enter parent"])"));
  StepResult r2 = MustSend(s.snapshot, "outer");
  EXPECT_EQ(r2.snapshot.context["log"], Json::parse(R"(["enter parent","exit parent","enter parent"])"));
}

TEST_F(InterpreterTest, UnhandledActionErrorRejectsTheEventWithTheYamlLine) {
  Load(R"YAML(
states:
  a:
    on:
      go:
        target: b
        actions:
          - lua: "local x = event.data.missing.field"
  b: {}
)YAML");
  StepResult s = Start();
  auto r = Send(s.snapshot, "go");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status();
  EXPECT_NE(r.status().message().find("t.yaml:12"), std::string::npos) << r.status();
}

TEST_F(InterpreterTest, HandledErrorExecutionSkipsTheRestOfTheBlockAndContinues) {
  Load(R"YAML(
states:
  a:
    on:
      go:
        target: b
        actions:
          - assign: { before: 1 }
          - lua: "error('boom')"
          - assign: { after: 1 }
  b:
    on:
      error.execution:
        target: failed
        actions: [ { assign: { reason: "event.data.message" } } ]
  failed: {}
)YAML");
  StepResult s = Start();
  StepResult r = MustSend(s.snapshot, "go");
  EXPECT_EQ(Leaves(r.snapshot), Strings{"failed"});
  EXPECT_EQ(r.snapshot.context["before"], 1);
  EXPECT_FALSE(r.snapshot.context.contains("after"));
  EXPECT_NE(r.snapshot.context["reason"].get<std::string>().find("boom"), std::string::npos);
}

TEST_F(InterpreterTest, RefusedEventListsAcceptedEventsAndGuardRefusalSaysSo) {
  Load(R"YAML(
states:
  new:
    on:
      qualify: { target: done, guard: "event.data.budget > 100" }
      drop: done
  done: { type: final }
)YAML");
  StepResult s = Start();
  auto wrong = Send(s.snapshot, "pay");
  ASSERT_TRUE(wrong.status().IsFailedPrecondition());
  EXPECT_NE(wrong.status().message().find("it accepts: drop, qualify"), std::string::npos)
      << wrong.status();
  auto guarded = Send(s.snapshot, "qualify", Json{{"budget", 5}});
  ASSERT_TRUE(guarded.status().IsFailedPrecondition());
  EXPECT_NE(guarded.status().message().find("no guard"), std::string::npos) << guarded.status();
  EXPECT_EQ(interp_->AcceptedEvents(s.snapshot), (Strings{"drop", "qualify"}));
}

TEST_F(InterpreterTest, SendAndSpawnBecomeEffectsWithStableKeys) {
  Load(R"YAML(
states:
  a:
    on:
      go:
        target: b
        actions:
          - emit: { event: hello, to: "ctx.peer", data: { n: "ctx.n + 1", fixed: 3 } }
          - spawn: { machine: invoice, data: { amount: 100 } }
          - spawn: { machine: invoice, key: "'advance-' .. instance_id()" }
          - lua: "send(ctx.peer, 'ping', { x = 1 }); spawn('invoice', { amount = 5 })"
  b: {}
)YAML");
  StepResult s = Start(Json{{"peer", "i-2"}, {"n", 1}});
  StepResult r = MustSend(s.snapshot, "go");
  ASSERT_EQ(r.effects.size(), 5u);
  EXPECT_EQ(r.effects[0].kind, Effect::Kind::kSend);
  EXPECT_EQ(r.effects[0].to, "i-2");
  EXPECT_EQ(r.effects[0].data, Json::parse(R"({"n":2,"fixed":3})"));
  EXPECT_EQ(r.effects[1].kind, Effect::Kind::kSpawn);
  EXPECT_EQ(r.effects[1].name, "invoice");
  EXPECT_EQ(r.effects[2].key, "advance-i-1");
  EXPECT_EQ(r.effects[3].name, "ping");
  EXPECT_EQ(r.effects[4].data, Json::parse(R"({"amount":5})"));
  // Keys are derived from the instance, the event's sequence and the effect's place: a replay of the
  // same event yields the same keys, so delivery stays exactly-once.
  sequence_ -= 1;
  StepResult again = MustSend(s.snapshot, "go");
  for (std::size_t i = 0; i < r.effects.size(); ++i) EXPECT_EQ(r.effects[i].key, again.effects[i].key);
  std::set<std::string> keys;
  for (const auto& e : r.effects) keys.insert(e.key);
  EXPECT_EQ(keys.size(), r.effects.size());
}

TEST_F(InterpreterTest, SnapshotRoundTripsThroughJsonAndStepsAreDeterministic) {
  Load(R"YAML(
states:
  a:
    on: { go: { target: b, actions: [ { assign: { at: "iso(now())", items: "array()" } } ] } }
  b: {}
)YAML");
  StepResult s = Start();
  StepResult r1 = MustSend(s.snapshot, "go");
  sequence_ -= 1;
  StepResult r2 = MustSend(s.snapshot, "go");
  EXPECT_EQ(r1.snapshot.ToJson(*def_), r2.snapshot.ToJson(*def_));
  EXPECT_EQ(r1.snapshot.context["at"], "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(r1.snapshot.context["items"], Json::array());
  auto back = Snapshot::FromJson(*def_, r1.snapshot.ToJson(*def_));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->ToJson(*def_), r1.snapshot.ToJson(*def_));
  auto broken = Snapshot::FromJson(*def_, Json::parse(R"({"configuration":["nope"]})"));
  EXPECT_EQ(broken.status().code(), StatusCode::kDataLoss);
}

TEST_F(InterpreterTest, InPredicateSeesTheActiveConfiguration) {
  Load(R"YAML(
states:
  both:
    type: parallel
    states:
      r1: { states: { x: { on: { go: { target: y, guard: "In('q')" } } }, y: {} } }
      r2: { states: { p: { on: { flip: q } }, q: {} } }
)YAML");
  StepResult s = Start();
  EXPECT_TRUE(Send(s.snapshot, "go").status().IsFailedPrecondition());
  StepResult flipped = MustSend(s.snapshot, "flip");
  EXPECT_EQ(Leaves(MustSend(flipped.snapshot, "go").snapshot), (Strings{"y", "q"}));
}

// --- The DSL parts SCXML needs (docs/dsl.md "SCXML executable content", "History states") ---------
TEST_F(InterpreterTest, SendBecomesAnEffectToThisInstanceWithDelayAndId) {
  Load(R"Y(
states:
  a:
    entry:
      - send: { event: ping, data: { n: 1 }, delay: "'1.5s'", id: "'p1'" }
      - send: { event: now, id_location: sent_id }
      - send: { event: iso, delay: "'PT2M'" }
      - send: { event: millis, delay: 250 }
)Y");
  StepResult r = Start();
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

TEST_F(InterpreterTest, DelayedSendToAnotherInstanceIsAnExecutionError) {
  Load(R"Y(
states:
  a:
    entry:
      - send: { event: ping, to: "'other'", delay: "'1s'" }
    on:
      error.execution: { target: b, actions: [ { assign: { why: "event.data.message" } } ] }
  b: {}
)Y");
  StepResult r = Start();
  EXPECT_EQ(Leaves(r.snapshot), Strings{"b"});
  EXPECT_NE(r.snapshot.context["why"].get<std::string>().find("delayed send goes to this instance only"),
            std::string::npos);
  EXPECT_TRUE(r.effects.empty());
}

TEST_F(InterpreterTest, SendToInternalRaisesAndScxmlTargetNamesAnInstance) {
  Load(R"Y(
states:
  a:
    entry:
      - send: { event: inside, to: "'#_internal'" }
      - send: { event: out, to: "'#_scxml_i-9'" }
    on: { inside: b }
  b: {}
)Y");
  StepResult r = Start();
  EXPECT_EQ(Leaves(r.snapshot), Strings{"b"});
  ASSERT_EQ(r.effects.size(), 1u);
  EXPECT_EQ(r.effects[0].to, "i-9");
}

TEST_F(InterpreterTest, CancelIsAnEffectNamingTheSend) {
  Load(R"Y(
states:
  a:
    entry:
      - cancel: { id: "'p' .. 1" }
)Y");
  StepResult r = Start();
  ASSERT_EQ(r.effects.size(), 1u);
  EXPECT_EQ(r.effects[0].kind, Effect::Kind::kCancel);
  EXPECT_EQ(r.effects[0].send_id, "p1");
}

TEST_F(InterpreterTest, LogIfAndForeach) {
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
  StepResult r = Start();
  EXPECT_EQ(r.snapshot.context["sum"], 140);  // 10*1 + 20*2 + 30*3
  EXPECT_EQ(r.snapshot.context["size"], "medium");
  EXPECT_EQ(r.log, Strings{"sum: 140"});
}

TEST_F(InterpreterTest, ABlockKeepsItsErrorToItself) {
  Load(R"Y(
states:
  a:
    entry:
      - block: [ { lua: "error('first')" }, { assign: { skipped: true } } ]
      - block: [ { assign: { second: true } } ]
    on:
      error.execution: { actions: [ { assign: { errors: "(ctx.errors or 0) + 1" } } ] }
)Y");
  StepResult r = Start();
  EXPECT_FALSE(r.snapshot.context.contains("skipped"));
  EXPECT_EQ(r.snapshot.context["second"], true) << "the second block runs after the first one failed";
  EXPECT_EQ(r.snapshot.context["errors"], 1);
}

TEST_F(InterpreterTest, MachineDataIsComputedInOrderBeforeTheFirstEntry) {
  Load(R"Y(
data:
  a: 2
  b: "ctx.a * 10"
init:
  - lua: "ctx.d = ctx.b + 5"
states:
  s:
    entry: [ { assign: { c: "ctx.d + 1" } } ]
)Y");
  StepResult r = Start();
  EXPECT_EQ(r.snapshot.context, (Json{{"a", 2}, {"b", 20}, {"d", 25}, {"c", 26}}))
      << "data, then init, then the first entry";
}

TEST_F(InterpreterTest, UnhandledErrorsRejectByDefaultAndAreDroppedWithErrorsIgnore) {
  const std::string states = R"Y(
states:
  s:
    entry: [ { lua: "error('boom')" }, { assign: { never: true } } ]
)Y";
  Load(states);
  auto strict = interp_->Start(def_->initial_context, Event{"nurt.start", Json::object(), "test"}, Opts());
  ASSERT_FALSE(strict.ok());
  EXPECT_NE(strict.status().message().find("boom"), std::string::npos);
  Load("errors: ignore\n" + states);
  StepResult lenient = Start();
  EXPECT_EQ(Leaves(lenient.snapshot), Strings{"s"});
  EXPECT_FALSE(lenient.snapshot.context.contains("never"));
}

TEST_F(InterpreterTest, EventFieldsTypeSendidOriginAreVisibleInLua) {
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
  StepResult started = Start();
  EXPECT_EQ(started.snapshot.context["inner_type"], "internal");
  Event e;
  e.name = "outer";
  e.data = nullptr;
  e.send_id = "x1";
  e.origin = "#_scxml_i-1";
  auto stepped = interp_->Step(started.snapshot, e, Opts());
  ASSERT_TRUE(stepped.ok()) << stepped.status();
  const StepResult& r = *stepped;
  EXPECT_EQ(r.snapshot.context["t"], "external");
  EXPECT_EQ(r.snapshot.context["sid"], "x1");
  EXPECT_EQ(r.snapshot.context["origin"], "#_scxml_i-1");
  EXPECT_EQ(r.snapshot.context["no_data"], true);
}

// SCXML 3.10: history restores the configuration its parent was left in.
TEST_F(InterpreterTest, ShallowAndDeepHistory) {
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
  StepResult s = Start();
  s = MustSend(s.snapshot, "next");
  s = MustSend(s.snapshot, "next");
  EXPECT_EQ(Leaves(s.snapshot), Strings{"b2"});
  s = MustSend(s.snapshot, "out");
  EXPECT_EQ(Leaves(s.snapshot), Strings{"q"});
  EXPECT_EQ(s.snapshot.history["hd"], (Json{"b2"}));
  EXPECT_EQ(s.snapshot.history["h"], (Json{"b"}));
  StepResult shallow = MustSend(s.snapshot, "shallow");
  EXPECT_EQ(Leaves(shallow.snapshot), Strings{"b1"}) << "shallow: b again, at its initial child";
  StepResult deep = MustSend(s.snapshot, "deep");
  EXPECT_EQ(Leaves(deep.snapshot), Strings{"b2"}) << "deep: exactly where it was";
  EXPECT_FALSE(deep.snapshot.context.contains("defaulted")) << "stored history: no default actions";
  // The snapshot keeps the history across a store round trip.
  auto round = Snapshot::FromJson(*def_, s.snapshot.ToJson(*def_));
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->history, s.snapshot.history);
}

TEST_F(InterpreterTest, HistoryWithoutStoredValueTakesItsDefaultTransitionAndActions) {
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
  StepResult s = Start();
  s = MustSend(s.snapshot, "go");
  EXPECT_EQ(Leaves(s.snapshot), Strings{"b"});
  EXPECT_EQ(s.snapshot.context["defaulted"], true);
}

// `transitions:` keeps the written order across events; `on:` groups them by event.
TEST_F(InterpreterTest, TransitionListKeepsDocumentOrderAcrossEvents) {
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
  StepResult s = Start();
  StepResult r = MustSend(s.snapshot, "entering.b");
  EXPECT_EQ(Leaves(r.snapshot), Strings{"three"}) << "the third transition is written before the fourth";
}

}  // namespace
}  // namespace nurt::interp
