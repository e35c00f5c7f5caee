// The SCXML run-to-completion algorithm (W3C SCXML 1.0, Appendix D) over a flat dsl::Definition.
//
// State indices are assigned in document order (pre-order), so "document order" is index order and
// "exit order" (deepest first, later siblings first) is descending index order. One MacroStep object
// lives for one Start/Step call; the Interpreter itself stays immutable.

#include "nurt/interp/interpreter.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <set>

#include "nurt/core/duration.hpp"
#include "nurt/core/suggest.hpp"

namespace nurt::interp {

using dsl::ActionSpec;
using dsl::Definition;
using dsl::StateIndex;
using dsl::StateKind;
using dsl::TransitionSpec;

using dsl::EventMatches;

namespace {

bool IsInternalName(const std::string& name) {
  return name == "*" || name.rfind("done.", 0) == 0 || name.rfind("error.", 0) == 0;
}

lua::Chunk ChunkOf(const dsl::LuaCode& code) {
  return lua::Chunk{code.source, code.location.file, code.location.line > 0 ? code.location.line : 1};
}

std::string Join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

// A `send` delay's value: milliseconds, an ISO-8601 duration ("PT1.5S") or SCXML's CSS2 form ("1.5s",
// "200ms"; also "m", "h", "d").
Result<std::int64_t> DelayMillis(const Json& v) {
  if (v.is_number()) {
    const double ms = v.get<double>();
    if (ms < 0 || !std::isfinite(ms)) return Status::InvalidArgument("a send delay cannot be negative");
    return static_cast<std::int64_t>(ms);
  }
  if (!v.is_string()) {
    return Status::InvalidArgument("a send delay must be milliseconds or a duration text, got " + v.dump());
  }
  const std::string text = v.get<std::string>();
  if (!text.empty() && (text[0] == 'P' || text[0] == 'p')) {
    auto d = ParseIsoDuration(text);
    if (!d.ok()) return d.status();
    return static_cast<std::int64_t>(d->count());
  }
  std::size_t end = 0;
  while (end < text.size() && (std::isdigit(static_cast<unsigned char>(text[end])) || text[end] == '.')) ++end;
  const std::string number = text.substr(0, end);
  const std::string unit = text.substr(end);
  static const std::map<std::string, double> kUnits = {
      {"ms", 1.0}, {"s", 1000.0}, {"m", 60000.0}, {"h", 3600000.0}, {"d", 86400000.0}};
  const auto u = kUnits.find(unit);
  if (number.empty() || number == "." || u == kUnits.end()) {
    return Status::InvalidArgument("send delay '" + text +
                                   "' is not a duration: write milliseconds, PT1.5S or 1.5s / 200ms");
  }
  return static_cast<std::int64_t>(std::stod(number) * u->second);
}

class MacroStep {
 public:
  MacroStep(const Definition& def, lua::Runtime* lua, const StepOptions& options)
      : def_(def), lua_(lua), options_(options), active_(def.states.size(), false) {}

  void Load(const Snapshot& snapshot) {
    for (StateIndex s : snapshot.configuration) active_[Idx(s)] = true;
    ctx_ = snapshot.context;
    history_ = snapshot.history.is_object() ? snapshot.history : Json::object();
    done_ = snapshot.done;
    output_ = snapshot.output;
  }

  Result<StepResult> RunStart(const Json& context, const Event& start) {
    ctx_ = context;
    SetCurrentEvent(start);
    // `data:` (SCXML early binding): computed in written order before any state is entered; a failing
    // value raises error.execution and leaves its field unset, like a failing <data expr>.
    for (const auto& [path, spec] : def_.data) {
      auto v = Evaluate(spec, def_.state(dsl::kRootState).location);
      Status st = v.ok() ? AssignPath(&ctx_, path, std::move(v).value()) : v.status();
      if (!st.ok()) RaiseError(st, spec.expression.location);
      NURT_RETURN_IF_ERROR(fatal_);
    }
    RunBlock(def_.init);  // `init:` (SCXML's top-level <script>), before any state is entered
    NURT_RETURN_IF_ERROR(fatal_);
    std::set<StateIndex> to_enter, default_entry;
    const auto& root = def_.state(dsl::kRootState);
    StateIndex first = root.initial != dsl::kNoState
                           ? root.initial
                           : (root.children.empty() ? dsl::kNoState : root.children.front());
    if (first == dsl::kNoState) return Status::InvalidArgument("machine '" + def_.name + "' has no states");
    AddDescendantStatesToEnter(first, &to_enter, &default_entry);
    AddAncestorStatesToEnter(first, dsl::kRootState, &to_enter, &default_entry);
    const auto before = Leaves();
    EnterStates(to_enter, default_entry);
    store::TransitionRecord rec;
    rec.event = start.name;
    rec.to = Leaves();
    rec.from = before;
    rec.targets = {def_.state(first).id};
    rec.detail = Json{{"initial", true}};
    result_.transitions.push_back(std::move(rec));
    NURT_RETURN_IF_ERROR(fatal_);
    NURT_RETURN_IF_ERROR(RunToCompletion());
    return Finish();
  }

  Result<StepResult> RunStep(const Event& event) {
    if (done_) {
      return Status::FailedPrecondition("the instance has reached its final state; it accepts no events");
    }
    SetCurrentEvent(event);
    auto enabled = SelectTransitions(&event.name);
    NURT_RETURN_IF_ERROR(fatal_);
    if (enabled.empty() && def_.ignore_unhandled_errors && !internal_queue_.empty()) {
      // SCXML: the event is discarded, but the errors its guards raised are still processed.
      NURT_RETURN_IF_ERROR(RunToCompletion());
      return Finish();
    }
    if (enabled.empty()) {
      if (!internal_queue_.empty()) {
        // A guard failed while selecting: report it rather than "not accepted".
        return Status::InvalidArgument(internal_queue_.front().data.value("message", "guard failed"));
      }
      return NotTaken(event.name);
    }
    Microstep(enabled, event.name);
    NURT_RETURN_IF_ERROR(fatal_);
    NURT_RETURN_IF_ERROR(RunToCompletion());
    return Finish();
  }

