#include "cli/tasks_command.hpp"

#include <exception>

#include "nurt/core/json.hpp"

namespace nurt::cli {
namespace {

std::string Opt(const TasksCommand& c, const std::string& name, const std::string& def = "") {
  auto it = c.options.find(name);
  return it == c.options.end() ? def : it->second;
}

std::string Assignee(const store::TaskRecord& t) {
  if (!t.assignee_user.empty()) return "user " + t.assignee_user;
  if (!t.assignee_role.empty()) return "role " + t.assignee_role;
  return "anyone";
}

void PrintTask(const store::TaskRecord& t, std::ostream& out) {
  out << "task " << t.id << ": " << t.title << "\n"
      << "status:    " << t.status << (t.status == "claimed" ? " by " + t.claimed_by : "") << "\n"
      << "instance:  " << t.machine << " " << t.instance_id << ", state " << t.state << "\n"
      << "assignee:  " << Assignee(t) << "\n";
  if (!t.description.empty()) out << "about:     " << t.description << "\n";
  if (t.due_at) out << "due:       " << FormatIso8601(*t.due_at) << "\n";
  if (!t.form.empty()) {
    out << "form:\n";
    for (const auto& f : t.form) {
      out << "  " << f.value("name", "") << " (" << f.value("type", "") << (f.value("required", false) ? ", required" : "")
          << ")";
      if (f.contains("options")) out << " one of " << f["options"].dump();
      if (f.contains("label")) out << "  " << f.value("label", "");
      out << "\n";
    }
  }
  if (!t.checklist.empty()) {
    out << "checklist:\n";
    for (const auto& item : t.checklist) out << "  [ ] " << item.get<std::string>() << "\n";
  }
  std::string decisions;
  for (auto it = t.decisions.begin(); it != t.decisions.end(); ++it) {
    decisions += (decisions.empty() ? "" : ", ") + it.key() + " -> " + it.value().get<std::string>();
  }
  out << "decisions: " << decisions << "\n";
  if (t.status == "completed") {
    out << "completed: " << t.decision << " by " << t.completed_by << ", result " << t.result.dump() << "\n";
  }
  if (t.status == "closed") out << "closed:    " << t.close_reason << "\n";
}

int List(const TasksCommand& c, std::ostream& out) {
  if (c.positional.size() != 1) return c.usage("tasks ls takes options only");
  store::TaskFilter filter;
  filter.status = Opt(c, "--status", "open");
  if (filter.status == "all") filter.status = "";
  filter.assignee_role = Opt(c, "--role");
  filter.assignee_user = Opt(c, "--user");
  filter.instance_id = Opt(c, "--instance");
  filter.machine = Opt(c, "--machine");
  filter.after_id = Opt(c, "--after");
  if (!Opt(c, "--limit").empty()) {
    try {
      std::size_t used = 0;
      filter.limit = std::stoi(Opt(c, "--limit"), &used);
      if (used != Opt(c, "--limit").size()) return c.usage("--limit must be a whole number");
    } catch (const std::exception&) {
      return c.usage("--limit must be a whole number");
    }
  }
  auto tasks = c.engine->ListTasks(c.org, filter);
  if (!tasks.ok()) return c.fail(tasks.status());
  if (c.json) {
    Json all = Json::array();
    for (const auto& t : *tasks) all.push_back(t.ToJson());
    out << all.dump(2) << "\n";
    return 0;
  }
  for (const auto& t : *tasks) {
    out << t.id << "  " << t.status << (t.status == "claimed" ? "(" + t.claimed_by + ")" : "") << "  "
        << t.machine << "/" << t.instance_id << "@" << t.state << "  " << Assignee(t) << "  "
        << (t.due_at ? "due " + FormatIso8601(*t.due_at) + "  " : "") << t.title << "\n";
  }
  out << tasks->size() << (tasks->size() == 1 ? " task" : " tasks") << "\n";
  return 0;
}

int ShowOrChange(const TasksCommand& c, const std::string& sub, std::ostream& out) {
  if (c.positional.size() != 2) return c.usage("tasks " + sub + " takes the task id");
  const std::string& id = c.positional[1];
  Result<store::TaskRecord> task = sub == "claim"     ? c.engine->ClaimTask(c.org, id, c.actor)
                                   : sub == "release" ? c.engine->ReleaseTask(c.org, id, c.actor)
                                                      : c.engine->GetTask(c.org, id);
  if (!task.ok()) return c.fail(task.status());
  if (c.json) {
    out << task->ToJson().dump(2) << "\n";
    return 0;
  }
  if (sub == "claim") out << "claimed by " << c.actor << "\n";
  if (sub == "release") out << "released by " << c.actor << "\n";
  PrintTask(*task, out);
  return 0;
}

int Complete(const TasksCommand& c) {
  if (c.positional.size() != 2) return c.usage("tasks complete takes the task id");
  if (Opt(c, "--decision").empty()) return c.usage("tasks complete needs --decision");
  Json data = Json::object();
  const std::string text = Opt(c, "--data", "{}");
  try {
    data = Json::parse(text);
  } catch (const Json::exception& e) {
    return c.fail(Status::InvalidArgument("--data is not valid JSON (" + std::string(e.what()) +
                                          "); write an object like '{\"amount\": 100}'"));
  }
  engine::CompleteTaskRequest req;
  req.org_id = c.org;
  req.task_id = c.positional[1];
  req.decision = Opt(c, "--decision");
  req.data = std::move(data);
  req.checklist_done = c.checks;
  req.actor = c.actor;
  req.idempotency_key = Opt(c, "--key");
  auto r = c.engine->CompleteTask(req);
  if (!r.ok()) return c.fail(r.status());
  return c.print_outcome(*r, "task " + req.task_id + " completed (" + req.decision + "):");
}

}  // namespace

const char* TasksUsage() {
  return R"(  tasks ls [--role R] [--user U] [--instance I] [--machine M] [--after ID] [--limit N]
           [--status open|claimed|completed|closed|all]
                                        human tasks (default: open and claimed ones)
  tasks show ID                         one task: form, checklist, decisions
  tasks claim ID | tasks release ID     take a task (as --actor) or give it back
  tasks complete ID --decision D [--data JSON] [--check ITEM]... [--key KEY]
                                        complete a task: raises the decision's event
)";
}

int RunTasksCommand(const TasksCommand& c, std::ostream& out) {
  const std::string sub = c.positional.empty() ? "" : c.positional[0];
  if (sub == "ls") return List(c, out);
  if (sub == "show" || sub == "claim" || sub == "release") return ShowOrChange(c, sub, out);
  if (sub == "complete") return Complete(c);
  return c.usage(sub.empty() ? "tasks needs a subcommand: ls, show, claim, release or complete"
                             : "unknown tasks subcommand '" + sub + "' (ls, show, claim, release, complete)");
}

}  // namespace nurt::cli
