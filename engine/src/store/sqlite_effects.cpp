// SqliteStore: the effects dispatcher's retry queue and dead letters, admin actions with their audit
// record, and the integration log with full-text search (docs/store.md "Migration 8", docs/effects.md).

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "nurt/store/key_store.hpp"
#include "store/sqlite_json.hpp"
#include "store/sqlite_store.hpp"

namespace nurt::store {

using sqlite::Connection;
using sqlite::Query;
using sqlite::WriteTransaction;

namespace {

#define NURT_EFFECT_SELECT                                                                           \
  "SELECT org_id, id, instance_id, event_sequence, kind, payload, idempotency_key, created_at, "     \
  "status, result, attempts, next_attempt_at, last_error, updated_at FROM outbox "
// "kind NOT LIKE 'nurt.%'" is written exactly as in the partial indexes so the planner can use them.
constexpr const char* kListDueEffects =
    NURT_EFFECT_SELECT
    "WHERE status = 'pending' AND kind NOT LIKE 'nurt.%' AND next_attempt_at <= ?1 "
    "ORDER BY next_attempt_at, id LIMIT ?2";
constexpr const char* kGetEffect =
    NURT_EFFECT_SELECT "WHERE org_id = ?1 AND id = ?2 AND kind NOT LIKE 'nurt.%'";
constexpr const char* kListEffects =
    NURT_EFFECT_SELECT
    "WHERE org_id = ?1 AND kind NOT LIKE 'nurt.%' AND (?2 = '' OR status = ?2) AND (?3 = '' OR kind = ?3) "
    "AND (?4 = '' OR instance_id = ?4) AND id > ?5 ORDER BY id LIMIT ?6";
constexpr const char* kCountEffects =
    "SELECT coalesce(sum(status = 'pending'), 0), coalesce(sum(status = 'pending' AND attempts > 0), 0), "
    "coalesce(sum(status = 'failed'), 0) FROM outbox WHERE org_id = ?1 AND kind NOT LIKE 'nurt.%'";
constexpr const char* kEffectStatus =
    "SELECT status FROM outbox WHERE org_id = ?1 AND id = ?2 AND kind NOT LIKE 'nurt.%'";
constexpr const char* kRescheduleEffect =
    "UPDATE outbox SET attempts = ?3, next_attempt_at = ?4, last_error = ?5, updated_at = ?6 "
    "WHERE org_id = ?1 AND id = ?2 AND status = 'pending'";
constexpr const char* kFinishEffect =
    "UPDATE outbox SET status = ?3, result = ?4, attempts = ?5, last_error = ?6, updated_at = ?7 "
    "WHERE org_id = ?1 AND id = ?2 AND status = 'pending'";
constexpr const char* kRequeueEffect =
    "UPDATE outbox SET status = 'pending', result = 'null', "
    "attempts = CASE WHEN status = 'failed' THEN 0 ELSE attempts END, next_attempt_at = ?3, updated_at = ?3 "
    "WHERE org_id = ?1 AND id = ?2 AND status IN ('failed', 'pending') AND kind NOT LIKE 'nurt.%'";
constexpr const char* kSkipEffect =
    "UPDATE outbox SET status = 'failed', result = ?3, last_error = ?4, updated_at = ?5 "
    "WHERE org_id = ?1 AND id = ?2 AND status = 'pending' AND kind NOT LIKE 'nurt.%'";
constexpr const char* kDeleteEffect =
    "DELETE FROM outbox WHERE org_id = ?1 AND id = ?2 AND status = 'failed' AND kind NOT LIKE 'nurt.%'";
constexpr const char* kExpireDeadEffects =
    "DELETE FROM outbox WHERE status = 'failed' AND kind NOT LIKE 'nurt.%' AND updated_at < ?1";
constexpr const char* kInsertEffectAudit =
    "INSERT INTO audit_log (org_id, id, occurred_at, actor, action, target, reason, detail) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

#define NURT_LOG_COLUMNS                                                                              \
  "position, org_id, occurred_at, system, direction, status, http_status, duration_ms, request, "   \
  "response, attempt, effect_id, instance_id, event_type, error"
constexpr const char* kInsertIntegration =
    "INSERT INTO integration_log (org_id, occurred_at, system, direction, status, http_status, "
    "duration_ms, request, response, attempt, effect_id, instance_id, event_type, error) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";
#define NURT_LOG_FILTER                                                                               \
  "org_id = ?1 AND occurred_at >= ?2 AND occurred_at < ?3 AND (?4 = '' OR status = ?4) "             \
  "AND (?5 = '' OR system = ?5) AND (?6 = '' OR event_type = ?6) AND (?7 = 0 OR position < ?7) "
constexpr const char* kListIntegration =
    "SELECT " NURT_LOG_COLUMNS " FROM integration_log WHERE " NURT_LOG_FILTER
    "ORDER BY position DESC LIMIT ?8";
constexpr const char* kSearchIntegration =
    "SELECT " NURT_LOG_COLUMNS " FROM integration_log WHERE " NURT_LOG_FILTER
    "AND position IN (SELECT rowid FROM integration_log_fts WHERE integration_log_fts MATCH ?9) "
    "ORDER BY position DESC LIMIT ?8";
constexpr const char* kIntegrationDurations =
    "SELECT system, status, duration_ms, occurred_at FROM integration_log "
    "WHERE org_id = ?1 AND occurred_at >= ?2 AND occurred_at < ?3 ORDER BY system";
constexpr const char* kExpireIntegration =
    "DELETE FROM integration_log WHERE org_id = ?1 AND occurred_at < ?2";

using sqlite::Dump;
using sqlite::Load;
using sqlite::Quote;

std::string EffectName(const std::string& org_id, const std::string& id) {
  return "effect " + Quote(id) + " of org " + Quote(org_id);
}

Result<EffectRecord> ReadEffect(const Query& q) {
  EffectRecord r;
  OutboxItem& o = r.item;
  o.org_id = q.Text(0);
  o.id = q.Text(1);
  o.instance_id = q.Text(2);
  o.event_sequence = q.Int64(3);
  o.kind = q.Text(4);
  NURT_ASSIGN_OR_RETURN(o.payload, Load(q.Text(5), "outbox payload of " + EffectName(o.org_id, o.id)));
  o.idempotency_key = q.Text(6);
  o.created_at = FromUnixMillis(q.Int64(7));
  o.status = q.Text(8);
  NURT_ASSIGN_OR_RETURN(o.result, Load(q.Text(9), "outbox result of " + EffectName(o.org_id, o.id)));
  r.attempts = static_cast<int>(q.Int64(10));
  r.next_attempt_at = FromUnixMillis(std::max(q.Int64(11), q.Int64(7)));
  r.last_error = q.Text(12);
  r.updated_at = FromUnixMillis(q.Int64(13));
  return r;
}

Result<std::vector<EffectRecord>> ReadEffects(Query& q, const std::string& what) {
  std::vector<EffectRecord> out;
  for (;;) {
    NURT_ASSIGN_OR_RETURN(bool row, q.Next(what));
    if (!row) break;
    NURT_ASSIGN_OR_RETURN(EffectRecord r, ReadEffect(q));
    out.push_back(std::move(r));
  }
  return out;
}

IntegrationRecord ReadIntegration(const Query& q) {
  IntegrationRecord r;
  r.position = q.Int64(0);
  r.org_id = q.Text(1);
  r.occurred_at = FromUnixMillis(q.Int64(2));
  r.system = q.Text(3);
  r.direction = q.Text(4);
  r.status = q.Text(5);
  r.http_status = static_cast<int>(q.Int64(6));
  r.duration_ms = q.Int64(7);
  r.request = q.Text(8);
  r.response = q.Text(9);
  r.attempt = static_cast<int>(q.Int64(10));
  r.effect_id = q.Text(11);
  r.instance_id = q.Text(12);
  r.event_type = q.Text(13);
  r.error = q.Text(14);
  return r;
}

Status InsertIntegration(Connection* w, const IntegrationRecord& r) {
  if (r.org_id.empty() || r.system.empty() || r.status.empty()) {
    return Status::InvalidArgument("an integration log record needs org_id, system and status");
  }
  if (r.direction != "outbound" && r.direction != "inbound") {
    return Status::InvalidArgument("integration log direction must be 'outbound' or 'inbound', got " +
                                   Quote(r.direction));
  }
  NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kInsertIntegration));
  q.Bind(1, r.org_id).Bind(2, ToUnixMillis(r.occurred_at)).Bind(3, r.system).Bind(4, r.direction);
  q.Bind(5, r.status).Bind(6, static_cast<std::int64_t>(r.http_status)).Bind(7, r.duration_ms);
  q.Bind(8, r.request).Bind(9, r.response).Bind(10, static_cast<std::int64_t>(r.attempt));
  q.Bind(11, r.effect_id).Bind(12, r.instance_id).Bind(13, r.event_type).Bind(14, r.error);
  return q.Run("appending to the integration log of org " + Quote(r.org_id));
}

