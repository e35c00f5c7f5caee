// The outbound webhooks part of SqliteStore (docs/store.md "Migration 9", docs/webhooks.md):
// subscriptions (written with their audit record in one transaction), deliveries (inserted with the
// matching cursor's advance in one transaction) and the record of every try.
//
// The matching cursor is a row of rule_cursors (Migration 6): that table is the generic "how far has
// this evaluator read the event feed" bookkeeping, and one more evaluator name needs no new table.

#include <mutex>
#include <string>
#include <vector>

#include "nurt/store/key_store.hpp"
#include "store/sqlite_store.hpp"

namespace nurt::store {

using sqlite::Connection;
using sqlite::Query;
using sqlite::WriteTransaction;

namespace {

#define NURT_WEBHOOK_COLUMNS                                                                          \
  "org_id, id, url, description, events, headers, retry_policy, status, allow_http_loopback, " \
  "secret_sealed, created_at, created_by, updated_at"
constexpr const char* kInsertWebhook =
    "INSERT INTO webhooks (" NURT_WEBHOOK_COLUMNS
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
constexpr const char* kUpdateWebhook =
    "UPDATE webhooks SET url = ?3, description = ?4, events = ?5, headers = ?6, retry_policy = ?7, "
    "status = ?8, allow_http_loopback = ?9, secret_sealed = ?10, updated_at = ?11 "
    "WHERE org_id = ?1 AND id = ?2";
constexpr const char* kDeleteWebhook = "DELETE FROM webhooks WHERE org_id = ?1 AND id = ?2";
constexpr const char* kDeleteWebhookDeliveries =
    "DELETE FROM webhook_deliveries WHERE org_id = ?1 AND webhook_id = ?2";
constexpr const char* kGetWebhook =
    "SELECT " NURT_WEBHOOK_COLUMNS " FROM webhooks WHERE org_id = ?1 AND id = ?2";
// ?1 '' = every org.
constexpr const char* kListWebhooks =
    "SELECT " NURT_WEBHOOK_COLUMNS " FROM webhooks WHERE ?1 = '' OR org_id = ?1 ORDER BY org_id, id";
constexpr const char* kInsertAuditRow =
    "INSERT INTO audit_log (org_id, id, occurred_at, actor, action, target, reason, detail) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

constexpr const char* kInsertCursor =
    "INSERT INTO rule_cursors (evaluator, position, updated_at) VALUES (?1, 0, ?2) "
    "ON CONFLICT (evaluator) DO NOTHING";
constexpr const char* kAdvanceCursor =
    "UPDATE rule_cursors SET position = ?3, updated_at = ?4 WHERE evaluator = ?1 AND position = ?2";

#define NURT_DELIVERY_COLUMNS                                                                      \
  "org_id, id, webhook_id, event_id, event_type, body, test, status, attempts, next_attempt_at, " \
  "created_at, finished_at, attempt_log"
constexpr const char* kInsertDelivery =
    "INSERT INTO webhook_deliveries (" NURT_DELIVERY_COLUMNS
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) "
    "ON CONFLICT (org_id, webhook_id, event_id) DO NOTHING";
constexpr const char* kListDue =
    "SELECT d.org_id, d.id, d.webhook_id, d.event_id, d.event_type, d.body, d.test, d.status, d.attempts, "
    "d.next_attempt_at, d.created_at, d.finished_at, d.attempt_log FROM webhook_deliveries d "
    "JOIN webhooks w ON w.org_id = d.org_id AND w.id = d.webhook_id "
    "WHERE d.status = 'pending' AND d.next_attempt_at <= ?1 AND w.status = 'active' "
    "ORDER BY d.next_attempt_at, d.seq LIMIT ?2";
constexpr const char* kNextDue =
    "SELECT min(d.next_attempt_at) FROM webhook_deliveries d "
    "JOIN webhooks w ON w.org_id = d.org_id AND w.id = d.webhook_id "
    "WHERE d.status = 'pending' AND w.status = 'active'";
constexpr const char* kGetDelivery =
    "SELECT " NURT_DELIVERY_COLUMNS " FROM webhook_deliveries WHERE org_id = ?1 AND id = ?2";
constexpr const char* kListDeliveries =
    "SELECT " NURT_DELIVERY_COLUMNS " FROM webhook_deliveries WHERE org_id = ?1 AND webhook_id = ?2 "
    "ORDER BY seq DESC LIMIT ?3";
constexpr const char* kDeliveryState =
    "SELECT webhook_id, status, attempt_log FROM webhook_deliveries WHERE org_id = ?1 AND id = ?2";
constexpr const char* kRecordAttempt =
    "UPDATE webhook_deliveries SET status = ?3, attempts = attempts + 1, next_attempt_at = ?4, "
    "finished_at = ?5, attempt_log = ?6 WHERE org_id = ?1 AND id = ?2 AND status = 'pending'";
// Finished deliveries of one subscription beyond the newest ?3 (pending ones are never dropped).
constexpr const char* kPruneDeliveries =
    "DELETE FROM webhook_deliveries WHERE org_id = ?1 AND webhook_id = ?2 AND status <> 'pending' "
    "AND seq < coalesce((SELECT seq FROM webhook_deliveries WHERE org_id = ?1 AND webhook_id = ?2 "
    "ORDER BY seq DESC LIMIT 1 OFFSET ?3 - 1), 0)";

std::string Quote(const std::string& s) { return "'" + s + "'"; }

std::string WebhookName(const std::string& org, const std::string& id) {
  return "webhook " + Quote(id) + " of org " + Quote(org);
}

Result<Json> Load(const std::string& text, const std::string& what) {
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {
    return Status::DataLoss(what + " holds invalid JSON (" + e.what() +
                            "); the database was modified outside nurt or is damaged: restore the latest backup");
  }
}

Json HeadersJson(const WebhookRecord& w) {
  Json out = Json::array();
  for (const auto& [name, value] : w.headers) out.push_back(Json::array({name, value}));
  return out;
}

Status CheckWebhook(const WebhookRecord& w) {
  const std::string what = WebhookName(w.org_id, w.id);
  if (w.org_id.empty() || w.id.empty()) return Status::InvalidArgument("a webhook needs an org and an id");
  if (w.status != "active" && w.status != "paused") {
    return Status::InvalidArgument(what + ": status " + Quote(w.status) + " is not active or paused");
  }
  if (w.retry_policy != "exponential" && w.retry_policy != "immediate" && w.retry_policy != "none") {
    return Status::InvalidArgument(what + ": retry policy " + Quote(w.retry_policy) +
                                   " is not exponential, immediate or none");
  }
  return Status::Ok();
}

Result<WebhookRecord> ReadWebhook(const Query& q) {
  WebhookRecord w;
  w.org_id = q.Text(0);
  w.id = q.Text(1);
  w.url = q.Text(2);
  w.description = q.Text(3);
  const std::string what = WebhookName(w.org_id, w.id);
  NURT_ASSIGN_OR_RETURN(Json events, Load(q.Text(4), what + ", column events"));
  NURT_ASSIGN_OR_RETURN(Json headers, Load(q.Text(5), what + ", column headers"));
  try {
    w.events = events.get<std::vector<std::string>>();
    for (const Json& h : headers) w.headers.emplace_back(h.at(0).get<std::string>(), h.at(1).get<std::string>());
  } catch (const Json::exception& e) {
    return Status::DataLoss(what + " has malformed events or headers (" + e.what() + ")");
  }
  w.retry_policy = q.Text(6);
  w.status = q.Text(7);
  w.allow_http_loopback = q.Int64(8) != 0;
  w.secret_sealed = q.Text(9);
  w.created_at = FromUnixMillis(q.Int64(10));
  w.created_by = q.Text(11);
  w.updated_at = FromUnixMillis(q.Int64(12));
  return w;
}

Json AttemptLogJson(const std::vector<WebhookAttempt>& log) {
  Json out = Json::array();
  for (const auto& a : log) out.push_back(a.ToJson());
  return out;
}

Result<std::vector<WebhookAttempt>> AttemptLogFrom(const std::string& text, const std::string& what) {
  NURT_ASSIGN_OR_RETURN(Json j, Load(text, what + ", column attempt_log"));
  std::vector<WebhookAttempt> out;
  try {
    for (const Json& a : j) {
      WebhookAttempt t;
      t.number = a.at("number").get<int>();
      NURT_ASSIGN_OR_RETURN(t.at, ParseIso8601(a.at("at").get<std::string>()));
      t.outcome = a.at("outcome").get<std::string>();
      t.http_status = a.at("httpStatus").get<int>();
      t.duration_ms = a.at("durationMs").get<std::int64_t>();
      t.response = a.at("response").get<std::string>();
      t.error = a.at("error").get<std::string>();
      out.push_back(std::move(t));
    }
  } catch (const Json::exception& e) {
    return Status::DataLoss(what + " has a malformed attempt log (" + e.what() + ")");
  }
  return out;
}

std::optional<TimePoint> OptionalTime(const Query& q, int column) {
  if (q.IsNull(column)) return std::nullopt;
  return FromUnixMillis(q.Int64(column));
}

Result<WebhookDelivery> ReadDelivery(const Query& q) {
  WebhookDelivery d;
  d.org_id = q.Text(0);
  d.id = q.Text(1);
  d.webhook_id = q.Text(2);
  d.event_id = q.Text(3);
  d.event_type = q.Text(4);
  d.body = q.Text(5);
  d.test = q.Int64(6) != 0;
  d.status = q.Text(7);
  d.attempts = static_cast<int>(q.Int64(8));
  d.next_attempt_at = OptionalTime(q, 9);
  d.created_at = FromUnixMillis(q.Int64(10));
  d.finished_at = OptionalTime(q, 11);
  NURT_ASSIGN_OR_RETURN(d.attempt_log, AttemptLogFrom(q.Text(12), "webhook delivery " + Quote(d.id)));
  return d;
}

void BindOptionalTime(Query& q, int index, const std::optional<TimePoint>& t) {
  if (t) {
    q.Bind(index, ToUnixMillis(*t));
  } else {
    q.BindNull(index);
  }
}

Status InsertDelivery(Connection* w, const WebhookDelivery& d) {
  const std::string what = "webhook delivery " + Quote(d.id) + " of " + WebhookName(d.org_id, d.webhook_id);
  if (d.org_id.empty() || d.id.empty() || d.webhook_id.empty() || d.event_id.empty()) {
    return Status::InvalidArgument(what + " needs an org, an id, a webhook and an event id");
  }
  NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kInsertDelivery));
  q.Bind(1, d.org_id).Bind(2, d.id).Bind(3, d.webhook_id).Bind(4, d.event_id).Bind(5, d.event_type);
  q.Bind(6, d.body).Bind(7, std::int64_t{d.test ? 1 : 0}).Bind(8, d.status);
  q.Bind(9, static_cast<std::int64_t>(d.attempts));
  BindOptionalTime(q, 10, d.next_attempt_at);
  q.Bind(11, ToUnixMillis(d.created_at));
  BindOptionalTime(q, 12, d.finished_at);
  q.Bind(13, AttemptLogJson(d.attempt_log).dump());
  const int rc = q.Step();
  if (rc == SQLITE_DONE) return Status::Ok();
  if (rc == SQLITE_CONSTRAINT_UNIQUE) {
    return Status::AlreadyExists(what + ": the id is taken; every delivery needs a new id");
  }
  return w->Error(rc, "inserting " + what);
}

