// RulesEngine: one evaluation pass = one store transaction (docs/rules.md "Exactly once").

#include "nurt/rules/rules_engine.hpp"

#include <chrono>
#include <mutex>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "rules/once_per_key.hpp"
#include "rules/rule_index.hpp"

namespace nurt::rules {
namespace {

using internal::CompiledRule;
using internal::RuleIndex;

constexpr const char* kNotifyKind = "nurt.notify";
constexpr const char* kSendKind = "nurt.send";    // consumed by Engine::DeliverInternalEffects
constexpr const char* kSpawnKind = "nurt.spawn";  // consumed by Engine::DeliverInternalEffects

std::string Quote(const std::string& s) { return "'" + s + "'"; }

void Add(RuleCounters* to, const RuleCounters& d) {
  to->evaluated += d.evaluated;
  to->fired += d.fired;
  to->suppressed += d.suppressed;
  to->queued += d.queued;
  to->released += d.released;
  to->dropped += d.dropped;
  to->errors += d.errors;
}

// The entity an event belongs to, as rules see it.
struct Entity {
  Status status = Status::Ok();  // NotFound etc.: the rule records an error
  std::string machine;
  Json view;                     // {"id","machine","state","run_status"}
  Json context = Json::object();
  std::set<std::string> configuration;  // every active state, for In()
};

// What one pass accumulates before its single commit.
struct Pass {
  TimePoint now{};
  store::RuleEvaluationCommit commit;
  std::map<std::pair<std::string, std::string>, RuleCounters> counters;
  std::unordered_set<std::string> keys;               // org \n rule \n key fired/queued this pass
  std::unordered_map<std::string, std::int64_t> windows;  // throttle window counts (see Window)
  std::unordered_set<std::string> backlog;            // throttles with firings still queued
  std::unordered_map<std::string, Entity> entities;   // org \n instance id
};

class RulesEngineImpl final : public RulesEngine {
 public:
  RulesEngineImpl(const RulesEngineOptions& options, std::unique_ptr<lua::Runtime> lua,
                  std::unique_ptr<env::IdGenerator> owned_ids)
      : store_(options.store),
        clock_(options.clock ? options.clock : env::SystemClock()),
        owned_ids_(std::move(owned_ids)),
        ids_(options.ids ? options.ids : owned_ids_.get()),
        evaluator_(options.evaluator),
        on_error_(options.on_error),
        lua_(std::move(lua)) {}

  Status SetRules(const std::string& org_id,
                  const std::vector<std::shared_ptr<const dsl::RuleSet>>& sets) override {
    if (org_id.empty()) return Status::InvalidArgument("SetRules needs an org id");
    std::vector<std::shared_ptr<const dsl::RuleSet>> kept;
    std::map<std::string, std::string> seen;  // rule id -> file
    for (const auto& set : sets) {
      if (set == nullptr || (!set->org.empty() && set->org != org_id)) continue;
      for (const auto& rule : set->rules) {
        auto [it, fresh] = seen.emplace(rule.id, set->source_file);
        if (!fresh) {
          return Status::InvalidArgument(
              "rule id " + Quote(rule.id) + " is used in " + it->second + " and in " +
              set->source_file + " for org " + Quote(org_id) +
              "; rule ids must be unique in an org (the id keys the once_per record): rename one");
        }
      }
      kept.push_back(set);
    }
    auto index = kept.empty() ? nullptr : std::make_shared<RuleIndex>(std::move(kept));
    std::lock_guard<std::mutex> lock(rules_mu_);
    if (index) {
      orgs_[org_id] = std::move(index);
    } else {
      orgs_.erase(org_id);
    }
    return Status::Ok();
  }

  std::map<std::pair<std::string, std::string>, RuleCounters> Counters() const override {
    std::lock_guard<std::mutex> lock(counters_mu_);
    return counters_;
  }

