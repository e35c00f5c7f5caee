#include "engine/task_tracker.hpp"

#include <chrono>
#include <map>
#include <set>

namespace nurt::engine {
namespace {

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

bool TaskTracker::HasTasks(const dsl::Definition& definition) {
  for (const auto& s : definition.states) {
    if (s.task) return true;
  }
  return false;
}

std::vector<store::TaskRecord> TaskTracker::Track(const dsl::Definition& d,
                                                  const std::vector<std::string>& leaves_before,
                                                  const std::vector<store::TaskRecord>& open_before,
                                                  const std::string& completing_task_id,
                                                  store::CommitRequest* commit) const {
  const store::EventEnvelope* event = commit->events.empty() ? nullptr : &commit->events.front();
  const TimePoint now = event ? event->occurred_at : commit->instance.updated_at;
  const std::int64_t sequence = event ? event->sequence : commit->instance.version;
  const std::string accepted = event ? event->type : std::string();

  struct Active {
    store::TaskRecord record;
    bool is_new = false;
  };
  std::map<StateIndex, Active> active;  // state -> its active task
  std::vector<store::TaskRecord> untracked;  // active tasks of states this definition does not know
  for (const auto& t : open_before) {
    const StateIndex s = d.Find(t.state);
    if (s == dsl::kNoState || active.count(s)) {
      untracked.push_back(t);
      continue;
    }
    active[s] = Active{t, false};
  }

  auto close = [&](StateIndex s, const std::string& reason) {
    auto it = active.find(s);
    if (it == active.end()) return;
    if (!it->second.is_new && it->second.record.id != completing_task_id) {
      store::TaskClosure c;
      c.task_id = it->second.record.id;
      c.status = "closed";
      c.reason = reason;
      commit->tasks_closed.push_back(std::move(c));
    }
    active.erase(it);
  };
  auto open = [&](StateIndex s) {
    const dsl::StateSpec& st = d.state(s);
    if (!st.task) return;
    close(s, "state " + st.id + " re-entered");  // only when an entry was missed: never normally
    const dsl::TaskSpec& spec = *st.task;
    store::TaskRecord t;
    t.org_id = commit->org_id;
    t.id = ids_->NewId();
    t.instance_id = commit->instance_id;
    t.machine = d.name;
    t.state = st.id;
    t.title = spec.title;
    t.description = spec.description;
    t.assignee_role = spec.assignee_role;
    t.assignee_user = spec.assignee_user;
    t.form = spec.FormJson();
    t.checklist = spec.ChecklistJson();
    t.decisions = spec.DecisionsJson();
    if (spec.due_ms) t.due_at = now + std::chrono::milliseconds(*spec.due_ms);
    t.status = "open";
    t.result = nullptr;
    t.opened_at = now;
    t.opened_by_sequence = sequence;
    active[s] = Active{std::move(t), true};
  };

  // Walk the macrostep: the configuration before it, then each transition's exits and entries.
  std::set<StateIndex> config = Configuration(d, leaves_before);
  auto move_to = [&](const std::set<StateIndex>& next, const std::string& on_event) {
    for (auto it = config.rbegin(); it != config.rend(); ++it) {
      if (!next.count(*it)) close(*it, "state " + d.state(*it).id + " left on event " + on_event);
    }
    for (StateIndex s : next) {
      if (!config.count(s)) open(s);
    }
    config = next;
  };
  const auto& records = commit->transitions;
  // The configuration the first transition starts from (for a start: the initial configuration).
  move_to(Configuration(d, records.empty() ? commit->instance.state : records.front().from), accepted);
  for (const auto& r : records) {
    const std::string on_event = r.event.empty() ? accepted : r.event;
    const StateIndex domain = Domain(d, r);
    const std::set<StateIndex> from = Configuration(d, r.from);
    const std::set<StateIndex> to = Configuration(d, r.to);
    if (domain != dsl::kNoState) {
      // Exited below the domain (deepest first), then entered below it: a self-transition re-enters.
      for (auto it = from.rbegin(); it != from.rend(); ++it) {
        if (IsProperDescendant(d, *it, domain)) {
          close(*it, "state " + d.state(*it).id + " left on event " + on_event);
        }
      }
      for (StateIndex s : to) {
        if (IsProperDescendant(d, s, domain)) open(s);
      }
    }
    config = to;
  }
  move_to(Configuration(d, commit->instance.state), accepted);
  // An instance that stops running (completed; cancelled or failed by later commits) leaves no task
  // open: nobody could complete it.
  const std::string& run_status = commit->instance.run_status;
  if (run_status == "completed" || run_status == "cancelled" || run_status == "failed") {
    std::vector<StateIndex> remaining;
    for (const auto& [s, a] : active) remaining.push_back(s);
    for (StateIndex s : remaining) close(s, "instance " + run_status + " on event " + accepted);
  }

  std::vector<store::TaskRecord> after = untracked;
  for (auto& [s, a] : active) {
    if (a.record.id == completing_task_id) continue;
    if (a.is_new) commit->tasks_opened.push_back(a.record);
    after.push_back(std::move(a.record));
  }
  return after;
}

}  // namespace nurt::engine
