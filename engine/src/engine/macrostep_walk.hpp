#pragma once
// WalkMacrostep — one committed macrostep replayed as the states it left and entered, in SCXML order
// (private to the engine). Things that live exactly while a state is active — human tasks, timers —
// are tracked from it.
//
// Exits and entries are rebuilt from the commit's transition records (each record's source, targets
// and the configurations before and after), so a state left and re-entered within one macrostep (a
// self-transition) is reported as exited and entered again. Pure.

#include <functional>
#include <string>
#include <vector>

#include "nurt/dsl/definition.hpp"
#include "nurt/store/store.hpp"

namespace nurt::engine {

struct MacrostepVisitor {
  std::function<void(dsl::StateIndex state, const std::string& on_event)> exited;  // deepest first
  std::function<void(dsl::StateIndex state)> entered;                              // parents first
};

// `leaves_before`: the active atomic states before the macrostep (empty for a start).
void WalkMacrostep(const dsl::Definition& definition, const std::vector<std::string>& leaves_before,
                   const store::CommitRequest& commit, const MacrostepVisitor& visitor);

}  // namespace nurt::engine