// Why an update touched no row: absent, or in another status.
Status NotChanged(Connection* c, const std::string& org_id, const std::string& id, const std::string& wanted) {
  NURT_ASSIGN_OR_RETURN(Query q, c->Prepare(kEffectStatus));
  q.Bind(1, org_id).Bind(2, id);
  NURT_ASSIGN_OR_RETURN(bool row, q.Next("reading " + EffectName(org_id, id)));
  if (!row) return Status::NotFound(EffectName(org_id, id) + " does not exist");
  const std::string status = q.Text(0) == "failed" ? "dead" : q.Text(0);
  return Status::FailedPrecondition(EffectName(org_id, id) + " is " + status + ", not " + wanted);
}

// Words of a free-text search, each quoted, so any input is a valid FTS5 query matching records
// that contain every word.
std::string FtsQuery(const std::string& text) {
  std::string out, word;
  auto flush = [&] {
    if (word.empty()) return;
    std::string quoted = "\"";
    for (char c : word) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    out += (out.empty() ? "" : " ") + quoted + "\"";
    word.clear();
  };
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n') {
      flush();
    } else {
      word += c;
    }
  }
  flush();
  return out;
}

}  // namespace

Result<std::vector<EffectRecord>> SqliteStore::ListDueEffects(TimePoint now, int limit) {
  if (limit <= 0 || limit > 10000) {
    return Status::InvalidArgument("due effect page size must be 1..10000, got " + std::to_string(limit));
  }
  NURT_ASSIGN_OR_RETURN(ReaderLease lease, AcquireReader());
  NURT_ASSIGN_OR_RETURN(Query q, lease.get()->Prepare(kListDueEffects));
  q.Bind(1, ToUnixMillis(now)).Bind(2, static_cast<std::int64_t>(limit));
  return ReadEffects(q, "listing due effects");
}