Status InsertAudit(Connection* w, const AuditRecord& a) {
  NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kInsertAuditRow));
  q.Bind(1, a.org_id).Bind(2, a.id).Bind(3, ToUnixMillis(a.occurred_at)).Bind(4, a.actor);
  q.Bind(5, a.action).Bind(6, a.target).Bind(7, a.reason).Bind(8, a.detail.dump());
  return q.Run("writing audit record " + a.action + " " + a.target);
}

void BindWebhook(Query& q, const WebhookRecord& w) {
  q.Bind(1, w.org_id).Bind(2, w.id).Bind(3, w.url).Bind(4, w.description);
  q.Bind(5, Json(w.events).dump()).Bind(6, HeadersJson(w).dump()).Bind(7, w.retry_policy).Bind(8, w.status);
  q.Bind(9, std::int64_t{w.allow_http_loopback ? 1 : 0}).Bind(10, w.secret_sealed);
}

}  // namespace

Status SqliteStore::CreateWebhook(const WebhookRecord& webhook, const AuditRecord& audit) {
  NURT_RETURN_IF_ERROR(CheckWebhook(webhook));
  const std::string what = WebhookName(webhook.org_id, webhook.id);
  std::lock_guard<std::mutex> lock(write_mu_);
  Connection* w = writer_.get();
  WriteTransaction tx(w);
  NURT_RETURN_IF_ERROR(tx.Begin("creating " + what));
  {
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kInsertWebhook));
    BindWebhook(q, webhook);
    q.Bind(11, ToUnixMillis(webhook.created_at)).Bind(12, webhook.created_by).Bind(13, ToUnixMillis(webhook.updated_at));
    const int rc = q.Step();
    if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) return Status::AlreadyExists(what + " exists already");
    if (rc != SQLITE_DONE) return w->Error(rc, "creating " + what);
  }
  NURT_RETURN_IF_ERROR(InsertAudit(w, audit));
  return tx.Commit("creating " + what);
}

