// Machine-wide checks of the DSL loader: references between states, reachability, emitted events.

#include <string>
#include <vector>

#include "dsl/model.hpp"
#include "nurt/core/suggest.hpp"

namespace nurt::dsl::internal {

namespace {

std::string Quote(const std::string& s) { return "'" + s + "'"; }

std::string JoinIds(const std::vector<std::string>& ids, std::size_t limit = 12) {
  std::string out;
  for (std::size_t i = 0; i < ids.size() && i < limit; ++i) {
    if (i) out += ", ";
    out += ids[i];
  }
  if (ids.size() > limit) out += ", …";
  return out;
}

std::vector<std::string> AllIds(const Definition& d) {
  std::vector<std::string> ids;
  for (std::size_t i = 1; i < d.states.size(); ++i) ids.push_back(d.states[i].id);
  return ids;
}

std::vector<std::string> ChildIds(const Definition& d, StateIndex s) {
  std::vector<std::string> ids;
  for (StateIndex c : d.state(s).children) ids.push_back(d.state(c).id);
  return ids;
}

std::string StateName(const Definition& d, StateIndex s) {
  return s == kRootState ? std::string("the machine") : "state " + Quote(d.state(s).id);
}

bool IsAncestor(const Definition& d, StateIndex ancestor, StateIndex s) {
  for (StateIndex p = d.state(s).parent; p != kNoState; p = d.state(p).parent) {
    if (p == ancestor) return true;
  }
  return false;
}

StateIndex CommonAncestor(const Definition& d, StateIndex a, StateIndex b) {
  for (StateIndex p = d.state(a).parent; p != kNoState; p = d.state(p).parent) {
    if (IsAncestor(d, p, b)) return p;
  }
  return kRootState;
}

}  // namespace

void ResolveReferences(Model& model, Diagnostics& diagnostics) {
  Definition& d = model.definition;

  // duplicate-state: the same id under another parent (siblings are reported as duplicate-key).
  for (std::size_t i = 1; i < d.states.size(); ++i) {
    for (std::size_t j = 1; j < i; ++j) {
      if (d.states[j].id != d.states[i].id) continue;
      if (d.states[j].parent != d.states[i].parent) {
        diagnostics.Error(d.states[i].location, "duplicate-state",
                          "state id " + Quote(d.states[i].id) + " is already used at line " +
                              std::to_string(d.states[j].location.line) +
                              "; state ids must be unique in the whole machine (not only among siblings), "
                              "so rename one of them");
      }
      break;
    }
  }

  const std::vector<std::string> all_ids = AllIds(d);

  for (const InitialRef& ref : model.initials) {
    const StateIndex found = d.Find(ref.id);
    const std::vector<std::string> children = ChildIds(d, ref.state);
    if (found == kNoState) {
      std::string hint = DidYouMean(ref.id, children);
      if (hint.empty()) hint = DidYouMean(ref.id, all_ids);
      if (hint.empty()) hint = "; it must be one of: " + JoinIds(children);
      diagnostics.Error(ref.location, "unknown-target",
                        "initial state " + Quote(ref.id) + " of " + StateName(d, ref.state) +
                            " does not exist" + hint);
      continue;
    }
    if (d.state(found).parent != ref.state) {
      diagnostics.Error(ref.location, "bad-initial",
                        "initial state " + Quote(ref.id) + " is not a " +
                            (ref.state == kRootState ? std::string("top-level state")
                                                     : "child of " + Quote(d.state(ref.state).id)) +
                            "; 'initial' must name one of " +
                            (ref.state == kRootState ? std::string("the top-level states")
                                                     : "its own children") +
                            ": " + JoinIds(children));
      continue;
    }
    d.states[static_cast<std::size_t>(ref.state)].initial = found;
  }
  // Default initial child: the first one written (the root and compound states only).
  for (auto& s : d.states) {
    const bool takes_initial = (&s == &d.states[0]) || s.kind == StateKind::kCompound;
    if (!takes_initial || s.initial != kNoState) continue;
    for (StateIndex c : s.children) {  // a history state is a pseudo-state, never a default initial
      if (d.state(c).kind == StateKind::kHistory) continue;
      s.initial = c;
      break;
    }
  }

  for (const TargetRef& ref : model.targets) {
    const StateIndex found = d.Find(ref.id);
    auto& transition = d.states[static_cast<std::size_t>(ref.state)].transitions[ref.transition];
    if (found == kNoState) {
      std::string hint = DidYouMean(ref.id, all_ids);
      if (hint.empty()) hint = "; the states are: " + JoinIds(all_ids);
      diagnostics.Error(ref.location, "unknown-target",
                        "transition target " + Quote(ref.id) + " is not a state of this machine" + hint);
      continue;
    }
    transition.targets.push_back(found);
  }

  // Several targets must be enterable together: one per region of a parallel state.
  for (const auto& s : d.states) {
    for (const auto& t : s.transitions) {
      bool reported = false;
      for (std::size_t a = 0; a < t.targets.size() && !reported; ++a) {
        for (std::size_t b = a + 1; b < t.targets.size() && !reported; ++b) {
          const StateIndex x = t.targets[a];
          const StateIndex y = t.targets[b];
          std::string why;
          if (x == y) {
            why = "it names " + Quote(d.state(x).id) + " twice";
          } else if (IsAncestor(d, x, y) || IsAncestor(d, y, x)) {
            const bool x_outer = IsAncestor(d, x, y);
            why = Quote(d.state(x_outer ? x : y).id) + " contains " + Quote(d.state(x_outer ? y : x).id);
          } else if (d.state(CommonAncestor(d, x, y)).kind != StateKind::kParallel ||
                     CommonAncestor(d, x, y) == kRootState) {
            why = Quote(d.state(x).id) + " and " + Quote(d.state(y).id) +
                  " are not in different regions of one parallel state, so they are never active together";
          }
          if (!why.empty()) {
            diagnostics.Error(t.location, "conflicting-targets",
                              "this transition's targets cannot be entered together: " + why +
                                  "; a transition with several targets names one state per region of a "
                                  "parallel state");
            reported = true;
          }
        }
      }
    }
  }
}

void CheckReachability(const Model& model, Diagnostics& diagnostics) {
  const Definition& d = model.definition;
  if (d.states.empty()) return;
  std::vector<bool> entered(d.states.size(), false);

  // Enters `s` (with its ancestors) and its default descendants; returns whether anything was new.
  auto enter = [&](auto&& self, StateIndex s) -> bool {
    bool changed = false;
    for (StateIndex p = s; p != kNoState; p = d.state(p).parent) {
      if (!entered[static_cast<std::size_t>(p)]) {
        entered[static_cast<std::size_t>(p)] = true;
        changed = true;
      }
    }
    const StateSpec& spec = d.state(s);
    if (spec.kind == StateKind::kParallel) {
      for (StateIndex c : spec.children) changed = self(self, c) || changed;
    } else if (spec.initial != kNoState) {  // compound states and the root
      changed = self(self, spec.initial) || changed;
    }
    return changed;
  };

  enter(enter, kRootState);
  bool changed = true;
  while (changed) {
    changed = false;
    for (std::size_t i = 0; i < d.states.size(); ++i) {
      if (!entered[i]) continue;
      for (const auto& t : d.states[i].transitions) {
        for (StateIndex target : t.targets) changed = enter(enter, target) || changed;
      }
    }
  }

  for (std::size_t i = 1; i < d.states.size(); ++i) {
    if (entered[i]) continue;
    const StateIndex parent = d.states[i].parent;
    if (parent != kNoState && !entered[static_cast<std::size_t>(parent)]) continue;  // reported above
    const StateSpec& s = d.states[i];
    if (d.Find(s.id) != static_cast<StateIndex>(i)) continue;  // a duplicate id: already an error
    if (parent != kRootState && d.state(parent).initial == static_cast<StateIndex>(i)) {
      diagnostics.Warning(s.location, "unreachable-state",
                          "state " + Quote(s.id) + " is never entered: it is the initial state of " +
                              Quote(d.state(parent).id) + ", but every transition into " +
                              Quote(d.state(parent).id) +
                              " targets another state inside it; target " + Quote(d.state(parent).id) +
                              " itself somewhere, or remove " + Quote(s.id));
      continue;
    }
    diagnostics.Warning(s.location, "unreachable-state",
                        "state " + Quote(s.id) + " is never entered: no transition from a reachable state "
                        "targets it" + (s.children.empty() ? std::string() : " or a state inside it") +
                        ", and it is not an initial state; add a transition to it or remove it");
  }
}

void CheckEmittedEvents(const Model& model, Diagnostics& diagnostics) {
  const Definition& d = model.definition;
  const std::vector<std::string> accepted = d.EventNames();
  for (const EmitRef& emit : model.emits) {
    bool handled = false;
    for (const auto& descriptor : accepted) {
      if (EventMatches(descriptor, emit.event)) {
        handled = true;
        break;
      }
    }
    if (handled) continue;
    std::string hint = DidYouMean(emit.event, accepted);
    if (hint.empty()) {
      hint = accepted.empty() ? "; this machine has no event transitions at all"
                              : "; the events this machine handles are: " + JoinIds(accepted);
    }
    diagnostics.Warning(emit.location, "unhandled-event",
                        "event " + Quote(emit.event) + " is raised to this instance but no state has a "
                        "transition for it, so it would be dropped" + hint);
  }
}

void CheckTaskDecisions(const Model& model, Diagnostics& diagnostics) {
  const Definition& d = model.definition;
  for (const DecisionRef& ref : model.decisions) {
    const StateKind kind = d.state(ref.state).kind;
    if (kind == StateKind::kFinal || kind == StateKind::kParallel) continue;  // task-not-allowed
    std::vector<std::string> handled;
    bool found = false;
    for (StateIndex s = ref.state; s != kNoState && s != kRootState; s = d.state(s).parent) {
      for (const auto& t : d.state(s).transitions) {
        if (t.event.empty()) continue;
        if (EventMatches(t.event, ref.event)) found = true;
        handled.push_back(t.event);
      }
    }
    if (found) continue;
    std::string hint = DidYouMean(ref.event, handled);
    if (hint.empty()) {
      hint = handled.empty() ? "; the state and its ancestors handle no events at all"
                             : "; the events handled there are: " + JoinIds(handled);
    }
    diagnostics.Error(ref.location, "unhandled-decision",
                      "decision " + Quote(ref.decision) + " of the task of state " +
                          Quote(d.state(ref.state).id) + " raises " + Quote(ref.event) +
                          ", but no transition of that state or its ancestors takes it, so the task "
                          "could never be completed with it; add `on: {" + ref.event +
                          ": <target>}` to the state" + hint);
  }
}

}  // namespace nurt::dsl::internal