  // Like a transition from every active atomic state to `target`: the domain is the nearest compound
  // ancestor shared by all of them, so common ancestors stay entered and a parallel state is left and
  // re-entered as a whole when the target is in one of its regions.
  Result<StepResult> RunForce(StateIndex target, const Event& event) {
    if (done_) return Status::FailedPrecondition("the instance has reached its final state");
    SetCurrentEvent(event);
    std::vector<StateIndex> states{target};
    for (std::size_t i = 1; i < active_.size(); ++i) {
      if (active_[i] && IsAtomic(static_cast<StateIndex>(i))) states.push_back(static_cast<StateIndex>(i));
    }
    const StateIndex domain = FindLcca(states);
    const auto before = Leaves();
    for (std::size_t i = active_.size(); i-- > 1;) {
      const auto s = static_cast<StateIndex>(i);
      if (!active_[i] || !IsDescendant(s, domain)) continue;
      RunBlock(S(s).exit);
      active_[i] = false;
      NURT_RETURN_IF_ERROR(fatal_);
    }
    std::set<StateIndex> to_enter, default_entry;
    AddDescendantStatesToEnter(target, &to_enter, &default_entry);
    AddAncestorStatesToEnter(target, domain, &to_enter, &default_entry);
    EnterStates(to_enter, default_entry);
    store::TransitionRecord rec;
    rec.event = event.name;
    rec.from = before;
    rec.to = Leaves();
    rec.targets = {S(target).id};
    rec.detail = Json{{"override", "force"}};
    result_.transitions.push_back(std::move(rec));
    NURT_RETURN_IF_ERROR(fatal_);
    NURT_RETURN_IF_ERROR(RunToCompletion());
    return Finish();
  }

  Result<StepResult> RunSkip(const Event& event) {
    if (done_) return Status::FailedPrecondition("the instance has reached its final state");
    std::vector<StateIndex> leaves;
    for (std::size_t i = 1; i < active_.size(); ++i) {
      if (active_[i] && IsAtomic(static_cast<StateIndex>(i))) leaves.push_back(static_cast<StateIndex>(i));
    }
    if (leaves.size() != 1) {
      return Status::FailedPrecondition(
          "cannot skip: " + std::to_string(leaves.size()) + " states are active (" + Join(Leaves(), ", ") +
          ") and skip leaves exactly one; use force with the state the instance should be in");
    }
    const dsl::StateSpec& leaf = S(leaves.front());
    const TransitionSpec* along = nullptr;
    std::vector<std::string> candidates;
    for (const auto& t : leaf.transitions) {
      if (t.event.empty() || t.event.rfind("error.", 0) == 0 || t.targets.empty()) continue;
      const std::string name = Join(t.target_ids, " + ");
      if (std::find(candidates.begin(), candidates.end(), name) != candidates.end()) continue;
      candidates.push_back(name);
      along = &t;
    }
    if (candidates.size() != 1) {
      return Status::FailedPrecondition(
          "cannot skip state '" + leaf.id + "': " +
          (candidates.empty() ? std::string("none of its own transitions leads to another state")
                              : "its transitions lead to " + std::to_string(candidates.size()) +
                                    " different states (" + Join(candidates, ", ") + ")") +
          "; use force with " + (candidates.empty() ? "the state to go to" : "one of them"));
    }
    // The designer's guard and actions belong to doing the step, which is exactly what is skipped.
    TransitionSpec skipped = *along;
    skipped.guard.reset();
    skipped.actions.clear();
    SetCurrentEvent(event);
    const std::size_t first = result_.transitions.size();
    Microstep({&skipped}, event.name);
    if (result_.transitions.size() > first) {
      result_.transitions[first].detail["override"] = "skip";
      result_.transitions[first].detail["skipped"] = leaf.id;
    }
    NURT_RETURN_IF_ERROR(fatal_);
    NURT_RETURN_IF_ERROR(RunToCompletion());
    return Finish();
  }

 private:
  std::size_t Idx(StateIndex s) const { return static_cast<std::size_t>(s); }
  const dsl::StateSpec& S(StateIndex s) const { return def_.state(s); }
  bool IsAtomic(StateIndex s) const {
    return S(s).kind == StateKind::kAtomic || S(s).kind == StateKind::kFinal;
  }
  bool IsCompoundOrRoot(StateIndex s) const {
    return s == dsl::kRootState || S(s).kind == StateKind::kCompound;
  }
  bool IsDescendant(StateIndex a, StateIndex b) const {
    for (StateIndex p = S(a).parent; p != dsl::kNoState; p = S(p).parent) {
      if (p == b) return true;
    }
    return false;
  }
  // Ancestors of `s` from its parent upwards, stopping before `stop` (kNoState: up to the root).
  std::vector<StateIndex> ProperAncestors(StateIndex s, StateIndex stop) const {
    std::vector<StateIndex> out;
    for (StateIndex p = S(s).parent; p != dsl::kNoState && p != stop; p = S(p).parent) out.push_back(p);
    return out;
  }