Status SqliteStore::UpdateWebhook(const WebhookRecord& webhook, const AuditRecord& audit) {
  NURT_RETURN_IF_ERROR(CheckWebhook(webhook));
  const std::string what = WebhookName(webhook.org_id, webhook.id);
  std::lock_guard<std::mutex> lock(write_mu_);
  Connection* w = writer_.get();
  WriteTransaction tx(w);
  NURT_RETURN_IF_ERROR(tx.Begin("updating " + what));
  {
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kUpdateWebhook));
    BindWebhook(q, webhook);
    q.Bind(11, ToUnixMillis(webhook.updated_at));
    NURT_RETURN_IF_ERROR(q.Run("updating " + what));
    if (w->Changes() != 1) return Status::NotFound(what + " does not exist");
  }
  NURT_RETURN_IF_ERROR(InsertAudit(w, audit));
  return tx.Commit("updating " + what);
}

Status SqliteStore::DeleteWebhook(const std::string& org_id, const std::string& id, const AuditRecord& audit) {
  const std::string what = WebhookName(org_id, id);
  std::lock_guard<std::mutex> lock(write_mu_);
  Connection* w = writer_.get();
  WriteTransaction tx(w);
  NURT_RETURN_IF_ERROR(tx.Begin("deleting " + what));
  {
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kDeleteWebhook));
    q.Bind(1, org_id).Bind(2, id);
    NURT_RETURN_IF_ERROR(q.Run("deleting " + what));
    if (w->Changes() != 1) return Status::NotFound(what + " does not exist");
  }
  {
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kDeleteWebhookDeliveries));
    q.Bind(1, org_id).Bind(2, id);
    NURT_RETURN_IF_ERROR(q.Run("deleting the deliveries of " + what));
  }
  NURT_RETURN_IF_ERROR(InsertAudit(w, audit));
  return tx.Commit("deleting " + what);
}

