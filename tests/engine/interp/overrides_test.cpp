// Interpreter::Force and Interpreter::Skip: the pure steps behind the admin overrides (docs/dsl.md
// "Admin overrides"). The engine-level behaviour (lifecycle, log, replay) is in
// tests/engine/engine/admin_ops_test.cpp.
#include <gtest/gtest.h>

#include "nurt/dsl/loader.hpp"
#include "nurt/interp/interpreter.hpp"

namespace nurt::interp {
namespace {

using Strings = std::vector<std::string>;

const char* kMachine = R"YAML(apiVersion: nurt/v1
kind: Machine
name: t
version: 1
context:
  initial: { trail: [] }
states:
  a:
    exit: [ { lua: "table.insert(ctx.trail, 'exit a')" } ]
    on:
      go:
        target: b
        guard: "false"
        actions: [ { lua: "table.insert(ctx.trail, 'go action')" } ]
      note:
        actions: [ { lua: "table.insert(ctx.trail, 'note')" } ]
      error.execution: a
  b:
    entry: [ { lua: "table.insert(ctx.trail, 'enter b')" } ]
    always:
      target: c
      guard: "ctx.hop == true"
    on:
      x: a
      y: c
  c:
    entry: [ { lua: "if ctx.explode then error('entry of c exploded') end" } ]
  d: { type: final }
)YAML";

class OverridesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto rt = lua::NewRuntime();
    ASSERT_TRUE(rt.ok()) << rt.status();
    lua_ = std::move(rt).value();
    dsl::LoadResult r = dsl::LoadMachineText(kMachine, "t.yaml");
    ASSERT_NE(r.definition, nullptr);
    def_ = r.definition;
    interp_ = std::make_unique<Interpreter>(def_, lua_.get());
    StepOptions o = Opts();
    auto started =
        interp_->Start(def_->initial_context, Event{"nurt.start", Json::object(), "t"}, o);
    ASSERT_TRUE(started.ok()) << started.status();
    start_ = started->snapshot;
  }

  StepOptions Opts() {
    StepOptions o;
    o.instance_id = "i-1";
    o.sequence = 1;
    return o;
  }

  Event Admin(const std::string& verb) {
    return Event{"nurt.admin." + verb, Json::object(), "admin"};
  }

  std::unique_ptr<lua::Runtime> lua_;
  std::shared_ptr<const dsl::Definition> def_;
  std::unique_ptr<Interpreter> interp_;
  Snapshot start_;
};

TEST_F(OverridesTest, SkipIgnoresTheGuardAndActionsAndTargetlessAndErrorTransitions) {
  auto r = interp_->Skip(start_, Admin("skip"), Opts());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->snapshot.ActiveLeaves(*def_), (Strings{"b"}));
  EXPECT_EQ(r->snapshot.context["trail"], Json::array({"exit a", "enter b"}));
  ASSERT_EQ(r->transitions.size(), 1u);
  EXPECT_EQ(r->transitions[0].source, "a");
  EXPECT_EQ(r->transitions[0].event, "nurt.admin.skip");
  EXPECT_EQ(r->transitions[0].detail["override"], "skip");
}

TEST_F(OverridesTest, SkipWithTwoDestinationsListsThem) {
  auto b = interp_->Force(start_, "b", Admin("force"), Opts());
  ASSERT_TRUE(b.ok()) << b.status();
  auto r = interp_->Skip(b->snapshot, Admin("skip"), Opts());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsFailedPrecondition());
  EXPECT_EQ(r.status().message(),
            "cannot skip state 'b': its transitions lead to 2 different states (a, c); use force "
            "with one "
            "of them");
}

TEST_F(OverridesTest, ForceClearsAFailureAndRunsEventlessTransitionsAfterwards) {
  Snapshot failed = start_;
  failed.failure = Json{{"event", "pay"}};
  failed.context["hop"] = true;
  auto r = interp_->Force(failed, "b", Admin("force"), Opts());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->snapshot.failure.is_null());
  EXPECT_EQ(r->snapshot.ActiveLeaves(*def_), (Strings{"c"}));  // b's guarded `always` held
  ASSERT_EQ(r->transitions.size(), 2u);
  EXPECT_EQ(r->transitions[0].detail["override"], "force");
  EXPECT_EQ(r->transitions[1].detail["eventless"], true);
  EXPECT_FALSE(r->snapshot.ToJson(*def_).contains("failure"));
  EXPECT_TRUE(failed.ToJson(*def_).contains("failure"));
  auto round = Snapshot::FromJson(*def_, failed.ToJson(*def_));
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->failure, failed.failure);
}

TEST_F(OverridesTest, ForceIntoAFinalStateIsDoneAndAFailingEntryActionRefusesTheForce) {
  auto done = interp_->Force(start_, "d", Admin("force"), Opts());
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_TRUE(done->snapshot.done);

  Snapshot s = start_;
  s.context["explode"] = true;
  auto r = interp_->Force(s, "c", Admin("force"), Opts());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("entry of c exploded"), std::string::npos) << r.status();
}

TEST_F(OverridesTest, ForceNamesTheStatesWhenTheIdIsUnknown) {
  auto r = interp_->Force(start_, "B", Admin("force"), Opts());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_EQ(r.status().message(),
            "machine 't' version 1 has no state 'B'; did you mean 'b'? (its states: a, b, c, d)");
}

}  // namespace
}  // namespace nurt::interp
