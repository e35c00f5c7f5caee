// Engine: load snapshot + definition, run the pure interpreter step, commit everything in one transaction.

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <mutex>
#include <type_traits>

#include "engine/admin_ops.hpp"
#include "engine/context_schema.hpp"
#include "engine/task_form.hpp"
#include "engine/task_tracker.hpp"
#include "engine/timer_tracker.hpp"
#include "nurt/core/duration.hpp"
#include "nurt/dsl/loader.hpp"
#include "nurt/engine/engine.hpp"
#include "nurt/engine/run_status.hpp"
#include "nurt/interp/interpreter.hpp"

namespace nurt::engine {
namespace {

constexpr const char* kStartEvent = "nurt.start";
constexpr const char* kSendKind = "nurt.send";
constexpr const char* kSpawnKind = "nurt.spawn";
constexpr const char* kNotifyKind = "nurt.notify";

// A loaded definition version with what the engine derives from it once.
struct Machine {
  std::shared_ptr<const dsl::Definition> definition;
  std::unique_ptr<ContextSchema> schema;  // null when the machine declares none
};

Json MergeContext(const Json& initial, const Json& data) {
  Json ctx = initial.is_object() ? initial : Json::object();
  for (auto it = data.begin(); it != data.end(); ++it) ctx[it.key()] = it.value();
  return ctx;
}

std::string ContentHash(const dsl::Definition& d) {
  Json scripts = Json::object();
  for (const auto& [path, content] : d.scripts) scripts[path] = content;
  return Sha256Hex(d.source_text + "\n--scripts--\n" + CanonicalJson(scripts));
}

class EngineImpl final : public Engine {
 public:
  EngineImpl(const EngineOptions& options, std::unique_ptr<lua::Runtime> lua,
             std::unique_ptr<env::IdGenerator> owned_ids)
      : store_(options.store),
        clock_(options.clock ? options.clock : env::SystemClock()),
        owned_ids_(std::move(owned_ids)),
        ids_(options.ids ? options.ids : owned_ids_.get()),
        max_retries_(options.max_conflict_retries),
        lua_(std::move(lua)),
        tasks_(ids_),
        timers_(ids_),
        calendar_for_(options.calendar_for),
        timer_listener_(options.timer_listener) {}

  Status Publish(const std::string& org_id, const dsl::Definition& definition) override {
    store::DefinitionRecord rec;
    rec.org_id = org_id;
    rec.name = definition.name;
    rec.version = definition.version;
    rec.source_file = definition.source_file;
    rec.source_text = definition.source_text;
    rec.scripts = Json::object();
    for (const auto& [path, content] : definition.scripts) rec.scripts[path] = content;
    rec.content_hash = ContentHash(definition);
    rec.created_at = clock_->Now();
    Status st = store_->PutDefinition(rec);
    if (st.IsAlreadyExists()) {
      return Status::AlreadyExists("machine '" + definition.name + "' version " +
                                   std::to_string(definition.version) + " (" + definition.source_file +
                                   ") was already published with different content; a published "
                                   "version never changes: bump `version:` to publish the edit");
    }
    return st;
  }

  Result<Outcome> Start(const StartRequest& req) override {
    if (req.org_id.empty()) return Status::InvalidArgument("org id is empty");
    if (!req.data.is_object()) {
      return Status::InvalidArgument("start data of machine '" + req.machine +
                                     "' must be a JSON object, got " + req.data.type_name());
    }
    const std::string key = req.idempotency_key.empty() ? ids_->NewId() : req.idempotency_key;
    const std::string hash = Sha256Hex(CanonicalJson(Json{{"start", req.machine},
                                                          {"version", req.version},
                                                          {"id", req.instance_id},
                                                          {"data", req.data}}));
    for (int attempt = 0; attempt <= max_retries_; ++attempt) {
      if (!req.idempotency_key.empty()) {
        auto replay = Replayed(req.org_id, "", key, hash);
        if (!replay.ok() || replay->has_value()) return Unwrap(std::move(replay));
      }
      auto machine_or = GetMachine(req.org_id, req.machine, req.version);
      if (!machine_or.ok()) return machine_or.status();
      const Machine* machine = *machine_or;
      const dsl::Definition& def = *machine->definition;
      const std::string id = req.instance_id.empty() ? ids_->NewId() : req.instance_id;
      const TimePoint now = clock_->Now();

      interp::Event event{kStartEvent, req.data, ActorOrSystem(req.actor)};
      interp::StepOptions opts;
      opts.instance_id = id;
      opts.sequence = 1;
      opts.now = now;
      Result<interp::StepResult> step = RunLocked([&] {
        return interp::Interpreter(machine->definition, lua_.get())
            .Start(MergeContext(def.initial_context, req.data), event, opts);
      });
      if (!step.ok()) return step.status().WithContext("starting '" + def.name + "'");
      if (machine->schema) {
        NURT_RETURN_IF_ERROR(machine->schema->Check(step->snapshot.context,
                                                    "the data of the new '" + def.name + "' instance"));
      }
      store::EventEnvelope env = Envelope(req.org_id, def.name, id, 1, kStartEvent, req.data, req.actor,
                                          req.trace_id, req.causation_id, key, now);
      store::CommitRequest commit;
      Outcome outcome = Commitable(*machine, req.org_id, id, 0, std::move(step).value(), env, &commit);
      const std::vector<store::TaskRecord> no_tasks;
      auto tracked = TrackTasks(*machine, {}, &no_tasks, "", &commit);
      if (!tracked.ok()) return tracked.status();
      NURT_RETURN_IF_ERROR(TrackTimers(*machine, {}, &commit));
      commit.idempotency = store::IdempotencyRecord{req.org_id, "", key, hash, outcome.ToJson(), now};
      Status st = CommitAndNotify(commit);
      if (st.ok()) return outcome;
      if (st.IsAlreadyExists() && !req.idempotency_key.empty()) continue;  // lost a race on the key
      if (st.IsAlreadyExists() || st.IsConflict()) {
        return Status::AlreadyExists("instance '" + id + "' already exists in org '" + req.org_id + "'");
      }
      return st;
    }
    return Status::Conflict("start of '" + req.machine + "' kept conflicting; retry");
  }

  Result<Outcome> Accept(const EventRequest& req) override { return AcceptImpl(req, false); }

