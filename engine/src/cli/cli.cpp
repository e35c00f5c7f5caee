#include "nurt/cli/cli.hpp"

#include "cli/tasks_command.hpp"

#include <cstdint>
#include <cstdlib>
#include <exception>
#include <map>
#include <optional>
#include <ostream>
#include <regex>
#include <unistd.h>
#include <set>

#include "cli/admin_command.hpp"
#include "cli/keys_command.hpp"
#include "cli/import_command.hpp"
#include "cli/scenario_command.hpp"
#include "cli/schedules_command.hpp"
#include "cli/webhooks_command.hpp"
#include "cli/effects_command.hpp"
#include "cli/serve_command.hpp"
#include "nurt/core/json.hpp"
#include "nurt/dsl/graph.hpp"
#include "nurt/dsl/loader.hpp"
#include "nurt/engine/timer_service.hpp"
#include "nurt/dsl/rules.hpp"
#include "nurt/scenario/scenario.hpp"
#include "nurt/dsl/schedule.hpp"
#include "nurt/engine/workflow_folders.hpp"
#include "nurt/engine/engine.hpp"
#include "nurt/notify/channels.hpp"
#include "nurt/env/file_system.hpp"
#include "nurt/store/store.hpp"

namespace nurt::cli {

CliEnvironment CliEnvironment::FromProcess() {
  auto get = [](const char* name) {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
  };
  CliEnvironment e;
  e.db = get("NURT_DB");
  e.org = get("NURT_ORG");
  e.path = get("NURT_PATH");
  e.actor = get("NURT_ACTOR");
  e.secret_file = get("NURT_SECRET_FILE");
  if (e.actor.empty() && !get("USER").empty()) e.actor = "cli:" + get("USER");
  for (char** v = environ; v != nullptr && *v != nullptr; ++v) {
    const std::string entry = *v;
    const auto eq = entry.find('=');
    if (entry.rfind("NURT_", 0) == 0 && eq != std::string::npos) {
      e.nurt_variables[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
  }
  return e;
}

namespace {

// The keys lines come from keys_command.cpp (kKeysUsage), the admin lines from admin_command.cpp.
constexpr const char* kUsageHead = R"(usage: nurt [global options] COMMAND [args]

Commands:
  serve [--config FILE]                 run the daemon: HTTP API, until SIGTERM (docs/daemon.md)
  validate FILE...                      check workflow files (machines, rules, channels, scenarios);
                                        every problem as file:line:col
  graph FILE [--format mermaid|dot]     draw a machine (default mermaid)
  start MACHINE [--data JSON] [--id ID] [--key KEY] [--version N]
                                        start an instance
  send ID EVENT [--data JSON] [--key KEY]
                                        send an event to an instance
  show ID                               current state, data and accepted events
  history ID                            every event and the transitions it caused
  ls [--machine M] [--state S] [--status S] [--where FIELD=VALUE]... [--after ID] [--limit N]
                                        list instances (--where: a data field, e.g. customer.nip=123;
                                        a number/true/false/"text" is JSON, anything else text)
  replay ID [--until SEQ]               rebuild the state from the event log (at any point)
  timers ID                             the instance's timers: due, fired (how late), cancelled
  tick                                  fire every timer due now (the daemon does this by itself)
)";
constexpr const char* kUsageTail = R"(
Global options (before or after the command):
  --db PATH        SQLite store (env NURT_DB; default ./nurt.db)
  --org ORG        tenant (env NURT_ORG; default "default")
  --path DIRS      ':'-separated folders of workflow YAML (env NURT_PATH; default workflows:examples)
  --actor NAME     who is acting (env NURT_ACTOR; default cli:$USER)
  --json           machine-readable output
  --secret-file P  master secret for API keys (env NURT_SECRET_FILE; default <db>.secret)
)";

// Assembled on first use, so the other files' usage texts are certainly initialised.
const std::string& UsageText() {
  static const std::string text = std::string(kUsageHead) + TasksUsage() + SchedulesUsage() + ScenarioUsage() +
                                  WebhooksUsage() + EffectsUsage() + ImportUsage() + "\n" +
                                  internal::AdminUsage() +
                                  "\nAPI keys:\n" + kKeysUsage + kUsageTail;
  return text;
}

struct Args {
  std::string command;
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;               // the last value of each option
  std::map<std::string, std::vector<std::string>> all_values;  // every value (--scope repeats)
  std::set<std::string> flags;
  std::vector<std::string> where;  // --where, repeatable
  std::vector<std::string> checks;  // every --check (repeatable)
};

const std::set<std::string> kValueOptions = {"--db",   "--org",     "--path",  "--actor", "--data",
                                             "--id",   "--key",     "--version", "--format",
                                             "--machine", "--state", "--status", "--after", "--limit",
                                             "--until", "--name", "--scope", "--role", "--tier",
                                             "--expires", "--reason", "--secret-file", "--where",
                                             "--patch", "--user", "--instance", "--decision", "--check",
                                             "--config", "--url", "--events", "--retry", "--adapter"};
const std::set<std::string> kFlagOptions = {"--json", "--help", "-h", "--allow-http-loopback"};

std::optional<std::string> ParseArgs(const std::vector<std::string>& raw, Args* args) {
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const std::string& a = raw[i];
    if (a.rfind("--", 0) == 0 || a == "-h") {
      std::string name = a, value;
      const auto eq = a.find('=');
      if (eq != std::string::npos) {
        name = a.substr(0, eq);
        value = a.substr(eq + 1);
      }
      if (kFlagOptions.count(name)) {
        args->flags.insert(name);
      } else if (kValueOptions.count(name)) {
        if (eq == std::string::npos) {
          if (i + 1 >= raw.size()) return "option " + name + " needs a value";
          value = raw[++i];
        }
        if (name == "--check") args->checks.push_back(value);
        args->options[name] = value;
        args->all_values[name].push_back(value);
        if (name == "--where") args->where.push_back(value);
      } else {
        return "unknown option " + name;
      }
    } else if (args->command.empty()) {
      args->command = a;
    } else {
      args->positional.push_back(a);
    }
  }
  return std::nullopt;
}

std::string Join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

// A whole decimal integer ("12"; not "12abc", "", "1e3"), or nullopt.
std::optional<std::int64_t> ParseInteger(const std::string& text) {
  std::size_t used = 0;
  try {
    const long long v = std::stoll(text, &used, 10);
    if (used != text.size()) return std::nullopt;
    return v;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    const auto pos = s.find(sep, start);
    const std::string part = s.substr(start, pos == std::string::npos ? pos : pos - start);
    if (!part.empty()) out.push_back(part);
    if (pos == std::string::npos) break;
    start = pos + 1;
  }
  return out;
}

class Cli {
 public:
  Cli(Args args, const CliEnvironment& env, std::ostream& out, std::ostream& err)
      : args_(std::move(args)), out_(out), err_(err) {
    db_ = Opt("--db", env.db.empty() ? "nurt.db" : env.db);
    org_ = Opt("--org", env.org.empty() ? "default" : env.org);
    path_ = Opt("--path", env.path.empty() ? "workflows:examples" : env.path);
    actor_ = Opt("--actor", env.actor.empty() ? "cli" : env.actor);
    json_ = args_.flags.count("--json") > 0;
    secret_file_env_ = env.secret_file;
    nurt_variables_ = env.nurt_variables;
  }

