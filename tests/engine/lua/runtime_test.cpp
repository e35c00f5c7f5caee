// Runtime behaviour: guards, read-only ctx, Execute's all-or-nothing update, requests, the
// builtins, error messages with file lines, and the chunk cache.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "lua_test_util.hpp"

namespace nurt::lua {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

using RuntimeTest = LuaTest;

TEST_F(RuntimeTest, NewRuntimeWorksThroughThePublicInterface) {
  auto rt = NewRuntime();
  ASSERT_TRUE(rt.ok()) << rt.status();
  CallEnv env;
  auto r = (*rt)->Evaluate(Chunk{"1 + 2", "x.yaml", 3}, Json::object(), env);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, 3);
  EXPECT_GT((*rt)->MemoryInUse(), 0u);
}

// ----- guards and read-only ctx -----

TEST_F(RuntimeTest, GuardUsesLuaTruthiness) {
  const Json ctx = {{"n", 0}, {"s", ""}, {"off", false}, {"nothing", nullptr}};
  struct Case {
    const char* expr;
    bool expected;
  };
  for (const Case& c : {
           Case{"nil", false},
           Case{"false", false},
           Case{"ctx.off", false},
           Case{"ctx.missing", false},
           Case{"ctx.n", true},
           Case{"ctx.s", true},
           Case{"{}", true},
           Case{"ctx.nothing", true},  // null is a value, like in JSON; compare with `~= null`
           Case{"ctx.nothing ~= null", false},
           Case{"ctx.n == 0 and #ctx.s == 0", true},
       }) {
    SCOPED_TRACE(c.expr);
    auto r = Guard(c.expr, ctx);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(*r, c.expected);
  }
}

TEST_F(RuntimeTest, GuardsCannotChangeCtx) {
  const Json ctx = {{"a", 1}, {"items", {1, 2}}, {"o", {{"k", "v"}}}};
  for (const char* code : {
           "(function() ctx.a = 2 end)()",
           "(function() ctx.new = 1 end)()",
           "(function() ctx.items[1] = 5 end)()",
           "(function() ctx.o.k = 'w' end)()",
           "table.insert(ctx.items, 3)",
           "table.sort(ctx.items, function(a, b) return a > b end)",
           "(function() event.name = 'x' end)()",
       }) {
    SCOPED_TRACE(code);
    auto r = Guard(code, ctx);
    ASSERT_TRUE(r.status().IsInvalidArgument()) << r.status();
    EXPECT_THAT(r.status().message(), HasSubstr("guards and expressions cannot change ctx"));
    auto e = Eval(code, ctx);
    EXPECT_THAT(e.status().message(), HasSubstr("guards and expressions cannot change ctx"));
  }
  auto r = Guard("rawset(ctx, 'a', 2)", ctx);
  EXPECT_THAT(r.status().message(), HasSubstr("rawset: this table is read-only"));
  r = Guard("setmetatable(ctx, nil)", ctx);
  EXPECT_THAT(r.status().message(), HasSubstr("cannot change a protected metatable"));
}

TEST_F(RuntimeTest, GuardsReadCtxLikeAPlainTable) {
  const Json ctx = {{"b", 2}, {"a", 1}, {"items", {"x", "y", "z"}}, {"empty", Json::object()}};
  struct Case {
    const char* expr;
    Json expected;
  };
  for (const Case& c : {
           Case{"#ctx.items", 3},
           Case{"table.concat(ctx.items, ',')", "x,y,z"},
           Case{"select('#', table.unpack(ctx.items))", 3},
           Case{"(function() local s = '' for i, v in ipairs(ctx.items) do s = s .. i .. v end "
                "return s end)()",
                "1x2y3z"},
           Case{"(function() local s = '' for k in pairs(ctx) do s = s .. k .. ' ' end "
                "return s end)()",
                "a b empty items "},
           Case{"next(ctx) ~= nil and next(ctx.empty) == nil", true},
           Case{"rawget(ctx, 'a') + rawlen(ctx.items)", 4},
           Case{"type(ctx) .. ' ' .. getmetatable(ctx.items)", "table array"},
           Case{"ctx.items == ctx.items", true},
       }) {
    SCOPED_TRACE(c.expr);
    auto r = Eval(c.expr, ctx);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(*r, c.expected);
  }
}