  // `record_failure`: the event has no caller to correct it (DeliverInternalEffects today; timers and
  // adapter results later), so a failing step is committed as the instance's failure, not refused.
  Result<Outcome> AcceptImpl(const EventRequest& req, bool record_failure) {
    NURT_RETURN_IF_ERROR(CheckEventRequest(req));
    const std::string key = req.idempotency_key.empty() ? ids_->NewId() : req.idempotency_key;
    for (int attempt = 0; attempt <= max_retries_; ++attempt) {
      auto prepared = PrepareAccept(req, key, nullptr, record_failure);
      if (!prepared.ok()) return prepared.status();
      if (prepared->replay) return std::move(*prepared->replay);
      Status st = CommitAndNotify(prepared->commit);
      if (st.ok()) return std::move(prepared->outcome);
      if (st.IsConflict() || st.IsAlreadyExists()) continue;  // re-read and step again
      return st;
    }
    return Status::Conflict("instance '" + req.instance_id + "' kept changing under " +
                            std::to_string(max_retries_ + 1) + " attempts; retry later");
  }

  std::vector<Result<Outcome>> AcceptBatch(const std::vector<EventRequest>& requests) override {
    std::vector<Result<Outcome>> results;
    results.reserve(requests.size());
    // Each request is stepped on the state the previous requests of the batch left its instance in.
    std::map<std::string, store::InstanceRecord> latest;
    std::map<std::string, std::vector<store::TaskRecord>> latest_tasks;  // active tasks, same keys
    std::vector<store::CommitRequest> commits;
    std::vector<std::size_t> commit_of;  // commit index -> request index
    std::vector<Outcome> outcomes;
    std::vector<std::string> keys(requests.size());
    for (std::size_t i = 0; i < requests.size(); ++i) {
      const EventRequest& req = requests[i];
      keys[i] = req.idempotency_key.empty() ? ids_->NewId() : req.idempotency_key;
      Status checked = CheckEventRequest(req);
      if (!checked.ok()) {
        results.emplace_back(checked);
        continue;
      }
      auto it = latest.find(req.org_id + '\n' + req.instance_id);
      auto tasks_it = latest_tasks.find(req.org_id + '\n' + req.instance_id);
      auto prepared = PrepareAccept(req, keys[i], it == latest.end() ? nullptr : &it->second,
                                    /*record_failure=*/false,
                                    tasks_it == latest_tasks.end() ? nullptr : &tasks_it->second);
      if (!prepared.ok()) {
        results.emplace_back(prepared.status());
        continue;
      }
      if (prepared->replay) {
        results.emplace_back(std::move(*prepared->replay));
        continue;
      }
      latest[req.org_id + '\n' + req.instance_id] = prepared->commit.instance;
      latest_tasks[req.org_id + '\n' + req.instance_id] = std::move(prepared->open_tasks_after);
      results.emplace_back(Status::Internal("pending"));
      commit_of.push_back(i);
      commits.push_back(std::move(prepared->commit));
      outcomes.push_back(std::move(prepared->outcome));
    }
    std::vector<Status> statuses;
    Status batch = commits.empty() ? Status::Ok() : store_->CommitBatch(commits, &statuses);
    if (batch.ok()) {
      for (std::size_t c = 0; c < commits.size(); ++c) {
        if (statuses[c].ok()) NotifyTimers(commits[c]);
      }
    }
    std::set<std::string> failed_instances;
    for (std::size_t c = 0; c < commits.size(); ++c) {
      const std::size_t i = commit_of[c];
      const EventRequest& req = requests[i];
      const std::string instance = req.org_id + '\n' + req.instance_id;
      const Status& st = batch.ok() ? statuses[c] : batch;
      if (st.ok() && !failed_instances.count(instance)) {
        results[i] = std::move(outcomes[c]);
        continue;
      }
      // Lost a race (or an earlier event of this instance failed): apply it alone, in order, on the
      // instance's real state, with the same key so nothing can be applied twice.
      failed_instances.insert(instance);
      if (!batch.ok() && !batch.IsUnavailable()) {
        results[i] = batch;
        continue;
      }
      EventRequest retry = req;
      retry.idempotency_key = keys[i];
      results[i] = Accept(retry);
    }
    return results;
  }

  Result<InstanceView> Show(const std::string& org_id, const std::string& instance_id) override {
    auto record = store_->GetInstance(org_id, instance_id);
    if (!record.ok()) return record.status();
    auto machine_or = GetMachine(org_id, record->machine, record->machine_version);
    if (!machine_or.ok()) return machine_or.status();
      const Machine* machine = *machine_or;
    auto snapshot = interp::Snapshot::FromJson(*machine->definition, record->snapshot);
    if (!snapshot.ok()) return snapshot.status();
    InstanceView view;
    view.record = std::move(record).value();
    auto parsed = ParseRunStatus(view.record.run_status);
    if (parsed.ok() && AcceptsEvents(*parsed)) {
      view.accepted_events =
          interp::Interpreter(machine->definition, lua_.get()).AcceptedEvents(*snapshot);
    }
    return view;
  }

