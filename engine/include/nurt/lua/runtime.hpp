#pragma once
// nurt::lua::Runtime — sandboxed, deterministic Lua 5.4 for guards and actions.
//
// What Lua code can see (docs/dsl.md "Lua" is the designer-facing version of this list):
//   ctx            the instance data as a table (actions may change it; guards see a read-only copy)
//   event          {name=, data=, payload= (same table as data), actor=} of the event being processed
//   now()          the event's time, integer milliseconds since the Unix epoch (never the wall clock)
//   iso(ms)        "2026-11-23T09:35:44.123Z"
//   In(id)         true when state `id` is active (SCXML In())
//   instance_id()  the id of the instance the code runs for (CallEnv::instance_id)
//   null           the JSON null sentinel (JSON null <-> null, never nil, so keys are not lost)
//   array(t)       marks t as a JSON array (so an empty table becomes [] rather than {})
//   emit(name [, data])            raise an event to this instance (actions only)
//   send(to, name [, data])        send an event to instance `to` (actions only)
//   spawn(machine [, data [, key]]) start an instance of `machine` (actions only)
//   log(...)                       recorded in the transition's log lines
//   the safe parts of the standard library: assert error ipairs next pairs pcall select tonumber tostring
//   type xpcall rawequal rawget rawlen rawset getmetatable setmetatable string (no string.dump) table
//   math (no random/randomseed) utf8 coroutine.
// Not available: io, os, load, loadfile, dofile, require, package, debug, collectgarbage, print.
// `pairs` iterates keys in a deterministic order (integers ascending, then strings by byte order), so
// replaying the same events always produces the same state.
//
// JSON <-> Lua: integers stay integers (lua_Integer), other numbers are floats; objects become tables with
// string keys, arrays become sequences carrying an "array" metatable (so [] survives a round trip); a table
// without that mark is an array when its keys are exactly 1..n (n >= 1), an object when all keys are
// strings, and an error otherwise (the message names the path, e.g. `ctx.items`). NaN/inf are errors.
// Objects written back keep the key order of the original value; new keys are appended in sorted order.
//
// Errors are reported as "<file>:<line>: <message>" where <line> is the line in the YAML (or .lua) file,
// because each chunk is compiled so that its first line has number Chunk::first_line.
//
// Thread-safety: a Runtime is NOT thread-safe; use one per thread (or guard it). Compiled chunks are
// cached per Runtime, keyed by chunk name, first line and source.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nurt/core/json.hpp"
#include "nurt/core/result.hpp"
#include "nurt/core/time.hpp"

namespace nurt::lua {

struct Limits {
  // VM instructions one call (one guard or one action) may execute before it is stopped.
  std::uint64_t instruction_budget = 1'000'000;
  // Bytes the whole Lua state may hold (custom allocator); allocation beyond it fails the call.
  std::size_t memory_limit_bytes = 64u << 20;
};

struct Chunk {
  std::string_view source;      // Lua text; for expressions, without the leading `return`
  std::string_view file;        // shown in messages, e.g. "examples/lead.yaml"
  int first_line = 1;           // line of `source`'s first line in `file`
};

// What the code runs against. Pointers must stay valid for the duration of the call.
struct CallEnv {
  const Json* event = nullptr;                       // may be null (e.g. entry actions at start)
  TimePoint now{};
  std::function<bool(const std::string&)> in_state;  // may be empty: In() then returns false
  std::string instance_id;                           // returned by instance_id()
};

// Something an action asked for besides changing ctx, in the order it was asked.
struct Request {
  enum class Kind { kEmit, kSend, kSpawn, kLog };
  Kind kind = Kind::kEmit;
  std::string name;  // event name (emit/send), machine name (spawn), message text (log)
  std::string to;    // send: target instance id
  std::string key;   // spawn: idempotency key ("" = caller decides)
  Json data;         // payload (null when not given)
};

class Runtime {
 public:
  virtual ~Runtime() = default;

  // Evaluates an expression against read-only `ctx`; returns its value as JSON.
  // Errors: InvalidArgument (Lua error / value not convertible), ResourceExhausted (limits).
  virtual Result<Json> Evaluate(const Chunk& expression, const Json& ctx, const CallEnv& env) = 0;

  // Evaluates a guard expression; Lua truthiness (nil and false are false).
  virtual Result<bool> EvaluateGuard(const Chunk& expression, const Json& ctx, const CallEnv& env) = 0;

  // Runs statements that may modify `*ctx` and append to `*requests`. On error neither is changed.
  virtual Status Execute(const Chunk& statements, Json* ctx, const CallEnv& env,
                         std::vector<Request>* requests) = 0;

  // Bytes currently held by the Lua state (for metrics and tests).
  virtual std::size_t MemoryInUse() const = 0;
};

Result<std::unique_ptr<Runtime>> NewRuntime(const Limits& limits = {});

// Compile-only check used by the validator. kExpression checks `return (<source>)`.
enum class SyntaxKind { kExpression, kStatements };
struct SyntaxError {
  int line = 0;         // line in the file (first_line based), 0 if unknown
  std::string message;  // Lua's message without the chunk-name prefix
};
// Returns nullopt when the code compiles.
std::optional<SyntaxError> CheckSyntax(const Chunk& chunk, SyntaxKind kind);

}  // namespace nurt::lua
