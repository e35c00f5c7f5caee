// nurt import scxml: the mapping of docs/scxml.md, checked by loading and running what comes out.
#include "nurt/scxml/importer.hpp"

#include <gtest/gtest.h>

#include "nurt/dsl/loader.hpp"
#include "nurt/interp/interpreter.hpp"

namespace nurt::scxml {
namespace {

constexpr const char* kDoc = R"(<?xml version="1.0"?>
<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0" datamodel="lua" initial="s0" name="Order">
  <datamodel>
    <data id="total" expr="0"/>
    <data id="items" expr="{1, 2, 3}"/>
  </datamodel>
  <state id="s0">
    <onentry>
      <foreach array="items" item="it">
        <assign location="total" expr="total + it"/>
      </foreach>
      <send event="tick" delay="1s" id="t1"/>
      <raise event="go"/>
    </onentry>
    <transition event="go" cond="total == 6" target="s1"/>
    <transition event="*" target="fail"/>
  </state>
  <state id="s1">
    <invoke src="child.scxml"/>
    <transition event="tick" target="pass"/>
  </state>
  <final id="pass"/>
  <final id="fail"/>
</scxml>
)";

TEST(ScxmlImporterTest, ImportsLoadsAndRuns) {
  auto imported = ImportScxmlText(kDoc, "order.scxml");
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->machine_name, "order");
  ASSERT_EQ(imported->warnings.size(), 1u);
  EXPECT_EQ(imported->warnings[0].rfind("order.scxml:19: <invoke> is not supported", 0), 0u)
      << imported->warnings[0];
  dsl::LoadResult loaded = dsl::LoadMachineText(imported->yaml, "order.yaml");
  std::string problems;
  for (const auto& d : loaded.diagnostics) problems += d.ToString() + "\n";
  ASSERT_NE(loaded.definition, nullptr) << problems << imported->yaml;

  auto lua = lua::NewRuntime();
  ASSERT_TRUE(lua.ok());
  interp::Interpreter interpreter(loaded.definition, lua->get());
  interp::StepOptions options;
  options.instance_id = "i-1";
  auto started =
      interpreter.Start(loaded.definition->initial_context, interp::Event{"nurt.start"}, options);
  ASSERT_TRUE(started.ok()) << started.status();
  EXPECT_EQ(started->snapshot.ActiveLeaves(*loaded.definition), std::vector<std::string>{"s1"});
  ASSERT_EQ(started->effects.size(), 1u);
  EXPECT_EQ(started->effects[0].delay_ms, 1000);
  EXPECT_EQ(started->effects[0].send_id, "t1");
  auto done = interpreter.Step(started->snapshot, interp::Event{"tick"}, options);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_TRUE(done->snapshot.done);
  EXPECT_EQ(done->snapshot.ActiveLeaves(*loaded.definition), std::vector<std::string>{"pass"});
}

TEST(ScxmlImporterTest, RewritesDataIdsAndSystemVariables) {
  const std::vector<std::string> ids = {"Var1", "Var2"};
  EXPECT_EQ(RewriteLua("Var1 + 1", ids, "m"), "ctx.Var1 + 1");
  EXPECT_EQ(RewriteLua("Var1 .. Var2", ids, "m"), "ctx.Var1 .. ctx.Var2");
  EXPECT_EQ(RewriteLua("_event.data.Var1", ids, "m"), "event.data.Var1")
      << "a field is not a variable";
  EXPECT_EQ(RewriteLua("{Var1 = Var2}", ids, "m"), "{Var1 = ctx.Var2}")
      << "a table key is not a variable";
  EXPECT_EQ(RewriteLua("'Var1' -- Var1", ids, "m"), "'Var1' -- Var1")
      << "strings and comments are kept";
  EXPECT_EQ(RewriteLua("_sessionid == _name", ids, "m"), "instance_id() == \"m\"");
  EXPECT_EQ(RewriteLua("Var1 == Var11", ids, "m"), "ctx.Var1 == Var11");
}

TEST(ScxmlImporterTest, BadInputSaysWhere) {
  auto broken = ImportScxmlText("<scxml>\n<state id='a'>\n</scxml>", "b.scxml");
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.status().message().rfind("b.scxml:3: ", 0), 0u) << broken.status();
  auto other = ImportScxmlText("<html/>", "c.scxml");
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("not <scxml>"), std::string::npos);
  auto ecma = ImportScxmlText("<scxml datamodel='ecmascript'/>", "d.scxml");
  ASSERT_FALSE(ecma.ok());
  EXPECT_NE(ecma.status().message().find("nurt's data model is Lua"), std::string::npos);
}

TEST(ScxmlImporterTest, InvalidExpressionsFailWhenEvaluatedNotWhenLoaded) {
  auto imported = ImportScxmlText(R"(<scxml datamodel="lua" initial="s0">
  <state id="s0">
    <onentry><log expr="return"/></onentry>
    <transition event="error.execution" target="pass"/>
  </state>
  <final id="pass"/>
</scxml>)",
                                  "e.scxml");
  ASSERT_TRUE(imported.ok()) << imported.status();
  dsl::LoadResult loaded = dsl::LoadMachineText(imported->yaml, "e.yaml");
  ASSERT_NE(loaded.definition, nullptr) << imported->yaml;
  auto lua = lua::NewRuntime();
  ASSERT_TRUE(lua.ok());
  interp::Interpreter interpreter(loaded.definition, lua->get());
  auto started =
      interpreter.Start(Json::object(), interp::Event{"nurt.start"}, interp::StepOptions{});
  ASSERT_TRUE(started.ok()) << started.status();
  EXPECT_TRUE(started->snapshot.done) << "error.execution took the machine to pass";
}

}  // namespace
}  // namespace nurt::scxml