  Result<Json> Replay(const std::string& org_id, const std::string& instance_id,
                      std::int64_t until_sequence) override {
    auto record = store_->GetInstance(org_id, instance_id);
    if (!record.ok()) return record.status();
    auto machine_or = GetMachine(org_id, record->machine, record->machine_version);
    if (!machine_or.ok()) return machine_or.status();
      const Machine* machine = *machine_or;
    auto events = store_->ListEvents(org_id, instance_id, 0, until_sequence);
    if (!events.ok()) return events.status();
    if (events->empty() || events->front().type != kStartEvent) {
      return Status::DataLoss("the event log of instance '" + instance_id +
                              "' does not begin with its start event");
    }
    auto transitions = store_->ListTransitions(org_id, instance_id);
    if (!transitions.ok()) return transitions.status();
    std::set<std::int64_t> failed_sequences;  // events committed as failures (DeliverInternalEffects)
    for (const auto& t : *transitions) {
      if (t.detail.contains("failure")) failed_sequences.insert(t.event_sequence);
    }
    interp::Interpreter interpreter(machine->definition, lua_.get());
    interp::Snapshot snapshot;
    for (const auto& e : *events) {
      interp::StepOptions opts;
      opts.instance_id = instance_id;
      opts.sequence = e.sequence;
      opts.now = e.occurred_at;
      interp::Event event{e.type, e.payload, e.actor};
      const std::optional<AdminVerb> admin = AdminVerbOfEventType(e.type);
      Result<interp::StepResult> step = RunLocked([&]() -> Result<interp::StepResult> {
        if (e.type == kStartEvent) {
          return interpreter.Start(MergeContext(machine->definition->initial_context, e.payload), event,
                                   opts);
        }
        if (admin) {
          auto plan = PlanAdmin(*admin, interpreter, snapshot, e.payload, event, opts);
          if (!plan.ok()) return plan.status();
          return std::move(plan->step);
        }
        return interpreter.Step(snapshot, event, opts);
      });
      const bool recorded_failed = failed_sequences.count(e.sequence) > 0;
      if (!step.ok() && recorded_failed && !admin) {
        snapshot.failure = FailureRecord(e.type, e.payload, e.actor, step.status().message(), e.sequence);
        continue;
      }
      if (step.ok() && recorded_failed) {
        return Status::DataLoss("event " + std::to_string(e.sequence) + " ('" + e.type + "') of instance '" +
                                instance_id + "' is logged as failed but replays without error");
      }
      if (!step.ok()) {
        return Status::DataLoss("replaying event " + std::to_string(e.sequence) + " ('" + e.type +
                                "') of instance '" + instance_id +
                                "' failed: " + step.status().message());
      }
      snapshot = std::move(step->snapshot);
    }
    return snapshot.ToJson(*machine->definition);
  }

  Result<int> DeliverInternalEffects(int limit) override {
    auto items = store_->ListPendingOutbox({kSendKind, kSpawnKind}, limit);
    if (!items.ok()) return items.status();
    int delivered = 0;
    for (const auto& item : *items) {
      const std::string actor = "instance:" + item.instance_id;
      Result<Outcome> r = Status::Internal("unreachable");
      if (item.kind == kSpawnKind) {
        StartRequest s;
        s.org_id = item.org_id;
        s.machine = item.payload.value("machine", "");
        s.instance_id = item.payload.value("id", "");
        s.data = item.payload.value("data", Json::object());
        s.idempotency_key = item.payload.value("key", item.idempotency_key);
        s.actor = actor;
        s.trace_id = item.payload.value("traceId", "");
        s.causation_id = item.id;
        r = Start(s);
      } else {
        EventRequest e;
        e.org_id = item.org_id;
        e.instance_id = item.payload.value("to", "");
        e.event = item.payload.value("event", "");
        e.data = item.payload.value("data", Json::object());
        e.idempotency_key = item.idempotency_key;
        e.actor = actor;
        e.trace_id = item.payload.value("traceId", "");
        e.causation_id = item.id;
        r = AcceptImpl(e, /*record_failure=*/true);
      }
      if (!r.ok() && (r.status().IsUnavailable() || r.status().IsConflict())) continue;  // retry later
      Json result = r.ok() ? Json{{"instanceId", r->instance_id}, {"version", r->version}}
                           : Json{{"error", r.status().ToString()}};
      if (r.ok() && r->run_status == RunStatusName(RunStatus::kFailed)) {
        result["runStatus"] = r->run_status;
      }
      Status st = store_->CompleteOutbox(item.org_id, item.id, r.ok() ? "done" : "failed", result);
      if (!st.ok() && !st.IsFailedPrecondition()) return st;
      ++delivered;
    }
    return delivered;
  }

  Result<Outcome> Cancel(const AdminRequest& req) override {
    return RunAdmin(AdminVerb::kCancel, req, Json::object());
  }
  Result<Outcome> Suspend(const AdminRequest& req) override {
    return RunAdmin(AdminVerb::kSuspend, req, Json::object());
  }
  Result<Outcome> Resume(const AdminRequest& req) override {
    return RunAdmin(AdminVerb::kResume, req, Json::object());
  }
  Result<Outcome> ForceState(const AdminRequest& req, const std::string& state_id) override {
    if (state_id.empty()) return Status::InvalidArgument("force needs the id of the state to enter");
    return RunAdmin(AdminVerb::kForce, req, Json{{"state", state_id}});
  }
  Result<Outcome> Skip(const AdminRequest& req) override {
    return RunAdmin(AdminVerb::kSkip, req, Json::object());
  }
  Result<Outcome> Retry(const AdminRequest& req, const Json& context_patch) override {
    if (!context_patch.is_object()) {
      return Status::InvalidArgument("the retry patch must be a JSON object of top-level context keys, got " +
                                     std::string(context_patch.type_name()));
    }
    return RunAdmin(AdminVerb::kRetry, req, Json{{"patch", context_patch}});
  }

  // --- Human tasks -------------------------------------------------------------------------------

  Result<store::TaskRecord> ClaimTask(const std::string& org_id, const std::string& task_id,
                                      const std::string& user) override {
    NURT_RETURN_IF_ERROR(store_->ClaimTask(org_id, task_id, user, clock_->Now()));
    return store_->GetTask(org_id, task_id);
  }

  Result<store::TaskRecord> ReleaseTask(const std::string& org_id, const std::string& task_id,
                                        const std::string& user) override {
    NURT_RETURN_IF_ERROR(store_->ReleaseTask(org_id, task_id, user));
    return store_->GetTask(org_id, task_id);
  }

  Result<std::vector<store::TaskRecord>> ListTasks(const std::string& org_id,
                                                   const store::TaskFilter& filter) override {
    return store_->ListTasks(org_id, filter);
  }

  Result<store::TaskRecord> GetTask(const std::string& org_id, const std::string& task_id) override {
    return store_->GetTask(org_id, task_id);
  }

  // --- Timers ------------------------------------------------------------------------------------