Status SqliteStore::RecordEffectAttempt(const EffectAttempt& a, const std::optional<IntegrationRecord>& log) {
  const std::string who = EffectName(a.org_id, a.id);
  if (a.outcome != "retry" && a.outcome != "done" && a.outcome != "dead") {
    return Status::InvalidArgument(who + ": attempt outcome must be retry, done or dead, got " + Quote(a.outcome));
  }
  std::string result_text;
  if (a.outcome != "retry") {
    NURT_ASSIGN_OR_RETURN(result_text, Dump(a.result, who + " result"));
  }
  std::lock_guard<std::mutex> lock(write_mu_);
  Connection* w = writer_.get();
  WriteTransaction tx(w);
  NURT_RETURN_IF_ERROR(tx.Begin("recording an attempt of " + who));
  if (a.outcome == "retry") {
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kRescheduleEffect));
    q.Bind(1, a.org_id).Bind(2, a.id).Bind(3, static_cast<std::int64_t>(a.attempts));
    q.Bind(4, ToUnixMillis(a.next_attempt_at)).Bind(5, a.last_error).Bind(6, ToUnixMillis(a.now));
    NURT_RETURN_IF_ERROR(q.Run("rescheduling " + who));
  } else {
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kFinishEffect));
    q.Bind(1, a.org_id).Bind(2, a.id).Bind(3, a.outcome == "done" ? "done" : "failed").Bind(4, result_text);
    q.Bind(5, static_cast<std::int64_t>(a.attempts)).Bind(6, a.last_error).Bind(7, ToUnixMillis(a.now));
    NURT_RETURN_IF_ERROR(q.Run("finishing " + who));
  }
  if (w->Changes() != 1) return NotChanged(w, a.org_id, a.id, "pending");
  if (log) NURT_RETURN_IF_ERROR(InsertIntegration(w, *log));
  return tx.Commit("recording an attempt of " + who);
}

Result<EffectRecord> SqliteStore::GetEffect(const std::string& org_id, const std::string& id) {
  NURT_ASSIGN_OR_RETURN(ReaderLease lease, AcquireReader());
  NURT_ASSIGN_OR_RETURN(Query q, lease.get()->Prepare(kGetEffect));
  q.Bind(1, org_id).Bind(2, id);
  NURT_ASSIGN_OR_RETURN(bool row, q.Next("reading " + EffectName(org_id, id)));
  if (!row) return Status::NotFound(EffectName(org_id, id) + " does not exist");
  return ReadEffect(q);
}