// ----- Execute -----

TEST_F(RuntimeTest, ExecuteChangesCtx) {
  Json ctx = {{"stage", "new"}, {"count", 1}};
  ASSERT_TRUE(Exec("ctx.stage = 'won'; ctx.count = ctx.count + 1; ctx.tags = {'a'}", &ctx).ok());
  EXPECT_EQ(ctx.dump(), R"({"stage":"won","count":2,"tags":["a"]})");
  // Replacing ctx as a whole works too.
  ASSERT_TRUE(Exec("ctx = {fresh = true}", &ctx).ok());
  EXPECT_EQ(ctx.dump(), R"({"fresh":true})");
}

TEST_F(RuntimeTest, ExecuteLeavesCtxAndRequestsUntouchedOnError) {
  const Json original = {{"a", 1}, {"list", {1, 2}}};
  requests_.push_back(Request{Request::Kind::kLog, "earlier", "", "", nullptr});
  for (const char* code : {
           "ctx.a = 2; table.insert(ctx.list, 3); emit('x'); error('boom')",
           "ctx.a = 2; emit('x'); ctx.bad = function() end",
           "ctx.a = 2; log('x'); ctx = nil",
           "ctx.a = 2; emit('x'); local t = nil; t.x = 1",
       }) {
    SCOPED_TRACE(code);
    Json ctx = original;
    Status s = Exec(code, &ctx);
    EXPECT_TRUE(s.IsInvalidArgument()) << s;
    EXPECT_EQ(ctx, original);
    ASSERT_EQ(requests_.size(), 1u);
    EXPECT_EQ(requests_[0].name, "earlier");
  }
}

TEST_F(RuntimeTest, NullCtxIsAnEmptyTableAndStaysNullWhenUntouched) {
  Json ctx;  // null
  ASSERT_TRUE(Exec("assert(next(ctx) == nil)", &ctx).ok());
  EXPECT_TRUE(ctx.is_null());
  ASSERT_TRUE(Exec("ctx.a = 1", &ctx).ok());
  EXPECT_EQ(ctx, (Json{{"a", 1}}));
  auto g = Guard("ctx.a == nil", Json());
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_TRUE(*g);
}

// ----- requests -----

TEST_F(RuntimeTest, RequestsAreRecordedInOrder) {
  requests_.push_back(Request{Request::Kind::kLog, "earlier", "", "", nullptr});
  Json ctx = Json::object();
  ASSERT_TRUE(Exec(R"(
    emit('invoice.paid', {amount = 5})
    send('inst-2', 'ping')
    spawn('child', {n = 2}, 'key-1')
    log('hello', 42, 1.5, {1, 2}, {b = 1, a = 2}, nil, null, true)
    spawn('other')
    emit('plain', null)
  )",
                   &ctx)
                  .ok());
  ASSERT_EQ(requests_.size(), 7u);
  EXPECT_EQ(requests_[0].name, "earlier");

  EXPECT_EQ(requests_[1].kind, Request::Kind::kEmit);
  EXPECT_EQ(requests_[1].name, "invoice.paid");
  EXPECT_EQ(requests_[1].data, (Json{{"amount", 5}}));

  EXPECT_EQ(requests_[2].kind, Request::Kind::kSend);
  EXPECT_EQ(requests_[2].to, "inst-2");
  EXPECT_EQ(requests_[2].name, "ping");
  EXPECT_TRUE(requests_[2].data.is_null());

  EXPECT_EQ(requests_[3].kind, Request::Kind::kSpawn);
  EXPECT_EQ(requests_[3].name, "child");
  EXPECT_EQ(requests_[3].key, "key-1");
  EXPECT_EQ(requests_[3].data, (Json{{"n", 2}}));

  EXPECT_EQ(requests_[4].kind, Request::Kind::kLog);
  EXPECT_EQ(requests_[4].name, R"(hello 42 1.5 [1,2] {"a":2,"b":1} nil null true)");

  EXPECT_EQ(requests_[5].kind, Request::Kind::kSpawn);
  EXPECT_EQ(requests_[5].name, "other");
  EXPECT_EQ(requests_[5].key, "");

  EXPECT_EQ(requests_[6].name, "plain");
  EXPECT_TRUE(requests_[6].data.is_null());
}