  Result<Outcome> FireTimer(const std::string& org_id, const std::string& timer_id) override {
    for (int attempt = 0; attempt <= max_retries_; ++attempt) {
      auto timer = store_->GetTimer(org_id, timer_id);
      if (!timer.ok()) return timer.status();
      const std::string who = "timer '" + timer->id + "' (" + timer->description + " in state '" + timer->state +
                              "' of instance '" + timer->instance_id + "')";
      if (timer->status != "armed") {
        return Status::FailedPrecondition(who + " is " + timer->status + "; there is nothing to fire");
      }
      auto record = store_->GetInstance(org_id, timer->instance_id);
      if (!record.ok()) return record.status();
      auto run_status = ParseRunStatus(record->run_status);
      if (!run_status.ok()) return run_status.status();
      const TimePoint now = clock_->Now();
      if (*run_status == RunStatus::kCompleted || *run_status == RunStatus::kCancelled) {
        // Commits that end an instance cancel its timers; this one was armed by an older binary or
        // lost a race with the end: finish it so it is not tried again.
        Status st = store_->FinishTimer(org_id, timer_id, "cancelled", "instance " + record->run_status, now);
        if (!st.ok() && !st.IsFailedPrecondition()) return st;
        return Status::FailedPrecondition(who + ": the instance is " + record->run_status);
      }
      if (!AcceptsEvents(*run_status)) {
        return Status::FailedPrecondition(who + " waits: the instance is " + record->run_status +
                                          "; the timer fires when it runs again");
      }
      const std::int64_t lateness = std::max<std::int64_t>(0, (now - timer->due_at).count());
      EventRequest req;
      req.org_id = org_id;
      req.instance_id = timer->instance_id;
      req.event = timer->event;
      if (timer->kind == "send") {
        // A delayed `send`: the event carries the data it was sent with (kept in `detail`).
        req.data = Json::parse(timer->detail.empty() ? "{}" : timer->detail, nullptr, false);
        if (req.data.is_discarded()) req.data = Json::object();
      } else {
        req.data = Json{{"timer",
                         {{"id", timer->id},
                          {"state", timer->state},
                          {"kind", timer->kind},
                          {"description", timer->description},
                          {"dueAt", FormatIso8601(timer->due_at)},
                          {"firedAt", FormatIso8601(now)},
                          {"lateMs", lateness}}}};
      }
      req.idempotency_key = "timer:" + timer->id;
      req.actor = "nurt:timer";
      auto prepared = PrepareAccept(req, req.idempotency_key, &*record, /*record_failure=*/true);
      if (!prepared.ok()) {
        const Status& why = prepared.status();
        if (why.IsUnavailable() || why.IsConflict()) return why;
        Status st = store_->FinishTimer(org_id, timer_id, "failed", why.message(), now);
        if (!st.ok() && !st.IsFailedPrecondition()) return st;
        return why.WithContext(who);
      }
      if (prepared->replay) return std::move(*prepared->replay);
      prepared->commit.timer_fired = store::TimerFiring{timer_id, now, lateness};
      Status st = CommitAndNotify(prepared->commit);
      if (st.ok()) return std::move(prepared->outcome);
      if (st.IsConflict() || st.IsAlreadyExists()) continue;  // re-read the timer and the instance
      return st;
    }
    return Status::Conflict("timer '" + timer_id + "' kept conflicting; retry later");
  }

  Result<std::vector<store::TimerRecord>> ListTimers(const std::string& org_id,
                                                     const std::string& instance_id) override {
    auto record = store_->GetInstance(org_id, instance_id);
    if (!record.ok()) return record.status();
    return store_->ListInstanceTimers(org_id, instance_id);
  }

  Result<Outcome> CompleteTask(const CompleteTaskRequest& req) override {
    if (req.org_id.empty()) return Status::InvalidArgument("org id is empty");
    const std::string actor = ActorOrSystem(req.actor);
    const std::string key = req.idempotency_key.empty() ? ids_->NewId() : req.idempotency_key;
    for (int attempt = 0; attempt <= max_retries_; ++attempt) {
      auto task = store_->GetTask(req.org_id, req.task_id);
      if (!task.ok()) return task.status();
      const std::string who = "task '" + task->id + "' (" + task->title + ", state '" + task->state +
                              "' of instance '" + task->instance_id + "')";
      if (!task->decisions.is_object() || !task->decisions.contains(req.decision)) {
        std::string known;
        for (auto it = task->decisions.begin(); it != task->decisions.end(); ++it) {
          known += (known.empty() ? "" : ", ") + it.key();
        }
        return Status::InvalidArgument("/decision: " + who + " has no decision '" + req.decision +
                                       "'; its decisions are: " + known);
      }
      if (!req.data.is_object()) return CheckTaskCompletion(*task, req.data, req.checklist_done);
      EventRequest event;
      event.org_id = req.org_id;
      event.instance_id = task->instance_id;
      event.event = task->decisions[req.decision].get<std::string>();
      event.data = req.data;
      event.data["task"] = Json{{"id", task->id}, {"decision", req.decision},
                                {"checklist", req.checklist_done}};
      event.idempotency_key = key;
      event.actor = actor;
      event.trace_id = req.trace_id;
      // A retry of a completion that was committed finds the task completed: answer it first.
      if (!req.idempotency_key.empty()) {
        auto replay = Replayed(req.org_id, task->instance_id, key, AcceptHash(event));
        if (!replay.ok() || replay->has_value()) return Unwrap(std::move(replay));
      }
      if (task->status == "completed" || task->status == "closed") {
        return Status::FailedPrecondition(
            who + " is already " + task->status +
            (task->status == "completed" ? " (decision '" + task->decision + "' by '" + task->completed_by + "')"
                                         : " (" + task->close_reason + ")") +
            "; there is nothing left to complete");
      }
      if (task->status == "claimed" && task->claimed_by != actor) {
        return Status::FailedPrecondition(who + " is claimed by '" + task->claimed_by + "', so '" + actor +
                                          "' cannot complete it; ask them to release it");
      }
      NURT_RETURN_IF_ERROR(CheckTaskCompletion(*task, req.data, req.checklist_done));
      auto prepared = PrepareAccept(event, key, nullptr, false, nullptr, task->id);
      if (!prepared.ok()) return prepared.status().WithContext("completing " + who);
      if (prepared->replay) return std::move(*prepared->replay);
      store::TaskClosure closure;
      closure.task_id = task->id;
      closure.status = "completed";
      closure.actor = actor;
      closure.decision = req.decision;
      closure.result = Json{{"data", req.data}, {"checklist", req.checklist_done}};
      prepared->commit.tasks_closed.push_back(std::move(closure));
      Status st = CommitAndNotify(prepared->commit);
      if (st.ok()) return std::move(prepared->outcome);
      if (st.IsConflict() || st.IsAlreadyExists()) continue;  // re-read the task and the instance
      return st;
    }
    return Status::Conflict("task '" + req.task_id + "' kept changing under " +
                            std::to_string(max_retries_ + 1) + " attempts; retry later");
  }

