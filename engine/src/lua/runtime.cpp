#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iterator>
#include <new>
#include <string>
#include <utility>

#include "lua/json_bridge.hpp"
#include "lua/runtime_impl.hpp"
#include "lua/sandbox.hpp"
#include "nurt/core/time.hpp"

namespace nurt::lua {

namespace internal {

enum class Mode { kExpression, kGuard, kAction };
enum class Phase { kPreparing, kRunning, kFinishing };

// Everything one Evaluate/EvaluateGuard/Execute call shares with the Lua C functions. Lives in the
// C++ frame of the public method, outside every protected call.
struct CallState {
  Mode mode = Mode::kExpression;
  Phase phase = Phase::kPreparing;
  const Chunk* chunk = nullptr;
  const Json* ctx = nullptr;
  const CallEnv* env = nullptr;
  const Json* event_name = nullptr;  // parts of *env->event, found before the protected call
  const Json* event_data = nullptr;
  const Json* event_actor = nullptr;

  std::string file;        // Chunk::file
  std::string short_name;  // how Lua names the chunk in messages (a tail of `file` if it is long)
  std::string chunk_name;  // "=" + short_name
  std::string cache_key;
  std::string text;  // source to compile on a cache miss
  int cached_ref = LUA_NOREF;
  int new_ref = LUA_NOREF;
  bool compiled = false;
  bool compile_failed = false;

  std::uint64_t instructions = 0;
  bool budget_hit = false;
  int budget_line = 0;

  std::string error;    // set by a helper that failed; raised by the Lua C function that called it
  std::string scratch;  // text a helper hands to its Lua C function
  std::vector<Request> requests;