TEST_F(RuntimeTest, RequestDataIsTakenWhenTheCallIsMade) {
  ASSERT_TRUE(ExecCtx("local d = {n = 1}; emit('x', d); d.n = 2").ok());
  ASSERT_EQ(requests_.size(), 1u);
  EXPECT_EQ(requests_[0].data, (Json{{"n", 1}}));
}

TEST_F(RuntimeTest, RequestsAreRefusedInGuardsAndExpressions) {
  for (const char* fn : {"emit('x')", "send('a', 'x')", "spawn('m')", "log('x')"}) {
    SCOPED_TRACE(fn);
    const std::string name = std::string(fn).substr(0, std::string(fn).find('('));
    auto g = Guard(fn);
    ASSERT_TRUE(g.status().IsInvalidArgument()) << g.status();
    EXPECT_THAT(g.status().message(), HasSubstr(name + "() is not allowed in a guard"));
    auto e = Eval(fn);
    EXPECT_THAT(e.status().message(), HasSubstr(name + "() is not allowed in a guard"));
  }
  EXPECT_TRUE(requests_.empty());
}

TEST_F(RuntimeTest, RequestArgumentErrorsAreClear) {
  struct Case {
    const char* code;
    const char* message;
  };
  for (const Case& c : {
           Case{"send(nil, 'x')",
                "test.lua:1: send(to, name [, data]): to (the target instance id) must be a "
                "string, got nil"},
           Case{"send('a')", "send(to, name [, data]): name must be a string, got no value"},
           Case{"emit('')", "emit(name [, data]): name must not be empty"},
           Case{"emit(42)", "emit(name [, data]): name must be a string, got number"},
           Case{"spawn('m', nil, 5)", "spawn(machine [, data [, key]]): key must be a string"},
           Case{"emit('x', {1, a = 2})", "emit(): data: mixes integer keys and string keys"},
           Case{"send('a', 'b', {f = math.floor})",
                "send(): data.f: a function cannot be stored in JSON"},
       }) {
    SCOPED_TRACE(c.code);
    Status s = ExecCtx(c.code).status();
    ASSERT_TRUE(s.IsInvalidArgument()) << s;
    EXPECT_THAT(s.message(), HasSubstr(c.message));
  }
  EXPECT_TRUE(requests_.empty());
}

// ----- event, time, states -----

TEST_F(RuntimeTest, EventTableFromCallEnv) {
  const Json event = {{"name", "invoice.paid"}, {"data", {{"amount", 5}}}, {"actor", "u1"}};
  env_.event = &event;
  auto r = Eval("event.name .. ':' .. event.data.amount .. ':' .. event.actor", Json::object());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "invoice.paid:5:u1");
  auto same = Guard("rawequal(event.data, event.payload)");
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_TRUE(*same);
  // In actions the event is a writable copy; data and payload are one table.
  auto ctx = ExecCtx("event.data.amount = 6; ctx.a = event.payload.amount");
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  EXPECT_EQ((*ctx)["a"], 6);
  EXPECT_EQ(event["data"]["amount"], 5);
}