 private:
  // Every change has an actor (ARCHITECTURE.md): callers that name none act as "system".
  static std::string ActorOrSystem(const std::string& actor) { return actor.empty() ? "system" : actor; }

  static Status CheckEventRequest(const EventRequest& req) {
    if (req.event.empty()) return Status::InvalidArgument("event name is empty");
    // nurt.admin.* events are written only by the override methods; Replay re-applies them as overrides.
    if (req.event == kStartEvent || req.event.rfind("done.", 0) == 0 ||
        req.event.rfind("error.", 0) == 0 || req.event.rfind("nurt.admin.", 0) == 0 ||
        req.event.rfind("nurt.timer.", 0) == 0) {
      return Status::InvalidArgument("event name '" + req.event +
                                     "' is reserved for events the engine raises itself");
    }
    if (!req.data.is_object()) {
      return Status::InvalidArgument("event data must be a JSON object, got " +
                                     std::string(req.data.type_name()));
    }
    return Status::Ok();
  }

  // One admin override, committed like an event (see Engine::Cancel and admin_ops.hpp).
  Result<Outcome> RunAdmin(AdminVerb verb, const AdminRequest& req, Json request) {
    const std::string type = AdminEventType(verb);
    const std::string verb_name(RunCommandName(AdminRunCommand(verb)));
    if (req.org_id.empty()) return Status::InvalidArgument("org id is empty");
    if (req.instance_id.empty()) return Status::InvalidArgument(verb_name + " needs an instance id");
    if (req.reason.find_first_not_of(" \t\r\n") == std::string::npos) {
      return Status::InvalidArgument(verb_name + " of instance '" + req.instance_id +
                                     "' needs a reason: say why (it is kept in the instance's history)");
    }
    Json with_reason{{"reason", req.reason}};
    for (auto it = request.begin(); it != request.end(); ++it) with_reason[it.key()] = it.value();
    request = std::move(with_reason);
    const std::string key = req.idempotency_key.empty() ? ids_->NewId() : req.idempotency_key;
    const std::string hash = Sha256Hex(CanonicalJson(Json{{"admin", type}, {"request", request}}));
    const std::string who = "instance '" + req.instance_id + "'";
    for (int attempt = 0; attempt <= max_retries_; ++attempt) {
      if (!req.idempotency_key.empty()) {
        auto replay = Replayed(req.org_id, req.instance_id, key, hash);
        if (!replay.ok() || replay->has_value()) return Unwrap(std::move(replay));
      }
      auto record = store_->GetInstance(req.org_id, req.instance_id);
      if (!record.ok()) return record.status();
      auto current = ParseRunStatus(record->run_status);
      if (!current.ok()) return current.status();
      auto next = ApplyRunCommand(*current, AdminRunCommand(verb));
      if (!next.ok()) return next.status().WithContext(who);
      auto machine_or = GetMachine(req.org_id, record->machine, record->machine_version);
      if (!machine_or.ok()) return machine_or.status();
      const Machine* machine = *machine_or;
      auto snapshot = interp::Snapshot::FromJson(*machine->definition, record->snapshot);
      if (!snapshot.ok()) return snapshot.status();

      const std::int64_t sequence = record->version + 1;
      const TimePoint now = clock_->Now();
      interp::Event event{type, request, ActorOrSystem(req.actor)};
      interp::StepOptions opts;
      opts.instance_id = req.instance_id;
      opts.sequence = sequence;
      opts.now = now;
      auto plan = RunLocked([&] {
        return PlanAdmin(verb, interp::Interpreter(machine->definition, lua_.get()), *snapshot, request,
                         event, opts);
      });
      if (!plan.ok()) return plan.status().WithContext(verb_name + " of " + who);
      if (machine->schema && (verb == AdminVerb::kForce || verb == AdminVerb::kSkip ||
                              verb == AdminVerb::kRetry)) {
        NURT_RETURN_IF_ERROR(machine->schema->Check(
            plan->step.snapshot.context, "after " + verb_name + ", the data of " + who));
      }
      if (!plan->step.transitions.empty()) plan->step.transitions.front().detail["reason"] = req.reason;
      store::EventEnvelope env = Envelope(req.org_id, record->machine, req.instance_id, sequence, type,
                                          plan->payload, req.actor, req.trace_id, "", key, now);
      store::CommitRequest commit;
      Outcome outcome = Commitable(*machine, req.org_id, req.instance_id, record->version,
                                   std::move(plan->step), env, &commit, *next);
      commit.instance.created_at = record->created_at;
      // Overrides move states too: tasks of states left close, tasks of states entered open (and a
      // cancelled instance keeps none open).
      auto tracked = TrackTasks(*machine, record->state, nullptr, "", &commit);
      if (!tracked.ok()) return tracked.status();
      NURT_RETURN_IF_ERROR(TrackTimers(*machine, record->state, &commit));
      commit.idempotency =
          store::IdempotencyRecord{req.org_id, req.instance_id, key, hash, outcome.ToJson(), now};
      Status st = CommitAndNotify(commit);
      if (st.ok()) return outcome;
      if (st.IsConflict() || st.IsAlreadyExists()) continue;
      return st;
    }
    return Status::Conflict(who + " kept changing under " + std::to_string(max_retries_ + 1) +
                            " attempts; retry later");
  }

  struct Prepared {
    std::optional<Outcome> replay;  // set: the key was used before; nothing to commit
    store::CommitRequest commit;
    Outcome outcome;
    std::vector<store::TaskRecord> open_tasks_after;  // the instance's active tasks after the commit
  };

  static std::string AcceptHash(const EventRequest& req) {
    return Sha256Hex(CanonicalJson(Json{{"event", req.event}, {"data", req.data}}));
  }