  std::vector<std::string> Leaves() const {
    std::vector<std::string> out;
    for (std::size_t i = 1; i < active_.size(); ++i) {
      if (active_[i] && IsAtomic(static_cast<StateIndex>(i))) out.push_back(def_.states[i].id);
    }
    return out;
  }

  void SetCurrentEvent(const Event& e) {
    current_event_ = Json{{"name", e.name}, {"actor", e.actor}, {"type", e.type}};
    if (!e.data.is_null()) current_event_["data"] = e.data;  // no data: event.data is nil (SCXML)
    if (!e.send_id.empty()) current_event_["sendid"] = e.send_id;
    if (!e.origin.empty()) current_event_["origin"] = e.origin;
    if (!e.origin_type.empty()) current_event_["origintype"] = e.origin_type;
    if (!e.invoke_id.empty()) current_event_["invokeid"] = e.invoke_id;
    current_actor_ = e.actor;
  }

  lua::CallEnv Env() const {
    lua::CallEnv env;
    env.event = &current_event_;
    env.now = options_.now;
    env.instance_id = options_.instance_id;
    env.in_state = [this](const std::string& id) {
      StateIndex s = def_.Find(id);
      return s != dsl::kNoState && active_[Idx(s)];
    };
    return env;
  }

  // --- errors -------------------------------------------------------------------------------------
  // SCXML 5.9: a failing guard or action raises error.execution. Lua limits are never recoverable:
  // they stop the whole step.
  void RaiseError(const Status& st, const dsl::SourceLocation& where) {
    if (st.IsResourceExhausted()) {
      if (fatal_.ok()) fatal_ = st;
      return;
    }
    std::string message = st.message();
    if (message.rfind(where.file, 0) != 0 && !where.file.empty()) {
      message = where.ToString() + ": " + message;
    }
    Event e;
    e.name = "error.execution";
    e.data = Json{{"message", message}};
    e.actor = current_actor_;
    e.type = "platform";
    internal_queue_.push_back(std::move(e));
  }

  Status NotTaken(const std::string& name) const {
    const std::vector<std::string> leaves = Leaves();
    bool listened = false;
    for (std::size_t i = 1; i < active_.size() && !listened; ++i) {
      if (!active_[i]) continue;
      for (const auto& t : def_.states[i].transitions) {
        if (!t.event.empty() && EventMatches(t.event, name)) listened = true;
      }
    }
    const std::vector<std::string> accepted = AcceptedIn(def_, active_);
    std::string where = "in state " + Join(leaves, ", ");
    if (listened) {
      return Status::FailedPrecondition("event '" + name + "' was not taken " + where +
                                        ": no guard of its transitions holds; nothing was changed");
    }
    return Status::FailedPrecondition("event '" + name + "' is not accepted " + where +
                                      "; it accepts: " +
                                      (accepted.empty() ? "(no events)" : Join(accepted, ", ")));
  }

 public:
  static std::vector<std::string> AcceptedIn(const Definition& def, const std::vector<bool>& active) {
    std::set<std::string> names;
    for (std::size_t i = 1; i < active.size(); ++i) {
      if (!active[i]) continue;
      for (const auto& t : def.states[i].transitions) {
        if (!t.event.empty() && !IsInternalName(t.event)) names.insert(t.event);
      }
    }
    return {names.begin(), names.end()};
  }

 private:
  // --- transition selection ---------------------------------------------------------------------
  bool GuardHolds(const TransitionSpec& t) {
    if (!t.guard) return true;
    auto r = lua_->EvaluateGuard(ChunkOf(*t.guard), ctx_, Env());
    if (!r.ok()) {
      RaiseError(r.status(), t.guard->location);
      return false;
    }
    return *r;
  }

  // event == nullptr: eventless transitions.
  std::vector<const TransitionSpec*> SelectTransitions(const std::string* event) {
    std::vector<const TransitionSpec*> enabled;
    for (std::size_t i = 1; i < active_.size(); ++i) {
      const auto leaf = static_cast<StateIndex>(i);
      if (!active_[i] || !IsAtomic(leaf)) continue;
      std::vector<StateIndex> chain{leaf};
      for (StateIndex a : ProperAncestors(leaf, dsl::kRootState)) chain.push_back(a);
      bool found = false;
      for (StateIndex s : chain) {
        for (const auto& t : S(s).transitions) {
          const bool matches = event == nullptr ? t.event.empty()
                                                : (!t.event.empty() && EventMatches(t.event, *event));
          if (!matches || !GuardHolds(t)) continue;
          if (!fatal_.ok()) return {};
          if (std::find(enabled.begin(), enabled.end(), &t) == enabled.end()) enabled.push_back(&t);
          found = true;
          break;
        }
        if (found) break;
      }
    }
    return RemoveConflictingTransitions(enabled);
  }

  StateIndex FindLcca(const std::vector<StateIndex>& states) const {
    for (StateIndex anc : ProperAncestors(states.front(), dsl::kNoState)) {
      if (!IsCompoundOrRoot(anc)) continue;
      bool all = true;
      for (std::size_t i = 1; i < states.size() && all; ++i) all = IsDescendant(states[i], anc);
      if (all) return anc;
    }
    return dsl::kRootState;
  }

  StateIndex TransitionDomain(const TransitionSpec& t) const {
    if (t.targets.empty()) return dsl::kNoState;
    if (t.internal && S(t.source).kind == StateKind::kCompound) {
      bool all = true;
      for (StateIndex s : t.targets) all = all && IsDescendant(s, t.source);
      if (all) return t.source;
    }
    std::vector<StateIndex> states{t.source};
    states.insert(states.end(), t.targets.begin(), t.targets.end());
    return FindLcca(states);
  }

