// SqliteStore: the rules engine's tables (docs/store.md "Migration 6"). The event feed is the events
// table's rowid: the single writer assigns max(rowid) + 1 inside each transaction, so a later commit
// always has larger positions, and a reader never sees a gap fill in later (WAL readers see whole
// transactions). Events are never deleted, and nurt never runs VACUUM (which may renumber rowids of
// tables without an INTEGER PRIMARY KEY); an operator must not either (docs/store.md).
//
// The reads here run on the writer connection (under write_mu_): the reader pool's lease type is
// private to sqlite_store.cpp. They are few per evaluation pass (one feed read, a few counts) and
// come from one thread, so they cost the API's writers little.

#include <chrono>
#include <utility>

#include "store/sqlite_statements.hpp"
#include "store/sqlite_json.hpp"
#include "store/sqlite_store.hpp"

namespace nurt::store {

using sqlite::Connection;
using sqlite::Query;
using sqlite::WriteTransaction;

namespace {

constexpr const char* kListEventsAfter =
    "SELECT rowid, org_id, instance_id, sequence, id, type, occurred_at, actor, entity_type, payload, "
    "schema_version, trace_id, causation_id, idempotency_key FROM events WHERE rowid > ?1 "
    "ORDER BY rowid LIMIT ?2";
constexpr const char* kGetRuleCursor = "SELECT position FROM rule_cursors WHERE evaluator = ?1";
constexpr const char* kInsertRuleCursor =
    "INSERT INTO rule_cursors (evaluator, position, updated_at) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (evaluator) DO NOTHING";
constexpr const char* kAdvanceRuleCursor =
    "UPDATE rule_cursors SET position = ?3, updated_at = ?4 WHERE evaluator = ?1 AND position = ?2";
constexpr const char* kHasRuleFiring =
    "SELECT 1 FROM rule_firings WHERE org_id = ?1 AND rule_id = ?2 AND once_key = ?3 "
    "AND status IN ('fired', 'queued')";
// ?2: a JSON array of rule ids, or NULL for every rule of the org.
constexpr const char* kCountRuleFirings =
    "SELECT count(*) FROM rule_firings WHERE org_id = ?1 AND status = 'fired' AND fired_at >= ?3 "
    "AND (?2 IS NULL OR rule_id IN (SELECT value FROM json_each(?2)))";
constexpr const char* kListQueuedRuleFirings =
    "SELECT org_id, rule_id, once_key, event_id, instance_id, event_position, event_sequence, "
    "evaluated_at, detail, effects FROM rule_firings WHERE org_id = ?1 AND status = 'queued' "
    "ORDER BY rowid LIMIT ?2";
constexpr const char* kInsertRuleFiring =
    "INSERT INTO rule_firings (org_id, rule_id, once_key, event_id, instance_id, event_position, "
    "event_sequence, evaluated_at, status, fired_at, detail, effects) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) "
    "ON CONFLICT (org_id, rule_id, once_key) DO NOTHING";
constexpr const char* kReleaseRuleFiring =
    "UPDATE rule_firings SET status = 'fired', fired_at = ?4, effects = '{}' "
    "WHERE org_id = ?1 AND rule_id = ?2 AND once_key = ?3 AND status = 'queued'";
constexpr const char* kQueuedEffects =
    "SELECT instance_id, event_sequence, effects FROM rule_firings WHERE org_id = ?1 AND rule_id = ?2 "
    "AND once_key = ?3 AND status = 'queued'";

using sqlite::Dump;
using sqlite::Load;
using sqlite::Quote;

std::string FiringName(const std::string& org, const std::string& rule, const std::string& key) {
  return "firing of rule " + Quote(rule) + " with key " + Quote(key) + " in org " + Quote(org);
}

// A queued firing's effects, kept as JSON until it is released.
Json EffectsToJson(const RuleFiring& f) {
  Json outbox = Json::array();
  for (const OutboxItem& o : f.outbox) {
    outbox.push_back(Json{{"id", o.id}, {"kind", o.kind}, {"payload", o.payload},
                          {"idempotencyKey", o.idempotency_key}});
  }
  Json tasks = Json::array();
  for (const TaskRecord& t : f.tasks) {
    Json j{{"id", t.id},           {"machine", t.machine},
           {"state", t.state},     {"title", t.title},
           {"description", t.description}, {"assigneeRole", t.assignee_role},
           {"assigneeUser", t.assignee_user}, {"form", t.form},
           {"checklist", t.checklist},        {"decisions", t.decisions}};
    // Kept relative to the opening, which is the release.
    if (t.due_at) j["dueAfterMs"] = (*t.due_at - t.opened_at).count();
    tasks.push_back(std::move(j));
  }
  return Json{{"outbox", outbox}, {"tasks", tasks}};
}

Status EffectsFromJson(const Json& j, RuleFiring* f, TimePoint opened_at, std::string_view what) {
  try {
    for (const Json& o : j.at("outbox")) {
      OutboxItem item;
      item.id = o.at("id").get<std::string>();
      item.org_id = f->org_id;
      item.instance_id = f->instance_id;
      item.event_sequence = f->event_sequence;
      item.kind = o.at("kind").get<std::string>();
      item.payload = o.at("payload");
      item.idempotency_key = o.at("idempotencyKey").get<std::string>();
      item.created_at = opened_at;
      f->outbox.push_back(std::move(item));
    }
    for (const Json& t : j.at("tasks")) {
      TaskRecord task;
      task.org_id = f->org_id;
      task.id = t.at("id").get<std::string>();
      task.instance_id = f->instance_id;
      task.machine = t.at("machine").get<std::string>();
      task.state = t.at("state").get<std::string>();
      task.title = t.at("title").get<std::string>();
      task.description = t.at("description").get<std::string>();
      task.assignee_role = t.at("assigneeRole").get<std::string>();
      task.assignee_user = t.at("assigneeUser").get<std::string>();
      task.form = t.at("form");
      task.checklist = t.at("checklist");
      task.decisions = t.at("decisions");
      if (t.contains("dueAfterMs")) {
        task.due_at = opened_at + std::chrono::milliseconds(t.at("dueAfterMs").get<std::int64_t>());
      }
      task.opened_at = opened_at;
      task.opened_by_sequence = f->event_sequence;
      f->tasks.push_back(std::move(task));
    }
  } catch (const Json::exception& e) {
    return Status::DataLoss(std::string(what) + " has malformed kept effects (" + e.what() +
                            "); the database was modified outside nurt or is damaged");
  }
  return Status::Ok();
}

Status InsertOutbox(Connection* w, const OutboxItem& o, const std::string& owner) {
  const std::string what = "outbox item " + Quote(o.id) + " (" + o.kind + ") of " + owner;
  NURT_ASSIGN_OR_RETURN(std::string payload, Dump(o.payload, what + " payload"));
  NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(sqlite::sql::kInsertOutbox));
  q.Bind(1, o.org_id).Bind(2, o.id).Bind(3, o.instance_id).Bind(4, o.event_sequence);
  q.Bind(5, o.kind).Bind(6, payload).Bind(7, o.idempotency_key).Bind(8, ToUnixMillis(o.created_at));
  q.Bind(9, std::string_view("pending")).Bind(10, std::string_view("null"));
  const int rc = q.Step();
  if (rc == SQLITE_DONE) return Status::Ok();
  if (rc == SQLITE_CONSTRAINT_UNIQUE) return Status::Ok();  // enqueued before: same key, same effect
  if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
    return Status::InvalidArgument(what + " names instance " + Quote(o.instance_id) +
                                   ", which does not exist in org " + Quote(o.org_id));
  }
  if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
    return Status::AlreadyExists(what + ": the id is taken; every outbox item needs a new id");
  }
  return w->Error(rc, "inserting " + what);
}