  bool actions_allowed() const { return mode == Mode::kAction; }
};

}  // namespace internal

namespace {

using internal::CallState;
using internal::Mode;
using internal::Phase;

// Lua reports a "=name" chunk by at most LUA_IDSIZE-1 characters of the name.
constexpr std::size_t kMaxShortName = LUA_IDSIZE - 1;

RuntimeImpl* RuntimeOf(lua_State* L) {
  RuntimeImpl* rt = nullptr;
  std::memcpy(&rt, lua_getextraspace(L), sizeof rt);
  return rt;
}

CallState* CallOf(lua_State* L) { return RuntimeOf(L)->current_call(); }

// First Lua frame with a line at or above `level`; 0 when there is none.
int CurrentLine(lua_State* L, int level) {
  lua_Debug ar;
  for (; lua_getstack(L, level, &ar) != 0; ++level) {
    if (lua_getinfo(L, "l", &ar) != 0 && ar.currentline > 0) return ar.currentline;
  }
  return 0;
}

void* HeapAlloc(void* ud, void* ptr, std::size_t osize, std::size_t nsize) {
  auto* heap = static_cast<RuntimeImpl::Heap*>(ud);
  const std::size_t old = ptr != nullptr ? osize : 0;  // for new blocks osize is a type tag
  if (nsize == 0) {
    std::free(ptr);
    heap->used -= old;
    return nullptr;
  }
  if (nsize > old && heap->used - old + nsize > heap->limit) {
    if (!heap->refused) {
      heap->refused = true;
      // Locate the refusal for the message. Reading the main thread's call stack neither allocates
      // nor changes anything; inside a coroutine this finds the line that resumed it.
      CallState* call = heap->owner != nullptr ? heap->owner->current_call() : nullptr;
      if (call != nullptr && call->phase == Phase::kRunning) {
        heap->refused_line = CurrentLine(heap->owner->state(), 0);
      }
    }
    return nullptr;
  }
  void* p = std::realloc(ptr, nsize);
  if (p == nullptr) return nullptr;
  heap->used = heap->used - old + nsize;
  return p;
}

int Panic(lua_State* L) {
  const char* msg = lua_tostring(L, -1);
  std::fprintf(stderr, "nurt: unprotected Lua error (a bug in nurt::lua): %s\n",
               msg != nullptr ? msg : "(no message)");
  std::abort();
}

void CountHook(lua_State* L, lua_Debug* ar) {
  RuntimeImpl* rt = RuntimeOf(L);
  CallState* call = rt->current_call();
  if (call == nullptr) return;
  call->instructions += static_cast<std::uint64_t>(lua_gethookcount(L));  // this thread's count
  if (call->instructions <= rt->limits().instruction_budget) return;
  if (!call->budget_hit) {
    call->budget_hit = true;
    if (lua_getinfo(L, "l", ar) != 0 && ar->currentline > 0) call->budget_line = ar->currentline;
  }
  // Fire again at the very next instruction of this thread, so pcall cannot swallow the limit.
  lua_sethook(L, CountHook, LUA_MASKCOUNT, 1);
  lua_pushliteral(L, "instruction budget exceeded");
  lua_error(L);
}

// Raises call->error as a Lua error located at the calling Lua line.
int RaiseCallError(lua_State* L, CallState* call) {
  luaL_where(L, 1);
  lua_pushlstring(L, call->error.data(), call->error.size());
  lua_concat(L, 2);
  return lua_error(L);
}

int RefuseInGuard(lua_State* L, const char* fn) {
  return luaL_error(
      L, "%s() is not allowed in a guard or expression; call it from a lua/script action", fn);
}

struct StrArg {
  const char* data = nullptr;
  std::size_t size = 0;
};

// A required, non-empty string argument.
StrArg CheckName(lua_State* L, int arg, const char* usage, const char* what) {
  if (lua_type(L, arg) != LUA_TSTRING) {
    luaL_error(L, "%s: %s must be a string, got %s", usage, what, luaL_typename(L, arg));
  }
  StrArg s;
  s.data = lua_tolstring(L, arg, &s.size);
  if (s.size == 0) luaL_error(L, "%s: %s must not be empty", usage, what);
  return s;
}

// Converts the argument at `data_arg` (0: none, the data is null) and appends a request. Never
// raises; on failure leaves the message in call->error.
bool AppendRequest(lua_State* L, CallState* call, Request::Kind kind, const char* fn, StrArg name,
                   StrArg to, StrArg key, int data_arg) noexcept {
  try {
    Request r;
    r.kind = kind;
    r.name.assign(name.data, name.size);
    if (to.data != nullptr) r.to.assign(to.data, to.size);
    if (key.data != nullptr) r.key.assign(key.data, key.size);
    if (data_arg != 0) {
      Status s = bridge::LuaToJson(L, data_arg, nullptr, "data", &r.data);
      if (!s.ok()) {
        call->error = std::string(fn) + "(): " + s.message();
        return false;
      }
    }
    call->requests.push_back(std::move(r));
    return true;
  } catch (const std::exception& e) {
    call->error = std::string(fn) + "(): " + e.what();
    return false;
  }
}

int DataArg(lua_State* L, int arg) { return lua_isnoneornil(L, arg) ? 0 : arg; }

int LuaEmit(lua_State* L) {
  CallState* call = CallOf(L);
  if (!call->actions_allowed()) return RefuseInGuard(L, "emit");
  const StrArg name = CheckName(L, 1, "emit(name [, data])", "name");
  if (!AppendRequest(L, call, Request::Kind::kEmit, "emit", name, {}, {}, DataArg(L, 2))) {
    return RaiseCallError(L, call);
  }
  return 0;
}

int LuaSend(lua_State* L) {
  CallState* call = CallOf(L);
  if (!call->actions_allowed()) return RefuseInGuard(L, "send");
  const StrArg to = CheckName(L, 1, "send(to, name [, data])", "to (the target instance id)");
  const StrArg name = CheckName(L, 2, "send(to, name [, data])", "name");
  if (!AppendRequest(L, call, Request::Kind::kSend, "send", name, to, {}, DataArg(L, 3))) {
    return RaiseCallError(L, call);
  }
  return 0;
}

int LuaSpawn(lua_State* L) {
  CallState* call = CallOf(L);
  if (!call->actions_allowed()) return RefuseInGuard(L, "spawn");
  const char* usage = "spawn(machine [, data [, key]])";
  const StrArg machine = CheckName(L, 1, usage, "machine");
  StrArg key;
  if (!lua_isnoneornil(L, 3)) key = CheckName(L, 3, usage, "key");
  if (!AppendRequest(L, call, Request::Kind::kSpawn, "spawn", machine, {}, key, DataArg(L, 2))) {
    return RaiseCallError(L, call);
  }
  return 0;
}

// Renders the table at `arg` as compact JSON into call->scratch. Never raises.
bool RenderJson(lua_State* L, CallState* call, int arg) noexcept {
  try {
    Json value;
    if (!bridge::LuaToJson(L, arg, nullptr, "log", &value).ok()) return false;
    call->scratch = value.dump();
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

// log(...): the arguments joined by spaces; tables are shown as JSON when they convert.
int LuaLog(lua_State* L) {
  CallState* call = CallOf(L);
  if (!call->actions_allowed()) return RefuseInGuard(L, "log");
  const int n = lua_gettop(L);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 1; i <= n; ++i) {
    if (i > 1) luaL_addchar(&b, ' ');
    bool rendered = false;
    if (lua_type(L, i) == LUA_TTABLE) {
      // Temporary pushes are balanced before the next buffer operation, as luaL_Buffer requires.
      const bool has_tostring = luaL_getmetafield(L, i, "__tostring") != LUA_TNIL;
      if (has_tostring) lua_pop(L, 1);
      rendered = !has_tostring && RenderJson(L, call, i);
    }
    if (rendered) {
      luaL_addlstring(&b, call->scratch.data(), call->scratch.size());
    } else {
      luaL_tolstring(L, i, nullptr);
      luaL_addvalue(&b);
    }
  }
  luaL_pushresult(&b);
  StrArg text;
  text.data = lua_tolstring(L, -1, &text.size);
  if (!AppendRequest(L, call, Request::Kind::kLog, "log", text, {}, {}, 0)) {
    return RaiseCallError(L, call);
  }
  return 0;
}

int LuaNow(lua_State* L) {
  lua_pushinteger(L, static_cast<lua_Integer>(ToUnixMillis(CallOf(L)->env->now)));
  return 1;
}

bool FormatIsoInto(CallState* call, lua_Integer ms) noexcept {
  try {
    call->scratch = FormatIso8601(FromUnixMillis(ms));
    return true;
  } catch (const std::exception& e) {
    call->error = std::string("iso(): ") + e.what();
    return false;
  }
}

int LuaIso(lua_State* L) {
  CallState* call = CallOf(L);
  // Years 0000..9999: the range ISO-8601 text (and FormatIso8601) handles.
  constexpr lua_Integer kMin = -62'167'219'200'000;  // 0000-01-01T00:00:00.000Z
  constexpr lua_Integer kMax = 253'402'300'799'999;  // 9999-12-31T23:59:59.999Z
  const lua_Integer ms = lua_isnoneornil(L, 1)
                             ? static_cast<lua_Integer>(ToUnixMillis(call->env->now))
                             : luaL_checkinteger(L, 1);
  if (ms < kMin || ms > kMax) {
    return luaL_error(L, "iso(ms): %I is outside years 0000..9999", ms);
  }
  if (!FormatIsoInto(call, ms)) return RaiseCallError(L, call);
  lua_pushlstring(L, call->scratch.data(), call->scratch.size());
  return 1;
}

bool AskInState(CallState* call, StrArg id, bool* active) noexcept {
  try {
    *active = call->env->in_state ? call->env->in_state(std::string(id.data, id.size)) : false;
    return true;
  } catch (const std::exception& e) {
    call->error = std::string("In(): ") + e.what();
    return false;
  }
}

int LuaIn(lua_State* L) {
  CallState* call = CallOf(L);
  const StrArg id = CheckName(L, 1, "In(id)", "id");
  bool active = false;
  if (!AskInState(call, id, &active)) return RaiseCallError(L, call);
  lua_pushboolean(L, active ? 1 : 0);
  return 1;
}

int LuaInstanceId(lua_State* L) {
  const std::string& id = CallOf(L)->env->instance_id;
  lua_pushlstring(L, id.data(), id.size());
  return 1;
}

// array([t]): marks t (or a new table) as a JSON array and returns it.
int LuaArray(lua_State* L) {
  if (lua_isnoneornil(L, 1)) {
    lua_newtable(L);
  } else {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
  }
  if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL) {
    if (lua_type(L, -1) == LUA_TSTRING && std::strcmp(lua_tostring(L, -1), "array") == 0) {
      lua_pop(L, 1);
      return 1;  // already an array
    }
    return luaL_error(L, "array(t): t is read-only or has a protected metatable");
  }
  if (lua_getmetatable(L, 1)) {
    return luaL_error(L, "array(t): t already has a metatable");
  }
  bridge::PushArrayMetatable(L);
  lua_setmetatable(L, 1);
  return 1;
}

int Setup(lua_State* L) {
  sandbox::Open(L);
  lua_pushglobaltable(L);
  const luaL_Reg kBuiltins[] = {
      {"now", LuaNow},     {"iso", LuaIso},   {"In", LuaIn},     {"instance_id", LuaInstanceId},
      {"array", LuaArray}, {"emit", LuaEmit}, {"send", LuaSend}, {"spawn", LuaSpawn},
      {"log", LuaLog},
  };
  for (const luaL_Reg& r : kBuiltins) {
    lua_pushcfunction(L, r.func);
    lua_setfield(L, -2, r.name);
  }
  bridge::PushNull(L);
  lua_setfield(L, -2, "null");
  return 0;
}

// Stores "(error object is a table: {...})" style text for non-string error objects in
// call->scratch.
bool DescribeErrorTable(lua_State* L, CallState* call, int index) noexcept {
  try {
    Json value;
    if (!bridge::LuaToJson(L, index, nullptr, "error", &value).ok()) return false;
    call->scratch = "error object " + value.dump();
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

// Message handler of the outer protected call: turns any error object into "<file>:<line>: text".
int MessageHandler(lua_State* L) {
  CallState* call = CallOf(L);
  luaL_checkstack(L, 4, nullptr);
  const char* name = call->short_name.c_str();
  const std::size_t name_len = call->short_name.size();
  if (lua_type(L, 1) == LUA_TSTRING) {
    const char* msg = lua_tostring(L, 1);
    if (std::strncmp(msg, name, name_len) == 0 && msg[name_len] == ':') return 1;  // located
  } else if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) {
    lua_replace(L, 1);
  } else if (lua_type(L, 1) == LUA_TTABLE && DescribeErrorTable(L, call, 1)) {
    lua_pushlstring(L, call->scratch.data(), call->scratch.size());
    lua_replace(L, 1);
  } else if (lua_type(L, 1) == LUA_TNUMBER) {
    luaL_tolstring(L, 1, nullptr);
    lua_replace(L, 1);
  } else {
    lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    lua_replace(L, 1);
  }
  lua_settop(L, 1);
  int line = CurrentLine(L, 1);
  if (line <= 0) line = call->chunk->first_line;
  lua_pushfstring(L, "%s:%d: ", name, line);
  lua_insert(L, 1);
  lua_concat(L, 2);
  return 1;
}

// Pushes a JSON value or nil when `value` is null.
void PushOptional(lua_State* L, const Json* value, bool read_only, const char* what) {
  if (value == nullptr) {
    lua_pushnil(L);
  } else {
    bridge::PushJson(L, *value, read_only, what);
  }
}

// Body of the protected call: compile or fetch the chunk, build its environment, run it. Returns
// one value: the expression's value (expression, guard) or the environment's ctx (action).
int DoCall(lua_State* L) {
  auto* call = static_cast<CallState*>(lua_touserdata(L, 1));
  luaL_checkstack(L, 12, "calling Lua");
  lua_settop(L, 0);
  if (call->cached_ref != LUA_NOREF) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, call->cached_ref);
  } else {
    call->compiled = true;
    const int rc =
        luaL_loadbufferx(L, call->text.data(), call->text.size(), call->chunk_name.c_str(), "t");
    if (rc != LUA_OK) {
      call->compile_failed = true;
      return lua_error(L);
    }
    lua_pushvalue(L, -1);
    call->new_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  const int fn = lua_gettop(L);

  const bool read_only = call->mode != Mode::kAction;
  sandbox::PushCallEnvironment(L);
  const int env = lua_gettop(L);
  if (call->ctx->is_null()) {
    // A fresh instance has no data yet: show an empty object (Execute keeps null if it stays so).
    lua_newtable(L);
    if (read_only) bridge::WrapInProxy(L, bridge::ProxyKind::kData);
  } else {
    bridge::PushJson(L, *call->ctx, read_only, "ctx");
  }
  lua_setfield(L, env, "ctx");

  lua_createtable(L, 0, 4);
  PushOptional(L, call->event_name, read_only, "event.name");
  lua_setfield(L, -2, "name");
  PushOptional(L, call->event_data, read_only, "event.data");
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "data");
  lua_setfield(L, -2, "payload");
  PushOptional(L, call->event_actor, read_only, "event.actor");
  lua_setfield(L, -2, "actor");
  // SCXML's _event fields, present when the interpreter set them (interp::Event).
  if (call->env->event != nullptr && call->env->event->is_object()) {
    for (const char* key : {"type", "sendid", "origin", "origintype", "invokeid"}) {
      auto it = call->env->event->find(key);
      if (it == call->env->event->end()) continue;
      PushOptional(L, &*it, read_only, key);
      lua_setfield(L, -2, key);
    }
  }
  if (read_only) bridge::WrapInProxy(L, bridge::ProxyKind::kData);
  lua_setfield(L, env, "event");