  int Run() {
    const std::string& c = args_.command;
    if (c == "validate") return Validate();
    if (c == "graph") return Graph();
    if (c == "start") return WithEngine([this] { return Start(); });
    if (c == "send") return WithEngine([this] { return Send(); });
    if (c == "show") return WithEngine([this] { return Show(); });
    if (c == "history") return WithEngine([this] { return History(); });
    if (c == "timers") return WithEngine([this] { return Timers(); });
    if (c == "tick") return WithEngine([this] { return Tick(); });
    if (c == "ls") return WithEngine([this] { return List(); });
    if (c == "replay") return WithEngine([this] { return Replay(); });
    if (c == "keys") return Keys();
    if (c == "serve") return RunServe(Opt("--config"), nurt_variables_, out_, err_);
    if (internal::IsAdminCommand(c)) return AdminCommand();
    if (c == "tasks") return WithEngine([this] { return Tasks(); });
    if (c == "schedules") return WithEngine([this] { return Schedules(); });
    if (c == "webhooks") return WithEngine([this] { return Webhooks(); });
    if (c == "effects") return WithEngine([this] { return Effects(); });
    if (c == "test") return RunTestCommand(args_.positional, json_, out_, err_);
    if (c == "simulate") return RunSimulateCommand(args_.positional, out_, err_);
    if (c == "import") return RunImportCommand(args_.positional, Opt("--name"), out_, err_);
    err_ << "nurt: unknown command '" << c << "'\n\n" << UsageText();
    return 2;
  }