TEST_F(RuntimeTest, MissingEventPartsAreNil) {
  auto r = Guard("event.name == nil and event.data == nil and event.actor == nil");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(*r);
  const Json only_name = {{"name", "go"}};
  env_.event = &only_name;
  r = Guard("event.name == 'go' and event.payload == nil");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(*r);
  const Json null_data = {{"name", "go"}, {"data", nullptr}};
  env_.event = &null_data;
  r = Guard("event.data == null");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(*r);
}

TEST_F(RuntimeTest, NowAndIsoUseTheEventTime) {
  env_.now = FromUnixMillis(1'767'225'600'123);  // 2026-01-01T00:00:00.123Z
  auto now = Eval("now()");
  ASSERT_TRUE(now.ok()) << now.status();
  EXPECT_TRUE(now->is_number_integer());
  EXPECT_EQ(*now, 1'767'225'600'123);
  auto iso = Eval("iso(now()) .. ' ' .. iso() .. ' ' .. iso(0) .. ' ' .. iso(now() + 86400000)");
  ASSERT_TRUE(iso.ok()) << iso.status();
  EXPECT_EQ(*iso,
            "2026-01-01T00:00:00.123Z 2026-01-01T00:00:00.123Z 1970-01-01T00:00:00.000Z "
            "2026-01-02T00:00:00.123Z");
  EXPECT_THAT(Eval("iso(1e18)").status().message(), HasSubstr("outside years 0000..9999"));
  EXPECT_THAT(Eval("iso('soon')").status().message(), HasSubstr("bad argument #1 to 'iso'"));
}

TEST_F(RuntimeTest, InAsksTheCallEnv) {
  auto r = Guard("In('open')");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(*r);  // no in_state: nothing is active
  env_.in_state = [](const std::string& id) { return id == "open"; };
  r = Guard("In('open') and not In('closed')");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(*r);
  EXPECT_THAT(Guard("In(nil)").status().message(), HasSubstr("In(id): id must be a string"));
  env_.in_state = [](const std::string&) -> bool { throw std::runtime_error("no such state"); };
  EXPECT_THAT(Guard("In('x')").status().message(), HasSubstr("In(): no such state"));
}

TEST_F(RuntimeTest, CallbacksCannotReenterTheRuntime) {
  Status inner;
  env_.in_state = [this, &inner](const std::string&) {
    inner = rt_->Evaluate(At("1"), Json::object(), env_).status();
    return true;
  };
  auto r = Guard("In('a') and ctx.x == 1", Json{{"x", 1}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(*r);
  EXPECT_EQ(inner.code(), StatusCode::kInternal) << inner;
  EXPECT_THAT(inner.message(), HasSubstr("re-entrantly"));
}

TEST_F(RuntimeTest, RunawayRecursionFailsCleanly) {
  // Lua recursion runs into the instruction budget (or Lua's stack limit, whichever is first).
  Status s = ExecCtx("local function f() return f() + 1 end f()").status();
  EXPECT_TRUE(s.IsResourceExhausted() || s.IsInvalidArgument()) << s;
  EXPECT_THAT(s.message(), StartsWith("test.lua:1: "));
  // Recursion through C functions hits Lua's C-stack limit.
  s = ExecCtx("local function f() return string.gsub('x', '.', f) end f()").status();
  ASSERT_TRUE(s.IsInvalidArgument()) << s;
  EXPECT_THAT(s.message(), StartsWith("test.lua:1: "));
  EXPECT_THAT(s.message(), HasSubstr("stack overflow"));
  // pcall at each level catches the overflow of the level below, as in plain Lua.
  s = ExecCtx("local function f() pcall(f) end f()").status();
  EXPECT_TRUE(s.ok()) << s;
  auto r = Eval("'still ' .. 'fine'");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "still fine");
}

TEST_F(RuntimeTest, InstanceId) {
  env_.instance_id = "01JABCDEF";
  auto r = Eval("instance_id()");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "01JABCDEF");
}

