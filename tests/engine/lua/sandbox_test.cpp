// The sandbox: what Lua code can reach, that nothing survives from one call into the next, the
// deterministic pairs order, and the instruction and memory limits.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "lua_test_util.hpp"

namespace nurt::lua {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

using SandboxTest = LuaTest;

TEST_F(SandboxTest, GlobalsAreExactlyTheDocumentedOnes) {
  const std::vector<std::string> expected = {
      "In",          "array",  "assert",       "coroutine", "emit",   "error",  "getmetatable",
      "instance_id", "ipairs", "iso",          "log",       "math",   "next",   "now",
      "null",        "pairs",  "pcall",        "rawequal",  "rawget", "rawlen", "rawset",
      "select",      "send",   "setmetatable", "spawn",     "string", "table",  "tonumber",
      "tostring",    "type",   "utf8",         "xpcall",
  };
  std::vector<std::string> sorted = expected;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(rt_->GlobalNames(), sorted);
}

TEST_F(SandboxTest, ForbiddenGlobalsAreNilAndCallingThemFails) {
  for (const char* name : {"io", "os", "load", "loadfile", "dofile", "require", "package", "debug",
                           "collectgarbage", "print", "warn", "_G", "_VERSION", "loadstring"}) {
    SCOPED_TRACE(name);
    auto type = Eval(std::string("type(") + name + ")");
    ASSERT_TRUE(type.ok()) << type.status();
    EXPECT_EQ(*type, "nil");
  }
  struct Case {
    const char* code;
    const char* message;
  };
  for (const Case& c : {
           Case{"io.write('x')", "global 'io'"},
           Case{"os.time()", "global 'os'"},
           Case{"load('return 1')()", "global 'load'"},
           Case{"loadfile('/etc/passwd')", "global 'loadfile'"},
           Case{"dofile('/etc/passwd')", "global 'dofile'"},
           Case{"require('os')", "global 'require'"},
           Case{"package.loaded.os.exit()", "global 'package'"},
           Case{"debug.getregistry()", "global 'debug'"},
           Case{"collectgarbage()", "global 'collectgarbage'"},
           Case{"print('x')", "global 'print'"},
       }) {
    SCOPED_TRACE(c.code);
    Status s = ExecCtx(c.code).status();
    EXPECT_TRUE(s.IsInvalidArgument()) << s;
    EXPECT_THAT(s.message(), HasSubstr(c.message));
  }
}

TEST_F(SandboxTest, StringDumpIsGoneIncludingThroughTheStringMetatable) {
  auto gone = Eval("string.dump == nil and ('').dump == nil and ('x').dump == nil");
  ASSERT_TRUE(gone.ok()) << gone.status();
  EXPECT_EQ(*gone, true);
  Status s = ExecCtx("local f = ('x').dump; f(function() end)").status();
  EXPECT_THAT(s.message(), HasSubstr("attempt to call a nil value"));
  // The metatable itself is out of reach, so dump cannot be put back for strings.
  auto mt = Eval("getmetatable('')");
  ASSERT_TRUE(mt.ok()) << mt.status();
  EXPECT_EQ(*mt, "string");
  s = ExecCtx("getmetatable('').__index = {dump = 1}").status();
  EXPECT_THAT(s.message(), HasSubstr("attempt to index a string value"));
  // Ordinary string methods keep working.
  auto rep = Eval("('ab'):rep(3) .. string.upper('x')");
  ASSERT_TRUE(rep.ok()) << rep.status();
  EXPECT_EQ(*rep, "abababX");
}

TEST_F(SandboxTest, MathRandomIsGoneTheRestOfMathWorks) {
  auto r = Eval("math.random == nil and math.randomseed == nil");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, true);
  EXPECT_THAT(ExecCtx("local x = math.random(10)").status().message(), HasSubstr("field 'random'"));
  auto floor = Eval("math.floor(3.7) + math.max(1, 5)");
  ASSERT_TRUE(floor.ok()) << floor.status();
  EXPECT_EQ(*floor, 8);
}

TEST_F(SandboxTest, LibrariesAreReadOnlyAndUnchangedForLaterCalls) {
  Status s = ExecCtx("string.rep = function() return 'evil' end").status();
  EXPECT_TRUE(s.IsInvalidArgument()) << s;
  EXPECT_THAT(s.message(), HasSubstr("the standard library is read-only"));
  s = ExecCtx("rawset(math, 'floor', function() return 0 end)").status();
  EXPECT_THAT(s.message(), HasSubstr("rawset: this table is read-only"));
  s = ExecCtx("setmetatable(table, nil)").status();
  EXPECT_THAT(s.message(), HasSubstr("cannot change a protected metatable"));
  auto still = Eval("string.rep('a', 3) .. math.floor(2.5)");
  ASSERT_TRUE(still.ok()) << still.status();
  EXPECT_EQ(*still, "aaa2");
}