  std::set<StateIndex> ExitSet(const std::vector<const TransitionSpec*>& ts) const {
    std::set<StateIndex> out;
    for (const auto* t : ts) {
      if (t->targets.empty()) continue;
      const StateIndex domain = TransitionDomain(*t);
      for (std::size_t i = 1; i < active_.size(); ++i) {
        if (active_[i] && IsDescendant(static_cast<StateIndex>(i), domain)) {
          out.insert(static_cast<StateIndex>(i));
        }
      }
    }
    return out;
  }

  std::vector<const TransitionSpec*> RemoveConflictingTransitions(
      const std::vector<const TransitionSpec*>& enabled) const {
    std::vector<const TransitionSpec*> filtered;
    for (const auto* t1 : enabled) {
      bool preempted = false;
      std::vector<const TransitionSpec*> to_remove;
      const auto exit1 = ExitSet({t1});
      for (const auto* t2 : filtered) {
        const auto exit2 = ExitSet({t2});
        const bool intersect = std::any_of(exit1.begin(), exit1.end(),
                                           [&](StateIndex s) { return exit2.count(s) > 0; });
        if (!intersect) continue;
        if (IsDescendant(t1->source, t2->source)) {
          to_remove.push_back(t2);
        } else {
          preempted = true;
          break;
        }
      }
      if (preempted) continue;
      for (const auto* r : to_remove) filtered.erase(std::find(filtered.begin(), filtered.end(), r));
      filtered.push_back(t1);
    }
    return filtered;
  }

  // --- entry set ----------------------------------------------------------------------------------
  bool HasDescendantIn(const std::set<StateIndex>& set, StateIndex s) const {
    return std::any_of(set.begin(), set.end(), [&](StateIndex x) { return IsDescendant(x, s); });
  }

  void AddDescendantStatesToEnter(StateIndex s, std::set<StateIndex>* to_enter,
                                  std::set<StateIndex>* default_entry) {
    const auto& st = S(s);
    if (st.kind == StateKind::kHistory) {
      // SCXML 3.10: the stored configuration, or the default transition's targets the first time (its
      // actions run right after the parent's entry actions).
      std::vector<StateIndex> targets;
      if (history_.contains(st.id)) {
        for (const auto& id : history_[st.id]) {
          const StateIndex x = def_.Find(id.get<std::string>());
          if (x != dsl::kNoState) targets.push_back(x);
        }
      } else if (!st.transitions.empty()) {
        targets = st.transitions.front().targets;
        default_history_actions_[st.parent] = &st.transitions.front().actions;
      }
      for (StateIndex x : targets) AddDescendantStatesToEnter(x, to_enter, default_entry);
      for (StateIndex x : targets) AddAncestorStatesToEnter(x, st.parent, to_enter, default_entry);
      return;
    }
    to_enter->insert(s);
    if (st.kind == StateKind::kCompound) {
      default_entry->insert(s);
      StateIndex init = st.initial != dsl::kNoState ? st.initial : st.children.front();
      AddDescendantStatesToEnter(init, to_enter, default_entry);
      AddAncestorStatesToEnter(init, s, to_enter, default_entry);
    } else if (st.kind == StateKind::kParallel) {
      for (StateIndex child : st.children) {
        if (S(child).kind == StateKind::kHistory) continue;
        if (!HasDescendantIn(*to_enter, child)) AddDescendantStatesToEnter(child, to_enter, default_entry);
      }
    }
  }

  void AddAncestorStatesToEnter(StateIndex s, StateIndex ancestor, std::set<StateIndex>* to_enter,
                                std::set<StateIndex>* default_entry) {
    for (StateIndex anc : ProperAncestors(s, ancestor)) {
      if (anc == dsl::kRootState) break;
      to_enter->insert(anc);
      if (S(anc).kind == StateKind::kParallel) {
        for (StateIndex child : S(anc).children) {
          if (S(child).kind == StateKind::kHistory) continue;
          if (!HasDescendantIn(*to_enter, child)) {
            AddDescendantStatesToEnter(child, to_enter, default_entry);
          }
        }
      }
    }
  }

  // --- microstep ----------------------------------------------------------------------------------
  void Microstep(const std::vector<const TransitionSpec*>& ts, const std::string& event_name) {
    const auto before = Leaves();
    // Exit, deepest first (descending document order).
    const auto exit_set = ExitSet(ts);
    RecordHistory(exit_set);
    for (auto it = exit_set.rbegin(); it != exit_set.rend(); ++it) {
      RunBlock(S(*it).exit);
      active_[Idx(*it)] = false;
      if (!fatal_.ok()) return;
    }
    for (const auto* t : ts) {
      RunBlock(t->actions);
      if (!fatal_.ok()) return;
    }
    std::set<StateIndex> to_enter, default_entry;
    for (const auto* t : ts) {
      for (StateIndex s : t->targets) AddDescendantStatesToEnter(s, &to_enter, &default_entry);
      const StateIndex domain = TransitionDomain(*t);
      for (StateIndex s : t->targets) AddAncestorStatesToEnter(s, domain, &to_enter, &default_entry);
    }
    EnterStates(to_enter, default_entry);
    const auto after = Leaves();
    for (const auto* t : ts) {
      store::TransitionRecord rec;
      rec.event = event_name;
      rec.from = before;
      rec.to = after;
      rec.source = S(t->source).id;
      rec.targets = t->target_ids;
      rec.detail = Json::object();
      if (t->event.empty()) rec.detail["eventless"] = true;
      if (t->internal) rec.detail["internal"] = true;
      if (t->targets.empty()) rec.detail["targetless"] = true;
      result_.transitions.push_back(std::move(rec));
    }
  }

