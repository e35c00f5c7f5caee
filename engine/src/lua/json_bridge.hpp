#pragma once
// JSON <-> Lua conversion and the read-only proxies guards see (private to engine/src/lua).
//
// The two directions follow different error disciplines, because Lua is compiled as C and reports
// errors by longjmp, which would skip the destructors of C++ objects in the frames it crosses:
//   - PushJson (JSON -> Lua) runs inside a protected call and may raise Lua errors (out of
//     memory, too deep). Its frames therefore hold no object with a non-trivial destructor.
//   - LuaToJson (Lua -> JSON) builds C++ objects, so it uses only Lua API calls that neither
//     allocate in the Lua heap nor raise, and reports problems as a Status. It may throw
//     std::bad_alloc (from Json); callers inside a Lua call catch it before returning to Lua.
//
// Representation in Lua:
//   JSON null    the `null` userdata (kNullKey in the registry), never nil
//   array        a sequence whose metatable is the shared array metatable (kArrayMtKey)
//   object       a table with string keys
// Read-only proxies (guards, expressions, frozen libraries) are tables P whose data lives in a
// backing table B that Lua code cannot reach: P holds B, and for proxies of JSON values the Json
// the data came from, under light-userdata keys Lua cannot forge, so every ordinary key is absent
// from P and all reads and writes go through its protected metatable (__index, __newindex raising,
// __len, __pairs). Proxies of JSON values are lazy: B is built, one level at a time, on the first
// access, so a guard reading ctx.amount does not pay for converting ctx.items. They share two
// metatables (object, array) and point into the call's ctx/event, which is why no Lua value may
// outlive a call (the sandbox guarantees that). Library proxies have their own metatable whose
// __index is B itself, the VM's fast path.

#include <lua.hpp>
#include <string>
#include <string_view>

#include "nurt/core/json.hpp"
#include "nurt/core/status.hpp"

namespace nurt::lua::bridge {

// Deepest nesting converted in either direction; deeper values (or reference cycles) are errors.
inline constexpr int kMaxDepth = 200;

// Registry keys (addresses of these objects; values never read).
inline constexpr char kNullKey = 0;     // registry[&kNullKey] = the null userdata
inline constexpr char kArrayMtKey = 0;  // registry[&kArrayMtKey] = the array metatable

// Creates the null userdata and the array metatable and stores them in the registry.
// Raises Lua errors (memory); call inside a protected call.
void InstallSentinels(lua_State* L);

// Pushes the null sentinel / the array metatable.
void PushNull(lua_State* L);
void PushArrayMetatable(lua_State* L);
bool IsNull(lua_State* L, int index);

// Replaces the table on top of the stack by a read-only proxy of it: kData for tables nurt builds
// for guards (event), kLibrary for the standard libraries. Raises Lua errors (memory).
enum class ProxyKind { kData, kLibrary };
void WrapInProxy(lua_State* L, ProxyKind kind);

// When the value at `index` is a read-only proxy, pushes its backing table (building it first for
// a lazy proxy) and returns true; otherwise pushes nothing and returns false. Raises Lua errors
// (memory).
bool PushProxyData(lua_State* L, int index);

// Pushes `value` converted to Lua: a lazy read-only proxy when `read_only` (`value` must then
// outlive every use of the proxy, i.e. the call), otherwise plain tables. `what` names the value
// in the depth error ("ctx", "event.data"). Raises Lua errors.
void PushJson(lua_State* L, const Json& value, bool read_only, const char* what);

// Converts the Lua value at `index` to JSON. `hint` is the JSON value this one replaces (may be
// null): objects keep its key order (keys it does not have follow in byte order) and an empty
// unmarked table becomes [] where the hint was an array. `root` starts the path in messages (`ctx`,
// `data`), which read "ctx.items[2].x: <problem>" with Lua (1-based) indices. nil converts to an
// error. Never raises a Lua error; may throw std::bad_alloc.
Status LuaToJson(lua_State* L, int index, const Json* hint, std::string_view root, Json* out);

// True when `s` is well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF).
bool IsValidUtf8(std::string_view s);

// Pushes a deterministic `pairs` iterator triple (iterator, state, nil) over the table at
// `data_index` (state is the value at `state_index`, so a proxy's pairs() never hands out its
// backing table): integers and floats ascending by value, then strings in byte order, then false,
// true, then keys of other types (tables, functions, userdata) in the order of `next` (stable
// within one process, not across processes: such keys cannot appear in JSON data). The keys are
// snapshotted; keys set to nil during the loop are skipped, keys added during it are not visited.
// Raises Lua errors (memory).
void PushSortedPairs(lua_State* L, int data_index, int state_index);

}  // namespace nurt::lua::bridge