TEST_F(SandboxTest, GlobalAssignmentsDoNotSurviveTheCall) {
  ASSERT_TRUE(ExecCtx("leaked = 42; string_backup = string").ok());
  auto r = Eval("leaked == nil and string_backup == nil");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, true);
  // Shadowing a builtin is also local to the call.
  ASSERT_TRUE(ExecCtx("now = function() return 0 end").ok());
  env_.now = FromUnixMillis(5);
  auto now = Eval("now()");
  ASSERT_TRUE(now.ok()) << now.status();
  EXPECT_EQ(*now, 5);
}

TEST_F(SandboxTest, FinalizersAndWeakTablesAreRefused) {
  EXPECT_THAT(ExecCtx("setmetatable({}, {__gc = function() end})").status().message(),
              HasSubstr("__gc is not allowed"));
  EXPECT_THAT(ExecCtx("setmetatable({}, {__mode = 'k'})").status().message(),
              HasSubstr("__mode is not allowed"));
  auto ok = Eval("getmetatable(setmetatable({}, {__index = {a = 1}})).__index.a");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(*ok, 1);
}

TEST_F(SandboxTest, PairsOrderIsDeterministic) {
  // Insertion order deliberately scrambled; floats sort with integers, then strings, then booleans.
  auto r = Eval(R"((function()
    local t = {}
    t.zeta = 1; t[3] = 1; t.alpha = 1; t[true] = 1; t[-2] = 1; t[2.5] = 1; t.Beta = 1
    t[false] = 1; t[10] = 1; t[""] = 1; t[1] = 1
    local out = {}
    for k in pairs(t) do out[#out + 1] = tostring(k) end
    return table.concat(out, ",")
  end)())");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "-2,1,2.5,3,10,,Beta,alpha,zeta,false,true");
}

TEST_F(SandboxTest, PairsSkipsKeysRemovedDuringTheLoop) {
  auto r = Eval(R"((function()
    local t = {a = 1, b = 2, c = 3, d = 4}
    local seen = {}
    for k in pairs(t) do
      seen[#seen + 1] = k
      if k == 'a' then t.c = nil end
    end
    return table.concat(seen)
  end)())");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "abd");
}

TEST_F(SandboxTest, PairsHonoursPairsMetamethod) {
  auto r = Eval(R"((function()
    local t = setmetatable({}, {__pairs = function(t)
      local done = false
      return function() if done then return nil end done = true return 'k', 'v' end, t, nil
    end})
    for k, v in pairs(t) do return k .. v end
  end)())");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "kv");
}

TEST_F(SandboxTest, CoroutinesWork) {
  auto r = Eval(R"((function()
    local co = coroutine.wrap(function(a) local b = coroutine.yield(a + 1) return b * 2 end)
    return co(1) + co(10)
  end)())");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, 22);
}

// ----- instruction budget -----

