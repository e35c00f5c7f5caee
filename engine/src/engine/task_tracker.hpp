#pragma once
// TaskTracker — turns one macrostep into the human tasks it opens and closes (private to the engine).
//
// A state with `task:` has an active task exactly while it is active: each time the state is entered
// a fresh task opens (due_at = event time + `due`), and when it is exited its active task closes with
// close_reason "state <s> left on event <e>". Entries and exits are read from the commit's transition
// records (SCXML exit/entry sets rebuilt from each record's source, targets and the configurations
// before and after), so a state left and re-entered within one macrostep (a self-transition) gets a
// new task, and a task opened and left within the same macrostep is never written: nobody could
// have seen it. The task being completed by the commit itself (Engine::CompleteTask) is skipped: its
// completion closure is added by the caller. When the instance stops running (completed, cancelled,
// failed), its remaining tasks close.
//
// Pure: no IO, no clock; ids come from the injected generator. Thread-safety: const methods only; the
// IdGenerator must be thread-safe (env::IdGenerator is).

#include <string>
#include <vector>

#include "nurt/dsl/definition.hpp"
#include "nurt/env/id_generator.hpp"
#include "nurt/store/records.hpp"
#include "nurt/store/store.hpp"

namespace nurt::engine {

class TaskTracker {
 public:
  explicit TaskTracker(env::IdGenerator* ids) : ids_(ids) {}

  // True when some state of `definition` declares a task (otherwise Track has nothing to do).
  static bool HasTasks(const dsl::Definition& definition);

  // Adds tasks_opened/tasks_closed to `commit` (filled by the engine: instance, events, transitions).
  //   leaves_before:      active atomic states before the macrostep (empty for a start)
  //   open_before:        the instance's open/claimed tasks before the macrostep
  //   completing_task_id: the task this commit completes ("" = none)
  // Returns the instance's open/claimed tasks after the commit (for the next step of a batch).
  std::vector<store::TaskRecord> Track(const dsl::Definition& definition,
                                       const std::vector<std::string>& leaves_before,
                                       const std::vector<store::TaskRecord>& open_before,
                                       const std::string& completing_task_id,
                                       store::CommitRequest* commit) const;

 private:
  env::IdGenerator* ids_;
};

}  // namespace nurt::engine