TEST_F(RuntimeTest, ArrayMarksTables) {
  auto r = Eval("array({})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->dump(), "[]");
  r = Eval("getmetatable(array())");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "array");
  r = Eval("array(ctx.l)", Json{{"l", Json::array()}});  // already an array
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->dump(), "[]");
  EXPECT_THAT(Eval("array(setmetatable({}, {}))").status().message(),
              HasSubstr("array(t): t already has a metatable"));
  EXPECT_THAT(Eval("array(ctx)").status().message(), HasSubstr("array(t): t is read-only"));
  EXPECT_THAT(Eval("array(5)").status().message(), HasSubstr("bad argument #1 to 'array'"));
}

// ----- errors -----

TEST_F(RuntimeTest, ErrorsNameTheFileLine) {
  Json ctx = Json::object();
  Status s =
      rt_->Execute(Chunk{"local x = 1\nlocal y = x.field", "x.yaml", 14}, &ctx, env_, &requests_);
  ASSERT_TRUE(s.IsInvalidArgument()) << s;
  EXPECT_THAT(s.message(), StartsWith("x.yaml:15: attempt to index a number value"));

  auto g = rt_->EvaluateGuard(Chunk{"ctx.a.b > 1", "flows/lead.yaml", 7}, Json::object(), env_);
  EXPECT_THAT(g.status().message(), StartsWith("flows/lead.yaml:7: attempt to index a nil value"));

  auto e = rt_->Evaluate(Chunk{"1 +\n\n  nil", "v.yaml", 30}, Json::object(), env_);
  EXPECT_THAT(e.status().message(), StartsWith("v.yaml:"));
  EXPECT_THAT(e.status().message(), HasSubstr("attempt to perform arithmetic on a nil value"));

  s = rt_->Execute(Chunk{"local function f()\n  error('deep')\nend\nf()", "f.lua", 100}, &ctx, env_,
                   &requests_);
  EXPECT_EQ(s.message(), "f.lua:101: deep");
}

TEST_F(RuntimeTest, SyntaxErrorsNameTheFileLine) {
  Json ctx = Json::object();
  Status s = rt_->Execute(Chunk{"ctx.a = 1\nctx.b = = 2", "s.yaml", 14}, &ctx, env_, &requests_);
  ASSERT_TRUE(s.IsInvalidArgument()) << s;
  EXPECT_THAT(s.message(), StartsWith("s.yaml:15: unexpected symbol near '='"));
  auto g = rt_->EvaluateGuard(Chunk{"ctx.a ==", "g.yaml", 9}, Json::object(), env_);
  ASSERT_TRUE(g.status().IsInvalidArgument()) << g.status();
  EXPECT_THAT(g.status().message(), StartsWith("g.yaml:"));
  // Statements are not expressions.
  g = rt_->EvaluateGuard(Chunk{"x = 1", "g.yaml", 9}, Json::object(), env_);
  EXPECT_THAT(g.status().message(), StartsWith("g.yaml:9:"));
}

TEST_F(RuntimeTest, NonStringErrorObjectsGetReadableText) {
  struct Case {
    const char* code;
    const char* message;
  };
  for (const Case& c : {
           Case{"ctx.x = 1\nerror({code = 42, why = 'no'})",
                R"(e.yaml:6: error object {"code":42,"why":"no"})"},
           Case{"error()", "e.yaml:5: (error object is a nil value)"},
           Case{"error(false)", "e.yaml:5: (error object is a boolean value)"},
           Case{"error(42)", "e.yaml:5: 42"},
           Case{"error('no position', 0)", "e.yaml:5: no position"},
           Case{"error(setmetatable({}, {__tostring = function() return 'custom' end}))",
                "e.yaml:5: custom"},
           Case{"error({math.floor})", "e.yaml:5: (error object is a table value)"},
       }) {
    SCOPED_TRACE(c.code);
    Json ctx = Json::object();
    Status s = rt_->Execute(Chunk{c.code, "e.yaml", 5}, &ctx, env_, &requests_);
    ASSERT_TRUE(s.IsInvalidArgument()) << s;
    EXPECT_EQ(s.message(), c.message);
  }
}