  lua_pushvalue(L, env);
  if (lua_setupvalue(L, fn, 1) == nullptr) {
    lua_pop(L, 1);  // a main chunk always has _ENV as its first upvalue; keep the stack balanced
  }

  RuntimeImpl* rt = RuntimeOf(L);
  call->instructions = 0;
  lua_sethook(L, CountHook, LUA_MASKCOUNT, static_cast<int>(rt->hook_granularity()));
  call->phase = Phase::kRunning;
  lua_pushvalue(L, fn);
  lua_call(L, 0, call->mode == Mode::kAction ? 0 : 1);
  call->phase = Phase::kFinishing;
  if (call->mode == Mode::kAction) {
    lua_pushliteral(L, "ctx");
    lua_rawget(L, env);
  }
  return 1;
}

std::string Where(const CallState& call, int line) {
  return call.file + ":" + std::to_string(line > 0 ? line : call.chunk->first_line) + ": ";
}

// Replaces Lua's shortened chunk name by the full file name.
std::string FullNames(const CallState& call, std::string msg) {
  if (call.short_name == call.file) return msg;
  for (std::size_t pos = msg.find(call.short_name); pos != std::string::npos;
       pos = msg.find(call.short_name, pos + call.file.size())) {
    msg.replace(pos, call.short_name.size(), call.file);
  }
  return msg;
}

void Prepare(CallState* call, Mode mode, const Chunk& chunk, const Json* ctx, const CallEnv& env) {
  call->mode = mode;
  call->chunk = &chunk;
  call->ctx = ctx;
  call->env = &env;
  if (env.event != nullptr && env.event->is_object()) {
    auto field = [&env](const char* key) -> const Json* {
      auto it = env.event->find(key);
      return it != env.event->end() ? &*it : nullptr;
    };
    call->event_name = field("name");
    call->event_data = field("data");
    call->event_actor = field("actor");
  }
  call->file.assign(chunk.file);
  if (call->file.size() <= kMaxShortName) {
    call->short_name = call->file;
  } else {
    call->short_name = "..." + call->file.substr(call->file.size() - (kMaxShortName - 3));
  }
  call->chunk_name = "=" + call->short_name;
  const char kind = mode == Mode::kAction ? 's' : 'e';
  call->cache_key.reserve(chunk.file.size() + chunk.source.size() + 16);
  call->cache_key += kind;
  call->cache_key += std::to_string(chunk.first_line);
  call->cache_key += '\0';
  call->cache_key += chunk.file;
  call->cache_key += '\0';
  call->cache_key += chunk.source;
}

std::string CompileText(Mode mode, const Chunk& chunk) {
  // Lines are numbered as in the file: the chunk is preceded by first_line-1 newlines.
  std::string text(static_cast<std::size_t>(chunk.first_line > 1 ? chunk.first_line - 1 : 0), '\n');
  if (mode == Mode::kAction) {
    text += chunk.source;
  } else {
    text += "return (";
    text += chunk.source;
    text += "\n)";
  }
  return text;
}

}  // namespace