Result<WebhookRecord> SqliteStore::GetWebhook(const std::string& org_id, const std::string& id) {
  NURT_ASSIGN_OR_RETURN(ReaderLease lease, AcquireReader());
  NURT_ASSIGN_OR_RETURN(Query q, lease.get()->Prepare(kGetWebhook));
  q.Bind(1, org_id).Bind(2, id);
  NURT_ASSIGN_OR_RETURN(bool row, q.Next("reading " + WebhookName(org_id, id)));
  if (!row) return Status::NotFound(WebhookName(org_id, id) + " does not exist");
  return ReadWebhook(q);
}

Result<std::vector<WebhookRecord>> SqliteStore::ListWebhooks(const std::string& org_id) {
  NURT_ASSIGN_OR_RETURN(ReaderLease lease, AcquireReader());
  NURT_ASSIGN_OR_RETURN(Query q, lease.get()->Prepare(kListWebhooks));
  q.Bind(1, org_id);
  std::vector<WebhookRecord> out;
  for (;;) {
    NURT_ASSIGN_OR_RETURN(bool row, q.Next("listing the webhooks of org " + Quote(org_id)));
    if (!row) break;
    NURT_ASSIGN_OR_RETURN(WebhookRecord w, ReadWebhook(q));
    out.push_back(std::move(w));
  }
  return out;
}