 private:
  std::string Opt(const std::string& name, const std::string& def = "") const {
    auto it = args_.options.find(name);
    return it == args_.options.end() ? def : it->second;
  }

  int Fail(const Status& st) {
    if (json_) {
      out_ << Json{{"error", {{"code", std::string(StatusCodeName(st.code()))},
                              {"message", st.message()}}}}
                  .dump(2)
           << "\n";
    } else {
      err_ << "nurt " << args_.command << ": " << st.message() << "\n";
    }
    return 1;
  }

  int Usage(const std::string& what) {
    err_ << "nurt " << args_.command << ": " << what << "\n\n" << UsageText();
    return 2;
  }

  int Tasks() {
    TasksCommand c{engine_.get(), org_, actor_, json_, args_.positional, args_.options, args_.checks,
                   [this](const Status& st) { return Fail(st); },
                   [this](const std::string& what) { return Usage(what); },
                   [this](const engine::Outcome& o, const std::string& verb) {
                     return PrintOutcome(o, verb.c_str());
                   }};
    return RunTasksCommand(c, out_);
  }

  int Schedules() {
    SchedulesCommand c{engine_.get(), store_.get(), org_, Split(path_, ':'), json_, args_.positional, args_.options,
                       [this](const Status& st) { return Fail(st); },
                       [this](const std::string& what) { return Usage(what); }};
    return RunSchedulesCommand(c, out_);
  }

  int Webhooks() {
    WebhooksInvocation inv{store_.get(), org_, actor_,
                           Opt("--secret-file", secret_file_env_.empty() ? db_ + ".secret" : secret_file_env_),
                           json_, args_.positional, args_.options, args_.flags};
    return RunWebhooksCommand(inv, out_, err_);
  }

  int Effects() {
    EffectsCommand c{store_.get(), org_, actor_, json_, args_.positional, args_.options,
                     [this](const Status& st) { return Fail(st); },
                     [this](const std::string& what) { return Usage(what); }};
    return RunEffectsCommand(c, out_);
  }

  Result<Json> DataOption() {
    const std::string text = Opt("--data", "{}");
    auto parsed = ParseJson(text, "--data");
    if (!parsed.ok()) return parsed.status();
    if (!parsed->is_object()) {
      return Status::InvalidArgument("--data must be a JSON object like '{\"amount\": 100}'");
    }
    return parsed;
  }

  int Keys() {
    KeysInvocation inv;
    inv.args = args_.positional;
    inv.options = args_.all_values;
    inv.db = db_;
    inv.org = org_;
    inv.actor = actor_;
    inv.secret_file = Opt("--secret-file", secret_file_env_.empty() ? db_ + ".secret" : secret_file_env_);
    inv.json = json_;
    return RunKeysCommand(inv, out_, err_);
  }

