// The Definition the loader builds (indices, document order, defaults, values, Lua locations) and the
// loader's behaviour around files, scripts and diagnostics.

#include "nurt/dsl/loader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "nurt/core/suggest.hpp"
#include "nurt/dsl/graph.hpp"
#include "dsl_test_util.hpp"
#include "nurt/lua/runtime.hpp"
#include "temp_dir.hpp"

namespace nurt::dsl {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::FixturesDir;

// A machine with one state `s` whose YAML is `state_body`, plus a final state `done`.
std::string Machine(const std::string& states) {
  return "apiVersion: nurt/v1\nkind: Machine\nname: t\nversion: 1\nstates:\n" + states;
}

std::vector<std::string> Diagnostics(const LoadResult& r) { return testing::Render(r.diagnostics, ""); }

std::vector<std::string> Ids(const Definition& d) {
  std::vector<std::string> ids;
  for (const auto& s : d.states) ids.push_back(s.id);
  return ids;
}

const ActionSpec& OnlyAction(const std::vector<ActionSpec>& actions) {
  EXPECT_EQ(actions.size(), 1u);
  return actions.front();
}

class OrderFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = FixturesDir() + "/valid/order.yaml";
    result_ = LoadMachineFile(path_);
    ASSERT_TRUE(result_.diagnostics.empty()) << Diagnostics(result_).front();
    ASSERT_NE(result_.definition, nullptr);
  }
  const Definition& d() const { return *result_.definition; }
  const StateSpec& S(const std::string& id) const {
    const StateIndex i = d().Find(id);
    EXPECT_NE(i, kNoState) << id;
    return d().state(i);
  }
  StateIndex I(const std::string& id) const { return d().Find(id); }

  std::string path_;
  LoadResult result_;
};

TEST_F(OrderFixture, HeaderAndContext) {
  EXPECT_EQ(d().api_version, "nurt/v1");
  EXPECT_EQ(d().name, "order");
  EXPECT_EQ(d().version, 3);
  EXPECT_EQ(d().description, "An order, from placement to delivery or cancellation.");
  EXPECT_EQ(d().initial_context, Json::parse(R"({"lines":[],"paid":0,"total":0,"customer":{"name":""}})"));
  EXPECT_EQ(d().initial_context.dump(), R"({"lines":[],"paid":0,"total":0,"customer":{"name":""}})")
      << "key order is kept";
  ASSERT_TRUE(d().context_schema.has_value());
  EXPECT_EQ((*d().context_schema)["required"], Json::array({"customer_id"}));
  EXPECT_EQ(d().source_file, path_);
  EXPECT_EQ(d().source_text, testing::ReadText(path_));
}

