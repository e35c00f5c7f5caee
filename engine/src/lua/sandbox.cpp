#include "lua/sandbox.hpp"

#include <algorithm>
#include <cstring>

#include "lua/json_bridge.hpp"

namespace nurt::lua::sandbox {

namespace {

constexpr char kEnvMtKey = 0;  // registry[&kEnvMtKey] = metatable of per-call environments

constexpr const char* kAllowedGlobals[] = {
    "assert",       "error",  "ipairs", "next",     "pairs",  "pcall",     "select", "tonumber",
    "tostring",     "type",   "xpcall", "rawequal", "rawget", "rawlen",    "rawset", "getmetatable",
    "setmetatable", "string", "table",  "math",     "utf8",   "coroutine",
};

constexpr const char* kLibraries[] = {"string", "table", "math", "utf8", "coroutine"};

bool IsAllowed(const char* name) {
  for (const char* allowed : kAllowedGlobals) {
    if (std::strcmp(allowed, name) == 0) return true;
  }
  return false;
}

// If the argument is a read-only proxy, replaces it by its backing table.
void SeeThroughProxy(lua_State* L, int arg) {
  luaL_checkstack(L, 2, nullptr);
  if (bridge::PushProxyData(L, arg)) lua_replace(L, arg);
}

int Next(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  SeeThroughProxy(L, 1);
  lua_settop(L, 2);
  if (lua_next(L, 1) != 0) return 2;
  lua_pushnil(L);
  return 1;
}

int RawGet(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  SeeThroughProxy(L, 1);
  lua_settop(L, 2);
  lua_rawget(L, 1);
  return 1;
}

int RawLen(lua_State* L) {
  const int t = lua_type(L, 1);
  luaL_argexpected(L, t == LUA_TTABLE || t == LUA_TSTRING, 1, "table or string");
  if (t == LUA_TTABLE) SeeThroughProxy(L, 1);
  lua_pushinteger(L, static_cast<lua_Integer>(lua_rawlen(L, 1)));
  return 1;
}

int RawSet(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  luaL_checkany(L, 3);
  luaL_checkstack(L, 2, nullptr);
  if (bridge::PushProxyData(L, 1)) {
    return luaL_error(L,
                      "rawset: this table is read-only (the standard library, and ctx and event in "
                      "guards and expressions, cannot be changed)");
  }
  lua_settop(L, 3);
  lua_rawset(L, 1);
  return 1;
}

int SetMetatable(lua_State* L) {
  const int t = lua_type(L, 2);
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
  if (t == LUA_TTABLE) {
    for (const char* field : {"__gc", "__mode"}) {
      lua_pushstring(L, field);
      if (lua_rawget(L, 2) != LUA_TNIL) {
        return luaL_error(L,
                          "setmetatable: %s is not allowed in nurt Lua (it would make results "
                          "depend on when the garbage collector runs)",
                          field);
      }
      lua_pop(L, 1);
    }
  }
  if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL) {
    return luaL_error(L, "cannot change a protected metatable");
  }
  lua_settop(L, 2);
  lua_setmetatable(L, 1);
  return 1;
}

int Pairs(lua_State* L) {
  luaL_checkany(L, 1);
  if (luaL_getmetafield(L, 1, "__pairs") != LUA_TNIL) {
    lua_pushvalue(L, 1);
    lua_call(L, 1, 3);
    return 3;
  }
  luaL_checktype(L, 1, LUA_TTABLE);
  bridge::PushSortedPairs(L, 1, 1);
  return 3;
}

// Coroutines inherit the count hook but start a fresh count, so one that ends before its first
// hook would run unbilled; a finer count bounds that to kCoroutineHookCount - 1 instructions. The
// hook adds the count of the thread it fires in (lua_gethookcount), so billing stays exact.
constexpr int kCoroutineHookCount = 100;

void RefineHook(lua_State* L, lua_State* co) {
  lua_Hook hook = lua_gethook(L);
  if (hook != nullptr && co != nullptr) {
    lua_sethook(co, hook, lua_gethookmask(L), std::min(kCoroutineHookCount, lua_gethookcount(L)));
  }
}

// coroutine.create: the original (upvalue 1), then a finer hook count for the new thread.
int CoroutineCreate(lua_State* L) {
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  RefineHook(L, lua_tothread(L, -1));
  return 1;
}

// coroutine.wrap: the original (upvalue 1) returns a closure whose first upvalue is the thread.
int CoroutineWrap(lua_State* L) {
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  if (lua_getupvalue(L, -1, 1) != nullptr) {
    RefineHook(L, lua_tothread(L, -1));
    lua_pop(L, 1);
  }
  return 1;
}

void WrapLibraryFunction(lua_State* L, int table, const char* name, lua_CFunction wrapper) {
  lua_getfield(L, table, name);
  lua_pushcclosure(L, wrapper, 1);
  lua_setfield(L, table, name);
}

void RemoveField(lua_State* L, int table, const char* name) {
  lua_pushnil(L);
  lua_setfield(L, table, name);
}

}  // namespace