RuntimeImpl::RuntimeImpl(const Limits& limits)
    : limits_(limits), hook_granularity_(std::min<std::uint64_t>(1000, limits.instruction_budget)) {
  heap_.limit = limits.memory_limit_bytes;
  heap_.owner = this;
}

RuntimeImpl::~RuntimeImpl() {
  if (L_ != nullptr) lua_close(L_);
}

Result<std::unique_ptr<RuntimeImpl>> RuntimeImpl::Create(const Limits& limits) {
  if (limits.instruction_budget == 0) {
    return Status::InvalidArgument("lua.instruction_budget must be at least 1");
  }
  const std::string too_small =
      "lua.memory_limit_bytes = " + std::to_string(limits.memory_limit_bytes) +
      " is too small for the Lua sandbox itself; allow at least 1 MiB";
  std::unique_ptr<RuntimeImpl> rt(new RuntimeImpl(limits));
  rt->L_ = lua_newstate(HeapAlloc, &rt->heap_);
  if (rt->L_ == nullptr) return Status::InvalidArgument(too_small);
  lua_atpanic(rt->L_, Panic);
  RuntimeImpl* self = rt.get();
  std::memcpy(lua_getextraspace(rt->L_), &self, sizeof self);
  lua_pushcfunction(rt->L_, Setup);
  const int rc = lua_pcall(rt->L_, 0, 0, 0);
  if (rc != LUA_OK) {
    if (rc == LUA_ERRMEM) return Status::InvalidArgument(too_small);
    const char* msg = lua_tostring(rt->L_, -1);
    return Status::Internal(std::string("cannot set up the Lua sandbox: ") +
                            (msg != nullptr ? msg : "unknown error"));
  }
  lua_settop(rt->L_, 0);
  return rt;
}