TEST_F(OrderFixture, StatesAreFlatInPreOrderWithParentsDepthsAndKinds) {
  EXPECT_THAT(Ids(d()), ElementsAre("", "placed", "processing", "payment", "awaiting_payment", "paid", "shipping",
                                    "packing", "shipped", "in_transit", "arrived", "shipping.done", "delivered",
                                    "cancelled"));
  const StateSpec& root = d().state(kRootState);
  EXPECT_EQ(root.kind, StateKind::kCompound);
  EXPECT_EQ(root.parent, kNoState);
  EXPECT_EQ(root.depth, 0);
  EXPECT_EQ(root.initial, I("placed"));
  EXPECT_THAT(root.children, ElementsAre(I("placed"), I("processing"), I("delivered"), I("cancelled")));

  EXPECT_EQ(S("placed").kind, StateKind::kAtomic);
  EXPECT_EQ(S("processing").kind, StateKind::kParallel);
  EXPECT_EQ(S("processing").initial, kNoState);
  EXPECT_THAT(S("processing").children, ElementsAre(I("payment"), I("shipping")));
  EXPECT_EQ(S("payment").kind, StateKind::kCompound) << "compound by default when `states` is given";
  EXPECT_EQ(S("payment").initial, I("awaiting_payment")) << "explicit initial";
  EXPECT_EQ(S("shipping").initial, I("packing")) << "default initial: the first child";
  EXPECT_EQ(S("shipped").initial, I("in_transit"));
  EXPECT_EQ(S("paid").kind, StateKind::kFinal);
  EXPECT_EQ(S("arrived").kind, StateKind::kFinal);
  EXPECT_EQ(S("placed").initial, kNoState);

  for (std::size_t i = 1; i < d().states.size(); ++i) {
    const StateSpec& s = d().states[i];
    ASSERT_NE(s.parent, kNoState) << s.id;
    EXPECT_EQ(s.depth, d().state(s.parent).depth + 1) << s.id;
    const auto& siblings = d().state(s.parent).children;
    EXPECT_NE(std::find(siblings.begin(), siblings.end(), static_cast<StateIndex>(i)), siblings.end()) << s.id;
    EXPECT_LT(s.parent, static_cast<StateIndex>(i)) << "pre-order: a parent comes before its children";
  }
  EXPECT_EQ(S("in_transit").depth, 4);
  EXPECT_EQ(S("in_transit").parent, I("shipped"));
  EXPECT_EQ(S("processing").description, "Payment and shipping run side by side.");

  EXPECT_EQ(S("placed").location.line, 31);
  EXPECT_EQ(S("placed").location.column, 3);
  EXPECT_EQ(S("shipping.done").location.line, 91);
  EXPECT_EQ(S("shipping.done").location.file, path_);
}

TEST_F(OrderFixture, TransitionsInDocumentOrder) {
  const auto& placed = S("placed").transitions;
  ASSERT_EQ(placed.size(), 4u);
  EXPECT_EQ(placed[0].event, "line.added");
  EXPECT_TRUE(placed[0].targets.empty()) << "targetless";
  EXPECT_EQ(placed[1].event, "confirm");
  EXPECT_THAT(placed[1].targets, ElementsAre(I("processing")));
  EXPECT_THAT(placed[1].target_ids, ElementsAre("processing"));
  ASSERT_TRUE(placed[1].guard.has_value());
  EXPECT_EQ(placed[1].guard->source, "#ctx.lines > 0");
  EXPECT_EQ(placed[2].event, "confirm");
  EXPECT_FALSE(placed[2].guard.has_value());
  EXPECT_EQ(placed[3].event, "cancel");
  EXPECT_THAT(placed[3].targets, ElementsAre(I("cancelled")));
  EXPECT_EQ(placed[3].location.line, 46) << "shorthand: the event key";
  EXPECT_EQ(placed[1].location.line, 41) << "list item";
  for (const auto& t : placed) EXPECT_EQ(t.source, I("placed"));

  const auto& processing = S("processing").transitions;
  ASSERT_EQ(processing.size(), 2u);
  EXPECT_EQ(processing[0].event, "cancel");
  EXPECT_EQ(processing[1].event, "") << "`always` comes after `on`";
  EXPECT_THAT(processing[1].targets, ElementsAre(I("delivered")));

  const auto& waiting = S("awaiting_payment").transitions;
  ASSERT_EQ(waiting.size(), 2u);
  EXPECT_FALSE(waiting[0].internal);
  EXPECT_TRUE(waiting[1].internal);
  EXPECT_THAT(S("shipped").transitions[0].targets, ElementsAre(I("packing"))) << "a list of one target";
  EXPECT_THAT(S("shipping").transitions[0].targets, ElementsAre(I("shipping.done")));

  std::int32_t expected_order = 0;
  for (const auto& s : d().states) {
    for (const auto& t : s.transitions) EXPECT_EQ(t.document_order, expected_order++) << s.id << " " << t.event;
  }
  EXPECT_EQ(expected_order, 13);

  EXPECT_THAT(d().EventNames(), ElementsAre("line.added", "confirm", "cancel", "payment.received",
                                            "done.state.shipped", "packed", "order.notified", "lost", "delivered"));
}