TEST_F(SandboxTest, EndlessLoopExhaustsTheBudgetAndTheRuntimeStaysUsable) {
  Reset(Limits{.instruction_budget = 100'000});
  Json ctx = {{"a", 1}};
  Status s =
      rt_->Execute(At("ctx.a = 2\nwhile true do end", "loop.yaml", 20), &ctx, env_, &requests_);
  ASSERT_TRUE(s.IsResourceExhausted()) << s;
  EXPECT_THAT(s.message(), StartsWith("loop.yaml:21: "));
  EXPECT_THAT(s.message(), HasSubstr("100000"));
  EXPECT_THAT(s.message(), HasSubstr("lua.instruction_budget"));
  EXPECT_EQ(ctx, (Json{{"a", 1}}));
  for (int i = 0; i < 3; ++i) {
    auto r = Eval("1 + 1");
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(*r, 2);
  }
}

TEST_F(SandboxTest, GuardsHaveTheBudgetToo) {
  Reset(Limits{.instruction_budget = 10'000});
  auto r = Guard("(function() while true do end end)()");
  EXPECT_TRUE(r.status().IsResourceExhausted()) << r.status();
}

TEST_F(SandboxTest, PcallCannotSwallowTheBudget) {
  Reset(Limits{.instruction_budget = 50'000});
  Status s = ExecCtx("while true do pcall(function() while true do end end) end").status();
  EXPECT_TRUE(s.IsResourceExhausted()) << s;
  s = ExecCtx(
          "for i = 1, 1e9 do xpcall(function() while true do end end, function(e) "
          "return e end) end")
          .status();
  EXPECT_TRUE(s.IsResourceExhausted()) << s;
}

TEST_F(SandboxTest, BudgetCoversCoroutines) {
  Reset(Limits{.instruction_budget = 50'000});
  Status s = ExecCtx("coroutine.wrap(function() while true do end end)()").status();
  EXPECT_TRUE(s.IsResourceExhausted()) << s;
  s = ExecCtx(R"(
    while true do
      local co = coroutine.create(function() for i = 1, 100 do end end)
      coroutine.resume(co)
    end)")
          .status();
  EXPECT_TRUE(s.IsResourceExhausted()) << s;
}

TEST_F(SandboxTest, BudgetBillsInstructionsInsideShortCoroutines) {
  Reset(Limits{.instruction_budget = 100'000});
  // Each coroutine runs about 300 instructions, fewer than the main thread's hook interval: billed
  // only by the main thread, 500 of them would pass unnoticed.
  const char* kBody = "local x = 0 for j = 1, 150 do x = x + j end";
  const std::string create = std::string("for i = 1, N do coroutine.resume(coroutine.create(") +
                             "function() " + kBody + " end)) end";
  const std::string wrap =
      std::string("for i = 1, N do coroutine.wrap(function() ") + kBody + " end)() end";
  for (const std::string& code : {create, wrap}) {
    SCOPED_TRACE(code);
    std::string over = code, under = code;
    over.replace(over.find('N'), 1, "500");    // ~150k instructions
    under.replace(under.find('N'), 1, "200");  // ~60k instructions
    Status s = ExecCtx(over).status();
    EXPECT_TRUE(s.IsResourceExhausted()) << s;
    s = ExecCtx(under).status();
    EXPECT_TRUE(s.ok()) << s;
  }
}

TEST_F(SandboxTest, BudgetIsPerCall) {
  Reset(Limits{.instruction_budget = 20'000});
  // About 4 instructions per iteration: well inside one call's budget, far beyond it summed up.
  for (int i = 0; i < 50; ++i) {
    Status s = ExecCtx("local x = 0 for i = 1, 2000 do x = x + i end").status();
    ASSERT_TRUE(s.ok()) << "call " << i << ": " << s;
  }
}

TEST_F(SandboxTest, InvalidLimitsAreRejected) {
  auto zero = RuntimeImpl::Create(Limits{.instruction_budget = 0});
  EXPECT_TRUE(zero.status().IsInvalidArgument()) << zero.status();
  auto tiny = RuntimeImpl::Create(Limits{.memory_limit_bytes = 1024});
  EXPECT_TRUE(tiny.status().IsInvalidArgument()) << tiny.status();
  EXPECT_THAT(tiny.status().message(), HasSubstr("lua.memory_limit_bytes"));
}

// ----- memory limit -----

class MemoryLimitTest : public LuaTest {
 protected:
  void SetUp() override {
    Reset(Limits{.instruction_budget = 1'000'000'000, .memory_limit_bytes = 4u << 20});
  }
};

TEST_F(MemoryLimitTest, HugeStringIsRefusedAndTheRuntimeStaysUsable) {
  const std::size_t baseline = rt_->MemoryInUse();
  EXPECT_GT(baseline, 0u);
  EXPECT_LT(baseline, 4u << 20);
  Json ctx = {{"a", 1}};
  Status s = rt_->Execute(At("ctx.a = 2\nlocal s = string.rep('x', 1e9)", "mem.yaml", 3), &ctx,
                          env_, &requests_);
  ASSERT_TRUE(s.IsResourceExhausted()) << s;
  EXPECT_THAT(s.message(), StartsWith("mem.yaml:4: "));
  EXPECT_THAT(s.message(), HasSubstr("lua.memory_limit_bytes"));
  EXPECT_EQ(ctx, (Json{{"a", 1}}));
  EXPECT_LE(rt_->MemoryInUse(), 4u << 20);
  auto r = Eval("('ab'):rep(2)");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "abab");
}

TEST_F(MemoryLimitTest, GrowingTableIsRefused) {
  Json ctx = Json::object();
  Status s = rt_->Execute(At("local t = {}\nfor i = 1, 1e9 do t[i] = {i} end", "grow.yaml", 1),
                          &ctx, env_, &requests_);
  ASSERT_TRUE(s.IsResourceExhausted()) << s;
  EXPECT_THAT(s.message(), StartsWith("grow.yaml:2: "));
  EXPECT_THAT(s.message(), HasSubstr("lua.memory_limit_bytes"));
  // The garbage is collected after the failure, and the next call runs normally.
  EXPECT_LT(rt_->MemoryInUse(), 1u << 20);
  auto r = ExecCtx("ctx.n = #string.rep('x', 1000)");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)["n"], 1000);
}

TEST_F(MemoryLimitTest, CodeMayRecoverFromARefusedAllocation) {
  auto r = ExecCtx("ctx.ok = pcall(string.rep, 'x', 1e9)");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)["ok"], false);
}

TEST_F(MemoryLimitTest, HugeCtxFailsCleanly) {
  Json ctx = {{"blob", std::string(5u << 20, 'x')}};
  Status s = rt_->Execute(At("ctx.touched = true"), &ctx, env_, &requests_);
  ASSERT_TRUE(s.IsResourceExhausted()) << s;
  EXPECT_THAT(s.message(), HasSubstr("while loading ctx and event"));
  EXPECT_FALSE(ctx.contains("touched"));
  auto r = Eval("1");
  ASSERT_TRUE(r.ok()) << r.status();
}

}  // namespace
}  // namespace nurt::lua