Result<std::vector<EffectRecord>> SqliteStore::ListEffects(const std::string& org_id, const EffectFilter& f) {
  if (f.limit <= 0 || f.limit > 1000) {
    return Status::InvalidArgument("effect list limit must be 1..1000, got " + std::to_string(f.limit));
  }
  std::string status = f.status;
  if (status == "dead") status = "failed";
  if (!status.empty() && status != "pending" && status != "done" && status != "failed") {
    return Status::InvalidArgument("effect status filter must be pending, dead or done, got " + Quote(f.status));
  }
  NURT_ASSIGN_OR_RETURN(ReaderLease lease, AcquireReader());
  NURT_ASSIGN_OR_RETURN(Query q, lease.get()->Prepare(kListEffects));
  q.Bind(1, org_id).Bind(2, status).Bind(3, f.adapter).Bind(4, f.instance_id).Bind(5, f.after_id);
  q.Bind(6, static_cast<std::int64_t>(f.limit));
  return ReadEffects(q, "listing the effects of org " + Quote(org_id));
}

Result<EffectCounts> SqliteStore::CountEffects(const std::string& org_id) {
  NURT_ASSIGN_OR_RETURN(ReaderLease lease, AcquireReader());
  NURT_ASSIGN_OR_RETURN(Query q, lease.get()->Prepare(kCountEffects));
  q.Bind(1, org_id);
  NURT_ASSIGN_OR_RETURN(bool row, q.Next("counting the effects of org " + Quote(org_id)));
  EffectCounts c;
  if (row) {
    c.pending = q.Int64(0);
    c.retrying = q.Int64(1);
    c.dead = q.Int64(2);
  }
  return c;
}

Status SqliteStore::AdminEffect(const std::string& action, const std::string& org_id, const std::string& id,
                                TimePoint now, const AuditRecord& audit) {
  const std::string who = EffectName(org_id, id);
  if (action != "retry" && action != "skip" && action != "delete") {
    return Status::InvalidArgument("unknown effect action " + Quote(action) + "; use retry, skip or delete");
  }
  NURT_ASSIGN_OR_RETURN(std::string detail, Dump(audit.detail, "audit detail"));
  std::lock_guard<std::mutex> lock(write_mu_);
  Connection* w = writer_.get();
  WriteTransaction tx(w);
  NURT_RETURN_IF_ERROR(tx.Begin(action + " of " + who));
  if (action == "retry") {
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kRequeueEffect));
    q.Bind(1, org_id).Bind(2, id).Bind(3, ToUnixMillis(now));
    NURT_RETURN_IF_ERROR(q.Run("requeueing " + who));
  } else if (action == "skip") {
    const Json result{{"error", {{"code", "skipped"}, {"message", "skipped by " + audit.actor}}},
                      {"reason", audit.reason}};
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kSkipEffect));
    q.Bind(1, org_id).Bind(2, id).Bind(3, result.dump()).Bind(4, "skipped by " + audit.actor);
    q.Bind(5, ToUnixMillis(now));
    NURT_RETURN_IF_ERROR(q.Run("skipping " + who));
  } else {
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kDeleteEffect));
    q.Bind(1, org_id).Bind(2, id);
    NURT_RETURN_IF_ERROR(q.Run("deleting " + who));
  }
  if (w->Changes() != 1) {
    return NotChanged(w, org_id, id,
                      action == "retry"  ? "dead or pending (a done effect is not run again)"
                      : action == "skip" ? "pending (only the retry queue can be skipped)"
                                         : "dead (only dead letters can be deleted)");
  }
  {
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kInsertEffectAudit));
    q.Bind(1, audit.org_id).Bind(2, audit.id).Bind(3, ToUnixMillis(audit.occurred_at)).Bind(4, audit.actor);
    q.Bind(5, audit.action).Bind(6, audit.target).Bind(7, audit.reason).Bind(8, detail);
    NURT_RETURN_IF_ERROR(q.Run("auditing the " + action + " of " + who));
  }
  return tx.Commit(action + " of " + who);
}