std::vector<std::string> RuntimeImpl::GlobalNames() const { return sandbox::GlobalNames(L_); }

void RuntimeImpl::Remember(std::string key, int ref) {
  if (cache_.size() >= kMaxCachedChunks) {
    for (const auto& [k, r] : cache_) luaL_unref(L_, LUA_REGISTRYINDEX, r);
    cache_.clear();
  }
  cache_.emplace(std::move(key), ref);
}

Status RuntimeImpl::Run(CallState* call) {
  if (current_call_ != nullptr) {
    // Only reachable from a CallEnv callback (in_state) calling back into this Runtime, which
    // would reset the Lua stack under the running call.
    return Status::Internal(
        "nurt::lua::Runtime called re-entrantly from a CallEnv callback; a Runtime runs one call "
        "at a time");
  }
  const auto cached = cache_.find(call->cache_key);
  if (cached != cache_.end()) {
    call->cached_ref = cached->second;
  } else {
    call->text = CompileText(call->mode, *call->chunk);
  }
  lua_settop(L_, 0);
  heap_.refused = false;
  heap_.refused_line = 0;
  current_call_ = call;
  lua_pushcfunction(L_, MessageHandler);
  lua_pushcfunction(L_, DoCall);
  lua_pushlightuserdata(L_, call);
  const int rc = lua_pcall(L_, 1, 1, 1);
  current_call_ = nullptr;
  if (call->compiled) ++compile_count_;
  if (call->new_ref != LUA_NOREF) Remember(std::move(call->cache_key), call->new_ref);
  if (rc == LUA_OK) return Status::Ok();
  Status status = MapError(rc, *call);
  lua_settop(L_, 0);
  if (status.IsResourceExhausted()) lua_gc(L_, LUA_GCCOLLECT);
  return status;
}