  // Steps `req` on the instance's state (`base`, or the stored record when null) and builds the commit.
  // With `record_failure`, a step that fails (not merely an event that is not accepted) is committed as
  // the instance's failure instead of being refused (DeliverInternalEffects: no caller can fix it).
  // `open_tasks`: the instance's active tasks matching `base` (null: read from the store);
  // `completing_task_id`: the task CompleteTask closes in this commit ("" = none).
  Result<Prepared> PrepareAccept(const EventRequest& req, const std::string& key,
                                 const store::InstanceRecord* base, bool record_failure = false,
                                 const std::vector<store::TaskRecord>* open_tasks = nullptr,
                                 const std::string& completing_task_id = "") {
    const std::string hash = AcceptHash(req);
    Prepared prepared;
    if (!req.idempotency_key.empty()) {
      auto replay = Replayed(req.org_id, req.instance_id, key, hash);
      if (!replay.ok()) return replay.status();
      if (replay->has_value()) {
        prepared.replay = std::move(**replay);
        return prepared;
      }
    }
    store::InstanceRecord stored;
    if (base == nullptr) {
      auto record = store_->GetInstance(req.org_id, req.instance_id);
      if (!record.ok()) return record.status();
      stored = std::move(record).value();
      base = &stored;
    }
    const store::InstanceRecord& record = *base;
    auto status = ParseRunStatus(record.run_status);
    if (!status.ok()) return status.status();
    if (!AcceptsEvents(*status)) {
      return Status::FailedPrecondition("instance '" + req.instance_id + "' is " +
                                        record.run_status + "; it accepts no events");
    }
    auto machine_or = GetMachine(req.org_id, record.machine, record.machine_version);
    if (!machine_or.ok()) return machine_or.status();
    const Machine* machine = *machine_or;
    auto snapshot = interp::Snapshot::FromJson(*machine->definition, record.snapshot);
    if (!snapshot.ok()) return snapshot.status();

    const std::int64_t sequence = record.version + 1;
    const TimePoint now = clock_->Now();
    interp::Event event{req.event, req.data, ActorOrSystem(req.actor)};
    interp::StepOptions opts;
    opts.instance_id = req.instance_id;
    opts.sequence = sequence;
    opts.now = now;
    Result<interp::StepResult> step = RunLocked([&] {
      return interp::Interpreter(machine->definition, lua_.get()).Step(*snapshot, event, opts);
    });
    std::optional<RunStatus> run_status;
    if (!step.ok() && record_failure && !step.status().IsFailedPrecondition() &&
        !step.status().IsUnavailable()) {
      interp::StepResult failed;
      failed.snapshot = *snapshot;
      failed.snapshot.failure = FailureRecord(req.event, req.data, ActorOrSystem(req.actor),
                                              step.status().message(), sequence);
      store::TransitionRecord rec;
      rec.event = req.event;
      rec.from = snapshot->ActiveLeaves(*machine->definition);
      rec.to = rec.from;
      rec.detail = Json{{"failure", step.status().message()}};
      failed.transitions.push_back(std::move(rec));
      step = std::move(failed);
      auto marked = ApplyRunCommand(*status, RunCommand::kFail);
      if (!marked.ok()) return marked.status();
      run_status = *marked;
    }
    if (!step.ok()) {
      return step.status().WithContext("instance '" + req.instance_id + "' (" + record.machine + ")");
    }
    if (machine->schema && !run_status) {
      NURT_RETURN_IF_ERROR(machine->schema->Check(
          step->snapshot.context,
          "after '" + req.event + "', the data of instance '" + req.instance_id + "'"));
    }
    store::EventEnvelope env = Envelope(req.org_id, record.machine, req.instance_id, sequence,
                                        req.event, req.data, req.actor, req.trace_id,
                                        req.causation_id, key, now);
    prepared.outcome = Commitable(*machine, req.org_id, req.instance_id, record.version,
                                  std::move(step).value(), env, &prepared.commit,
                                  run_status.value_or(RunStatus::kActive));
    prepared.commit.instance.created_at = record.created_at;
    auto tracked = TrackTasks(*machine, record.state, open_tasks, completing_task_id, &prepared.commit);
    if (!tracked.ok()) return tracked.status();
    prepared.open_tasks_after = std::move(tracked).value();
    NURT_RETURN_IF_ERROR(TrackTimers(*machine, record.state, &prepared.commit));
    prepared.commit.idempotency = store::IdempotencyRecord{req.org_id,          req.instance_id, key,
                                                           hash, prepared.outcome.ToJson(), now};
    return prepared;
  }

  // Adds the timers the commit arms and cancels (TimerTracker). `at:` expressions see the context the
  // step leaves, the step's event and time.
  Status TrackTimers(const Machine& machine, const std::vector<std::string>& leaves_before,
                     store::CommitRequest* commit) {
    const dsl::Definition& def = *machine.definition;
    if (!TimerTracker::HasTimers(def)) return Status::Ok();
    std::shared_ptr<const calendar::BusinessCalendar> calendar;
    if (calendar_for_) calendar = calendar_for_(commit->org_id);
    if (!calendar) calendar = DefaultBusinessCalendar();
    const Json context = commit->instance.snapshot.value("context", Json::object());
    const store::EventEnvelope* event = commit->events.empty() ? nullptr : &commit->events.front();
    const Json event_json = event ? Json{{"name", event->type}, {"data", event->payload}, {"actor", event->actor}}
                                  : Json(nullptr);
    const std::set<std::string> active(commit->instance.state.begin(), commit->instance.state.end());
    auto evaluate = [&](const dsl::LuaCode& code) -> Result<Json> {
      lua::CallEnv env;
      env.event = event ? &event_json : nullptr;
      env.now = event ? event->occurred_at : clock_->Now();
      env.instance_id = commit->instance_id;
      env.in_state = [&](const std::string& id) {
        const Json& config = commit->instance.snapshot["configuration"];
        return active.count(id) > 0 || (config.is_array() && std::find(config.begin(), config.end(), Json(id)) != config.end());
      };
      return RunLocked([&] {
        return lua_->Evaluate(lua::Chunk{code.source, code.location.file, code.location.line}, context, env);
      });
    };
    return timers_.Track(def, leaves_before, *calendar, evaluate, commit);
  }

  Status CommitAndNotify(const store::CommitRequest& commit) {
    Status st = store_->Commit(commit);
    if (st.ok()) NotifyTimers(commit);
    return st;
  }

  void NotifyTimers(const store::CommitRequest& commit) {
    if (timer_listener_ && !commit.timers_armed.empty()) timer_listener_->TimersArmed(commit.timers_armed);
  }