TEST_F(OrderFixture, ValuesAreExpressionsOrLiterals) {
  const ActionSpec& assign = OnlyAction(S("placed").entry);
  EXPECT_EQ(assign.kind, ActionSpec::Kind::kAssign);
  ASSERT_EQ(assign.assignments.size(), 3u);
  EXPECT_EQ(assign.assignments[0].first, "placed_at");
  EXPECT_TRUE(assign.assignments[0].second.is_expression);
  EXPECT_EQ(assign.assignments[0].second.expression.source, "now()");
  EXPECT_EQ(assign.assignments[1].first, "total");
  EXPECT_FALSE(assign.assignments[1].second.is_expression);
  EXPECT_EQ(assign.assignments[1].second.literal, Json(0));
  EXPECT_EQ(assign.assignments[2].first, "customer.name") << "dotted path kept as written";
  EXPECT_EQ(assign.location.line, 33);
  EXPECT_EQ(assign.location.column, 9);

  const ActionSpec& emit = OnlyAction(S("processing").transitions[0].actions);
  EXPECT_EQ(emit.kind, ActionSpec::Kind::kEmit);
  EXPECT_EQ(emit.event, "refund.requested");
  ASSERT_TRUE(emit.to.has_value());
  EXPECT_TRUE(emit.to->is_expression);
  EXPECT_EQ(emit.to->expression.source, "ctx.billing_id");
  ASSERT_TRUE(emit.data.has_value()) << "data given as one expression";
  EXPECT_FALSE(emit.data_is_map);
  EXPECT_TRUE(emit.data_fields.empty());
  EXPECT_EQ(emit.data->expression.source, "ctx.paid");

  const auto& delivered_entry = S("delivered").entry;
  ASSERT_EQ(delivered_entry.size(), 2u);
  const ActionSpec& spawn = delivered_entry[0];
  EXPECT_EQ(spawn.kind, ActionSpec::Kind::kSpawn);
  EXPECT_EQ(spawn.machine, "feedback-survey");
  EXPECT_TRUE(spawn.data_is_map);
  EXPECT_FALSE(spawn.data.has_value());
  ASSERT_EQ(spawn.data_fields.size(), 3u);
  EXPECT_EQ(spawn.data_fields[0].first, "order");
  EXPECT_TRUE(spawn.data_fields[0].second.is_expression);
  EXPECT_EQ(spawn.data_fields[1].first, "score");
  EXPECT_FALSE(spawn.data_fields[1].second.is_expression);
  EXPECT_TRUE(spawn.data_fields[1].second.literal.is_null());
  EXPECT_EQ(spawn.data_fields[2].second.literal, Json::array({"a", "b"})) << "a list is a literal";
  ASSERT_TRUE(spawn.key.has_value());
  EXPECT_EQ(spawn.key->expression.source, "'survey-' .. instance_id()");
  EXPECT_FALSE(spawn.id.has_value());
  const ActionSpec& emit_no_data = delivered_entry[1];
  EXPECT_FALSE(emit_no_data.data.has_value());
  EXPECT_FALSE(emit_no_data.data_is_map);

  const StateSpec& delivered = S("delivered");
  ASSERT_TRUE(delivered.output.has_value());
  EXPECT_TRUE(delivered.output_is_map);
  EXPECT_FALSE(delivered.output->is_expression);
  EXPECT_EQ(delivered.output->literal, Json::parse(R"({"status":"'delivered'","lines":3,"total":"ctx.total"})"))
      << "the map as written, for display";
  ASSERT_EQ(delivered.output_fields.size(), 3u);
  EXPECT_EQ(delivered.output_fields[0].first, "status");
  EXPECT_TRUE(delivered.output_fields[0].second.is_expression);
  EXPECT_EQ(delivered.output_fields[0].second.expression.source, "'delivered'");
  EXPECT_FALSE(delivered.output_fields[1].second.is_expression);
  EXPECT_EQ(delivered.output_fields[1].second.literal, Json(3));

  const StateSpec& cancelled = S("cancelled");
  ASSERT_TRUE(cancelled.output.has_value());
  EXPECT_FALSE(cancelled.output_is_map);
  EXPECT_TRUE(cancelled.output_fields.empty());
  EXPECT_TRUE(cancelled.output->is_expression);
  EXPECT_EQ(cancelled.output->expression.source, "ctx.total");
  EXPECT_FALSE(S("paid").output.has_value());
}