Status WriteEffects(Connection* w, const RuleFiring& f) {
  const std::string owner = FiringName(f.org_id, f.rule_id, f.key);
  for (const OutboxItem& o : f.outbox) NURT_RETURN_IF_ERROR(InsertOutbox(w, o, owner));
  for (const TaskRecord& t : f.tasks) {
    NURT_RETURN_IF_ERROR(InsertTaskRow(w, t, "task " + Quote(t.id) + " (" + t.title + ") of " + owner));
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<FeedEvent>> SqliteStore::ListEventsAfter(std::int64_t position, int limit) {
  if (limit <= 0 || limit > 10000) {
    return Status::InvalidArgument("event feed limit must be 1..10000, got " + std::to_string(limit));
  }
  std::lock_guard<std::mutex> lock(write_mu_);
  NURT_ASSIGN_OR_RETURN(Query q, writer_->Prepare(kListEventsAfter));
  q.Bind(1, position).Bind(2, static_cast<std::int64_t>(limit));
  std::vector<FeedEvent> out;
  for (;;) {
    NURT_ASSIGN_OR_RETURN(bool row, q.Next("reading the event feed after position " +
                                           std::to_string(position)));
    if (!row) break;
    FeedEvent f;
    f.position = q.Int64(0);
    EventEnvelope& e = f.event;
    e.org_id = q.Text(1);
    e.entity_id = q.Text(2);
    e.sequence = q.Int64(3);
    e.id = q.Text(4);
    e.type = q.Text(5);
    e.occurred_at = FromUnixMillis(q.Int64(6));
    e.actor = q.Text(7);
    e.entity_type = q.Text(8);
    NURT_ASSIGN_OR_RETURN(e.payload, Load(q.Text(9), "event " + Quote(e.id) + " of org " +
                                                         Quote(e.org_id) + ", column payload"));
    e.schema_version = static_cast<int>(q.Int64(10));
    e.trace_id = q.Text(11);
    e.causation_id = q.Text(12);
    e.idempotency_key = q.Text(13);
    out.push_back(std::move(f));
  }
  return out;
}

Result<std::int64_t> SqliteStore::GetRuleCursor(const std::string& evaluator) {
  std::lock_guard<std::mutex> lock(write_mu_);
  NURT_ASSIGN_OR_RETURN(Query q, writer_->Prepare(kGetRuleCursor));
  q.Bind(1, evaluator);
  NURT_ASSIGN_OR_RETURN(bool row, q.Next("reading the rule cursor " + Quote(evaluator)));
  return row ? q.Int64(0) : std::int64_t{0};
}

Result<bool> SqliteStore::HasRuleFiring(const std::string& org_id, const std::string& rule_id,
                                        const std::string& key) {
  std::lock_guard<std::mutex> lock(write_mu_);
  NURT_ASSIGN_OR_RETURN(Query q, writer_->Prepare(kHasRuleFiring));
  q.Bind(1, org_id).Bind(2, rule_id).Bind(3, key);
  return q.Next("looking for the " + FiringName(org_id, rule_id, key));
}

Result<std::int64_t> SqliteStore::CountRuleFirings(const std::string& org_id,
                                                   const std::vector<std::string>& rule_ids,
                                                   TimePoint since) {
  std::string ids;
  if (!rule_ids.empty()) {
    Json array = Json::array();
    for (const auto& id : rule_ids) array.push_back(id);
    NURT_ASSIGN_OR_RETURN(ids, Dump(array, "rule ids"));
  }
  std::lock_guard<std::mutex> lock(write_mu_);
  NURT_ASSIGN_OR_RETURN(Query q, writer_->Prepare(kCountRuleFirings));
  q.Bind(1, org_id).Bind(3, ToUnixMillis(since));
  if (rule_ids.empty()) {
    q.BindNull(2);
  } else {
    q.Bind(2, ids);
  }
  NURT_ASSIGN_OR_RETURN(bool row, q.Next("counting the rule firings of org " + Quote(org_id)));
  return row ? q.Int64(0) : std::int64_t{0};
}

Result<std::vector<RuleFiring>> SqliteStore::ListQueuedRuleFirings(const std::string& org_id,
                                                                   int limit) {
  if (limit <= 0) {
    return Status::InvalidArgument("queued firing list limit must be positive, got " +
                                   std::to_string(limit));
  }
  std::lock_guard<std::mutex> lock(write_mu_);
  NURT_ASSIGN_OR_RETURN(Query q, writer_->Prepare(kListQueuedRuleFirings));
  q.Bind(1, org_id).Bind(2, static_cast<std::int64_t>(limit));
  std::vector<RuleFiring> out;
  for (;;) {
    NURT_ASSIGN_OR_RETURN(bool row, q.Next("listing the queued rule firings of org " + Quote(org_id)));
    if (!row) break;
    RuleFiring f;
    f.org_id = q.Text(0);
    f.rule_id = q.Text(1);
    f.key = q.Text(2);
    f.event_id = q.Text(3);
    f.instance_id = q.Text(4);
    f.event_position = q.Int64(5);
    f.event_sequence = q.Int64(6);
    f.evaluated_at = FromUnixMillis(q.Int64(7));
    f.status = "queued";
    const std::string what = FiringName(f.org_id, f.rule_id, f.key);
    NURT_ASSIGN_OR_RETURN(f.detail, Load(q.Text(8), what + ", column detail"));
    NURT_ASSIGN_OR_RETURN(Json effects, Load(q.Text(9), what + ", column effects"));
    NURT_RETURN_IF_ERROR(EffectsFromJson(effects, &f, f.evaluated_at, what));
    out.push_back(std::move(f));
  }
  return out;
}

Status SqliteStore::CommitRuleEvaluation(const RuleEvaluationCommit& c) {
  if (c.evaluator.empty()) return Status::InvalidArgument("rule evaluation commit has no evaluator name");
  const std::string who = "rule evaluator " + Quote(c.evaluator);
  if (c.position < c.expected_position || c.expected_position < 0) {
    return Status::InvalidArgument(who + ": the cursor cannot move back (from " +
                                   std::to_string(c.expected_position) + " to " +
                                   std::to_string(c.position) + ")");
  }
  for (const RuleFiring& f : c.firings) {
    if (f.status != "fired" && f.status != "queued" && f.status != "dropped" && f.status != "error") {
      return Status::InvalidArgument(FiringName(f.org_id, f.rule_id, f.key) + ": status " +
                                     Quote(f.status) + " is not fired, queued, dropped or error");
    }
    if (f.org_id.empty() || f.rule_id.empty() || f.key.empty()) {
      return Status::InvalidArgument(who + ": a firing needs an org, a rule id and a key (got " +
                                     FiringName(f.org_id, f.rule_id, f.key) + ")");
    }
  }

  std::lock_guard<std::mutex> lock(write_mu_);
  Connection* w = writer_.get();
  WriteTransaction tx(w);
  NURT_RETURN_IF_ERROR(tx.Begin("starting the commit of " + who));
  const std::int64_t now = ToUnixMillis(c.now);
  {
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kInsertRuleCursor));
    q.Bind(1, c.evaluator).Bind(2, std::int64_t{0}).Bind(3, now);
    NURT_RETURN_IF_ERROR(q.Run("creating the cursor of " + who));
  }
  {
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kAdvanceRuleCursor));
    q.Bind(1, c.evaluator).Bind(2, c.expected_position).Bind(3, c.position).Bind(4, now);
    NURT_RETURN_IF_ERROR(q.Run("advancing the cursor of " + who));
    if (w->Changes() != 1) {
      return Status::Conflict(who + " is no longer at position " +
                              std::to_string(c.expected_position) +
                              ": another evaluator of that name committed meanwhile; read the cursor "
                              "and evaluate again");
    }
  }

  for (const RuleFiring& f : c.firings) {
    const std::string what = FiringName(f.org_id, f.rule_id, f.key);
    NURT_ASSIGN_OR_RETURN(std::string detail, Dump(f.detail, what + " detail"));
    std::string effects = "{}";
    if (f.status == "queued") {
      NURT_ASSIGN_OR_RETURN(effects, Dump(EffectsToJson(f), what + " effects"));
    }
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kInsertRuleFiring));
    q.Bind(1, f.org_id).Bind(2, f.rule_id).Bind(3, f.key).Bind(4, f.event_id).Bind(5, f.instance_id);
    q.Bind(6, f.event_position).Bind(7, f.event_sequence).Bind(8, ToUnixMillis(f.evaluated_at));
    q.Bind(9, f.status);
    if (f.status == "fired") {
      q.Bind(10, ToUnixMillis(f.fired_at));
    } else {
      q.BindNull(10);
    }
    q.Bind(11, detail).Bind(12, effects);
    NURT_RETURN_IF_ERROR(q.Run("recording the " + what));
    if (w->Changes() != 1) continue;  // this key fired before: once_per holds, nothing more to write
    if (f.status == "fired") NURT_RETURN_IF_ERROR(WriteEffects(w, f));
  }

  for (const RuleFiringRelease& r : c.releases) {
    const std::string what = FiringName(r.org_id, r.rule_id, r.key);
    RuleFiring f;
    f.org_id = r.org_id;
    f.rule_id = r.rule_id;
    f.key = r.key;
    std::string effects_text;
    {
      NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kQueuedEffects));
      q.Bind(1, r.org_id).Bind(2, r.rule_id).Bind(3, r.key);
      NURT_ASSIGN_OR_RETURN(bool row, q.Next("reading the queued " + what));
      if (!row) continue;  // released by another evaluator meanwhile
      f.instance_id = q.Text(0);
      f.event_sequence = q.Int64(1);
      effects_text = q.Text(2);
    }
    {
      NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kReleaseRuleFiring));
      q.Bind(1, r.org_id).Bind(2, r.rule_id).Bind(3, r.key).Bind(4, ToUnixMillis(r.released_at));
      NURT_RETURN_IF_ERROR(q.Run("releasing the queued " + what));
    }
    NURT_ASSIGN_OR_RETURN(Json effects, Load(effects_text, what + ", column effects"));
    NURT_RETURN_IF_ERROR(EffectsFromJson(effects, &f, r.released_at, what));
    NURT_RETURN_IF_ERROR(WriteEffects(w, f));
  }
  return tx.Commit("committing " + who);
}

}  // namespace nurt::store