  // Adds the human tasks the commit opens and closes (TaskTracker); `open_tasks` are the instance's
  // active tasks before it (null: read them from the store). Returns the active tasks after it.
  Result<std::vector<store::TaskRecord>> TrackTasks(const Machine& machine,
                                                    const std::vector<std::string>& leaves_before,
                                                    const std::vector<store::TaskRecord>* open_tasks,
                                                    const std::string& completing_task_id,
                                                    store::CommitRequest* commit) {
    // A machine version without `task:` never has tasks (definitions never change): no read.
    if (!TaskTracker::HasTasks(*machine.definition)) return std::vector<store::TaskRecord>();
    std::vector<store::TaskRecord> stored;
    if (open_tasks == nullptr) {
      store::TaskFilter filter;
      filter.instance_id = commit->instance_id;
      filter.only_active = true;
      filter.limit = 1000;
      auto listed = store_->ListTasks(commit->org_id, filter);
      if (!listed.ok()) return listed.status();
      stored = std::move(listed).value();
      open_tasks = &stored;
    }
    return tasks_.Track(*machine.definition, leaves_before, *open_tasks, completing_task_id, commit);
  }

  template <typename F>
  std::invoke_result_t<F> RunLocked(F&& f) {
    std::lock_guard<std::mutex> lock(lua_mu_);
    return f();
  }

  // nullopt: the key is new. A value: the stored outcome. An error: same key, different request.
  Result<std::optional<Outcome>> Replayed(const std::string& org, const std::string& instance,
                                          const std::string& key, const std::string& hash) {
    auto found = store_->FindIdempotency(org, instance, key);
    if (!found.ok()) return found.status();
    if (!found->has_value()) return std::optional<Outcome>();
    if ((*found)->request_hash != hash) {
      return Status::IdempotencyMismatch(
          "idempotency key '" + key + "' was already used" +
          (instance.empty() ? std::string(" to start an instance") : " for instance '" + instance + "'") +
          " with a different request; use a new key for a new request");
    }
    Outcome o = Outcome::FromJson((*found)->response);
    o.replayed = true;
    return std::optional<Outcome>(std::move(o));
  }

  static Result<Outcome> Unwrap(Result<std::optional<Outcome>> r) {
    if (!r.ok()) return r.status();
    return std::move(**r);
  }

  Result<const Machine*> GetMachine(const std::string& org, const std::string& name,
                                    std::int64_t version) {
    {
      std::lock_guard<std::mutex> lock(cache_mu_);
      if (version != 0) {
        auto it = machines_.find(CacheKey(org, name, version));
        if (it != machines_.end()) return it->second.get();
      }
    }
    auto rec = store_->GetDefinition(org, name, version);
    if (!rec.ok()) {
      if (rec.status().IsNotFound()) {
        return Status::InvalidArgument(
            "no machine named '" + name + "'" +
            (version ? " version " + std::to_string(version) : std::string()) + " is published in org '" +
            org + "'");
      }
      return rec.status();
    }
    std::lock_guard<std::mutex> lock(cache_mu_);
    const std::string cache_key = CacheKey(org, name, rec->version);
    auto it = machines_.find(cache_key);
    if (it != machines_.end()) return it->second.get();
    std::vector<std::pair<std::string, std::string>> scripts;
    for (auto s = rec->scripts.begin(); s != rec->scripts.end(); ++s) {
      scripts.emplace_back(s.key(), s.value().get<std::string>());
    }
    dsl::LoadOptions options;
    options.scripts = &scripts;
    dsl::LoadResult loaded = dsl::LoadMachineText(rec->source_text, rec->source_file, options);
    if (!loaded.definition) {
      std::string why;
      for (const auto& d : loaded.diagnostics) {
        if (d.severity == dsl::Severity::kError) why += "\n  " + d.ToString();
      }
      return Status::DataLoss("stored machine '" + name + "' version " + std::to_string(rec->version) +
                              " no longer loads:" + why);
    }
    auto machine = std::make_unique<Machine>();
    machine->definition = loaded.definition;
    if (loaded.definition->context_schema) {
      machine->schema = std::make_unique<ContextSchema>(*loaded.definition->context_schema);
    }
    const Machine* raw = machine.get();
    machines_.emplace(cache_key, std::move(machine));
    return raw;
  }

  static std::string CacheKey(const std::string& org, const std::string& name, std::int64_t version) {
    return org + '\n' + name + '\n' + std::to_string(version);
  }

  store::EventEnvelope Envelope(const std::string& org, const std::string& machine,
                                const std::string& instance, std::int64_t sequence,
                                const std::string& type, const Json& payload, const std::string& actor,
                                const std::string& trace, const std::string& causation,
                                const std::string& key, TimePoint now) {
    store::EventEnvelope e;
    e.id = ids_->NewId();
    e.org_id = org;
    e.type = type;
    e.occurred_at = now;
    e.actor = ActorOrSystem(actor);
    e.entity_type = machine;
    e.entity_id = instance;
    e.payload = payload;
    e.trace_id = trace.empty() ? e.id : trace;
    e.causation_id = causation;
    e.idempotency_key = key;
    e.sequence = sequence;
    return e;
  }

  // The timer "state" of a delayed `send` with this id (never a state id: those cannot hold ':').
  static std::string SendTimerState(const std::string& send_id) { return "send:" + send_id; }