TEST_F(OrderFixture, LuaCodeKnowsWhereItWasWritten) {
  // `lua: |` on line 37: the code starts on line 38, at the block's indentation.
  const ActionSpec& lua = OnlyAction(S("placed").transitions[0].actions);
  EXPECT_EQ(lua.kind, ActionSpec::Kind::kLua);
  EXPECT_EQ(lua.code.source, "table.insert(ctx.lines, event.data)\nctx.total = ctx.total + event.data.amount\n");
  EXPECT_EQ(lua.code.location.file, path_);
  EXPECT_EQ(lua.code.location.line, 38);
  EXPECT_EQ(lua.code.location.column, 15);
  EXPECT_EQ(lua.code.chunk_name, "=" + path_);
  EXPECT_TRUE(lua.script_path.empty());

  // A double-quoted guard: the text starts after the quote.
  const auto& guard = *S("placed").transitions[1].guard;
  EXPECT_EQ(guard.location.line, 42);
  EXPECT_EQ(guard.location.column, 19);

  // A quoted expression in a flow map: column of the text after the quote.
  const auto& to = OnlyAction(S("processing").transitions[0].actions).to->expression;
  EXPECT_EQ(to.location.line, 56);
  EXPECT_EQ(to.location.column, 51);


  // script: the code of the .lua file, located at its line 1.
  const ActionSpec& script = OnlyAction(S("placed").transitions[1].actions);
  EXPECT_EQ(script.kind, ActionSpec::Kind::kLua);
  EXPECT_EQ(script.script_path, "notify.lua");
  EXPECT_EQ(script.code.source, testing::ReadText(FixturesDir() + "/actions/notify.lua"));
  EXPECT_EQ(script.code.location.file, FixturesDir() + "/actions/notify.lua") << "../actions, normalised";
  EXPECT_EQ(script.code.location.line, 1);
  EXPECT_EQ(script.code.chunk_name, "=" + FixturesDir() + "/actions/notify.lua");
  EXPECT_EQ(OnlyAction(S("processing").exit).script_path, "billing/invoice.lua");

  ASSERT_EQ(d().scripts.size(), 2u);
  EXPECT_EQ(d().scripts[0].first, "notify.lua");
  EXPECT_EQ(d().scripts[0].second, script.code.source);
  EXPECT_EQ(d().scripts[1].first, "billing/invoice.lua");
}

TEST(LuaLines, ASyntaxErrorOnTheSecondLineOfABlockIsReportedOnThatYamlLine) {
  const LoadResult r = LoadMachineText(Machine("  s:\n"                   // 6
                                               "    entry:\n"             // 7
                                               "      - lua: |\n"         // 8
                                               "          local a = 1\n"  // 9
                                               "          a = = 2\n"      // 10
                                               "          a = 3\n"),      // 11
                                       "m.yaml");
  EXPECT_THAT(Diagnostics(r), ElementsAre("m.yaml:10:11: error: Lua syntax error in 'lua' action: unexpected "
                                          "symbol near '=' [lua-syntax]"));
  EXPECT_EQ(r.definition, nullptr);
}

TEST(LuaLines, BlockWithLeadingBlankLineAndKeepIndicatorStillMapsLines) {
  const LoadResult r = LoadMachineText(Machine("  s:\n"              // 6
                                               "    entry:\n"        // 7
                                               "      - lua: |+\n"   // 8
                                               "\n"                  // 9
                                               "          x = 1\n"     // 10
                                               "          if x then\n"  // 11
                                               "\n"),                  // 12
                                       "m.yaml");
  ASSERT_EQ(r.diagnostics.size(), 1u) << Diagnostics(r)[0];
  EXPECT_EQ(r.diagnostics[0].rule_id, "lua-syntax");
  EXPECT_EQ(r.diagnostics[0].location.line, 12) << "'end' expected at the end of the block";
  EXPECT_EQ(r.diagnostics[0].location.column, 11);
}