  // --- validate / graph (no store) --------------------------------------------------------------
  int Validate() {
    if (args_.positional.empty()) return Usage("name at least one workflow file");
    int errors = 0, warnings = 0;
    Json all = Json::array();
    for (const auto& file : args_.positional) {
      const std::vector<dsl::Diagnostic> diagnostics = ValidateFile(file);
      for (const auto& d : diagnostics) {
        (d.severity == dsl::Severity::kError ? errors : warnings)++;
        if (json_) {
          all.push_back(d.ToJson());
        } else {
          out_ << d.ToString() << "\n";
        }
      }
    }
    if (json_) {
      out_ << Json{{"errors", errors}, {"warnings", warnings}, {"diagnostics", all}}.dump(2) << "\n";
    } else {
      out_ << args_.positional.size() << (args_.positional.size() == 1 ? " file" : " files")
           << " checked: " << errors << " error(s), " << warnings << " warning(s)\n";
    }
    return errors > 0 ? 1 : 0;
  }

  int Graph() {
    if (args_.positional.size() != 1) return Usage("name one workflow file");
    const std::string format = Opt("--format", "mermaid");
    if (format != "mermaid" && format != "dot") return Usage("--format is mermaid or dot");
    const dsl::LoadResult r = dsl::LoadMachineFile(args_.positional[0]);
    if (!r.definition) {
      for (const auto& d : r.diagnostics) err_ << d.ToString() << "\n";
      return 1;
    }
    out_ << dsl::RenderGraph(*r.definition,
                             format == "dot" ? dsl::GraphFormat::kDot : dsl::GraphFormat::kMermaid);
    return 0;
  }

  // Each kind of document has its own loader (`kind:` decides); anything else is read as a machine.
  static std::vector<dsl::Diagnostic> ValidateFile(const std::string& file) {
    auto text = env::LocalFileSystem()->ReadFile(file);
    if (text.ok() && notify::IsChannelsDocument(*text)) return notify::LoadChannelsText(*text, file).diagnostics;
    if (dsl::IsRulesFile(file)) return dsl::LoadRulesFile(file).diagnostics;
    if (text.ok() && dsl::IsScheduleDocument(*text)) return dsl::LoadScheduleText(*text, file).diagnostics;
    if (scenario::IsScenarioFile(file)) return scenario::LoadScenarioFile(file).diagnostics;
    return dsl::LoadMachineFile(file).diagnostics;
  }

  // --- commands on the store ---------------------------------------------------------------------
  template <typename F>
  int WithEngine(F&& body) {
    store::SqliteOptions so;
    so.path = db_;
    auto st = store::NewSqliteStore(so);
    if (!st.ok()) return Fail(st.status().WithContext("opening store " + db_));
    store_ = std::move(st).value();
    engine::EngineOptions eo;
    eo.store = store_.get();
    auto e = engine::NewEngine(eo);
    if (!e.ok()) return Fail(e.status());
    engine_ = std::move(e).value();
    return body();
  }

  // Publishes every `kind: Machine` file under the path folders. A problem in the machine the command
  // needs is an error; in any other file, a one-line warning (the command still runs).
  Status PublishPath(const std::string& needed) {
    auto report = engine::PublishFolders(engine_.get(), org_, Split(path_, ':'), env::LocalFileSystem());
    if (!report.ok()) return report.status();
    for (const auto& file : report->invalid) {
      int n = 0;
      for (const auto& d : report->errors) n += d.location.file == file;
      err_ << "nurt: skipped " << file << ": " << n << " error(s) (run: nurt validate " << file << ")\n";
    }
    for (const auto& refusal : report->refused) {
      if (refusal.machine == needed) return refusal.status;
      err_ << "nurt: " << refusal.status.message() << "\n";
    }
    return Status::Ok();
  }