  // Fills `commit` with everything the step changes and returns the Outcome the caller gets.
  Outcome Commitable(const Machine& machine, const std::string& org, const std::string& id,
                     std::int64_t expected_version, interp::StepResult step,
                     const store::EventEnvelope& event, store::CommitRequest* commit,
                     RunStatus run_status = RunStatus::kActive) {
    const dsl::Definition& def = *machine.definition;
    const interp::Interpreter interpreter(machine.definition, lua_.get());
    const std::int64_t sequence = event.sequence;
    for (std::size_t i = 0; i < step.transitions.size(); ++i) {
      step.transitions[i].event_sequence = sequence;
      step.transitions[i].step = static_cast<int>(i);
      if (!step.log.empty() && i + 1 == step.transitions.size()) {
        step.transitions[i].detail["log"] = step.log;
      }
    }
    RunStatus status = run_status;
    if (step.snapshot.done && status == RunStatus::kActive) {
      auto completed = ApplyRunCommand(RunStatus::kActive, RunCommand::kComplete);
      if (completed.ok()) status = *completed;
    }
    commit->org_id = org;
    commit->instance_id = id;
    commit->expected_version = expected_version;
    store::InstanceRecord& rec = commit->instance;
    rec.org_id = org;
    rec.id = id;
    rec.machine = def.name;
    rec.machine_version = def.version;
    rec.run_status = std::string(RunStatusName(status));
    rec.state = step.snapshot.ActiveLeaves(def);
    rec.snapshot = step.snapshot.ToJson(def);
    rec.version = expected_version + 1;
    rec.created_at = event.occurred_at;
    rec.updated_at = event.occurred_at;
    commit->events = {event};
    commit->transitions = step.transitions;
    for (std::size_t i = 0; i < step.effects.size(); ++i) {
      const interp::Effect& fx = step.effects[i];
      if (fx.kind == interp::Effect::Kind::kCancel) {
        // `cancel`: a send armed earlier in this very step is simply not armed; older ones are
        // cancelled.
        if (fx.send_id.empty()) continue;  // sends without an id cannot be cancelled
        const std::string state = SendTimerState(fx.send_id);
        auto& armed = commit->timers_armed;
        armed.erase(std::remove_if(armed.begin(), armed.end(),
                                   [&](const store::TimerRecord& t) { return t.state == state; }),
                    armed.end());
        commit->timer_states_cancelled.push_back(state);
        continue;
      }
      if (fx.kind == interp::Effect::Kind::kSend && fx.delay_ms > 0) {
        // A delayed `send` (always to this instance) is a durable timer of the instance, not of a
        // state: its "state" is send:<id> so `cancel` finds it; the payload waits in `detail`.
        store::TimerRecord t;
        t.org_id = org;
        t.id = ids_->NewId();
        t.instance_id = id;
        t.machine = def.name;
        t.state = SendTimerState(fx.send_id);
        t.kind = "send";
        t.event = fx.name;
        t.description = "send " + (fx.send_id.empty() ? fx.name : fx.send_id) + " after " +
                        FormatIsoDuration(std::chrono::milliseconds(fx.delay_ms));
        t.due_at = event.occurred_at + std::chrono::milliseconds(fx.delay_ms);
        t.armed_at = event.occurred_at;
        t.armed_by_sequence = sequence;
        t.detail = fx.data.dump();
        commit->timers_armed.push_back(std::move(t));
        continue;
      }
      store::OutboxItem item;
      item.id = ids_->NewId();
      item.org_id = org;
      item.instance_id = id;
      item.event_sequence = sequence;
      item.created_at = event.occurred_at;
      if (fx.kind == interp::Effect::Kind::kSend) {
        item.kind = kSendKind;
        item.payload = Json{{"to", fx.to}, {"event", fx.name}, {"data", fx.data},
                            {"traceId", event.trace_id}};
        item.idempotency_key = fx.key;
      } else if (fx.kind == interp::Effect::Kind::kNotify) {
        // The notification contract (docs/notifications.md): templates plus the values they may use.
        item.kind = kNotifyKind;
        item.payload = fx.data;
        item.payload["vars"] = Json{
            {"event", {{"id", event.id}, {"type", event.type}, {"payload", event.payload},
                       {"actor", event.actor}, {"occurredAt", FormatIso8601(event.occurred_at)}}},
            {"context", step.snapshot.context},
            {"instance", {{"id", id}, {"machine", def.name}, {"state", step.snapshot.ActiveLeaves(def)}}}};
        if (event.payload.is_object() && event.payload.contains("timer")) {
          item.payload["vars"]["timer"] = event.payload["timer"];
        }
        item.payload["origin"] = Json{{"kind", "machine"}, {"name", def.name}};
        item.idempotency_key = fx.key;
      } else if (fx.kind == interp::Effect::Kind::kCall) {
        // An adapter call (docs/effects.md): the dispatcher runs it and answers with <step>.done/.failed.
        item.kind = fx.name;
        item.payload = fx.data;
        item.payload["machine"] = def.name;
        item.payload["traceId"] = event.trace_id;
        item.idempotency_key = fx.key;
      } else {
        item.kind = kSpawnKind;
        item.payload = Json{{"machine", fx.name}, {"id", fx.to}, {"data", fx.data}, {"key", fx.key},
                            {"traceId", event.trace_id}};
        item.idempotency_key = id + "/" + std::to_string(sequence) + "/effect/" + std::to_string(i);
      }
      commit->outbox.push_back(std::move(item));
    }

    Outcome o;
    o.instance_id = id;
    o.machine = def.name;
    o.machine_version = def.version;
    o.version = rec.version;
    o.event_sequence = sequence;
    o.event_id = event.id;
    o.run_status = rec.run_status;
    o.state = rec.state;
    o.context = step.snapshot.context;
    o.output = step.snapshot.output;
    o.transitions = step.transitions;
    if (AcceptsEvents(status)) o.accepted_events = interpreter.AcceptedEvents(step.snapshot);
    return o;
  }

  store::Store* store_;
  const env::Clock* clock_;
  std::unique_ptr<env::IdGenerator> owned_ids_;
  env::IdGenerator* ids_;
  int max_retries_;

  std::mutex lua_mu_;  // the Lua runtime is single-threaded
  std::unique_ptr<lua::Runtime> lua_;

  std::mutex cache_mu_;
  std::map<std::string, std::unique_ptr<Machine>> machines_;

  TaskTracker tasks_;
  TimerTracker timers_;
  std::function<std::shared_ptr<const calendar::BusinessCalendar>(const std::string&)> calendar_for_;
  TimerListener* timer_listener_;
};

}  // namespace

std::shared_ptr<const calendar::BusinessCalendar> DefaultBusinessCalendar() {
  static const std::shared_ptr<const calendar::BusinessCalendar> kDefault = [] {
    auto made = calendar::BusinessCalendar::Create(calendar::CalendarSpec{});
    return made.ok() ? std::make_shared<const calendar::BusinessCalendar>(std::move(made).value()) : nullptr;
  }();
  return kDefault;
}

Result<std::unique_ptr<Engine>> NewEngine(const EngineOptions& options) {
  if (options.store == nullptr) return Status::InvalidArgument("EngineOptions::store is required");
  auto lua = lua::NewRuntime(options.lua_limits);
  if (!lua.ok()) return lua.status();
  const env::Clock* clock = options.clock ? options.clock : env::SystemClock();
  std::unique_ptr<env::IdGenerator> ids;
  if (options.ids == nullptr) ids = env::NewUlidGenerator(clock);
  return std::unique_ptr<Engine>(
      std::make_unique<EngineImpl>(options, std::move(lua).value(), std::move(ids)));
}

}  // namespace nurt::engine
