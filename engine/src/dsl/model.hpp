#pragma once
// What the DSL loader's structural pass hands to the semantic checks (private to the DSL loader).
//
// The structural pass (loader.cpp) walks the YAML once, in document order, building the flat Definition
// and reporting key/type/value/Lua problems; references between states are only recorded here, because a
// transition may name a state written further down. validator.cpp then resolves them and runs the
// machine-wide checks; context_schema.cpp checks `context`.

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <string>
#include <vector>

#include "dsl/yaml_walker.hpp"
#include "nurt/dsl/definition.hpp"
#include "nurt/dsl/diagnostic.hpp"

namespace nurt::dsl::internal {

// Collects diagnostics; the loader sorts them at the end.
class Diagnostics {
 public:
  void Error(const SourceLocation& at, const std::string& rule, const std::string& message) {
    items_.push_back(Diagnostic{at, Severity::kError, rule, message});
  }
  void Warning(const SourceLocation& at, const std::string& rule, const std::string& message) {
    items_.push_back(Diagnostic{at, Severity::kWarning, rule, message});
  }
  std::vector<Diagnostic>& items() { return items_; }
  bool HasRule(const std::string& rule) const {
    for (const auto& d : items_) {
      if (d.rule_id == rule) return true;
    }
    return false;
  }

 private:
  std::vector<Diagnostic> items_;
};

// `target:` ids as written; resolved into TransitionSpec::targets by ResolveReferences.
struct TargetRef {
  StateIndex state = kNoState;
  std::size_t transition = 0;  // index in states[state].transitions
  std::string id;
  SourceLocation location;
};

// `initial:` of the machine (state = kRootState) or of a state.
struct InitialRef {
  StateIndex state = kNoState;
  std::string id;
  SourceLocation location;
};

// An event this machine raises to itself (`emit` without `to`, or `emit('name', …)` in Lua).
struct EmitRef {
  std::string event;
  SourceLocation location;
};

// A `task:` decision and the event it raises (checked by CheckTaskDecisions).
struct DecisionRef {
  StateIndex state = kNoState;
  std::string decision;
  std::string event;
  SourceLocation location;  // the event as written
};

struct Model {
  Definition definition;
  std::vector<TargetRef> targets;
  std::vector<InitialRef> initials;
  std::vector<EmitRef> emits;
  std::vector<DecisionRef> decisions;
  // `context.schema` / `context.initial` nodes when present and maps (checked by CheckContextSchema).
  YAML::Node context_schema;
  YAML::Node context_initial;
  SourceLocation context_schema_at;   // the `schema` key
  SourceLocation context_initial_at;  // the `initial` key (or `context`, or the machine when absent)
};

// Resolves `initial:` and `target:` ids (unknown-target, bad-initial, conflicting-targets), sets default
// initial children, and reports duplicate-state.
void ResolveReferences(Model& model, Diagnostics& diagnostics);

// Machine-wide warnings on a resolved model: unreachable-state, unhandled-event.
void CheckReachability(const Model& model, Diagnostics& diagnostics);
void CheckEmittedEvents(const Model& model, Diagnostics& diagnostics);

// unhandled-decision: every `task:` decision's event must be taken by a transition of the task's state
// or of one of its ancestors, or completing the task with that decision could never succeed.
void CheckTaskDecisions(const Model& model, Diagnostics& diagnostics);

// bad-schema: `context.schema` must be a usable JSON Schema and `context.initial` must satisfy it (apart
// from top-level `required` fields, which the data given at start may supply).
void CheckContextSchema(const Model& model, const SourceText& source, Diagnostics& diagnostics);

}  // namespace nurt::dsl::internal
