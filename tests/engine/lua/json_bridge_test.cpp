// JSON <-> Lua conversion: types, null, arrays, key order, errors with paths, limits.

#include "lua/json_bridge.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "lua_test_util.hpp"

namespace nurt::lua {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

using JsonBridgeTest = LuaTest;

Json Parse(const std::string& text) { return Json::parse(text); }

TEST_F(JsonBridgeTest, UnchangedCtxRoundTripsExactly) {
  const std::string text =
      R"({"i":1,"f":1.0,"half":1.5,"neg":-7,"big":9007199254740993,"max":9223372036854775807,)"
      R"("tiny":1e-300,"t":true,"n":null,"s":"héllo ✓ 😀","nested":{"z":[1,[2,[3]]],"a":{}},)"
      R"("empty_array":[],"empty_object":{},"nulls":[null,1,null],"obj_null":{"x":null}})";
  Json ctx = Parse(text);
  const Json before = ctx;
  ASSERT_TRUE(Exec("", &ctx).ok());
  EXPECT_EQ(ctx.dump(), before.dump());
  EXPECT_TRUE(ctx["i"].is_number_integer());
  EXPECT_TRUE(ctx["f"].is_number_float());
  EXPECT_TRUE(ctx["empty_array"].is_array());
  EXPECT_TRUE(ctx["empty_object"].is_object());
}

TEST_F(JsonBridgeTest, IntegersStayIntegersAndFloatsStayFloats) {
  const Json ctx = Parse(R"({"i":1,"f":1.0,"big":9007199254740993})");
  struct Case {
    const char* expr;
    Json expected;
  };
  for (const Case& c : {
           Case{"math.type(ctx.i)", "integer"},
           Case{"math.type(ctx.f)", "float"},
           Case{"ctx.i + 1", 2},
           Case{"ctx.f + 1", 2.0},
           Case{"ctx.big + 0", Parse("9007199254740993")},
           Case{"ctx.big == 9007199254740993", true},
           Case{"7 // 2", 3},
           Case{"7 / 2", 3.5},
           Case{"2^2", 4.0},
       }) {
    SCOPED_TRACE(c.expr);
    auto r = Eval(c.expr, ctx);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->dump(), c.expected.dump());
    EXPECT_EQ(r->is_number_integer(), c.expected.is_number_integer());
  }
}

TEST_F(JsonBridgeTest, ValuesWrittenByLuaConvertByType) {
  auto r = ExecCtx(R"(
    ctx.int = 3
    ctx.float = 3.0
    ctx.exact = 9007199254740993
    ctx.str = 'naïve ✓'
    ctx.yes = true
    ctx.nothing = null
    ctx.list = {10, 'x', null, {a = 1}}
    ctx.obj = {b = 1, a = {}}
    ctx.arr = array()
    ctx.arr2 = array({})
  )");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->dump(), R"({"arr":[],"arr2":[],"exact":9007199254740993,"float":3.0,"int":3,)"
                       R"("list":[10,"x",null,{"a":1}],"nothing":null,"obj":{"a":{},"b":1},)"
                       R"("str":"naïve ✓","yes":true})");
}

TEST_F(JsonBridgeTest, NullIsASentinelNotNil) {
  const Json ctx = Parse(R"({"a":[1,null,3],"o":{"x":null}})");
  auto r = Eval("ctx.o.x == null and ctx.a[2] == null and #ctx.a == 3 and ctx.o.y == nil", ctx);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, true);
  r = Eval("tostring(null) .. ' ' .. type(null)");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "null userdata");
  r = Eval("null");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->is_null());
  Status s = ExecCtx("local x = null.field").status();
  EXPECT_THAT(s.message(), HasSubstr("attempt to index a null value"));
}