TEST_F(RuntimeTest, LongFileNamesAreNotTruncated) {
  const std::string file =
      "workflows/a-very-long-directory-name/another-level-of-nesting/the-workflow-definition.yaml";
  Json ctx = Json::object();
  Status s = rt_->Execute(Chunk{"\nerror('boom')", file, 40}, &ctx, env_, &requests_);
  EXPECT_EQ(s.message(), file + ":41: boom");
  s = rt_->Execute(Chunk{"\nctx.a = = 1", file, 40}, &ctx, env_, &requests_);
  EXPECT_THAT(s.message(), StartsWith(file + ":41: "));
}

TEST_F(RuntimeTest, EvaluateRejectsNilAndUnconvertibleValues) {
  auto r = Eval("ctx.missing");
  ASSERT_TRUE(r.status().IsInvalidArgument()) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("evaluated to nil; write null"));
  r = Eval("function() end");
  EXPECT_THAT(r.status().message(), HasSubstr("value: a function cannot be stored in JSON"));
  r = Eval("{a = {1, x = 2}}");
  EXPECT_THAT(r.status().message(), HasSubstr("value.a: mixes integer keys"));
}

// ----- cache -----

TEST_F(RuntimeTest, CompiledChunksAreCached) {
  const Json ctx = {{"n", 2}};
  for (int i = 0; i < 3; ++i) {
    auto r = rt_->Evaluate(Chunk{"ctx.n * 10", "c.yaml", 4}, ctx, env_);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(*r, 20);
  }
  EXPECT_EQ(rt_->compile_count(), 1u);
  // The same text at another line, in another file, or as a guard is another chunk.
  ASSERT_TRUE(rt_->Evaluate(Chunk{"ctx.n * 10", "c.yaml", 5}, ctx, env_).ok());
  ASSERT_TRUE(rt_->Evaluate(Chunk{"ctx.n * 10", "d.yaml", 4}, ctx, env_).ok());
  ASSERT_TRUE(rt_->EvaluateGuard(Chunk{"ctx.n * 10", "c.yaml", 4}, ctx, env_).ok());
  EXPECT_EQ(rt_->compile_count(), 3u);  // guards and expressions compile to the same code
  Json c2 = ctx;
  ASSERT_TRUE(rt_->Execute(Chunk{"ctx.n = ctx.n * 10", "c.yaml", 4}, &c2, env_, &requests_).ok());
  ASSERT_TRUE(rt_->Execute(Chunk{"ctx.n = ctx.n * 10", "c.yaml", 4}, &c2, env_, &requests_).ok());
  EXPECT_EQ(c2["n"], 200);
  EXPECT_EQ(rt_->compile_count(), 4u);
  EXPECT_EQ(rt_->cached_chunks(), 4u);
}

TEST_F(RuntimeTest, FailedCompilesAreNotCached) {
  for (int i = 0; i < 2; ++i) {
    EXPECT_FALSE(Eval("1 +").ok());
  }
  EXPECT_EQ(rt_->cached_chunks(), 0u);
}

TEST_F(RuntimeTest, CacheIsBounded) {
  for (std::size_t i = 0; i < RuntimeImpl::kMaxCachedChunks + 10; ++i) {
    const std::string src = std::to_string(i);
    auto r = Eval(src);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(*r, static_cast<int>(i));
  }
  EXPECT_LE(rt_->cached_chunks(), RuntimeImpl::kMaxCachedChunks);
  EXPECT_EQ(rt_->compile_count(), RuntimeImpl::kMaxCachedChunks + 10);
}

}  // namespace
}  // namespace nurt::lua