  // SCXML exitStates: before anything is exited, each history child of an exited state remembers the
  // active children (shallow) or active atomic descendants (deep) of its parent.
  void RecordHistory(const std::set<StateIndex>& exit_set) {
    for (StateIndex s : exit_set) {
      for (StateIndex h : S(s).children) {
        if (S(h).kind != StateKind::kHistory) continue;
        Json ids = Json::array();
        for (std::size_t i = 1; i < active_.size(); ++i) {
          const auto x = static_cast<StateIndex>(i);
          if (!active_[i]) continue;
          const bool take = S(h).deep_history ? (IsAtomic(x) && IsDescendant(x, s)) : S(x).parent == s;
          if (take) ids.push_back(S(x).id);
        }
        history_[S(h).id] = std::move(ids);
      }
    }
  }

  bool IsInFinalState(StateIndex s) const {
    const auto& st = S(s);
    if (st.kind == StateKind::kCompound) {
      return std::any_of(st.children.begin(), st.children.end(), [&](StateIndex c) {
        return active_[Idx(c)] && S(c).kind == StateKind::kFinal;
      });
    }
    if (st.kind == StateKind::kParallel) {
      return std::all_of(st.children.begin(), st.children.end(), [&](StateIndex c) {
        return S(c).kind == StateKind::kHistory || IsInFinalState(c);
      });
    }
    return false;
  }

  void EnterStates(const std::set<StateIndex>& to_enter, const std::set<StateIndex>& default_entry) {
    EnterStatesInOrder(to_enter, default_entry);
    default_history_actions_.clear();  // they belong to this microstep only
  }

  void EnterStatesInOrder(const std::set<StateIndex>& to_enter, const std::set<StateIndex>& /*default*/) {
    // A history default transition whose parent stays active (a transition from inside the parent to
    // its history state) has no parent entry to follow: its actions run first.
    for (const auto& [parent, actions] : default_history_actions_) {
      if (to_enter.count(parent) > 0) continue;
      RunBlock(*actions);
      if (!fatal_.ok()) return;
    }
    for (StateIndex s : to_enter) {  // ascending = document order, parents before children
      active_[Idx(s)] = true;
      RunBlock(S(s).entry);
      if (!fatal_.ok()) return;
      if (auto h = default_history_actions_.find(s); h != default_history_actions_.end()) {
        RunBlock(*h->second);
        if (!fatal_.ok()) return;
      }
      if (S(s).kind != StateKind::kFinal) continue;
      const StateIndex parent = S(s).parent;
      Json done_data = DoneData(s);
      if (parent == dsl::kRootState) {
        done_ = true;
        output_ = std::move(done_data);
        continue;
      }
      Raise("done.state." + S(parent).id, std::move(done_data), "platform");
      const StateIndex grand = S(parent).parent;
      if (grand != dsl::kNoState && grand != dsl::kRootState &&
          S(grand).kind == StateKind::kParallel && IsInFinalState(grand)) {
        Raise("done.state." + S(grand).id, Json::object(), "platform");
      }
    }
  }

  Json DoneData(StateIndex s) {
    const auto& st = S(s);
    if (!st.output_is_map && !st.output) return nullptr;
    auto v = EvaluateFields(st.output_fields, st.output_is_map, st.output, st.location);
    if (!v.ok()) {
      RaiseError(v.status(), S(s).location);
      return nullptr;
    }
    return std::move(v).value();
  }

  void Raise(std::string name, Json data, const char* type = "internal") {
    Event e;
    e.name = std::move(name);
    e.data = std::move(data);
    e.actor = current_actor_;
    e.type = type;
    internal_queue_.push_back(std::move(e));
  }

  // --- macrostep ----------------------------------------------------------------------------------
  Status RunToCompletion() {
    int microsteps = 0;
    while (!done_) {
      if (++microsteps > options_.max_microsteps) {
        return Status::ResourceExhausted(
            "machine '" + def_.name + "' did not settle after " +
            std::to_string(options_.max_microsteps) +
            " microsteps (eventless transitions or internal events loop forever?) in state " +
            Join(Leaves(), ", "));
      }
      auto enabled = SelectTransitions(nullptr);
      NURT_RETURN_IF_ERROR(fatal_);
      std::string name;
      if (enabled.empty()) {
        if (internal_queue_.empty()) break;
        Event e = std::move(internal_queue_.front());
        internal_queue_.pop_front();
        SetCurrentEvent(e);
        enabled = SelectTransitions(&e.name);
        NURT_RETURN_IF_ERROR(fatal_);
        if (enabled.empty() && e.name.rfind("error.", 0) == 0 && !def_.ignore_unhandled_errors) {
          // Strict by default: an error nobody handles rejects the whole event (docs/dsl.md rule 9).
          return Status::InvalidArgument(e.data.value("message", "a guard or action failed"));
        }
        name = e.name;
      }
      if (!enabled.empty()) {
        Microstep(enabled, name);
        NURT_RETURN_IF_ERROR(fatal_);
      }
    }
    for (const auto& e : internal_queue_) {
      if (e.name.rfind("error.", 0) == 0 && !def_.ignore_unhandled_errors) {
        return Status::InvalidArgument(e.data.value("message", "a guard or action failed"));
      }
    }
    return Status::Ok();
  }

  Result<StepResult> Finish() {
    result_.snapshot.configuration.clear();
    for (std::size_t i = 1; i < active_.size(); ++i) {
      if (active_[i]) result_.snapshot.configuration.push_back(static_cast<StateIndex>(i));
    }
    result_.snapshot.context = std::move(ctx_);
    result_.snapshot.done = done_;
    result_.snapshot.history = std::move(history_);
    result_.snapshot.output = std::move(output_);
    return std::move(result_);
  }