TEST_F(JsonBridgeTest, EmptyArraysAndObjectsSurvive) {
  Json ctx = Parse(R"({"list":[1,2],"tags":[],"meta":{}})");
  ASSERT_TRUE(
      Exec("ctx.list[2] = nil; ctx.list[1] = nil; ctx.fresh = {}; ctx.marked = array()", &ctx)
          .ok());
  EXPECT_EQ(ctx.dump(), R"({"list":[],"tags":[],"meta":{},"fresh":{},"marked":[]})");
  // An unmarked empty table replacing an array stays an array: clearing a list keeps it a list.
  ASSERT_TRUE(Exec("ctx.tags = {}; ctx.meta = {}", &ctx).ok());
  EXPECT_EQ(ctx.dump(), R"({"list":[],"tags":[],"meta":{},"fresh":{},"marked":[]})");
}

TEST_F(JsonBridgeTest, ObjectsKeepKeyOrderAndNewKeysAreSorted) {
  Json ctx = Parse(R"({"zebra":1,"apple":2,"mid":{"y":1,"b":2},"list":[{"q":1,"c":2}]})");
  ASSERT_TRUE(Exec(R"(
    ctx.new_b = 1
    ctx.new_a = 2
    ctx.apple = nil
    ctx.mid.c = 3
    ctx.mid.a = 4
    ctx.list[1].b = 5
    ctx.apple = 'back'
  )",
                   &ctx)
                  .ok());
  EXPECT_EQ(ctx.dump(), R"({"zebra":1,"apple":"back","mid":{"y":1,"b":2,"a":4,"c":3},)"
                        R"("list":[{"q":1,"c":2,"b":5}],"new_a":2,"new_b":1})");
}

TEST_F(JsonBridgeTest, ExpressionResultsKeepTheOrderOfCtx) {
  const Json ctx = Parse(R"({"customer":{"name":"Ada","city":"Zurich","age":36}})");
  auto r = Eval("ctx.customer", ctx);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->dump(), R"({"name":"Ada","city":"Zurich","age":36})");
  r = Eval("{ctx.customer, n = nil}", ctx);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->dump(), R"([{"name":"Ada","city":"Zurich","age":36}])");
}

TEST_F(JsonBridgeTest, MixedTablesAreErrorsThatNameThePath) {
  Json ctx = Parse(R"({"items":[{"x":0},{"x":0}]})");
  struct Case {
    const char* code;
    const char* message;
  };
  for (const Case& c : {
           Case{"ctx.items[2].x = {1, 2, y = 3}",
                "ctx.items[2].x: mixes integer keys and string keys (such as 'y')"},
           Case{"ctx.sparse = {[1] = 1, [3] = 3}",
                "ctx.sparse: has integer keys that are not 1..2 (a sparse array?)"},
           Case{"ctx.zero = {[0] = 'a'}", "ctx.zero: has integer keys that are not 1..1"},
           Case{"ctx['my key'] = {1, a = 2}", "ctx[\"my key\"]: mixes integer keys"},
           Case{"ctx.b = {[true] = 1}", "ctx.b: has the key true; JSON objects need string keys"},
           Case{"ctx.f = {[1.5] = 1}", "ctx.f: has the key 1.5"},
           Case{"ctx.fn = function() end", "ctx.fn: a function cannot be stored in JSON"},
           Case{"ctx.co = coroutine.create(function() end)", "ctx.co: a thread cannot be stored"},
           Case{"ctx.lib = {m = math}", "ctx.lib.m.abs: a function cannot be stored in JSON"},
           Case{"local a = array({1, 2}); a.x = 1; ctx.a = a",
                "ctx.a: is marked as an array but has the key 'x'"},
           Case{"local a = array({1, 2}); a[4] = 1; ctx.a = a",
                "ctx.a: is marked as an array but its indices are not 1..3"},
       }) {
    SCOPED_TRACE(c.code);
    Json copy = ctx;
    Status s = Exec(c.code, &copy);
    ASSERT_TRUE(s.IsInvalidArgument()) << s;
    EXPECT_THAT(s.message(), StartsWith("test.lua:1: "));
    EXPECT_THAT(s.message(), HasSubstr(c.message));
    EXPECT_EQ(copy, ctx);
  }
}

TEST_F(JsonBridgeTest, NaNAndInfinityAreErrors) {
  EXPECT_THAT(ExecCtx("ctx.n = 0/0").status().message(), HasSubstr("ctx.n: NaN cannot be stored"));
  EXPECT_THAT(ExecCtx("ctx.i = {math.huge}").status().message(),
              HasSubstr("ctx.i[1]: an infinite number cannot be stored"));
  EXPECT_THAT(Eval("-math.huge").status().message(), HasSubstr("value: an infinite number"));
}