  // Runs engine-internal effects (sends between instances, spawns) until none is left, with one note
  // per message saying what became of it. DeliverInternalEffects counts the messages it finished,
  // failed ones included, so each is checked in its receiver's log (an event caused by the message).
  void DeliverAll(std::vector<std::string>* notes) {
    const std::vector<std::string> kinds = {"nurt.send", "nurt.spawn"};  // store::OutboxItem::kind
    for (int round = 0; round < 100; ++round) {
      auto pending = store_->ListPendingOutbox(kinds, 1000);
      if (!pending.ok()) {
        notes->push_back("messages to other instances not delivered: " + pending.status().message());
        return;
      }
      if (pending->empty()) return;
      auto n = engine_->DeliverInternalEffects(1000);
      if (!n.ok()) {
        notes->push_back("delivery stopped: " + n.status().message());
        return;
      }
      if (*n == 0) return;  // every message was busy: left pending for the next command
      auto left = store_->ListPendingOutbox(kinds, 1000);
      std::set<std::string> still_pending;
      if (left.ok()) {
        for (const auto& item : *left) still_pending.insert(item.id);
      }
      for (const auto& item : *pending) {
        if (!still_pending.count(item.id)) notes->push_back(DescribeDelivery(item));
      }
    }
  }

  // What became of one finished outbox message, read back from the receiver's event log.
  std::string DescribeDelivery(const store::OutboxItem& item) {
    const bool spawn = item.kind == "nurt.spawn";
    const std::string receiver = item.payload.value(spawn ? "id" : "to", "");
    const std::string what =
        spawn ? "spawn of " + item.payload.value("machine", std::string("?")) + " '" + receiver + "'"
              : "'" + item.payload.value("event", std::string("?")) + "' from '" + item.instance_id +
                    "' to '" + receiver + "'";
    if (receiver.empty()) return what + " processed (the new instance's id was generated: nurt ls)";
    auto rec = store_->GetInstance(item.org_id, receiver);
    if (!rec.ok()) {
      return what + " FAILED: " +
             (rec.status().IsNotFound() ? "no instance '" + receiver + "'" : rec.status().message());
    }
    auto events = store_->ListEvents(item.org_id, receiver);
    if (events.ok()) {
      for (const auto& e : *events) {
        if (e.causation_id == item.id) {
          const Json failure = rec->snapshot.value("failure", Json());
          if (!spawn && failure.is_object() && failure.value("sequence", 0) == e.sequence) {
            return what + " delivered (its event #" + std::to_string(e.sequence) +
                   ") but it FAILED there: " + failure.value("error", std::string("?")) + "; '" +
                   receiver + "' is now failed: fix it with nurt retry " + receiver +
                   " --reason ... [--patch JSON], or force, skip or cancel it";
          }
          return (spawn ? "started " + item.payload.value("machine", std::string("?")) + " '" +
                              receiver + "'"
                        : what + " delivered") +
                 " (its event #" + std::to_string(e.sequence) + ")";
        }
      }
    }
    return what + " NOT delivered: '" + receiver +
           "' recorded no event from it (refused, or the same request was applied before); see nurt "
           "history " + receiver;
  }

  void PrintTransitions(const std::vector<store::TransitionRecord>& ts) {
    for (const auto& t : ts) {
      out_ << "  " << (t.event.empty() ? "(eventless)" : t.event) << ":"
           << (t.from.empty() ? "" : " " + Join(t.from)) << " -> " << Join(t.to);
      if (!t.source.empty()) {
        out_ << "   [" << t.source << " -> "
             << (t.targets.empty() ? "(targetless)" : Join(t.targets)) << "]";
      }
      if (t.detail.contains("failure")) out_ << "   FAILED: " << t.detail["failure"].get<std::string>();
      out_ << "\n";
    }
  }

  int PrintOutcome(const engine::Outcome& o, const char* verb) {
    std::vector<std::string> notes;
    DeliverAll(&notes);
    if (json_) {
      Json j = o.ToJson();
      if (!notes.empty()) j["notes"] = notes;
      out_ << j.dump(2) << "\n";
      return 0;
    }
    out_ << verb << " " << o.machine << " " << o.instance_id << " (event #" << o.event_sequence
         << (o.replayed ? ", already applied: nothing changed" : "") << ")\n";
    PrintTransitions(o.transitions);
    out_ << "state:   " << Join(o.state) << " (" << o.run_status << ")\n";
    if (!o.output.is_null()) out_ << "output:  " << o.output.dump() << "\n";
    if (!o.accepted_events.empty()) out_ << "accepts: " << Join(o.accepted_events) << "\n";
    for (const auto& n : notes) out_ << "note:    " << n << "\n";
    return 0;
  }