  Result<RunReport> RunOnce(int limit) override {
    if (limit <= 0 || limit > 10000) {
      return Status::InvalidArgument("RunOnce limit must be 1..10000, got " + std::to_string(limit));
    }
    std::lock_guard<std::mutex> pass_lock(pass_mu_);
    std::map<std::string, std::shared_ptr<RuleIndex>> orgs;
    {
      std::lock_guard<std::mutex> lock(rules_mu_);
      orgs = orgs_;
    }
    Pass pass;
    pass.now = clock_->Now();
    NURT_ASSIGN_OR_RETURN(const std::int64_t cursor, store_->GetRuleCursor(evaluator_));
    pass.commit.evaluator = evaluator_;
    pass.commit.expected_position = cursor;
    pass.commit.position = cursor;
    pass.commit.now = pass.now;

    for (const auto& [org, index] : orgs) {
      if (index->has_throttles()) NURT_RETURN_IF_ERROR(ReleaseQueued(org, index.get(), &pass));
    }

    NURT_ASSIGN_OR_RETURN(std::vector<store::FeedEvent> events, store_->ListEventsAfter(cursor, limit));
    for (const store::FeedEvent& fe : events) {
      pass.commit.position = fe.position;
      auto it = orgs.find(fe.event.org_id);
      if (it == orgs.end()) continue;
      for (const CompiledRule* rule : it->second->Match(fe.event.type)) {
        NURT_RETURN_IF_ERROR(Evaluate(fe, *rule, it->second.get(), &pass));
      }
    }

    RunReport report;
    report.events = static_cast<int>(events.size());
    report.position = pass.commit.position;
    if (pass.commit.position != cursor || !pass.commit.releases.empty()) {
      NURT_RETURN_IF_ERROR(store_->CommitRuleEvaluation(pass.commit));
    }
    std::lock_guard<std::mutex> lock(counters_mu_);
    for (const auto& [key, delta] : pass.counters) {
      Add(&counters_[key], delta);
      Add(&report.totals, delta);
    }
    return report;
  }

 private:
  // --- throttles ----------------------------------------------------------------------------------

  static std::string RuleThrottleKey(const std::string& org, const CompiledRule& r) {
    return org + "\nrule\n" + r.spec->id;
  }
  static std::string SetThrottleKey(const std::string& org, const CompiledRule& r) {
    return org + "\nset\n" + r.set->name + "\n" + r.set->source_file;
  }

  // Fired firings in the throttle's sliding window (now - per, now], read once per pass and kept
  // up to date as the pass fires.
  Result<std::int64_t*> Window(const std::string& key, const std::string& org,
                               const std::vector<std::string>& rule_ids, const dsl::RuleThrottle& t,
                               Pass* pass) {
    auto it = pass->windows.find(key);
    if (it != pass->windows.end()) return &it->second;
    const TimePoint since = pass->now - std::chrono::milliseconds(t.per_ms) + std::chrono::milliseconds(1);
    NURT_ASSIGN_OR_RETURN(std::int64_t n, store_->CountRuleFirings(org, rule_ids, since));
    return &pass->windows.emplace(key, n).first->second;
  }

  static std::vector<std::string> SetRuleIds(const CompiledRule& r) {
    std::vector<std::string> ids;
    for (const auto& rule : r.set->rules) ids.push_back(rule.id);
    return ids;
  }

  enum class Verdict { kFire, kQueue, kDrop };

  // Whether a firing of `r` may go now. Queued firings go first: while a throttle has a backlog, new
  // firings under it queue behind (or are dropped, by policy) even if the window has room.
  Result<Verdict> Decide(const std::string& org, const CompiledRule& r, Pass* pass) {
    bool queue = false, drop = false;
    auto check = [&](const std::optional<dsl::RuleThrottle>& t, const std::string& key,
                     const std::vector<std::string>& ids) -> Status {
      if (!t) return Status::Ok();
      NURT_ASSIGN_OR_RETURN(std::int64_t* count, Window(key, org, ids, *t, pass));
      if (*count < t->limit && !pass->backlog.count(key)) return Status::Ok();
      (t->policy == dsl::RuleThrottle::Policy::kDrop ? drop : queue) = true;
      return Status::Ok();
    };
    NURT_RETURN_IF_ERROR(check(r.spec->throttle, RuleThrottleKey(org, r), {r.spec->id}));
    NURT_RETURN_IF_ERROR(check(r.set->throttle, SetThrottleKey(org, r), SetRuleIds(r)));
    if (drop) return Verdict::kDrop;
    if (queue) return Verdict::kQueue;
    return Verdict::kFire;
  }

