#include "engine/macrostep_walk.hpp"

#include <set>

namespace nurt::engine {
namespace {

using dsl::StateIndex;

using dsl::StateIndex;

bool IsProperDescendant(const dsl::Definition& d, StateIndex s, StateIndex ancestor) {
  for (StateIndex p = d.state(s).parent; p != dsl::kNoState; p = d.state(p).parent) {
    if (p == ancestor) return true;
  }
  return false;
}

// Every active state (leaves and their ancestors, root excluded) for a list of active leaf ids.
std::set<StateIndex> Configuration(const dsl::Definition& d, const std::vector<std::string>& leaves) {
  std::set<StateIndex> out;
  for (const auto& id : leaves) {
    for (StateIndex s = d.Find(id); s != dsl::kNoState && s != dsl::kRootState; s = d.state(s).parent) {
      out.insert(s);
    }
  }
  return out;
}

// SCXML's transition domain, rebuilt from a transition record (the interpreter's TransitionDomain):
// the states below it are the ones the transition exits and enters. kNoState for a targetless one.
StateIndex Domain(const dsl::Definition& d, const store::TransitionRecord& r) {
  if (r.targets.empty()) return dsl::kNoState;
  const StateIndex source = d.Find(r.source);
  std::vector<StateIndex> targets;
  for (const auto& id : r.targets) {
    const StateIndex t = d.Find(id);
    if (t != dsl::kNoState) targets.push_back(t);
  }
  if (source == dsl::kNoState) return dsl::kRootState;
  const bool internal = r.detail.is_object() && r.detail.value("internal", false);
  if (internal && d.state(source).kind == dsl::StateKind::kCompound) {
    bool all = true;
    for (StateIndex t : targets) all = all && IsProperDescendant(d, t, source);
    if (all) return source;
  }
  for (StateIndex anc = d.state(source).parent; anc != dsl::kNoState; anc = d.state(anc).parent) {
    if (anc != dsl::kRootState && d.state(anc).kind != dsl::StateKind::kCompound) continue;
    bool all = true;
    for (StateIndex t : targets) all = all && IsProperDescendant(d, t, anc);
    if (all) return anc;
  }
  return dsl::kRootState;
}

}  // namespace

void WalkMacrostep(const dsl::Definition& d, const std::vector<std::string>& leaves_before,
                   const store::CommitRequest& commit, const MacrostepVisitor& visitor) {
  const std::string accepted = commit.events.empty() ? std::string() : commit.events.front().type;
  // Walk the macrostep: the configuration before it, then each transition's exits and entries.
  std::set<StateIndex> config = Configuration(d, leaves_before);
  auto move_to = [&](const std::set<StateIndex>& next, const std::string& on_event) {
    for (auto it = config.rbegin(); it != config.rend(); ++it) {
      if (!next.count(*it)) visitor.exited(*it, on_event);
    }
    for (StateIndex s : next) {
      if (!config.count(s)) visitor.entered(s);
    }
    config = next;
  };
  const auto& records = commit.transitions;
  // The configuration the first transition starts from (for a start: the initial configuration).
  move_to(Configuration(d, records.empty() ? commit.instance.state : records.front().from), accepted);
  for (const auto& r : records) {
    const std::string on_event = r.event.empty() ? accepted : r.event;
    const StateIndex domain = Domain(d, r);
    const std::set<StateIndex> from = Configuration(d, r.from);
    const std::set<StateIndex> to = Configuration(d, r.to);
    if (domain != dsl::kNoState) {
      // Exited below the domain (deepest first), then entered below it: a self-transition re-enters.
      for (auto it = from.rbegin(); it != from.rend(); ++it) {
        if (IsProperDescendant(d, *it, domain)) visitor.exited(*it, on_event);
      }
      for (StateIndex s : to) {
        if (IsProperDescendant(d, s, domain)) visitor.entered(s);
      }
    }
    config = to;
  }
  move_to(Configuration(d, commit.instance.state), accepted);
}

}  // namespace nurt::engine