  int Start() {
    if (args_.positional.size() != 1) return Usage("name the machine to start");
    auto data = DataOption();
    if (!data.ok()) return Fail(data.status());
    engine::StartRequest req;
    req.org_id = org_;
    req.machine = args_.positional[0];
    req.data = *data;
    req.instance_id = Opt("--id");
    req.idempotency_key = Opt("--key");
    req.actor = actor_;
    if (!Opt("--version").empty()) {
      const auto version = ParseInteger(Opt("--version"));
      if (!version || *version < 1) return Usage("--version must be a machine version (1 or more)");
      req.version = *version;
    }
    Status st = PublishPath(req.machine);
    if (!st.ok()) return Fail(st);
    auto r = engine_->Start(req);
    if (!r.ok()) return Fail(r.status());
    return PrintOutcome(*r, "started");
  }

  int Send() {
    if (args_.positional.size() != 2) return Usage("name the instance and the event");
    auto data = DataOption();
    if (!data.ok()) return Fail(data.status());
    Status st = PublishPath("");
    if (!st.ok()) return Fail(st);
    engine::EventRequest req;
    req.org_id = org_;
    req.instance_id = args_.positional[0];
    req.event = args_.positional[1];
    req.data = *data;
    req.idempotency_key = Opt("--key");
    req.actor = actor_;
    auto r = engine_->Accept(req);
    if (!r.ok()) return Fail(r.status());
    return PrintOutcome(*r, "sent to");
  }

  int Show() {
    if (args_.positional.size() != 1) return Usage("name the instance");
    auto v = engine_->Show(org_, args_.positional[0]);
    if (!v.ok()) return Fail(v.status());
    const auto& rec = v->record;
    if (json_) {
      out_ << Json{{"id", rec.id},
                   {"machine", rec.machine},
                   {"machineVersion", rec.machine_version},
                   {"runStatus", rec.run_status},
                   {"state", rec.state},
                   {"version", rec.version},
                   {"snapshot", rec.snapshot},
                   {"createdAt", FormatIso8601(rec.created_at)},
                   {"updatedAt", FormatIso8601(rec.updated_at)},
                   {"acceptedEvents", v->accepted_events}}
                  .dump(2)
           << "\n";
      return 0;
    }
    out_ << rec.machine << " " << rec.id << " (machine version " << rec.machine_version << ")\n"
         << "status:  " << rec.run_status << "\n"
         << "state:   " << Join(rec.state) << "\n"
         << "events:  " << rec.version << " (last at " << FormatIso8601(rec.updated_at) << ")\n"
         << "data:    " << rec.snapshot.value("context", Json::object()).dump() << "\n";
    if (!rec.snapshot.value("output", Json()).is_null()) {
      out_ << "output:  " << rec.snapshot["output"].dump() << "\n";
    }
    out_ << "accepts: " << (v->accepted_events.empty() ? "(nothing)" : Join(v->accepted_events)) << "\n";
    const Json failure = rec.snapshot.value("failure", Json());
    if (failure.is_object()) {
      out_ << "failed:  event #" << failure.value("sequence", 0) << " '"
           << failure.value("event", std::string()) << "': " << failure.value("error", std::string())
           << "\n         (nurt retry " << rec.id
           << " --reason ... [--patch JSON], or force, skip, cancel)\n";
    }
    return 0;
  }

  int Timers() {
    if (args_.positional.size() != 1) return Usage("name the instance");
    auto timers = engine_->ListTimers(org_, args_.positional[0]);
    if (!timers.ok()) return Fail(timers.status());
    if (json_) {
      Json out = Json::array();
      for (const auto& t : *timers) out.push_back(t.ToJson());
      out_ << out.dump(2) << "\n";
      return 0;
    }
    if (timers->empty()) out_ << "no timers\n";
    for (const auto& t : *timers) {
      out_ << t.status << "  due " << FormatIso8601(t.due_at) << "  " << t.state << ": " << t.description
           << " -> " << t.event;
      if (t.status == "fired") out_ << "  (fired " << t.lateness_ms << " ms late)";
      if (!t.detail.empty()) out_ << "  (" << t.detail << ")";
      out_ << "\n";
    }
    return 0;
  }