  void CountFired(const std::string& org, const CompiledRule& r, Pass* pass) {
    if (r.spec->throttle) ++pass->windows[RuleThrottleKey(org, r)];
    if (r.set->throttle) ++pass->windows[SetThrottleKey(org, r)];
  }

  void MarkBacklog(const std::string& org, const CompiledRule& r, Pass* pass) {
    if (r.spec->throttle && r.spec->throttle->policy == dsl::RuleThrottle::Policy::kQueue) {
      pass->backlog.insert(RuleThrottleKey(org, r));
    }
    if (r.set->throttle && r.set->throttle->policy == dsl::RuleThrottle::Policy::kQueue) {
      pass->backlog.insert(SetThrottleKey(org, r));
    }
  }

  // Releases queued firings, oldest first, while their windows have room. A firing whose rule is no
  // longer loaded stays queued (it is released if the rule comes back).
  Status ReleaseQueued(const std::string& org, RuleIndex* index, Pass* pass) {
    NURT_ASSIGN_OR_RETURN(std::vector<store::RuleFiring> queued,
                          store_->ListQueuedRuleFirings(org, 10000));
    for (const store::RuleFiring& f : queued) {
      const CompiledRule* r = index->Find(f.rule_id);
      if (r == nullptr) continue;
      NURT_ASSIGN_OR_RETURN(Verdict v, Decide(org, *r, pass));
      if (v != Verdict::kFire) {
        MarkBacklog(org, *r, pass);
        continue;
      }
      pass->commit.releases.push_back(store::RuleFiringRelease{org, f.rule_id, f.key, pass->now});
      CountFired(org, *r, pass);
      auto& c = pass->counters[{org, f.rule_id}];
      ++c.released;
      ++c.fired;
    }
    return Status::Ok();
  }

  // --- evaluation ---------------------------------------------------------------------------------

  const Entity& LoadEntity(const store::EventEnvelope& e, Pass* pass) {
    const std::string key = e.org_id + "\n" + e.entity_id;
    auto it = pass->entities.find(key);
    if (it != pass->entities.end()) return it->second;
    Entity entity;
    auto rec = store_->GetInstance(e.org_id, e.entity_id);
    if (!rec.ok()) {
      entity.status = rec.status();
    } else {
      entity.machine = rec->machine;
      Json state = Json::array();
      for (const auto& s : rec->state) state.push_back(s);
      entity.view = Json{{"id", rec->id},
                         {"machine", rec->machine},
                         {"state", state},
                         {"run_status", rec->run_status}};
      if (rec->snapshot.is_object()) {
        entity.context = rec->snapshot.value("context", Json::object());
        for (const auto& s : rec->snapshot.value("configuration", Json::array())) {
          if (s.is_string()) entity.configuration.insert(s.get<std::string>());
        }
      }
      for (const auto& s : rec->state) entity.configuration.insert(s);
    }
    return pass->entities.emplace(key, std::move(entity)).first->second;
  }

  // `event`, `context`, `entity`/`instance` and `ctx` (= context) as the Lua code sees them: the
  // runtime's own `event` is {name,data,actor}; rules document {type,payload,actor,occurredAt,id}, so
  // the expression runs inside a function whose parameters shadow the globals. The wrapper stays on
  // the expression's first line, so Lua's line numbers still point into the YAML.
  const std::string& Wrapped(const dsl::LuaCode& code) {
    auto it = wrapped_.find(code.source);
    if (it != wrapped_.end()) return it->second;
    return wrapped_
        .emplace(code.source, "(function(event, context, entity, instance, ctx) return (" + code.source +
                            "\n) end)(ctx.event, ctx.context, ctx.entity, ctx.entity, ctx.context)")
        .first->second;
  }

  lua::CallEnv Env(const store::EventEnvelope& e, const Entity& entity) {
    lua::CallEnv env;
    env.now = e.occurred_at;
    env.instance_id = e.entity_id;
    const std::set<std::string>* config = &entity.configuration;
    env.in_state = [config](const std::string& id) { return config->count(id) > 0; };
    return env;
  }

