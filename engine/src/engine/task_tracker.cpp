#include "engine/task_tracker.hpp"

#include <chrono>
#include <map>
#include <set>

#include "engine/macrostep_walk.hpp"

namespace nurt::engine {

using dsl::StateIndex;

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

  MacrostepVisitor visitor;
  visitor.exited = [&](StateIndex s, const std::string& on_event) {
    close(s, "state " + d.state(s).id + " left on event " + on_event);
  };
  visitor.entered = open;
  WalkMacrostep(d, leaves_before, *commit, visitor);
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