TEST(LuaLines, TheRecordedLocationMakesLuaReportYamlLines) {
  // What the interpreter does with a LuaCode: lua::Chunk{source, location.file, location.line}.
  const LoadResult r = LoadMachineText(Machine("  s:\n"
                                               "    on:\n"
                                               "      go:\n"
                                               "        guard: |\n"  // 9
                                               "          ctx.a ==\n"  // 10
                                               "            1\n"),    // 11
                                       "m.yaml");
  ASSERT_NE(r.definition, nullptr) << Diagnostics(r)[0];
  const LuaCode& guard = *r.definition->state(1).transitions[0].guard;
  EXPECT_EQ(guard.location.line, 10);
  const std::string broken = guard.source + "@";  // the same code with a bad character on a 3rd line
  const auto error = lua::CheckSyntax(lua::Chunk{broken, guard.location.file, guard.location.line},
                                      lua::SyntaxKind::kExpression);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->line, 12);
}

TEST(LuaLines, APlainScalarStartsAtItsMark) {
  const LoadResult r = LoadMachineText(Machine("  s:\n    entry:\n      - assign: { a: ctx.b + 1 }\n"), "m.yaml");
  ASSERT_NE(r.definition, nullptr);
  const LuaCode& code = r.definition->state(1).entry[0].assignments[0].second.expression;
  EXPECT_EQ(code.source, "ctx.b + 1");
  EXPECT_EQ(code.location.line, 8);
  EXPECT_EQ(code.location.column, 22);
}

TEST(Values, ScalarsFollowTheYaml12CoreSchema) {
  const LoadResult r = LoadMachineText(Machine(R"(  s:
    entry:
      - assign:
          i: 12
          neg: -3
          hex: 0x1f
          oct: 0o17
          f: 1.5
          e: 1e3
          t: true
          f2: False
          n: null
          tilde: ~
          empty:
          yes_is_text: yes
          quoted_number: "12"
          single: 'ctx.a'
          list: [1, "two", {x: y}]
          map: { deep: { text: "not an expression" } }
)"),
                                       "m.yaml");
  ASSERT_NE(r.definition, nullptr) << (r.diagnostics.empty() ? "" : Diagnostics(r)[0]);
  const auto& a = r.definition->state(1).entry[0].assignments;
  auto literal = [&](std::size_t i) {
    EXPECT_FALSE(a[i].second.is_expression) << a[i].first;
    return a[i].second.literal;
  };
  auto expression = [&](std::size_t i) {
    EXPECT_TRUE(a[i].second.is_expression) << a[i].first;
    return a[i].second.expression.source;
  };
  ASSERT_EQ(a.size(), 16u);
  EXPECT_EQ(literal(0), Json(12));
  EXPECT_TRUE(literal(0).is_number_integer());
  EXPECT_EQ(literal(1), Json(-3));
  EXPECT_EQ(literal(2), Json(31));
  EXPECT_EQ(literal(3), Json(15));
  EXPECT_EQ(literal(4), Json(1.5));
  EXPECT_EQ(literal(5), Json(1000.0));
  EXPECT_TRUE(literal(5).is_number_float());
  EXPECT_EQ(literal(6), Json(true));
  EXPECT_EQ(literal(7), Json(false));
  EXPECT_TRUE(literal(8).is_null());
  EXPECT_TRUE(literal(9).is_null());
  EXPECT_TRUE(literal(10).is_null());
  EXPECT_EQ(expression(11), "yes") << "YAML 1.2: yes is text, so a Lua expression";
  EXPECT_EQ(expression(12), "12") << "quoted: text";
  EXPECT_EQ(expression(13), "ctx.a");
  EXPECT_EQ(literal(14), Json::parse(R"([1, "two", {"x": "y"}])"));
  EXPECT_EQ(literal(15), Json::parse(R"({"deep": {"text": "not an expression"}})"));
}