  // Fires the timers due now, as the daemon's timer loop would, and delivers what they sent.
  int Tick() {
    engine::TimerService timers(store_.get(), env::SystemClock());
    timers.Attach(engine_.get());
    Status loaded = timers.Load();
    if (!loaded.ok()) return Fail(loaded);
    int fired = 0;
    for (int round = 0; round < 100; ++round) {  // a fired transition may arm a timer that is due at once
      const int n = timers.FireDue();
      if (n == 0) break;
      fired += n;
      Status more = timers.Refresh();
      if (!more.ok()) return Fail(more);
    }
    std::vector<std::string> notes;
    DeliverAll(&notes);
    const auto stats = timers.stats();
    out_ << "fired " << fired << " timer(s); " << stats.pending << " armed for later";
    if (stats.failed) out_ << "; " << stats.failed << " failed (see: nurt timers ID)";
    out_ << "\n";
    for (const auto& n : notes) out_ << n << "\n";
    return 0;
  }

  int History() {
    if (args_.positional.size() != 1) return Usage("name the instance");
    const std::string& id = args_.positional[0];
    auto rec = store_->GetInstance(org_, id);
    if (!rec.ok()) return Fail(rec.status());
    auto events = store_->ListEvents(org_, id);
    if (!events.ok()) return Fail(events.status());
    auto transitions = store_->ListTransitions(org_, id);
    if (!transitions.ok()) return Fail(transitions.status());
    if (json_) {
      Json out = Json::array();
      for (const auto& e : *events) {
        Json j = e.ToJson();
        Json ts = Json::array();
        for (const auto& t : *transitions) {
          if (t.event_sequence != e.sequence) continue;
          ts.push_back(Json{{"step", t.step}, {"event", t.event}, {"from", t.from}, {"to", t.to},
                            {"source", t.source}, {"targets", t.targets}, {"detail", t.detail}});
        }
        j["transitions"] = std::move(ts);
        out.push_back(std::move(j));
      }
      out_ << out.dump(2) << "\n";
      return 0;
    }
    for (const auto& e : *events) {
      out_ << "#" << e.sequence << " " << FormatIso8601(e.occurred_at) << " " << e.type << " by "
           << e.actor;
      if (!e.payload.empty()) out_ << " " << e.payload.dump();
      out_ << "\n";
      std::vector<store::TransitionRecord> mine;
      for (const auto& t : *transitions) {
        if (t.event_sequence == e.sequence) mine.push_back(t);
      }
      PrintTransitions(mine);
    }
    return 0;
  }

  int List() {
    if (!args_.positional.empty()) {
      return Usage("unexpected '" + args_.positional[0] +
                   "': filter with --machine, --state or --status");
    }
    store::InstanceFilter f;
    f.machine = Opt("--machine");
    f.state = Opt("--state");
    f.run_status = Opt("--status");
    f.after_id = Opt("--after");
    for (const std::string& where : args_.where) {
      auto pair = internal::ParseWhere(where);
      if (!pair.ok()) return Usage(pair.status().message());
      f.context_equals.push_back(std::move(pair).value());
    }
    const auto limit = ParseInteger(Opt("--limit", "100"));
    if (!limit || *limit < 1 || *limit > 100000) {
      return Usage("--limit must be a number from 1 to 100000");
    }
    f.limit = static_cast<int>(*limit);
    auto list = store_->ListInstances(org_, f);
    if (!list.ok()) return Fail(list.status());
    if (json_) {
      Json out = Json::array();
      for (const auto& r : *list) {
        out.push_back(Json{{"id", r.id}, {"machine", r.machine}, {"machineVersion", r.machine_version},
                           {"runStatus", r.run_status}, {"state", r.state}, {"version", r.version},
                           {"updatedAt", FormatIso8601(r.updated_at)}});
      }
      out_ << Json{{"instances", out},
                   {"next", list->size() == static_cast<std::size_t>(f.limit) && !list->empty()
                                ? Json(list->back().id)
                                : Json()}}
                  .dump(2)
           << "\n";
      return 0;
    }
    for (const auto& r : *list) {
      out_ << r.id << "  " << r.machine << " v" << r.machine_version << "  " << r.run_status << "  "
           << Join(r.state) << "\n";
    }
    if (list->empty()) out_ << "(no instances)\n";
    return 0;
  }