  // --- executable content -------------------------------------------------------------------------
  Result<Json> Evaluate(const dsl::ValueSpec& v, const dsl::SourceLocation& /*where*/) {
    if (!v.is_expression) return v.literal;
    return lua_->Evaluate(ChunkOf(v.expression), ctx_, Env());
  }

  // A map of field -> value (each evaluated), one value, or {} when neither is given.
  Result<Json> EvaluateFields(const std::vector<std::pair<std::string, dsl::ValueSpec>>& fields,
                              bool is_map, const std::optional<dsl::ValueSpec>& whole,
                              const dsl::SourceLocation& where) {
    if (is_map) {
      Json out = Json::object();
      for (const auto& [name, spec] : fields) {
        auto v = Evaluate(spec, where);
        if (!v.ok()) return v.status();
        out[name] = std::move(v).value();
      }
      return out;
    }
    if (whole) return Evaluate(*whole, where);
    return Json::object();
  }

  Result<std::string> EvaluateText(const dsl::ValueSpec& v, const dsl::SourceLocation& where,
                                   const char* what) {
    auto r = Evaluate(v, where);
    if (!r.ok()) return r.status();
    if (r->is_string()) return r->get<std::string>();
    if (r->is_number_integer()) return std::to_string(r->get<std::int64_t>());
    return Status::InvalidArgument(where.ToString() + ": " + what + " must be a text, got " + r->dump());
  }

  static Status AssignPath(Json* root, const std::string& path, Json value) {
    Json* node = root;
    std::size_t start = 0;
    while (true) {
      const std::size_t dot = path.find('.', start);
      const std::string key = path.substr(start, dot == std::string::npos ? dot : dot - start);
      if (!node->is_object()) {
        return Status::InvalidArgument("cannot assign '" + path + "': '" + path.substr(0, start - 1) +
                                       "' is " + std::string(node->type_name()) + ", not an object");
      }
      if (dot == std::string::npos) {
        (*node)[key] = std::move(value);
        return Status::Ok();
      }
      Json& child = (*node)[key];
      if (child.is_null()) child = Json::object();
      node = &child;
      start = dot + 1;
    }
  }

  std::string DefaultKey(const char* kind) {
    return options_.instance_id + "/" + std::to_string(options_.sequence) + "/" + kind + "/" +
           std::to_string(effect_ordinal_++);
  }

  Status ApplyRequests(std::vector<lua::Request>* requests) {
    for (auto& r : *requests) {
      switch (r.kind) {
        case lua::Request::Kind::kEmit:
          Raise(r.name, r.data.is_null() ? Json::object() : std::move(r.data));
          break;
        case lua::Request::Kind::kSend:
          result_.effects.push_back(Effect{Effect::Kind::kSend, r.name, r.to, DefaultKey("send"),
                                           r.data.is_null() ? Json::object() : std::move(r.data)});
          break;
        case lua::Request::Kind::kSpawn:
          result_.effects.push_back(
              Effect{Effect::Kind::kSpawn, r.name, "", r.key.empty() ? DefaultKey("spawn") : r.key,
                     r.data.is_null() ? Json::object() : std::move(r.data)});
          break;
        case lua::Request::Kind::kLog:
          result_.log.push_back(r.name);
          break;
      }
    }
    return Status::Ok();
  }