TEST(Values, EmitDataGivenAsAnEmptyMapIsAnEmptyObjectNotNothing) {
  const LoadResult r = LoadMachineText(Machine("  s:\n    on:\n      go:\n        actions:\n"
                                               "          - emit: { event: go, data: {} }\n"),
                                       "m.yaml");
  ASSERT_NE(r.definition, nullptr);
  const ActionSpec& emit = r.definition->state(1).transitions[0].actions[0];
  EXPECT_TRUE(emit.data_is_map);
  EXPECT_TRUE(emit.data_fields.empty());
  EXPECT_FALSE(emit.data.has_value());
}

TEST(States, EmptyStatesAreAtomicAndTopLevelInitialIsHonoured) {
  const LoadResult r = LoadMachineText(
      "apiVersion: nurt/v1\nkind: Machine\nname: t\nversion: 1\ninitial: b\nstates:\n  a:\n  b: {}\n"
      "  c:\n    on: { go: a }\n",
      "m.yaml");
  ASSERT_NE(r.definition, nullptr);
  const Definition& d = *r.definition;
  EXPECT_EQ(d.state(kRootState).initial, d.Find("b"));
  EXPECT_EQ(d.state(d.Find("a")).kind, StateKind::kAtomic);
  EXPECT_EQ(d.state(d.Find("b")).kind, StateKind::kAtomic);
  // Nothing enters `c`, so nothing enters `a` (only `c` targets it): warnings only, so the definition is
  // still produced.
  EXPECT_THAT(Diagnostics(r), ElementsAre(HasSubstr("m.yaml:7:3: warning: state 'a' is never entered"),
                                          HasSubstr("m.yaml:9:3: warning: state 'c' is never entered")));
  EXPECT_EQ(d.Find("nope"), kNoState);
  EXPECT_EQ(d.Find(""), kNoState) << "the root has no id to find";
}

TEST(Diagnostics, AllProblemsAreReportedSortedByPosition) {
  const LoadResult r = LoadMachineText(Machine("  b:\n"
                                               "    on: { go: nowhere }\n"
                                               "    typ: final\n"
                                               "  a:\n"
                                               "    on: { go: b, go: a }\n"),
                                       "m.yaml");
  EXPECT_EQ(r.definition, nullptr);
  ASSERT_EQ(r.diagnostics.size(), 4u) << ::testing::PrintToString(Diagnostics(r));
  EXPECT_EQ(r.diagnostics[0].rule_id, "unknown-target");
  EXPECT_EQ(r.diagnostics[1].rule_id, "unknown-key");
  EXPECT_EQ(r.diagnostics[2].rule_id, "unreachable-state");  // `a`: nothing targets it
  EXPECT_EQ(r.diagnostics[3].rule_id, "duplicate-key");
  EXPECT_THAT(r.diagnostics[1].message, HasSubstr("did you mean 'type'?"));
  for (std::size_t i = 1; i < r.diagnostics.size(); ++i) {
    EXPECT_LE(r.diagnostics[i - 1].location.line, r.diagnostics[i].location.line);
  }
}

TEST(Diagnostics, YamlErrorsBecomeDiagnosticsWithThePosition) {
  const LoadResult r = LoadMachineText(Machine("  a:\n    on: *nothing\n"), "m.yaml");
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].rule_id, "yaml-syntax");
  EXPECT_EQ(r.diagnostics[0].location.line, 7);
  EXPECT_EQ(r.diagnostics[0].location.column, 9);
  EXPECT_THAT(r.diagnostics[0].message, HasSubstr("anchor"));
}

TEST(Files, AMissingFileIsADiagnosticAtLineZero) {
  const LoadResult r = LoadMachineFile("/nonexistent/dir/flow.yaml");
  EXPECT_EQ(r.definition, nullptr);
  EXPECT_THAT(Diagnostics(r), ElementsAre(HasSubstr("/nonexistent/dir/flow.yaml:0:0: error: cannot read")));
  EXPECT_EQ(r.diagnostics[0].rule_id, "unreadable-file");
}

