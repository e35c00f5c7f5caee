#pragma once
// The Lua sandbox: which globals code sees and the guarded replacements for the raw functions
// (private to engine/src/lua).
//
// Globals after Open(): assert error ipairs next pairs pcall select tonumber tostring type xpcall
// rawequal rawget rawlen rawset getmetatable setmetatable string table math utf8 coroutine. The
// runtime adds its own functions (now, iso, In, ...) after Open(). Everything else the standard
// libraries define (load, print, warn, collectgarbage, _G, _VERSION, ...) is removed, as are
// string.dump, math.random and math.randomseed.
//
// Nothing a call does may survive into the next one (that would break replay and leak data
// between instances), so:
//   - code runs with a fresh environment table per call whose protected metatable reads the
//     globals; a global assignment lands in that table and is dropped with it;
//   - string, table, math, utf8 and coroutine are read-only proxies, and the string metatable is
//     protected (getmetatable("") returns "string"), so ("").rep and friends reach only the
//     pruned library;
//   - rawset refuses read-only proxies; next, rawget and rawlen see through them to the data;
//   - setmetatable refuses metatables with __gc (finalizers would run during some later call) or
//     __mode (weak tables empty at GC-dependent moments). A __mode added to a metatable after the
//     setmetatable call is not detected;
//   - coroutine.create/wrap give new threads a finer instruction-hook count (see sandbox.cpp);
//   - pairs iterates in a fixed order (bridge::PushSortedPairs); a __pairs metamethod is
//     honoured. `next` keeps Lua's order, which depends on a per-process hash seed: code that
//     needs a stable order uses pairs.

#include <lua.hpp>
#include <string>
#include <vector>

namespace nurt::lua::sandbox {

// Opens the safe libraries into the global table and prunes it to the list above. Raises Lua errors
// (memory); call inside a protected call.
void Open(lua_State* L);

// Pushes a fresh per-call environment table (see above). Raises Lua errors (memory).
void PushCallEnvironment(lua_State* L);

// Names of the global table's string keys, sorted (for tests). Never raises.
std::vector<std::string> GlobalNames(lua_State* L);

}  // namespace nurt::lua::sandbox