  Status ExecuteAction(const ActionSpec& a) {
    switch (a.kind) {
      case ActionSpec::Kind::kAssign: {
        for (const auto& [path, spec] : a.assignments) {
          auto v = Evaluate(spec, a.location);
          if (!v.ok()) return v.status();
          NURT_RETURN_IF_ERROR(AssignPath(&ctx_, path, std::move(v).value())
                                   .WithContext(a.location.ToString()));
        }
        return Status::Ok();
      }
      case ActionSpec::Kind::kEmit: {
        auto data = EvaluateFields(a.data_fields, a.data_is_map, a.data, a.location);
        if (!data.ok()) return data.status();
        if (!a.to) {
          Raise(a.event, std::move(data).value());
          return Status::Ok();
        }
        auto to = EvaluateText(*a.to, a.location, "emit.to");
        if (!to.ok()) return to.status();
        result_.effects.push_back(
            Effect{Effect::Kind::kSend, a.event, *to, DefaultKey("send"), std::move(data).value()});
        return Status::Ok();
      }
      case ActionSpec::Kind::kSpawn: {
        auto data = EvaluateFields(a.data_fields, a.data_is_map, a.data, a.location);
        if (!data.ok()) return data.status();
        std::string key, id;
        if (a.key) {
          auto k = EvaluateText(*a.key, a.location, "spawn.key");
          if (!k.ok()) return k.status();
          key = *k;
        } else {
          key = DefaultKey("spawn");
        }
        if (a.id) {
          auto i = EvaluateText(*a.id, a.location, "spawn.id");
          if (!i.ok()) return i.status();
          id = *i;
        }
        result_.effects.push_back(
            Effect{Effect::Kind::kSpawn, a.machine, id, key, std::move(data).value()});
        return Status::Ok();
      }
      case ActionSpec::Kind::kNotify: {
        Json data{{"channel", a.channel}, {"subject", a.subject}, {"body", a.body}};
        if (a.notify_to) {
          auto to = Evaluate(*a.notify_to, a.location);
          if (!to.ok()) return to.status();
          if (to->is_string()) *to = Json::array({*to});
          const bool texts = to->is_array() && std::all_of(to->begin(), to->end(),
                                                           [](const Json& x) { return x.is_string(); });
          if (!texts) {
            return Status::InvalidArgument(a.location.ToString() +
                                           ": notify.to must be a text or a list of texts, got " + to->dump());
          }
          data["to"] = std::move(to).value();
        }
        result_.effects.push_back(
            Effect{Effect::Kind::kNotify, a.channel, "", DefaultKey("notify"), std::move(data)});
        return Status::Ok();
      }
      case ActionSpec::Kind::kCall: {
        auto input = EvaluateFields(a.data_fields, a.data_is_map, a.data, a.location);
        if (!input.ok()) return input.status();
        Json data{{"step", a.step}, {"input", std::move(input).value()}, {"retry", a.retry}};
        result_.effects.push_back(Effect{Effect::Kind::kCall, a.adapter, "", DefaultKey("call"), std::move(data)});
        return Status::Ok();
      }
      case ActionSpec::Kind::kLua: {
        std::vector<lua::Request> requests;
        NURT_RETURN_IF_ERROR(lua_->Execute(ChunkOf(a.code), &ctx_, Env(), &requests));
        return ApplyRequests(&requests);
      }
      case ActionSpec::Kind::kSend:
        return ExecuteSend(a);
      case ActionSpec::Kind::kBlock:
        RunBlock(a.nested);  // its own failure is its own: raised, and the enclosing block goes on
        return fatal_;
      case ActionSpec::Kind::kCancel: {
        auto id = EvaluateText(*a.send_id, a.location, "cancel.id");
        if (!id.ok()) return id.status();
        Effect fx;
        fx.kind = Effect::Kind::kCancel;
        fx.key = DefaultKey("cancel");
        fx.send_id = *id;
        result_.effects.push_back(std::move(fx));
        return Status::Ok();
      }
      case ActionSpec::Kind::kLog: {
        std::string line = a.label;
        if (a.data) {
          auto v = Evaluate(*a.data, a.location);
          if (!v.ok()) return v.status();
          if (!line.empty()) line += ": ";
          line += v->is_string() ? v->get<std::string>() : v->dump();
        }
        result_.log.push_back(std::move(line));
        return Status::Ok();
      }
      case ActionSpec::Kind::kIf:
        for (std::size_t i = 0; i < a.conditions.size(); ++i) {
          if (a.conditions[i]) {
            auto holds = lua_->EvaluateGuard(ChunkOf(*a.conditions[i]), ctx_, Env());
            if (!holds.ok()) return holds.status();
            if (!*holds) continue;
          }
          return ExecuteActions(a.blocks[i]);
        }
        return Status::Ok();
      case ActionSpec::Kind::kForeach: {
        auto array = lua_->Evaluate(ChunkOf(a.code), ctx_, Env());
        if (!array.ok()) return array.status();
        if (!array->is_array()) {
          return Status::InvalidArgument(a.location.ToString() + ": foreach.array must be a list, got " +
                                         (array->is_object() && array->empty() ? std::string("{}")
                                                                               : array->dump()));
        }
        std::int64_t position = 0;
        for (const Json& item : *array) {  // a copy: the body may change the list it walks
          NURT_RETURN_IF_ERROR(AssignPath(&ctx_, a.item, item).WithContext(a.location.ToString()));
          if (!a.index.empty()) {
            NURT_RETURN_IF_ERROR(AssignPath(&ctx_, a.index, ++position).WithContext(a.location.ToString()));
          }
          NURT_RETURN_IF_ERROR(ExecuteActions(a.nested));
        }
        return Status::Ok();
      }
    }
    return Status::Internal("unknown action kind");
  }

  Status ExecuteSend(const ActionSpec& a) {
    auto data = EvaluateFields(a.data_fields, a.data_is_map, a.data, a.location);
    if (!data.ok()) return data.status();
    Effect fx;
    fx.kind = Effect::Kind::kSend;
    fx.name = a.event;
    if (a.event_expr) {
      auto name = lua_->Evaluate(ChunkOf(*a.event_expr), ctx_, Env());
      if (!name.ok()) return name.status();
      if (!name->is_string() || name->get<std::string>().empty()) {
        return Status::InvalidArgument(a.location.ToString() + ": send.event_expr must give an event name, got " +
                                       name->dump());
      }
      fx.name = name->get<std::string>();
    }
    fx.to = options_.instance_id;
    bool internal = false;
    if (a.to) {
      auto to = EvaluateText(*a.to, a.location, "send.to");
      if (!to.ok()) return to.status();
      // SCXML's target forms: "#_internal" raises the event here; "#_scxml_<id>" is the instance <id>.
      static const std::string kScxmlPrefix = "#_scxml_";
      if (*to == "#_internal") {
        internal = true;
      } else if (to->rfind(kScxmlPrefix, 0) == 0) {
        fx.to = to->substr(kScxmlPrefix.size());
      } else {
        fx.to = *to;
      }
    }
    if (a.delay) {
      auto d = Evaluate(*a.delay, a.location);
      if (!d.ok()) return d.status();
      auto ms = DelayMillis(*d);
      if (!ms.ok()) return ms.status().WithContext(a.location.ToString());
      fx.delay_ms = *ms;
    }
    if (fx.delay_ms > 0 && (internal || fx.to != options_.instance_id)) {
      return Status::InvalidArgument(a.location.ToString() +
                                     ": a delayed send goes to this instance only (it is a timer of its own); "
                                     "send to '" + fx.to + "' without a delay");
    }
    fx.key = DefaultKey("send");
    if (a.send_id) {
      auto id = EvaluateText(*a.send_id, a.location, "send.id");
      if (!id.ok()) return id.status();
      fx.send_id = *id;
    } else if (!a.id_location.empty()) {
      fx.send_id = fx.key;  // generated, and stored where the designer asked
    }  // else: no id (SCXML: the event's sendid is blank), so nothing can cancel it
    if (!a.id_location.empty()) {
      NURT_RETURN_IF_ERROR(AssignPath(&ctx_, a.id_location, fx.send_id).WithContext(a.location.ToString()));
    }
    fx.data = std::move(data).value();
    if (internal) {
      Raise(fx.name, std::move(fx.data));
      return Status::Ok();
    }
    result_.effects.push_back(std::move(fx));
    return Status::Ok();
  }