TEST(Scripts, StoredScriptsAreUsedInsteadOfTheDisk) {
  const std::string text = Machine("  s:\n    entry:\n      - script: notify.lua\n");
  const std::vector<std::pair<std::string, std::string>> stored = {{"notify.lua", "log('stored')\n"}};
  LoadOptions options;
  options.scripts = &stored;
  const LoadResult r = LoadMachineText(text, FixturesDir() + "/valid/stored.yaml", options);
  ASSERT_NE(r.definition, nullptr) << Diagnostics(r)[0];
  const ActionSpec& a = r.definition->state(1).entry[0];
  EXPECT_EQ(a.code.source, "log('stored')\n");
  EXPECT_EQ(a.code.location.file, "actions/notify.lua");
  EXPECT_EQ(r.definition->scripts, stored);

  const std::vector<std::pair<std::string, std::string>> none;
  options.scripts = &none;
  const LoadResult missing = LoadMachineText(text, "m.yaml", options);
  EXPECT_THAT(Diagnostics(missing),
              ElementsAre("m.yaml:8:17: error: script 'notify.lua' is not among the scripts stored with this "
                          "definition [script-not-found]"));
}

TEST(Scripts, ActionsDirOptionAndTheFallbackToActionsNextToTheFile) {
  nurt::testing::TempDir dir;
  const std::string text = Machine("  s:\n    entry:\n      - script: x.lua\n");
  {
    std::ofstream(dir.File("x.lua")) << "ctx.a = 1\n";
    LoadOptions options;
    options.actions_dir = dir.path();
    const LoadResult r = LoadMachineText(text, "elsewhere/m.yaml", options);
    ASSERT_NE(r.definition, nullptr) << Diagnostics(r)[0];
    EXPECT_EQ(r.definition->state(1).entry[0].code.location.file, dir.path() + "/x.lua");
  }
  // No <dir>/../actions: <dir>/actions is used.
  std::filesystem::create_directories(dir.path() + "/wf/actions");
  std::ofstream(dir.path() + "/wf/actions/x.lua") << "ctx.b = 2\n";
  std::ofstream(dir.path() + "/wf/m.yaml") << text;
  const LoadResult r = LoadMachineFile(dir.path() + "/wf/m.yaml");
  ASSERT_NE(r.definition, nullptr) << Diagnostics(r)[0];
  EXPECT_EQ(r.definition->state(1).entry[0].code.source, "ctx.b = 2\n");
  // With <dir>/../actions present, that one wins.
  std::filesystem::create_directories(dir.path() + "/actions");
  std::ofstream(dir.path() + "/actions/x.lua") << "ctx.c = 3\n";
  const LoadResult r2 = LoadMachineFile(dir.path() + "/wf/m.yaml");
  ASSERT_NE(r2.definition, nullptr) << Diagnostics(r2)[0];
  EXPECT_EQ(r2.definition->state(1).entry[0].code.source, "ctx.c = 3\n");
  EXPECT_EQ(r2.definition->state(1).entry[0].code.location.file, dir.path() + "/actions/x.lua");
}

TEST(Events, ScxmlPrefixMatching) {
  EXPECT_TRUE(EventMatches("payment", "payment"));
  EXPECT_TRUE(EventMatches("payment", "payment.received"));
  EXPECT_TRUE(EventMatches("payment.received", "payment.received.late"));
  EXPECT_FALSE(EventMatches("payment", "payments"));
  EXPECT_FALSE(EventMatches("payment.received", "payment"));
  EXPECT_TRUE(EventMatches("*", "anything.at.all"));
  EXPECT_FALSE(EventMatches("", "x")) << "eventless transitions match no event";
}

