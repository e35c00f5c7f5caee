#pragma once
// RuntimeImpl: the one implementation of nurt::lua::Runtime (private to engine/src/lua; tests
// include it for the test hooks at the bottom of the class).
//
// One lua_State per RuntimeImpl. Every Lua API call that can raise runs inside a lua_pcall of a C
// function whose frames hold no C++ object with a non-trivial destructor; the C++ side prepares
// the call (cache lookup, chunk text) before and converts the results after. Lua C functions that
// need C++ work (JSON conversion, CallEnv::in_state) do it in noexcept helpers that leave a
// message in the call state and return; the C function raises afterwards.
//
// Limits:
//   - instructions: a count hook fires every min(1000, budget) VM instructions and adds that
//     many to the call's counter; past the budget it raises and re-arms itself to fire on every
//     instruction, so code that catches the error with pcall fails again at its next
//     instruction. Coroutines inherit the hook with a count of 100 (a new thread starts a fresh
//     count, so a short coroutine runs at most 99 instructions unbilled). C functions
//     (string.rep, table.sort, pattern matching) count as one instruction each, so a
//     pathological string pattern can still run long.
//   - memory: the allocator counts every byte the state holds and refuses growth beyond the
//     limit (Lua then runs an emergency full collection and retries once). Garbage from earlier
//     calls and cached chunks count too; after a limit error the state is fully collected.
// Cache: compiled chunks are kept in the registry, keyed by kind, file, first line and source;
// at kMaxCachedChunks entries the cache is dropped whole (definitions are finite; this only
// bounds a process that keeps loading new ones).

#include <cstddef>
#include <cstdint>
#include <lua.hpp>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "nurt/lua/runtime.hpp"

namespace nurt::lua {

namespace internal {
struct CallState;
}  // namespace internal

class RuntimeImpl final : public Runtime {
 public:
  static constexpr std::size_t kMaxCachedChunks = 4096;

  // The lua_Alloc state: counts bytes and refuses growth beyond `limit`.
  struct Heap {
    std::size_t used = 0;
    std::size_t limit = 0;
    bool refused = false;  // an allocation was refused since the flag was last cleared
    int refused_line = 0;  // line running when the first refusal happened (0 = unknown)
    RuntimeImpl* owner = nullptr;
  };

  static Result<std::unique_ptr<RuntimeImpl>> Create(const Limits& limits);
  ~RuntimeImpl() override;

  RuntimeImpl(const RuntimeImpl&) = delete;
  RuntimeImpl& operator=(const RuntimeImpl&) = delete;

  Result<Json> Evaluate(const Chunk& expression, const Json& ctx, const CallEnv& env) override;
  Result<bool> EvaluateGuard(const Chunk& expression, const Json& ctx, const CallEnv& env) override;
  Status Execute(const Chunk& statements, Json* ctx, const CallEnv& env,
                 std::vector<Request>* requests) override;
  std::size_t MemoryInUse() const override { return heap_.used; }

  // For the Lua C functions in runtime.cpp, which find this object through lua_getextraspace.
  internal::CallState* current_call() const { return current_call_; }
  const Limits& limits() const { return limits_; }
  std::uint64_t hook_granularity() const { return hook_granularity_; }
  lua_State* state() const { return L_; }

  // Test hooks.
  std::uint64_t compile_count() const { return compile_count_; }
  std::size_t cached_chunks() const { return cache_.size(); }
  std::vector<std::string> GlobalNames() const;

 private:
  explicit RuntimeImpl(const Limits& limits);

  // Compiles (or finds) the chunk and runs it in a protected call. On success the call's single
  // result is on top of the Lua stack; on failure the stack is empty and the Status says why.
  Status Run(internal::CallState* call);
  Status MapError(int rc, const internal::CallState& call);
  void Remember(std::string key, int ref);

  Limits limits_;
  std::uint64_t hook_granularity_;
  Heap heap_;
  lua_State* L_ = nullptr;
  std::unordered_map<std::string, int> cache_;  // key -> registry ref of the compiled function
  internal::CallState* current_call_ = nullptr;
  std::uint64_t compile_count_ = 0;
};

}  // namespace nurt::lua