  // Runs actions in order; the first failure stops them and is returned.
  Status ExecuteActions(const std::vector<ActionSpec>& actions) {
    for (const auto& a : actions) NURT_RETURN_IF_ERROR(ExecuteAction(a));
    return Status::Ok();
  }

  // Runs a block of actions; the first failure skips the rest of the block (SCXML 4.9).
  void RunBlock(const std::vector<ActionSpec>& actions) {
    for (const auto& a : actions) {
      Status st = ExecuteAction(a);
      if (!st.ok()) {
        RaiseError(st, a.location);
        return;
      }
    }
  }

  const Definition& def_;
  lua::Runtime* lua_;
  const StepOptions& options_;
  std::vector<bool> active_;
  Json ctx_ = Json::object();
  bool done_ = false;
  Json output_;
  Json current_event_;
  std::string current_actor_;
  std::deque<Event> internal_queue_;
  Json history_ = Json::object();
  // Parent state -> actions of the history default transition that entered it (run after its entry).
  std::map<StateIndex, const std::vector<ActionSpec>*> default_history_actions_;
  StepResult result_;
  Status fatal_;
  int effect_ordinal_ = 0;
};

}  // namespace

Json Snapshot::ToJson(const Definition& definition) const {
  Json config = Json::array();
  for (StateIndex s : configuration) config.push_back(definition.state(s).id);
  Json out{{"configuration", std::move(config)},
           {"context", context},
              {"done", done},
              {"output", output}};
  if (!failure.is_null()) out["failure"] = failure;
  if (history.is_object() && !history.empty()) out["history"] = history;
  return out;
}

Result<Snapshot> Snapshot::FromJson(const Definition& definition, const Json& json) {
  Snapshot s;
  if (!json.is_object() || !json.contains("configuration") || !json["configuration"].is_array()) {
    return Status::DataLoss("stored snapshot of a '" + definition.name +
                            "' instance has no configuration: the store is damaged");
  }
  for (const auto& id : json["configuration"]) {
    const StateIndex i = definition.Find(id.get<std::string>());
    if (i == dsl::kNoState) {
      return Status::DataLoss("stored snapshot names state '" + id.get<std::string>() +
                              "' which machine '" + definition.name + "' version " +
                              std::to_string(definition.version) + " does not have");
    }
    s.configuration.push_back(i);
  }
  std::sort(s.configuration.begin(), s.configuration.end());
  s.context = json.value("context", Json::object());
  s.done = json.value("done", false);
  s.output = json.contains("output") ? json["output"] : Json();
  s.failure = json.contains("failure") ? json["failure"] : Json();
  s.history = json.contains("history") ? json["history"] : Json::object();
  return s;
}

std::vector<std::string> Snapshot::ActiveLeaves(const Definition& definition) const {
  std::vector<std::string> out;
  for (StateIndex s : configuration) {
    const auto kind = definition.state(s).kind;
    if (kind == StateKind::kAtomic || kind == StateKind::kFinal) out.push_back(definition.state(s).id);
  }
  return out;
}

Interpreter::Interpreter(std::shared_ptr<const Definition> definition, lua::Runtime* lua)
    : definition_(std::move(definition)), lua_(lua) {}

Result<StepResult> Interpreter::Start(const Json& context, const Event& start,
                                      const StepOptions& options) const {
  MacroStep step(*definition_, lua_, options);
  return step.RunStart(context, start);
}

Result<StepResult> Interpreter::Step(const Snapshot& snapshot, const Event& event,
                                     const StepOptions& options) const {
  MacroStep step(*definition_, lua_, options);
  step.Load(snapshot);
  return step.RunStep(event);
}

Result<StepResult> Interpreter::Force(const Snapshot& snapshot, const std::string& state_id,
                                      const Event& event, const StepOptions& options) const {
  const StateIndex target = definition_->Find(state_id);
  if (target == dsl::kNoState || target == dsl::kRootState) {
    std::vector<std::string> ids;
    for (std::size_t i = 1; i < definition_->states.size(); ++i) ids.push_back(definition_->states[i].id);
    return Status::InvalidArgument("machine '" + definition_->name + "' version " +
                                   std::to_string(definition_->version) + " has no state '" + state_id +
                                   "'" + DidYouMean(state_id, ids) +
                                   " (its states: " + Join(ids, ", ") + ")");
  }
  MacroStep step(*definition_, lua_, options);
  step.Load(snapshot);
  return step.RunForce(target, event);
}

Result<StepResult> Interpreter::Skip(const Snapshot& snapshot, const Event& event,
                                     const StepOptions& options) const {
  MacroStep step(*definition_, lua_, options);
  step.Load(snapshot);
  return step.RunSkip(event);
}

std::vector<std::string> Interpreter::AcceptedEvents(const Snapshot& snapshot) const {
  if (snapshot.done) return {};
  std::vector<bool> active(definition_->states.size(), false);
  for (StateIndex s : snapshot.configuration) active[static_cast<std::size_t>(s)] = true;
  return MacroStep::AcceptedIn(*definition_, active);
}

}  // namespace nurt::interp