Result<std::int64_t> SqliteStore::ExpireDeadEffects(TimePoint before) {
  std::lock_guard<std::mutex> lock(write_mu_);
  Connection* w = writer_.get();
  NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kExpireDeadEffects));
  q.Bind(1, ToUnixMillis(before));
  NURT_RETURN_IF_ERROR(q.Run("expiring dead letters"));
  return w->Changes();
}

Status SqliteStore::AppendIntegrationRecord(const IntegrationRecord& record) {
  std::lock_guard<std::mutex> lock(write_mu_);
  return InsertIntegration(writer_.get(), record);
}

Result<std::vector<IntegrationRecord>> SqliteStore::ListIntegrationLog(const std::string& org_id,
                                                                       const IntegrationFilter& f) {
  if (f.limit <= 0 || f.limit > 1000) {
    return Status::InvalidArgument("integration log limit must be 1..1000, got " + std::to_string(f.limit));
  }
  const std::string search = FtsQuery(f.search);
  NURT_ASSIGN_OR_RETURN(ReaderLease lease, AcquireReader());
  NURT_ASSIGN_OR_RETURN(Query q, lease.get()->Prepare(search.empty() ? kListIntegration : kSearchIntegration));
  q.Bind(1, org_id).Bind(2, f.since ? ToUnixMillis(*f.since) : std::int64_t{0});
  q.Bind(3, f.until ? ToUnixMillis(*f.until) : std::numeric_limits<std::int64_t>::max());
  q.Bind(4, f.status).Bind(5, f.system).Bind(6, f.event_type).Bind(7, f.before_position);
  q.Bind(8, static_cast<std::int64_t>(f.limit));
  if (!search.empty()) q.Bind(9, search);
  std::vector<IntegrationRecord> out;
  for (;;) {
    NURT_ASSIGN_OR_RETURN(bool row, q.Next("reading the integration log of org " + Quote(org_id)));
    if (!row) break;
    out.push_back(ReadIntegration(q));
  }
  return out;
}

Result<std::vector<IntegrationStats>> SqliteStore::ComputeIntegrationStats(const std::string& org_id,
                                                                           TimePoint since, TimePoint until) {
  NURT_ASSIGN_OR_RETURN(ReaderLease lease, AcquireReader());
  NURT_ASSIGN_OR_RETURN(Query q, lease.get()->Prepare(kIntegrationDurations));
  q.Bind(1, org_id).Bind(2, ToUnixMillis(since)).Bind(3, ToUnixMillis(until));
  std::map<std::string, std::vector<std::int64_t>> durations;
  std::map<std::string, IntegrationStats> by_system;
  for (;;) {
    NURT_ASSIGN_OR_RETURN(bool row, q.Next("computing integration statistics of org " + Quote(org_id)));
    if (!row) break;
    const std::string system = q.Text(0);
    IntegrationStats& s = by_system[system];
    s.system = system;
    ++s.calls;
    if (q.Text(1) == "success") {
      ++s.successes;
      const TimePoint at = FromUnixMillis(q.Int64(3));
      if (!s.last_success || *s.last_success < at) s.last_success = at;
    }
    durations[system].push_back(q.Int64(2));
  }
  std::vector<IntegrationStats> out;
  for (auto& [system, s] : by_system) {
    std::vector<std::int64_t>& d = durations[system];
    std::sort(d.begin(), d.end());
    double sum = 0;
    for (std::int64_t x : d) sum += static_cast<double>(x);
    s.avg_duration_ms = sum / static_cast<double>(d.size());
    // Nearest rank: the smallest duration that at least 95% of the calls do not exceed.
    const std::size_t rank = static_cast<std::size_t>(std::ceil(0.95 * static_cast<double>(d.size())));
    s.p95_duration_ms = d[std::max<std::size_t>(rank, 1) - 1];
    s.success_rate = static_cast<double>(s.successes) / static_cast<double>(s.calls);
    out.push_back(s);
  }
  return out;
}

Result<std::int64_t> SqliteStore::ExpireIntegrationLog(const std::string& org_id, TimePoint before) {
  std::lock_guard<std::mutex> lock(write_mu_);
  Connection* w = writer_.get();
  NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kExpireIntegration));
  q.Bind(1, org_id).Bind(2, ToUnixMillis(before));
  NURT_RETURN_IF_ERROR(q.Run("expiring the integration log of org " + Quote(org_id)));
  return w->Changes();
}

}  // namespace nurt::store