  Result<Json> Value(const dsl::ValueSpec& v, const Json& vars, const lua::CallEnv& env) {
    if (!v.is_expression) return v.literal;
    const std::string& source = Wrapped(v.expression);
    return lua_->Evaluate(lua::Chunk{source, v.expression.location.file, v.expression.location.line},
                          vars, env);
  }

  Result<Json> Data(const dsl::RuleAction& a, const Json& vars, const lua::CallEnv& env,
                    const std::string& what) {
    Json data = Json::object();
    if (a.data_is_map) {
      for (const auto& [field, value] : a.data_fields) {
        NURT_ASSIGN_OR_RETURN(data[field], Value(value, vars, env));
      }
    } else if (a.data) {
      NURT_ASSIGN_OR_RETURN(data, Value(*a.data, vars, env));
    }
    if (!data.is_object()) {
      return Status::InvalidArgument(what + ": 'data' must be a map (a JSON object), got " +
                                     std::string(data.type_name()));
    }
    return data;
  }

  // The firing's effects: outbox items and tasks, keyed by rule + once_per key + action index so a
  // re-evaluation after a crash produces the same keys.
  Status BuildEffects(const store::FeedEvent& fe, const CompiledRule& r, const Entity& entity,
                      const Json& vars, const std::string& key, store::RuleFiring* f) {
    const store::EventEnvelope& e = fe.event;
    const dsl::RuleSpec& rule = *r.spec;
    const lua::CallEnv env = Env(e, entity);
    const Json instance{{"id", e.entity_id}, {"machine", entity.machine}, {"state", entity.view["state"]}};
    // `entity` as in `when`, `instance` as in machines' notify: templates may use either.
    Json notify_vars{{"event", vars["event"]},
                     {"context", entity.context},
                     {"instance", instance},
                     {"entity", instance},
                     {"rule", Json{{"id", rule.id},
                                   {"description", rule.description},
                                   {"rules", r.set->name}}}};
    const Json origin{{"kind", "rule"}, {"name", rule.id}, {"rules", r.set->name}, {"eventId", e.id}};
    for (std::size_t i = 0; i < rule.actions.size(); ++i) {
      const dsl::RuleAction& a = rule.actions[i];
      const std::string what = "action " + std::to_string(i + 1) + " of rule " + Quote(rule.id) + " (" +
                               a.location.ToString() + ")";
      store::OutboxItem item;
      item.id = ids_->NewId();
      item.org_id = e.org_id;
      item.instance_id = e.entity_id;
      item.event_sequence = e.sequence;
      item.created_at = pass_now_;
      item.idempotency_key = "rule:" + rule.id + ":" + key + ":" + std::to_string(i);
      switch (a.kind) {
        case dsl::RuleAction::Kind::kNotify: {
          item.kind = kNotifyKind;
          item.payload = Json{{"channel", a.channel}, {"body", a.body}, {"vars", notify_vars},
                              {"origin", origin}};
          if (!a.to.empty()) item.payload["to"] = a.to;
          if (!a.subject.empty()) item.payload["subject"] = a.subject;
          break;
        }
        case dsl::RuleAction::Kind::kWebhook: {
          item.kind = kNotifyKind;
          Json data;
          NURT_ASSIGN_OR_RETURN(data, Data(a, vars, env, what));
          Json with_data = notify_vars;
          with_data["data"] = std::move(data);
          item.payload = Json{{"channel", a.channel}, {"body", a.body}, {"vars", std::move(with_data)},
                              {"origin", origin}};
          break;
        }
        case dsl::RuleAction::Kind::kEmit: {
          item.kind = kSendKind;
          Json to = e.entity_id;
          if (a.target) {
            NURT_ASSIGN_OR_RETURN(to, Value(*a.target, vars, env));
          }
          if (!to.is_string() || to.get<std::string>().empty()) {
            return Status::InvalidArgument(what + ": 'to' must give an instance id (text), got " +
                                           (to.is_string() ? std::string("''") : to.dump()));
          }
          NURT_ASSIGN_OR_RETURN(Json data, Data(a, vars, env, what));
          item.payload = Json{{"to", to}, {"event", a.event}, {"data", std::move(data)},
                              {"traceId", e.trace_id}};
          break;
        }
        case dsl::RuleAction::Kind::kStart: {
          item.kind = kSpawnKind;
          Json id = "";
          if (a.id) {
            NURT_ASSIGN_OR_RETURN(id, Value(*a.id, vars, env));
          }
          if (!id.is_string()) {
            return Status::InvalidArgument(what + ": 'id' must be text, got " + id.dump());
          }
          NURT_ASSIGN_OR_RETURN(Json data, Data(a, vars, env, what));
          item.payload = Json{{"machine", a.machine}, {"id", id},           {"data", std::move(data)},
                              {"key", item.idempotency_key},                {"traceId", e.trace_id}};
          break;
        }
        case dsl::RuleAction::Kind::kTask: {
          const dsl::TaskSpec& spec = a.task;
          store::TaskRecord t;
          t.org_id = e.org_id;
          t.id = ids_->NewId();
          t.instance_id = e.entity_id;
          t.machine = entity.machine;
          t.state = "rule:" + rule.id;
          t.title = spec.title;
          t.description = spec.description;
          t.assignee_role = spec.assignee_role;
          t.assignee_user = spec.assignee_user;
          t.form = spec.FormJson();
          t.checklist = spec.ChecklistJson();
          t.decisions = spec.DecisionsJson();
          if (spec.due_ms) t.due_at = pass_now_ + std::chrono::milliseconds(*spec.due_ms);
          t.opened_at = pass_now_;
          t.opened_by_sequence = e.sequence;
          f->tasks.push_back(std::move(t));
          continue;
        }
      }
      f->outbox.push_back(std::move(item));
    }
    return Status::Ok();
  }