TEST(Suggest, FindsPlausibleTyposOnly) {
  using nurt::EditDistance;
  using nurt::Suggest;
  EXPECT_EQ(EditDistance("taregt", "target"), 1) << "adjacent swap";
  EXPECT_EQ(EditDistance("", "abc"), 3);
  EXPECT_EQ(Suggest("taget", {"target", "guard", "actions", "type"}), "target");
  EXPECT_EQ(Suggest("Target", {"target", "guard"}), "target") << "case only";
  EXPECT_EQ(Suggest("colour", {"target", "guard", "actions", "type"}), std::nullopt);
  EXPECT_EQ(Suggest("paralel", {"atomic", "compound", "parallel", "final"}), "parallel");
  EXPECT_EQ(Suggest("ab", {"xy"}), std::nullopt);
  EXPECT_EQ(nurt::DidYouMean("aproved", {"approved"}), "; did you mean 'approved'?");
}

TEST(Timers, EachTimerKnowsItsDelayEventAndTheTransitionItTakes) {
  const auto r = LoadMachineText(Machine(R"(  waiting:
    after:
      - { delay: P3WD, target: done }
      - { delay: PT4H, business: true, raise: nudge }
    at: { time: "ctx.date", offset: -P1DT2H, actions: [ { assign: { x: 1 } } ] }
    on: { nudge: done }
  done: { type: final }
)"),
                                 "m.yaml");
  ASSERT_NE(r.definition, nullptr) << Diagnostics(r)[0];
  const StateSpec& s = r.definition->state(r.definition->Find("waiting"));
  ASSERT_EQ(s.timers.size(), 3u);
  EXPECT_TRUE(s.timers[0].delay.business);
  EXPECT_EQ(s.timers[0].delay.working_days, 3);
  EXPECT_EQ(s.timers[0].event, "nurt.timer.waiting.0");
  EXPECT_EQ(s.timers[0].Describe(), "after P3WD");
  EXPECT_TRUE(s.timers[1].delay.business);
  EXPECT_EQ(s.timers[1].delay.working_days, 0);
  EXPECT_EQ(s.timers[1].delay.working_time, std::chrono::hours(4));
  EXPECT_EQ(s.timers[1].event, "nudge");
  EXPECT_EQ(s.timers[2].kind, TimerSpec::Kind::kAt);
  EXPECT_TRUE(s.timers[2].delay.negative);
  EXPECT_EQ(s.timers[2].delay.elapsed, std::chrono::hours(26));
  ASSERT_TRUE(s.timers[2].at.has_value());
  EXPECT_EQ(s.timers[2].at->location.line, 10);
  // The `target:` timer and the `actions:` one became transitions on their synthetic events.
  std::vector<std::string> events;
  for (const auto& t : s.transitions) events.push_back(t.event);
  EXPECT_THAT(events, ::testing::UnorderedElementsAre("nurt.timer.waiting.0", "nurt.timer.waiting.2", "nudge"));
}

TEST(Timers, AnSlaOnATaskIsTheStatesSlaAndAStateHasOnlyOne) {
  const auto r = LoadMachineText(Machine(R"(  review:
    sla: { target: PT8H }
    task:
      title: Review
      assignee: { role: admin }
      decisions: { ok: approve }
      sla: { target: PT4H }
    on: { approve: done }
  done: { type: final }
)"),
                                 "m.yaml");
  EXPECT_THAT(Diagnostics(r), ElementsAre(HasSubstr("m.yaml:12:7: error: state 'review' already has an SLA")));
}

TEST(Timers, TheGraphLabelsTimerTransitionsWithWhatWasWritten) {
  const auto r = LoadMachineText(Machine(R"(  waiting:
    after: { delay: P3WD, target: done }
  done: { type: final }
)"),
                                 "m.yaml");
  ASSERT_NE(r.definition, nullptr) << Diagnostics(r)[0];
  EXPECT_THAT(RenderGraph(*r.definition, GraphFormat::kMermaid), HasSubstr("waiting --> done : after P3WD"));
}

}  // namespace
}  // namespace nurt::dsl