Status SqliteStore::CommitWebhookMatches(const WebhookMatchCommit& c) {
  const std::string who = "webhook matcher " + Quote(c.evaluator);
  if (c.evaluator.empty()) return Status::InvalidArgument("a webhook match commit needs an evaluator name");
  if (c.position < c.expected_position || c.expected_position < 0) {
    return Status::InvalidArgument(who + ": the cursor cannot move back (from " +
                                   std::to_string(c.expected_position) + " to " + std::to_string(c.position) + ")");
  }
  std::lock_guard<std::mutex> lock(write_mu_);
  Connection* w = writer_.get();
  WriteTransaction tx(w);
  NURT_RETURN_IF_ERROR(tx.Begin("starting the commit of " + who));
  const std::int64_t now = ToUnixMillis(c.now);
  {
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kInsertCursor));
    q.Bind(1, c.evaluator).Bind(2, now);
    NURT_RETURN_IF_ERROR(q.Run("creating the cursor of " + who));
  }
  {
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kAdvanceCursor));
    q.Bind(1, c.evaluator).Bind(2, c.expected_position).Bind(3, c.position).Bind(4, now);
    NURT_RETURN_IF_ERROR(q.Run("advancing the cursor of " + who));
    if (w->Changes() != 1) {
      return Status::Conflict(who + " is no longer at position " + std::to_string(c.expected_position) +
                              ": another matcher of that name committed meanwhile; read the cursor and match again");
    }
  }
  for (const WebhookDelivery& d : c.deliveries) NURT_RETURN_IF_ERROR(InsertDelivery(w, d));
  return tx.Commit("committing " + who);
}

Status SqliteStore::InsertWebhookDelivery(const WebhookDelivery& delivery) {
  std::lock_guard<std::mutex> lock(write_mu_);
  Connection* w = writer_.get();
  NURT_RETURN_IF_ERROR(InsertDelivery(w, delivery));
  if (w->Changes() != 1) {
    return Status::AlreadyExists("webhook delivery for event " + Quote(delivery.event_id) + " of " +
                                 WebhookName(delivery.org_id, delivery.webhook_id) + " exists already");
  }
  return Status::Ok();
}

Result<std::vector<WebhookDelivery>> SqliteStore::ListDueWebhookDeliveries(TimePoint now, int limit) {
  if (limit < 1 || limit > 1000) {
    return Status::InvalidArgument("due webhook delivery limit must be from 1 to 1000, got " + std::to_string(limit));
  }
  NURT_ASSIGN_OR_RETURN(ReaderLease lease, AcquireReader());
  NURT_ASSIGN_OR_RETURN(Query q, lease.get()->Prepare(kListDue));
  q.Bind(1, ToUnixMillis(now)).Bind(2, static_cast<std::int64_t>(limit));
  std::vector<WebhookDelivery> out;
  for (;;) {
    NURT_ASSIGN_OR_RETURN(bool row, q.Next("listing due webhook deliveries"));
    if (!row) break;
    NURT_ASSIGN_OR_RETURN(WebhookDelivery d, ReadDelivery(q));
    out.push_back(std::move(d));
  }
  return out;
}

Result<std::optional<TimePoint>> SqliteStore::NextWebhookDeliveryDue() {
  NURT_ASSIGN_OR_RETURN(ReaderLease lease, AcquireReader());
  NURT_ASSIGN_OR_RETURN(Query q, lease.get()->Prepare(kNextDue));
  NURT_ASSIGN_OR_RETURN(bool row, q.Next("finding the next due webhook delivery"));
  if (!row || q.IsNull(0)) return std::optional<TimePoint>();
  return std::optional<TimePoint>(FromUnixMillis(q.Int64(0)));
}