void Open(lua_State* L) {
  luaL_checkstack(L, 10, "opening the sandbox");
  static const luaL_Reg kLibs[] = {
      {LUA_GNAME, luaopen_base},       {LUA_STRLIBNAME, luaopen_string},
      {LUA_TABLIBNAME, luaopen_table}, {LUA_MATHLIBNAME, luaopen_math},
      {LUA_UTF8LIBNAME, luaopen_utf8}, {LUA_COLIBNAME, luaopen_coroutine},
  };
  for (const luaL_Reg& lib : kLibs) {
    luaL_requiref(L, lib.name, lib.func, 1);
    lua_pop(L, 1);
  }
  bridge::InstallSentinels(L);

  lua_pushglobaltable(L);
  const int g = lua_gettop(L);

  // Prune the global table to the allow-list (collect first: a table must not gain keys while it is
  // traversed, and clearing is done afterwards for clarity).
  lua_newtable(L);
  const int doomed = lua_gettop(L);
  lua_Integer n = 0;
  lua_pushnil(L);
  while (lua_next(L, g) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING || !IsAllowed(lua_tostring(L, -1))) {
      lua_pushvalue(L, -1);
      lua_rawseti(L, doomed, ++n);
    }
  }
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_rawgeti(L, doomed, i);
    lua_pushnil(L);
    lua_rawset(L, g);
  }
  lua_pop(L, 1);

  const luaL_Reg kReplacements[] = {
      {"next", Next},     {"rawget", RawGet}, {"rawlen", RawLen},
      {"rawset", RawSet}, {"pairs", Pairs},   {"setmetatable", SetMetatable},
  };
  for (const luaL_Reg& r : kReplacements) {
    lua_pushcfunction(L, r.func);
    lua_setfield(L, g, r.name);
  }

  lua_getfield(L, g, "string");
  RemoveField(L, lua_gettop(L), "dump");
  lua_pop(L, 1);
  lua_getfield(L, g, "math");
  RemoveField(L, lua_gettop(L), "random");
  RemoveField(L, lua_gettop(L), "randomseed");
  lua_pop(L, 1);
  lua_getfield(L, g, "coroutine");
  WrapLibraryFunction(L, lua_gettop(L), "create", CoroutineCreate);
  WrapLibraryFunction(L, lua_gettop(L), "wrap", CoroutineWrap);
  lua_pop(L, 1);

  // The string metatable's __index stays the (pruned) string table itself; Lua code cannot reach it
  // once the metatable is protected.
  lua_pushliteral(L, "");
  if (lua_getmetatable(L, -1)) {
    lua_pushliteral(L, "string");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
  }
  lua_pop(L, 1);

  for (const char* lib : kLibraries) {
    lua_getfield(L, g, lib);
    bridge::WrapInProxy(L, bridge::ProxyKind::kLibrary);
    lua_setfield(L, g, lib);
  }

  lua_createtable(L, 0, 2);
  lua_pushvalue(L, g);
  lua_setfield(L, -2, "__index");
  lua_pushliteral(L, "environment");
  lua_setfield(L, -2, "__metatable");
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kEnvMtKey);

  lua_pop(L, 1);  // g
}

void PushCallEnvironment(lua_State* L) {
  luaL_checkstack(L, 2, "creating the environment");
  lua_createtable(L, 0, 4);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kEnvMtKey);
  lua_setmetatable(L, -2);
}

std::vector<std::string> GlobalNames(lua_State* L) {
  std::vector<std::string> names;
  if (!lua_checkstack(L, 3)) return names;
  lua_pushglobaltable(L);
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING) names.emplace_back(lua_tostring(L, -1));
  }
  lua_pop(L, 1);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace nurt::lua::sandbox