Status RuntimeImpl::MapError(int rc, const CallState& call) {
  if (call.budget_hit) {
    return Status::ResourceExhausted(
        Where(call, call.budget_line) + "Lua code exceeded its budget of " +
        std::to_string(limits_.instruction_budget) +
        " VM instructions per call; look for an endless loop, or raise the config key "
        "lua.instruction_budget if the work is legitimate");
  }
  if (rc == LUA_ERRMEM || heap_.refused) {
    const char* while_doing = "";
    if (call.compile_failed || (call.compiled && call.new_ref == LUA_NOREF)) {
      while_doing = " while compiling the chunk";
    } else if (call.phase == Phase::kPreparing) {
      while_doing = " while loading ctx and event into Lua";
    }
    return Status::ResourceExhausted(
        Where(call, heap_.refused_line) + "Lua memory limit of " +
        std::to_string(limits_.memory_limit_bytes) + " bytes reached" + while_doing +
        "; keep ctx and temporary data smaller, or raise the config key lua.memory_limit_bytes");
  }
  std::string msg;
  if (rc == LUA_ERRERR) {
    msg = Where(call, 0) + "error while handling a Lua error";
  } else if (lua_type(L_, -1) == LUA_TSTRING) {
    msg = lua_tostring(L_, -1);
  } else {
    msg = Where(call, 0) + "Lua error without a message";
  }
  return Status::InvalidArgument(FullNames(call, std::move(msg)));
}