  void RecordError(const store::FeedEvent& fe, const CompiledRule& r, const std::string& message,
                   Pass* pass) {
    const store::EventEnvelope& e = fe.event;
    store::RuleFiring f;
    f.org_id = e.org_id;
    f.rule_id = r.spec->id;
    f.key = "error:" + e.id;
    f.event_id = e.id;
    f.instance_id = e.entity_id;
    f.event_position = fe.position;
    f.event_sequence = e.sequence;
    f.evaluated_at = pass->now;
    f.status = "error";
    f.detail = Json{{"error", message}};
    pass->commit.firings.push_back(std::move(f));
    ++pass->counters[{e.org_id, r.spec->id}].errors;
    if (on_error_) {
      on_error_("rule failed", Json{{"org", e.org_id}, {"rule", r.spec->id}, {"event", e.id},
                                    {"type", e.type}, {"instance", e.entity_id}, {"error", message}});
    }
  }

  Status Evaluate(const store::FeedEvent& fe, const CompiledRule& r, RuleIndex* /*index*/, Pass* pass) {
    const store::EventEnvelope& e = fe.event;
    const dsl::RuleSpec& rule = *r.spec;
    if (!rule.machine.empty() && rule.machine != e.entity_type) return Status::Ok();
    RuleCounters& counters = pass->counters[{e.org_id, rule.id}];
    ++counters.evaluated;
    pass_now_ = pass->now;

    const Entity& entity = LoadEntity(e, pass);
    if (!entity.status.ok()) {
      if (!entity.status.IsNotFound()) return entity.status;  // infrastructure: retry the pass
      RecordError(fe, r, "the event's instance cannot be read: " + entity.status.message(), pass);
      return Status::Ok();
    }
    const Json event_json{{"type", e.type},
                          {"payload", e.payload},
                          {"actor", e.actor},
                          {"occurredAt", FormatIso8601(e.occurred_at)},
                          {"id", e.id}};
    const Json vars{{"event", event_json}, {"context", entity.context}, {"entity", entity.view}};
    if (rule.when) {
      const std::string& source = Wrapped(*rule.when);
      Result<bool> holds = lua_->EvaluateGuard(
          lua::Chunk{source, rule.when->location.file, rule.when->location.line}, vars,
          Env(e, entity));
      if (!holds.ok()) {
        if (holds.status().IsUnavailable()) return holds.status();
        RecordError(fe, r, "'when' failed: " + holds.status().message(), pass);
        return Status::Ok();
      }
      if (!*holds) return Status::Ok();
    }

    std::string key = "event:" + e.id;
    if (!rule.once_per.empty()) {
      const Json key_vars{{"rule", rule.id},
                          {"entity", e.entity_id},
                          {"machine", e.entity_type},
                          {"day", internal::LocalDay(e.occurred_at, r.zone)},
                          {"event", event_json},
                          {"context", entity.context}};
      key = internal::RenderKey(rule.once_per, key_vars);
    }
    const std::string seen = e.org_id + "\n" + rule.id + "\n" + key;
    bool fired_before = pass->keys.count(seen) > 0;
    if (!fired_before) {
      NURT_ASSIGN_OR_RETURN(fired_before, store_->HasRuleFiring(e.org_id, rule.id, key));
    }
    if (fired_before) {
      ++counters.suppressed;
      return Status::Ok();
    }

    store::RuleFiring f;
    f.org_id = e.org_id;
    f.rule_id = rule.id;
    f.key = key;
    f.event_id = e.id;
    f.instance_id = e.entity_id;
    f.event_position = fe.position;
    f.event_sequence = e.sequence;
    f.evaluated_at = pass->now;
    if (Status st = BuildEffects(fe, r, entity, vars, key, &f); !st.ok()) {
      if (st.IsUnavailable()) return st;
      RecordError(fe, r, st.message(), pass);
      return Status::Ok();
    }
    NURT_ASSIGN_OR_RETURN(Verdict verdict, Decide(e.org_id, r, pass));
    switch (verdict) {
      case Verdict::kFire:
        f.status = "fired";
        f.fired_at = pass->now;
        CountFired(e.org_id, r, pass);
        ++counters.fired;
        pass->keys.insert(seen);
        break;
      case Verdict::kQueue:
        f.status = "queued";
        MarkBacklog(e.org_id, r, pass);
        ++counters.queued;
        pass->keys.insert(seen);
        break;
      case Verdict::kDrop:
        // A dropped firing does not use up its once_per key: nothing was sent.
        f.status = "dropped";
        f.key = key + "#dropped:" + e.id;
        f.outbox.clear();
        f.tasks.clear();
        ++counters.dropped;
        break;
    }
    pass->commit.firings.push_back(std::move(f));
    return Status::Ok();
  }