  int AdminCommand() {
    internal::AdminArguments a;
    a.command = args_.command;
    a.positional = args_.positional;
    if (args_.options.count("--reason")) a.reason = Opt("--reason");
    if (args_.options.count("--patch")) a.patch = Opt("--patch");
    a.key = Opt("--key");
    a.org = org_;
    a.actor = actor_;
    Status checked = internal::CheckAdminArguments(a);
    if (!checked.ok()) return Usage(checked.message());
    return WithEngine([&] {
      Status st = PublishPath("");  // force/skip/retry may need the machine to step
      if (!st.ok()) return Fail(st);
      auto r = internal::RunAdminCommand(*engine_, a);
      if (!r.ok()) return Fail(r.status());
      static const std::map<std::string, std::string> kDone = {
          {"cancel", "cancelled"}, {"suspend", "suspended"}, {"resume", "resumed"},
          {"force", "forced"},     {"skip", "skipped"},      {"retry", "retried"}};
      return PrintOutcome(*r, kDone.at(a.command).c_str());
    });
  }

  int Replay() {
    if (args_.positional.size() != 1) return Usage("name the instance");
    const auto parsed_until = ParseInteger(Opt("--until", "0"));
    if (!parsed_until || *parsed_until < 0) {
      return Usage("--until must be an event number (1 for the start event; 0 or none for all)");
    }
    const std::int64_t until = *parsed_until;
    auto snap = engine_->Replay(org_, args_.positional[0], until);
    if (!snap.ok()) return Fail(snap.status());
    if (json_) {
      out_ << snap->dump(2) << "\n";
      return 0;
    }
    out_ << "replayed " << args_.positional[0] << (until ? " up to event #" + std::to_string(until) : "")
         << "\n"
         << "active:  " << Join((*snap)["configuration"].get<std::vector<std::string>>()) << "\n"
         << "data:    " << (*snap)["context"].dump() << "\n";
    if ((*snap)["done"].get<bool>()) out_ << "done:    " << (*snap)["output"].dump() << "\n";
    if (until == 0) {
      auto rec = store_->GetInstance(org_, args_.positional[0]);
      if (rec.ok()) {
        const bool same = rec->snapshot == *snap;
        out_ << "matches the stored snapshot: " << (same ? "yes" : "NO") << "\n";
        if (!same) return 1;
      }
    }
    return 0;
  }

  Args args_;
  std::ostream& out_;
  std::ostream& err_;
  std::string db_, org_, path_, actor_, secret_file_env_;
  std::map<std::string, std::string> nurt_variables_;
  bool json_ = false;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<engine::Engine> engine_;
};

}  // namespace

int RunCli(const std::vector<std::string>& raw, const CliEnvironment& env, std::ostream& out,
           std::ostream& err) {
  Args args;
  if (auto problem = ParseArgs(raw, &args)) {
    err << "nurt: " << *problem << "\n\n" << UsageText();
    return 2;
  }
  if (args.flags.count("--help") || args.flags.count("-h") || args.command.empty() ||
      args.command == "help") {
    out << UsageText();
    return args.command.empty() && !args.flags.count("--help") && !args.flags.count("-h") ? 2 : 0;
  }
  return Cli(std::move(args), env, out, err).Run();
}

}  // namespace nurt::cli