Result<Json> RuntimeImpl::Evaluate(const Chunk& expression, const Json& ctx, const CallEnv& env) {
  try {
    CallState call;
    Prepare(&call, Mode::kExpression, expression, &ctx, env);
    NURT_RETURN_IF_ERROR(Run(&call));
    if (lua_isnil(L_, -1)) {
      lua_settop(L_, 0);
      return Status::InvalidArgument(Where(call, 0) +
                                     "the expression evaluated to nil; write null for a JSON null");
    }
    Json value;
    Status s = bridge::LuaToJson(L_, -1, nullptr, "value", &value);
    lua_settop(L_, 0);
    if (!s.ok()) {
      return Status::InvalidArgument(Where(call, 0) +
                                     "the expression's value is not JSON: " + s.message());
    }
    return value;
  } catch (const std::bad_alloc&) {
    lua_settop(L_, 0);
    return Status::ResourceExhausted("out of memory converting a Lua value to JSON");
  }
}

Result<bool> RuntimeImpl::EvaluateGuard(const Chunk& expression, const Json& ctx,
                                        const CallEnv& env) {
  try {
    CallState call;
    Prepare(&call, Mode::kGuard, expression, &ctx, env);
    NURT_RETURN_IF_ERROR(Run(&call));
    const bool value = lua_toboolean(L_, -1) != 0;
    lua_settop(L_, 0);
    return value;
  } catch (const std::bad_alloc&) {
    lua_settop(L_, 0);
    return Status::ResourceExhausted("out of memory evaluating a guard");
  }
}

Status RuntimeImpl::Execute(const Chunk& statements, Json* ctx, const CallEnv& env,
                            std::vector<Request>* requests) {
  NURT_ASSERT(ctx != nullptr && requests != nullptr, "Execute needs ctx and requests");
  try {
    CallState call;
    Prepare(&call, Mode::kAction, statements, ctx, env);
    NURT_RETURN_IF_ERROR(Run(&call));
    if (lua_isnil(L_, -1)) {
      lua_settop(L_, 0);
      return Status::InvalidArgument(Where(call, 0) +
                                     "ctx was set to nil; ctx must stay a table (or null)");
    }
    Json updated;
    Status s = bridge::LuaToJson(L_, -1, ctx, "ctx", &updated);
    lua_settop(L_, 0);
    if (!s.ok()) return Status::InvalidArgument(Where(call, 0) + s.message());
    const bool still_empty =
        ctx->is_null() && updated.is_object() && updated.empty();  // keep "no data yet" as null
    requests->reserve(requests->size() + call.requests.size());
    if (!still_empty) *ctx = std::move(updated);
    std::move(call.requests.begin(), call.requests.end(), std::back_inserter(*requests));
    return Status::Ok();
  } catch (const std::bad_alloc&) {
    lua_settop(L_, 0);
    return Status::ResourceExhausted("out of memory converting ctx from Lua to JSON");
  }
}

Result<std::unique_ptr<Runtime>> NewRuntime(const Limits& limits) {
  auto rt = RuntimeImpl::Create(limits);
  if (!rt.ok()) return rt.status();
  return std::unique_ptr<Runtime>(std::move(rt).value());
}

}  // namespace nurt::lua