  store::Store* store_;
  const env::Clock* clock_;
  std::unique_ptr<env::IdGenerator> owned_ids_;
  env::IdGenerator* ids_;
  const std::string evaluator_;
  const std::function<void(const std::string&, const Json&)> on_error_;

  std::mutex pass_mu_;  // one pass at a time; guards everything below it
  std::unique_ptr<lua::Runtime> lua_;
  std::unordered_map<std::string, std::string> wrapped_;  // source -> wrapped source
  TimePoint pass_now_{};

  mutable std::mutex rules_mu_;
  std::map<std::string, std::shared_ptr<RuleIndex>> orgs_;

  mutable std::mutex counters_mu_;
  std::map<std::pair<std::string, std::string>, RuleCounters> counters_;
};

}  // namespace

Result<std::unique_ptr<RulesEngine>> NewRulesEngine(const RulesEngineOptions& options) {
  if (options.store == nullptr) return Status::InvalidArgument("RulesEngineOptions::store is required");
  if (options.evaluator.empty()) {
    return Status::InvalidArgument("RulesEngineOptions::evaluator (the cursor name) is empty");
  }
  NURT_ASSIGN_OR_RETURN(std::unique_ptr<lua::Runtime> lua, lua::NewRuntime(options.lua_limits));
  std::unique_ptr<env::IdGenerator> ids;
  if (options.ids == nullptr) {
    ids = env::NewUlidGenerator(options.clock ? options.clock : env::SystemClock());
  }
  return std::unique_ptr<RulesEngine>(
      std::make_unique<RulesEngineImpl>(options, std::move(lua), std::move(ids)));
}

}  // namespace nurt::rules