TEST_F(JsonBridgeTest, StringsMustBeUtf8) {
  Status s = ExecCtx("ctx.bad = 'ok' .. string.char(255)").status();
  ASSERT_TRUE(s.IsInvalidArgument()) << s;
  EXPECT_THAT(s.message(), HasSubstr("ctx.bad: the string is not valid UTF-8"));
  auto r = Eval("utf8.len(ctx.s) .. ':' .. #ctx.s", Parse(R"({"s":"héllo ✓ 😀"})"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "9:15");
}

TEST_F(JsonBridgeTest, Utf8Validator) {
  EXPECT_TRUE(bridge::IsValidUtf8(""));
  EXPECT_TRUE(bridge::IsValidUtf8("plain ascii"));
  EXPECT_TRUE(bridge::IsValidUtf8("\xC3\xA9\xE2\x9C\x93\xF0\x9F\x98\x80"));
  EXPECT_TRUE(bridge::IsValidUtf8("\xF4\x8F\xBF\xBF"));   // U+10FFFF
  EXPECT_FALSE(bridge::IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(bridge::IsValidUtf8("\xE0\x80\xAF"));      // overlong
  EXPECT_FALSE(bridge::IsValidUtf8("\xED\xA0\x80"));      // surrogate U+D800
  EXPECT_FALSE(bridge::IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(bridge::IsValidUtf8("\xE2\x9C"));          // truncated
  EXPECT_FALSE(bridge::IsValidUtf8("\x80"));              // lone continuation
}

TEST_F(JsonBridgeTest, DeepNestingIsAnErrorNotACrash) {
  Json deep = Json::object();
  Json* cursor = &deep;
  for (int i = 0; i < 300; ++i) cursor = &((*cursor)["x"] = Json::object());
  // Actions get plain tables, converted eagerly: too deep is an error.
  Json ctx_deep = {{"deep", deep}};
  Status exec = Exec("ctx.touched = true", &ctx_deep);
  ASSERT_TRUE(exec.IsInvalidArgument()) << exec;
  EXPECT_THAT(exec.message(), HasSubstr("ctx nests deeper than 200 levels"));
  EXPECT_FALSE(ctx_deep.contains("touched"));
  // Guards and expressions convert lazily, one level per access: any depth can be read.
  auto r = Eval(R"((function()
    local c, n = ctx.deep, 0
    while c.x do c, n = c.x, n + 1 end
    return n
  end)())",
                Json{{"deep", deep}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, 300);

  Status s =
      ExecCtx("local t = {} local c = t for i = 1, 300 do c.x = {} c = c.x end ctx.t = t").status();
  ASSERT_TRUE(s.IsInvalidArgument()) << s;
  EXPECT_THAT(s.message(), HasSubstr("nests deeper than 200 levels"));

  s = ExecCtx("ctx.a = {}; ctx.a.self = ctx.a").status();
  ASSERT_TRUE(s.IsInvalidArgument()) << s;
  EXPECT_THAT(s.message(), HasSubstr("ctx.a.self.self.self"));

  // 150 levels are fine in both directions.
  Json ok = Json::array();
  Json* c2 = &ok;
  for (int i = 0; i < 150; ++i) c2 = &(c2->emplace_back(Json::array()));
  Json ctx = {{"ok", ok}};
  const Json before = ctx;
  ASSERT_TRUE(Exec("", &ctx).ok());
  EXPECT_EQ(ctx, before);
}

TEST_F(JsonBridgeTest, UnsignedAboveInt64BecomesAFloat) {
  auto r = Eval("math.type(ctx.u)", Parse(R"({"u":18446744073709551615})"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "float");
}

TEST_F(JsonBridgeTest, ForeignMetatablesAreIgnoredByConversion) {
  auto r = ExecCtx("ctx.o = setmetatable({a = 1}, {__index = function() return 5 end})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->dump(), R"({"o":{"a":1}})");
}

}  // namespace
}  // namespace nurt::lua
