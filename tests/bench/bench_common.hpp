#pragma once
// What the benchmark programs share: wall-time helpers (benchmarks may read the steady clock; engine
// code may not), percentiles, and the machine every figure drives.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace nurt::bench {

using SteadyClock = std::chrono::steady_clock;

inline double Seconds(SteadyClock::time_point since) {
  return std::chrono::duration<double>(SteadyClock::now() - since).count();
}

inline double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

[[noreturn]] inline void Die(const std::string& what) {
  std::fprintf(stderr, "nurt bench: %s\n", what.c_str());
  std::exit(1);
}

// A counter: `add` assigns, `close` ends it. Small on purpose: the figures measure the engine's path,
// not Lua.
inline constexpr const char* kCounterMachine = R"YAML(apiVersion: nurt/v1
kind: Machine
name: counter
version: 1
context: { initial: { n: 0 } }
states:
  open:
    on:
      add: { actions: [ { assign: { n: "ctx.n + event.data.by" } } ] }
      close: closed
  closed: { type: final }
)YAML";

}  // namespace nurt::bench