Status SqliteStore::RecordWebhookAttempt(const std::string& org_id, const std::string& delivery_id,
                                         const WebhookAttempt& attempt, const std::string& status,
                                         std::optional<TimePoint> next_attempt_at, int keep) {
  const std::string what = "webhook delivery " + Quote(delivery_id) + " of org " + Quote(org_id);
  if (status != "pending" && status != "succeeded" && status != "failed") {
    return Status::InvalidArgument(what + ": status " + Quote(status) + " is not pending, succeeded or failed");
  }
  if ((status == "pending") != next_attempt_at.has_value()) {
    return Status::InvalidArgument(what + ": a pending delivery needs the time of its next try, a finished one none");
  }
  if (keep < 1) return Status::InvalidArgument(what + ": deliveries to keep must be positive");
  std::lock_guard<std::mutex> lock(write_mu_);
  Connection* w = writer_.get();
  WriteTransaction tx(w);
  NURT_RETURN_IF_ERROR(tx.Begin("recording a try of " + what));
  std::string webhook_id;
  std::vector<WebhookAttempt> log;
  {
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kDeliveryState));
    q.Bind(1, org_id).Bind(2, delivery_id);
    NURT_ASSIGN_OR_RETURN(bool row, q.Next("reading " + what));
    if (!row) return Status::NotFound(what + " does not exist (its webhook was deleted?)");
    if (q.Text(1) != "pending") {
      return Status::FailedPrecondition(what + " is " + q.Text(1) + " already; another process finished it");
    }
    webhook_id = q.Text(0);
    NURT_ASSIGN_OR_RETURN(log, AttemptLogFrom(q.Text(2), what));
  }
  log.push_back(attempt);
  {
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kRecordAttempt));
    q.Bind(1, org_id).Bind(2, delivery_id).Bind(3, status);
    BindOptionalTime(q, 4, next_attempt_at);
    if (status == "pending") {
      q.BindNull(5);
    } else {
      q.Bind(5, ToUnixMillis(attempt.at));
    }
    q.Bind(6, AttemptLogJson(log).dump());
    NURT_RETURN_IF_ERROR(q.Run("recording a try of " + what));
  }
  if (status != "pending") {
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kPruneDeliveries));
    q.Bind(1, org_id).Bind(2, webhook_id).Bind(3, static_cast<std::int64_t>(keep));
    NURT_RETURN_IF_ERROR(q.Run("dropping old deliveries of " + WebhookName(org_id, webhook_id)));
  }
  return tx.Commit("recording a try of " + what);
}

Result<WebhookDelivery> SqliteStore::GetWebhookDelivery(const std::string& org_id, const std::string& id) {
  NURT_ASSIGN_OR_RETURN(ReaderLease lease, AcquireReader());
  NURT_ASSIGN_OR_RETURN(Query q, lease.get()->Prepare(kGetDelivery));
  q.Bind(1, org_id).Bind(2, id);
  NURT_ASSIGN_OR_RETURN(bool row, q.Next("reading webhook delivery " + Quote(id)));
  if (!row) return Status::NotFound("webhook delivery " + Quote(id) + " of org " + Quote(org_id) + " does not exist");
  return ReadDelivery(q);
}

Result<std::vector<WebhookDelivery>> SqliteStore::ListWebhookDeliveries(const std::string& org_id,
                                                                        const std::string& webhook_id, int limit) {
  if (limit < 1 || limit > 1000) {
    return Status::InvalidArgument("webhook delivery list limit must be from 1 to 1000, got " + std::to_string(limit));
  }
  NURT_ASSIGN_OR_RETURN(ReaderLease lease, AcquireReader());
  NURT_ASSIGN_OR_RETURN(Query q, lease.get()->Prepare(kListDeliveries));
  q.Bind(1, org_id).Bind(2, webhook_id).Bind(3, static_cast<std::int64_t>(limit));
  std::vector<WebhookDelivery> out;
  for (;;) {
    NURT_ASSIGN_OR_RETURN(bool row, q.Next("listing the deliveries of " + WebhookName(org_id, webhook_id)));
    if (!row) break;
    NURT_ASSIGN_OR_RETURN(WebhookDelivery d, ReadDelivery(q));
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace nurt::store
