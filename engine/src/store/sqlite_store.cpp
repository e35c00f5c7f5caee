#include "store/sqlite_store.hpp"

#include <algorithm>
#include <limits>
#include <set>
#include <utility>

#include "nurt/core/assert.hpp"
#include "store/sqlite_json.hpp"
#include "store/sqlite_schema.hpp"
#include "store/sqlite_statements.hpp"

namespace nurt::store {

using sqlite::Connection;
using sqlite::ConnectionOptions;
using sqlite::Query;
using sqlite::WriteTransaction;
using namespace sqlite::sql;  // NOLINT(google-build-using-namespace): the statement constants

namespace {

// ---------------------------------------------------------------------------------------------------
// Encoding. JSON is stored as compact text; times as integer milliseconds since the epoch.

using sqlite::Dump;
using sqlite::Load;
using sqlite::Quote;

Result<std::string> DumpStrings(const std::vector<std::string>& values, std::string_view what) {
  Json array = Json::array();
  for (const std::string& v : values) array.push_back(v);
  return Dump(array, what);
}

Result<std::vector<std::string>> LoadStrings(const std::string& text, std::string_view what) {
  NURT_ASSIGN_OR_RETURN(Json j, Load(text, what));
  std::vector<std::string> out;
  if (!j.is_array()) {
    return Status::DataLoss(std::string(what) + " is not a JSON array of strings: " + text);
  }
  for (const Json& v : j) {
    if (!v.is_string()) {
      return Status::DataLoss(std::string(what) + " is not a JSON array of strings: " + text);
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

// InstanceFilter::context_equals as the ?7 parameter of the list statements: [[json path, value], ...]
// with each dotted field path turned into `$.context."a"."b"` (quoted, so ids with '-' work).
Result<std::string> ContextFilterParameter(const std::vector<std::pair<std::string, Json>>& fields) {
  Json pairs = Json::array();
  for (const auto& [field, value] : fields) {
    const std::string where = "context filter '" + field + "'";
    if (!value.is_string() && !value.is_number() && !value.is_boolean()) {
      return Status::InvalidArgument(where + ": only a text, number or true/false can be compared, got " +
                                     std::string(value.type_name()));
    }
    std::string path = "$.context";
    std::size_t start = 0;
    for (;;) {
      const std::size_t dot = field.find('.', start);
      const std::string key = field.substr(start, dot == std::string::npos ? dot : dot - start);
      if (key.empty() || key.find_first_of("\"\\") != std::string::npos) {
        return Status::InvalidArgument(where + ": a field path is keys separated by dots, like "
                                       "customer.nip (no empty key, no quote or backslash)");
      }
      path += ".\"" + key + "\"";
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    pairs.push_back(Json::array({path, value}));
  }
  return pairs.dump();
}

// Errors that doom the whole write transaction rather than one request in it.
bool IsInfrastructure(const Status& s) {
  return s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDataLoss ||
         s.code() == StatusCode::kInternal;
}

std::string InstanceName(const std::string& org_id, const std::string& id) {
  return "instance " + Quote(id) + " of org " + Quote(org_id);
}

Status Validate(const CommitRequest& r) {
  if (r.org_id.empty()) return Status::InvalidArgument("commit request has an empty org_id");
  if (r.instance_id.empty()) {
    return Status::InvalidArgument("commit request for org " + Quote(r.org_id) +
                                   " has an empty instance_id");
  }
  const std::string who = InstanceName(r.org_id, r.instance_id);
  if (r.expected_version < 0) {
    return Status::InvalidArgument("commit of " + who + ": expected_version " +
                                   std::to_string(r.expected_version) + " is negative");
  }
  if (r.instance.org_id != r.org_id || r.instance.id != r.instance_id) {
    return Status::InvalidArgument("commit of " + who + " carries the record of instance " +
                                   Quote(r.instance.id) + " of org " + Quote(r.instance.org_id) +
                                   "; request and record must name the same instance");
  }
  if (r.instance.version != r.expected_version + 1) {
    return Status::InvalidArgument(
        "commit of " + who + ": instance.version must be expected_version + 1 (" +
        std::to_string(r.expected_version + 1) + "), got " + std::to_string(r.instance.version));
  }
  for (const EventEnvelope& e : r.events) {
    if (e.org_id != r.org_id || e.entity_id != r.instance_id) {
      return Status::InvalidArgument("commit of " + who + ": event " + Quote(e.id) +
                                     " belongs to entity " + Quote(e.entity_id) + " of org " +
                                     Quote(e.org_id) + "; events must name the committed instance");
    }
  }
  for (const OutboxItem& o : r.outbox) {
    if (o.org_id != r.org_id || o.instance_id != r.instance_id) {
      return Status::InvalidArgument("commit of " + who + ": outbox item " + Quote(o.id) +
                                     " belongs to instance " + Quote(o.instance_id) + " of org " +
                                     Quote(o.org_id) +
                                     "; outbox items must name the committed instance");
    }
  }
  if (r.idempotency) {
    const IdempotencyRecord& k = *r.idempotency;
    if (k.org_id != r.org_id || (!k.instance_id.empty() && k.instance_id != r.instance_id)) {
      return Status::InvalidArgument(
          "commit of " + who + ": idempotency key " + Quote(k.key) + " is scoped to instance " +
          Quote(k.instance_id) + " of org " + Quote(k.org_id) +
          "; it must be the committed instance or '' (org-wide, for starts)");
    }
    if (k.key.empty()) {
      return Status::InvalidArgument("commit of " + who +
                                     ": the idempotency record has an empty key");
    }
  }
  return Status::Ok();
}

Result<InstanceRecord> ReadInstance(const Query& q) {
  InstanceRecord r;
  r.org_id = q.Text(0);
  r.id = q.Text(1);
  r.machine = q.Text(2);
  r.machine_version = q.Int64(3);
  r.run_status = q.Text(4);
  const std::string where = "instances row of " + InstanceName(r.org_id, r.id);
  NURT_ASSIGN_OR_RETURN(r.state, LoadStrings(q.Text(5), where + ", column state"));
  NURT_ASSIGN_OR_RETURN(r.snapshot, Load(q.Text(6), where + ", column snapshot"));
  r.version = q.Int64(7);
  r.created_at = FromUnixMillis(q.Int64(8));
  r.updated_at = FromUnixMillis(q.Int64(9));
  return r;
}

Result<DefinitionRecord> ReadDefinition(const Query& q) {
  DefinitionRecord d;
  d.org_id = q.Text(0);
  d.name = q.Text(1);
  d.version = q.Int64(2);
  d.source_file = q.Text(3);
  d.source_text = q.Text(4);
  NURT_ASSIGN_OR_RETURN(
      d.scripts,
      Load(q.Text(5), "definitions row " + Quote(d.name) + " version " + std::to_string(d.version) +
                          " of org " + Quote(d.org_id) + ", column scripts"));
  d.content_hash = q.Text(6);
  d.created_at = FromUnixMillis(q.Int64(7));
  return d;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
// Reader pool

Result<SqliteStore::ReaderLease> SqliteStore::AcquireReader() {
  std::unique_lock<std::mutex> lock(readers_mu_);
  reader_returned_.wait(lock,
                        [&] { return !idle_readers_.empty() || open_readers_ < kMaxReaders; });
  if (!idle_readers_.empty()) {
    std::unique_ptr<Connection> conn = std::move(idle_readers_.back());
    idle_readers_.pop_back();
    return ReaderLease(this, std::move(conn));
  }
  ++open_readers_;
  lock.unlock();
  auto conn = Connection::Open(ConnectionOptions{options_.path, options_.busy_timeout_ms, true});
  if (!conn.ok()) {
    lock.lock();
    --open_readers_;
    reader_returned_.notify_one();
    return conn.status();
  }
  return ReaderLease(this, std::move(conn).value());
}

void SqliteStore::ReturnReader(std::unique_ptr<Connection> conn) {
  {
    std::lock_guard<std::mutex> lock(readers_mu_);
    idle_readers_.push_back(std::move(conn));
  }
  reader_returned_.notify_one();
}

// ---------------------------------------------------------------------------------------------------
// Open

SqliteStore::SqliteStore(const SqliteOptions& options, std::unique_ptr<Connection> writer)
    : options_(options), writer_(std::move(writer)) {}

SqliteStore::~SqliteStore() {
  // Readers first: the last connection to close checkpoints the WAL into the database file.
  std::lock_guard<std::mutex> lock(readers_mu_);
  NURT_INVARIANT(static_cast<int>(idle_readers_.size()) == open_readers_,
                 "SqliteStore destroyed while a read is in progress");
  idle_readers_.clear();
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const SqliteOptions& options) {
  if (options.path.empty()) {
    return Status::InvalidArgument("SqliteOptions::path is empty; give the database file to use");
  }
  NURT_ASSIGN_OR_RETURN(
      std::unique_ptr<Connection> w,
      Connection::Open(ConnectionOptions{options.path, options.busy_timeout_ms, false}));
  {
    // journal_mode answers with the mode in effect; a file system without shared memory support (or
    // ":memory:") cannot do WAL, and without WAL readers would block the writer.
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare("PRAGMA journal_mode = WAL"));
    NURT_ASSIGN_OR_RETURN(bool row, q.Next("enabling WAL"));
    const std::string mode = row ? q.Text(0) : "";
    if (mode != "wal") {
      return Status::Unavailable("cannot use WAL journaling on '" + options.path +
                                 "' (journal mode is " + Quote(mode) +
                                 "); put the database on a local file system");
    }
  }
  NURT_RETURN_IF_ERROR(
      w->Exec(options.fsync_on_commit ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
              "setting synchronous"));
  NURT_RETURN_IF_ERROR(w->Exec("PRAGMA foreign_keys = ON", "enabling foreign keys"));
  NURT_RETURN_IF_ERROR(sqlite::Migrate(w.get()));
  return std::unique_ptr<SqliteStore>(new SqliteStore(options, std::move(w)));
}

std::int64_t SqliteStore::WriterStatementsPrepared() {
  std::lock_guard<std::mutex> lock(write_mu_);
  return writer_->statements_prepared();
}

std::int64_t SqliteStore::WriterTransactionsCommitted() {
  std::lock_guard<std::mutex> lock(write_mu_);
  return writer_->transactions_committed();
}

// ---------------------------------------------------------------------------------------------------
// Writes

Status SqliteStore::ApplyLocked(Connection* w, const CommitRequest& r) {
  NURT_RETURN_IF_ERROR(Validate(r));
  const std::string who = InstanceName(r.org_id, r.instance_id);
  const InstanceRecord& rec = r.instance;
  NURT_ASSIGN_OR_RETURN(std::string state_text, DumpStrings(rec.state, who + " state"));
  NURT_ASSIGN_OR_RETURN(std::string snapshot_text, Dump(rec.snapshot, who + " snapshot"));

  std::vector<std::string> old_state;
  if (r.expected_version == 0) {
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kInsertInstance));
    q.Bind(1, r.org_id).Bind(2, r.instance_id).Bind(3, rec.machine).Bind(4, rec.machine_version);
    q.Bind(5, rec.run_status).Bind(6, state_text).Bind(7, snapshot_text).Bind(8, rec.version);
    q.Bind(9, ToUnixMillis(rec.created_at)).Bind(10, ToUnixMillis(rec.updated_at));
    int rc = q.Step();
    if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
      return Status::AlreadyExists(who +
                                   " already exists; a start (expected_version 0) needs a new id, "
                                   "an event needs the version that was read");
    }
    if (rc != SQLITE_DONE) return w->Error(rc, "inserting " + who);
  } else {
    std::int64_t found = 0;
    {
      NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kSelectVersionAndState));
      q.Bind(1, r.org_id).Bind(2, r.instance_id);
      NURT_ASSIGN_OR_RETURN(bool row, q.Next("reading the version of " + who));
      if (!row) {
        return Status::NotFound(who + " does not exist, so it cannot advance from version " +
                                std::to_string(r.expected_version) + "; start it first");
      }
      found = q.Int64(0);
      NURT_ASSIGN_OR_RETURN(old_state,
                            LoadStrings(q.Text(1), "instances row of " + who + ", column state"));
      if (!q.IsNull(2)) {
        NURT_ASSIGN_OR_RETURN(std::vector<std::string> configuration,
                              LoadStrings(q.Text(2), "instances row of " + who + ", configuration"));
        old_state.insert(old_state.end(), configuration.begin(), configuration.end());
      }
    }
    if (found != r.expected_version) {
      return Status::Conflict(who + " is at version " + std::to_string(found) + ", not " +
                              std::to_string(r.expected_version) +
                              " as read: it changed meanwhile; reload it and retry");
    }
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kUpdateInstance));
    q.Bind(1, r.org_id).Bind(2, r.instance_id).Bind(3, rec.machine).Bind(4, rec.machine_version);
    q.Bind(5, rec.run_status).Bind(6, state_text).Bind(7, snapshot_text).Bind(8, rec.version);
    q.Bind(9, ToUnixMillis(rec.updated_at)).Bind(10, r.expected_version);
    NURT_RETURN_IF_ERROR(q.Run("updating " + who));
    if (w->Changes() != 1) {
      return Status::Conflict(who + " is no longer at version " +
                              std::to_string(r.expected_version) + "; reload it and retry");
    }
  }

  // The state index: remove states left, add states entered. Compound and parallel states of the
  // snapshot's configuration are indexed too, so a filter on `review` finds instances in its children.
  const std::set<std::string> before(old_state.begin(), old_state.end());
  std::set<std::string> after(rec.state.begin(), rec.state.end());
  if (rec.snapshot.is_object() && rec.snapshot.contains("configuration") &&
      rec.snapshot["configuration"].is_array()) {
    for (const Json& id : rec.snapshot["configuration"]) {
      if (id.is_string()) after.insert(id.get<std::string>());
    }
  }
  if (before != after) {
    for (const std::string& s : before) {
      if (after.count(s)) continue;
      NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kDeleteState));
      q.Bind(1, r.org_id).Bind(2, s).Bind(3, r.instance_id);
      NURT_RETURN_IF_ERROR(q.Run("indexing the states of " + who));
    }
    for (const std::string& s : after) {
      if (before.count(s)) continue;
      NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kInsertState));
      q.Bind(1, r.org_id).Bind(2, s).Bind(3, r.instance_id);
      NURT_RETURN_IF_ERROR(q.Run("indexing the states of " + who));
    }
  }

  for (const EventEnvelope& e : r.events) {
    const std::string what =
        "event " + Quote(e.id) + " (sequence " + std::to_string(e.sequence) + ") of " + who;
    NURT_ASSIGN_OR_RETURN(std::string payload, Dump(e.payload, what + " payload"));
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kInsertEvent));
    q.Bind(1, r.org_id).Bind(2, r.instance_id).Bind(3, e.sequence).Bind(4, e.id).Bind(5, e.type);
    q.Bind(6, ToUnixMillis(e.occurred_at)).Bind(7, e.actor).Bind(8, e.entity_type).Bind(9, payload);
    q.Bind(10, static_cast<std::int64_t>(e.schema_version)).Bind(11, e.trace_id);
    q.Bind(12, e.causation_id).Bind(13, e.idempotency_key);
    int rc = q.Step();
    if (rc == SQLITE_DONE) continue;
    switch (rc) {
      case SQLITE_CONSTRAINT_PRIMARYKEY:
        return Status::Conflict(
            "sequence " + std::to_string(e.sequence) + " of the event log of " + who +
            " is already taken: another writer appended meanwhile; reload and retry");
      case SQLITE_CONSTRAINT_UNIQUE:
        return Status::AlreadyExists("event id " + Quote(e.id) + " is already recorded in org " +
                                     Quote(r.org_id) + "; every event needs a new id");
      case SQLITE_CONSTRAINT_CHECK:
        return Status::InvalidArgument(what + ": sequences start at 1");
      default:
        return w->Error(rc, "inserting " + what);
    }
  }

  for (const TransitionRecord& t : r.transitions) {
    const std::string what = "transition step " + std::to_string(t.step) + " of event sequence " +
                             std::to_string(t.event_sequence) + " of " + who;
    NURT_ASSIGN_OR_RETURN(std::string from, DumpStrings(t.from, what + " from"));
    NURT_ASSIGN_OR_RETURN(std::string to, DumpStrings(t.to, what + " to"));
    NURT_ASSIGN_OR_RETURN(std::string targets, DumpStrings(t.targets, what + " targets"));
    NURT_ASSIGN_OR_RETURN(std::string detail, Dump(t.detail, what + " detail"));
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kInsertTransition));
    q.Bind(1, r.org_id).Bind(2, r.instance_id).Bind(3, t.event_sequence);
    q.Bind(4, static_cast<std::int64_t>(t.step)).Bind(5, t.event).Bind(6, from).Bind(7, to);
    q.Bind(8, t.source).Bind(9, targets).Bind(10, detail);
    int rc = q.Step();
    if (rc == SQLITE_DONE) continue;
    switch (rc) {
      case SQLITE_CONSTRAINT_PRIMARYKEY:
        return Status::InvalidArgument(what +
                                       " is given twice or was already recorded; the steps of "
                                       "one event are numbered 0, 1, 2, ...");
      case SQLITE_CONSTRAINT_FOREIGNKEY:
        return Status::InvalidArgument(what +
                                       " refers to an event that is not in the log; commit "
                                       "the event together with its transitions");
      case SQLITE_CONSTRAINT_CHECK:
        return Status::InvalidArgument(what + ": steps start at 0");
      default:
        return w->Error(rc, "inserting " + what);
    }
  }

  for (const OutboxItem& o : r.outbox) {
    const std::string what = "outbox item " + Quote(o.id) + " (" + o.kind + ") of " + who;
    NURT_ASSIGN_OR_RETURN(std::string payload, Dump(o.payload, what + " payload"));
    NURT_ASSIGN_OR_RETURN(std::string result, Dump(o.result, what + " result"));
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kInsertOutbox));
    q.Bind(1, r.org_id).Bind(2, o.id).Bind(3, r.instance_id).Bind(4, o.event_sequence);
    q.Bind(5, o.kind)
        .Bind(6, payload)
        .Bind(7, o.idempotency_key)
        .Bind(8, ToUnixMillis(o.created_at));
    q.Bind(9, o.status).Bind(10, result);
    int rc = q.Step();
    if (rc == SQLITE_DONE) continue;
    switch (rc) {
      case SQLITE_CONSTRAINT_PRIMARYKEY:
        return Status::AlreadyExists("outbox item id " + Quote(o.id) + " is already taken in org " +
                                     Quote(r.org_id) + "; every outbox item needs a new id");
      case SQLITE_CONSTRAINT_UNIQUE:
        return Status::AlreadyExists("an outbox item with idempotency key " +
                                     Quote(o.idempotency_key) + " already exists in org " +
                                     Quote(r.org_id) + ": this effect was already enqueued");
      case SQLITE_CONSTRAINT_CHECK:
        return Status::InvalidArgument(what +
                                       ": the idempotency key must not be empty and the status "
                                       "must be pending, done or failed (got " +
                                       Quote(o.status) + ")");
      default:
        return w->Error(rc, "inserting " + what);
    }
  }

  NURT_RETURN_IF_ERROR(ApplyTasksLocked(w, r));
  NURT_RETURN_IF_ERROR(ApplyTimersLocked(w, r));

  if (r.idempotency) {
    const IdempotencyRecord& k = *r.idempotency;
    const std::string scope = k.instance_id.empty() ? "org " + Quote(r.org_id) + " (starts)" : who;
    NURT_ASSIGN_OR_RETURN(std::string response,
                          Dump(k.response, "response of idempotency key " + Quote(k.key)));
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kInsertIdempotency));
    q.Bind(1, r.org_id).Bind(2, k.instance_id).Bind(3, k.key).Bind(4, k.request_hash);
    q.Bind(5, response).Bind(6, ToUnixMillis(k.created_at));
    int rc = q.Step();
    if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
      return Status::AlreadyExists("idempotency key " + Quote(k.key) + " of " + scope +
                                   " was committed meanwhile; nothing was written: read the stored "
                                   "record (FindIdempotency) and answer with its response");
    }
    if (rc != SQLITE_DONE)
      return w->Error(rc, "inserting idempotency key " + Quote(k.key) + " of " + scope);
  }
  return Status::Ok();
}

Status SqliteStore::Commit(const CommitRequest& request) {
  std::lock_guard<std::mutex> lock(write_mu_);
  Connection* w = writer_.get();
  WriteTransaction tx(w);
  NURT_RETURN_IF_ERROR(
      tx.Begin("starting the commit of " + InstanceName(request.org_id, request.instance_id)));
  NURT_RETURN_IF_ERROR(ApplyLocked(w, request));  // ~WriteTransaction rolls back
  return tx.Commit("committing " + InstanceName(request.org_id, request.instance_id));
}

Status SqliteStore::CommitBatch(const std::vector<CommitRequest>& requests,
                                std::vector<Status>* statuses) {
  std::vector<Status> local;
  std::vector<Status>& out = statuses != nullptr ? *statuses : local;
  out.assign(requests.size(), Status::Ok());
  if (requests.empty()) return Status::Ok();

  auto fail_all = [&](const Status& st) {
    out.assign(requests.size(), st);
    return st;
  };
  std::lock_guard<std::mutex> lock(write_mu_);
  Connection* w = writer_.get();
  WriteTransaction tx(w);
  const std::string what = "a batch of " + std::to_string(requests.size()) + " commits";
  if (Status st = tx.Begin("starting " + what); !st.ok()) return fail_all(st);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    {
      auto q = w->Prepare(kSavepoint);
      if (!q.ok()) return fail_all(q.status());
      if (Status st = q->Run("opening a savepoint in " + what); !st.ok()) return fail_all(st);
    }
    Status st = ApplyLocked(w, requests[i]);
    if (!st.ok()) {
      if (IsInfrastructure(st) || !w->InTransaction()) {
        return fail_all(st.WithContext("request " + std::to_string(i) + " of " + what +
                                       " failed and took the batch down"));
      }
      out[i] = st;
      auto q = w->Prepare(kRollbackToSavepoint);
      if (!q.ok()) return fail_all(q.status());
      if (Status rb = q->Run("rolling back request " + std::to_string(i) + " of " + what);
          !rb.ok()) {
        return fail_all(rb);
      }
    }
    auto q = w->Prepare(kReleaseSavepoint);
    if (!q.ok()) return fail_all(q.status());
    if (Status rel = q->Run("releasing a savepoint in " + what); !rel.ok()) return fail_all(rel);
  }
  if (Status st = tx.Commit("committing " + what); !st.ok()) return fail_all(st);
  return Status::Ok();
}

Status SqliteStore::PutDefinition(const DefinitionRecord& d) {
  if (d.org_id.empty() || d.name.empty()) {
    return Status::InvalidArgument("definition needs an org_id and a name (got org " +
                                   Quote(d.org_id) + ", name " + Quote(d.name) + ")");
  }
  const std::string who = "machine " + Quote(d.name) + " version " + std::to_string(d.version) +
                          " of org " + Quote(d.org_id);
  if (d.version < 1) {
    return Status::InvalidArgument(who +
                                   ": published versions start at 1 (version 0 means 'latest' "
                                   "when reading)");
  }
  if (d.content_hash.empty()) return Status::InvalidArgument(who + " has an empty content_hash");
  NURT_ASSIGN_OR_RETURN(std::string scripts, Dump(d.scripts, who + " scripts"));

  std::lock_guard<std::mutex> lock(write_mu_);
  Connection* w = writer_.get();
  {
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kInsertDefinition));
    q.Bind(1, d.org_id).Bind(2, d.name).Bind(3, d.version).Bind(4, d.source_file);
    q.Bind(5, d.source_text)
        .Bind(6, scripts)
        .Bind(7, d.content_hash)
        .Bind(8, ToUnixMillis(d.created_at));
    NURT_RETURN_IF_ERROR(q.Run("publishing " + who));
  }
  if (w->Changes() == 1) return Status::Ok();
  NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kDefinitionHash));
  q.Bind(1, d.org_id).Bind(2, d.name).Bind(3, d.version);
  NURT_ASSIGN_OR_RETURN(bool row, q.Next("reading the stored " + who));
  if (!row) return Status::Internal(who + " was neither inserted nor found; this is a bug in nurt");
  const std::string stored = q.Text(0);
  if (stored == d.content_hash) return Status::Ok();
  return Status::AlreadyExists(
      who + " (" + d.source_file + ") was already published with different content (stored hash " +
      stored.substr(0, 12) + ", given " + d.content_hash.substr(0, 12) +
      "); a published version never changes: bump `version:` to publish the edit");
}

Status SqliteStore::CompleteOutbox(const std::string& org_id, const std::string& id,
                                   const std::string& status, const Json& result) {
  const std::string who = "outbox item " + Quote(id) + " of org " + Quote(org_id);
  if (status != "done" && status != "failed") {
    return Status::InvalidArgument(who + ": completion status must be 'done' or 'failed', got " +
                                   Quote(status));
  }
  NURT_ASSIGN_OR_RETURN(std::string result_text, Dump(result, who + " result"));
  std::lock_guard<std::mutex> lock(write_mu_);
  Connection* w = writer_.get();
  {
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kCompleteOutbox));
    q.Bind(1, org_id).Bind(2, id).Bind(3, status).Bind(4, result_text);
    NURT_RETURN_IF_ERROR(q.Run("completing " + who));
  }
  if (w->Changes() == 1) return Status::Ok();
  NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kOutboxStatus));
  q.Bind(1, org_id).Bind(2, id);
  NURT_ASSIGN_OR_RETURN(bool row, q.Next("reading " + who));
  if (!row) return Status::NotFound(who + " does not exist");
  return Status::FailedPrecondition(
      who + " is already " + Quote(q.Text(0)) +
      ", not pending; it was completed before (a duplicate delivery?)");
}

// ---------------------------------------------------------------------------------------------------
// Reads

Result<InstanceRecord> SqliteStore::GetInstance(const std::string& org_id, const std::string& id) {
  NURT_ASSIGN_OR_RETURN(ReaderLease lease, AcquireReader());
  NURT_ASSIGN_OR_RETURN(Query q, lease.get()->Prepare(kGetInstance));
  q.Bind(1, org_id).Bind(2, id);
  NURT_ASSIGN_OR_RETURN(bool row, q.Next("reading " + InstanceName(org_id, id)));
  if (!row) return Status::NotFound(InstanceName(org_id, id) + " does not exist");
  return ReadInstance(q);
}

Result<std::vector<InstanceRecord>> SqliteStore::ListInstances(const std::string& org_id,
                                                               const InstanceFilter& filter) {
  if (filter.limit <= 0) {
    return Status::InvalidArgument("instance list limit must be positive, got " +
                                   std::to_string(filter.limit));
  }
  const char* sql = !filter.state.empty()        ? kListInstancesByState
                    : !filter.machine.empty()    ? kListInstancesByMachine
                    : !filter.run_status.empty() ? kListInstancesByRunStatus
                                                 : kListInstancesAll;
  NURT_ASSIGN_OR_RETURN(std::string context_filter, ContextFilterParameter(filter.context_equals));
  NURT_ASSIGN_OR_RETURN(ReaderLease lease, AcquireReader());
  NURT_ASSIGN_OR_RETURN(Query q, lease.get()->Prepare(sql));
  q.Bind(1, org_id).Bind(3, filter.after_id).Bind(6, static_cast<std::int64_t>(filter.limit));
  q.Bind(7, context_filter);
  if (sql == kListInstancesByState) q.Bind(2, filter.state);
  if (sql == kListInstancesByState || sql == kListInstancesByMachine) q.Bind(4, filter.machine);
  if (sql != kListInstancesAll) q.Bind(5, filter.run_status);
  std::vector<InstanceRecord> out;
  for (;;) {
    NURT_ASSIGN_OR_RETURN(bool row, q.Next("listing instances of org " + Quote(org_id)));
    if (!row) break;
    NURT_ASSIGN_OR_RETURN(InstanceRecord rec, ReadInstance(q));
    out.push_back(std::move(rec));
  }
  return out;
}

Result<std::optional<IdempotencyRecord>> SqliteStore::FindIdempotency(
    const std::string& org_id, const std::string& instance_id, const std::string& key) {
  NURT_ASSIGN_OR_RETURN(ReaderLease lease, AcquireReader());
  NURT_ASSIGN_OR_RETURN(Query q, lease.get()->Prepare(kFindIdempotency));
  q.Bind(1, org_id).Bind(2, instance_id).Bind(3, key);
  const std::string what = "idempotency key " + Quote(key) + " of instance " + Quote(instance_id) +
                           " of org " + Quote(org_id);
  NURT_ASSIGN_OR_RETURN(bool row, q.Next("reading " + what));
  if (!row) return std::optional<IdempotencyRecord>();
  IdempotencyRecord rec;
  rec.org_id = org_id;
  rec.instance_id = instance_id;
  rec.key = key;
  rec.request_hash = q.Text(0);
  NURT_ASSIGN_OR_RETURN(rec.response, Load(q.Text(1), what + ", column response"));
  rec.created_at = FromUnixMillis(q.Int64(2));
  return std::optional<IdempotencyRecord>(std::move(rec));
}

Result<std::vector<EventEnvelope>> SqliteStore::ListEvents(const std::string& org_id,
                                                           const std::string& instance_id,
                                                           std::int64_t after_sequence,
                                                           std::int64_t until_sequence) {
  NURT_ASSIGN_OR_RETURN(ReaderLease lease, AcquireReader());
  NURT_ASSIGN_OR_RETURN(Query q, lease.get()->Prepare(kListEvents));
  q.Bind(1, org_id).Bind(2, instance_id).Bind(3, after_sequence);
  q.Bind(4, until_sequence > 0 ? until_sequence : std::numeric_limits<std::int64_t>::max());
  const std::string who = InstanceName(org_id, instance_id);
  std::vector<EventEnvelope> out;
  for (;;) {
    NURT_ASSIGN_OR_RETURN(bool row, q.Next("listing the events of " + who));
    if (!row) break;
    EventEnvelope e;
    e.org_id = org_id;
    e.entity_id = instance_id;
    e.sequence = q.Int64(0);
    e.id = q.Text(1);
    e.type = q.Text(2);
    e.occurred_at = FromUnixMillis(q.Int64(3));
    e.actor = q.Text(4);
    e.entity_type = q.Text(5);
    NURT_ASSIGN_OR_RETURN(
        e.payload, Load(q.Text(6), "event sequence " + std::to_string(e.sequence) + " of " + who +
                                       ", column payload"));
    e.schema_version = static_cast<int>(q.Int64(7));
    e.trace_id = q.Text(8);
    e.causation_id = q.Text(9);
    e.idempotency_key = q.Text(10);
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<TransitionRecord>> SqliteStore::ListTransitions(const std::string& org_id,
                                                                   const std::string& instance_id) {
  NURT_ASSIGN_OR_RETURN(ReaderLease lease, AcquireReader());
  NURT_ASSIGN_OR_RETURN(Query q, lease.get()->Prepare(kListTransitions));
  q.Bind(1, org_id).Bind(2, instance_id);
  const std::string who = InstanceName(org_id, instance_id);
  std::vector<TransitionRecord> out;
  for (;;) {
    NURT_ASSIGN_OR_RETURN(bool row, q.Next("listing the transitions of " + who));
    if (!row) break;
    TransitionRecord t;
    t.event_sequence = q.Int64(0);
    t.step = static_cast<int>(q.Int64(1));
    t.event = q.Text(2);
    const std::string where = "transition " + std::to_string(t.event_sequence) + "/" +
                              std::to_string(t.step) + " of " + who;
    NURT_ASSIGN_OR_RETURN(t.from, LoadStrings(q.Text(3), where + ", column from_states"));
    NURT_ASSIGN_OR_RETURN(t.to, LoadStrings(q.Text(4), where + ", column to_states"));
    t.source = q.Text(5);
    NURT_ASSIGN_OR_RETURN(t.targets, LoadStrings(q.Text(6), where + ", column targets"));
    NURT_ASSIGN_OR_RETURN(t.detail, Load(q.Text(7), where + ", column detail"));
    out.push_back(std::move(t));
  }
  return out;
}

Result<DefinitionRecord> SqliteStore::GetDefinition(const std::string& org_id,
                                                    const std::string& name, std::int64_t version) {
  if (version < 0) {
    return Status::InvalidArgument("machine " + Quote(name) + ": version " +
                                   std::to_string(version) + " is negative (0 means the latest)");
  }
  NURT_ASSIGN_OR_RETURN(ReaderLease lease, AcquireReader());
  NURT_ASSIGN_OR_RETURN(Query q,
                        lease.get()->Prepare(version == 0 ? kGetLatestDefinition : kGetDefinition));
  q.Bind(1, org_id).Bind(2, name);
  if (version != 0) q.Bind(3, version);
  const std::string who = "machine " + Quote(name) +
                          (version == 0 ? std::string() : " version " + std::to_string(version)) +
                          " of org " + Quote(org_id);
  NURT_ASSIGN_OR_RETURN(bool row, q.Next("reading " + who));
  if (!row) return Status::NotFound(who + " is not published");
  return ReadDefinition(q);
}

Result<std::vector<DefinitionRecord>> SqliteStore::ListDefinitions(const std::string& org_id) {
  NURT_ASSIGN_OR_RETURN(ReaderLease lease, AcquireReader());
  NURT_ASSIGN_OR_RETURN(Query q, lease.get()->Prepare(kListDefinitions));
  q.Bind(1, org_id);
  std::vector<DefinitionRecord> out;
  for (;;) {
    NURT_ASSIGN_OR_RETURN(bool row, q.Next("listing the definitions of org " + Quote(org_id)));
    if (!row) break;
    NURT_ASSIGN_OR_RETURN(DefinitionRecord d, ReadDefinition(q));
    out.push_back(std::move(d));
  }
  return out;
}

Result<std::vector<InstanceCount>> SqliteStore::CountInstances() {
  NURT_ASSIGN_OR_RETURN(ReaderLease lease, AcquireReader());
  NURT_ASSIGN_OR_RETURN(Query q, lease.get()->Prepare(kCountInstances));
  std::vector<InstanceCount> out;
  for (;;) {
    NURT_ASSIGN_OR_RETURN(bool row, q.Next("counting instances by state"));
    if (!row) break;
    InstanceCount c;
    c.org_id = q.Text(0);
    c.machine = q.Text(1);
    NURT_ASSIGN_OR_RETURN(Json states, Load(q.Text(2), "instances.state of org " + Quote(c.org_id)));
    for (const auto& s : states) c.state += (c.state.empty() ? "" : " ") + s.get<std::string>();
    c.run_status = q.Text(3);
    c.count = q.Int64(4);
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::vector<OutboxItem>> SqliteStore::ListPendingOutbox(
    const std::vector<std::string>& kinds, int limit) {
  if (limit <= 0) {
    return Status::InvalidArgument("outbox list limit must be positive, got " +
                                   std::to_string(limit));
  }
  std::string kinds_text;
  if (!kinds.empty()) {
    NURT_ASSIGN_OR_RETURN(kinds_text, DumpStrings(kinds, "outbox kinds filter"));
  }
  NURT_ASSIGN_OR_RETURN(ReaderLease lease, AcquireReader());
  NURT_ASSIGN_OR_RETURN(Query q, lease.get()->Prepare(kListPendingOutbox));
  if (kinds.empty()) {
    q.BindNull(1);
  } else {
    q.Bind(1, kinds_text);
  }
  q.Bind(2, static_cast<std::int64_t>(limit));
  std::vector<OutboxItem> out;
  for (;;) {
    NURT_ASSIGN_OR_RETURN(bool row, q.Next("listing pending outbox items"));
    if (!row) break;
    OutboxItem o;
    o.org_id = q.Text(0);
    o.id = q.Text(1);
    o.instance_id = q.Text(2);
    o.event_sequence = q.Int64(3);
    o.kind = q.Text(4);
    const std::string where = "outbox item " + Quote(o.id) + " of org " + Quote(o.org_id);
    NURT_ASSIGN_OR_RETURN(o.payload, Load(q.Text(5), where + ", column payload"));
    o.idempotency_key = q.Text(6);
    o.created_at = FromUnixMillis(q.Int64(7));
    o.status = q.Text(8);
    NURT_ASSIGN_OR_RETURN(o.result, Load(q.Text(9), where + ", column result"));
    out.push_back(std::move(o));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Human tasks

namespace {

std::string TaskName(const std::string& org_id, const std::string& id) {
  return "task " + Quote(id) + " of org " + Quote(org_id);
}

std::optional<TimePoint> OptionalTime(const Query& q, int column) {
  if (q.IsNull(column)) return std::nullopt;
  return FromUnixMillis(q.Int64(column));
}

Result<TaskRecord> ReadTask(const Query& q) {
  TaskRecord t;
  t.org_id = q.Text(0);
  t.id = q.Text(1);
  t.instance_id = q.Text(2);
  t.machine = q.Text(3);
  t.state = q.Text(4);
  t.title = q.Text(5);
  t.description = q.Text(6);
  t.assignee_role = q.Text(7);
  t.assignee_user = q.Text(8);
  const std::string where = "tasks row of " + TaskName(t.org_id, t.id);
  NURT_ASSIGN_OR_RETURN(t.form, Load(q.Text(9), where + ", column form"));
  NURT_ASSIGN_OR_RETURN(t.checklist, Load(q.Text(10), where + ", column checklist"));
  NURT_ASSIGN_OR_RETURN(t.decisions, Load(q.Text(11), where + ", column decisions"));
  t.due_at = OptionalTime(q, 12);
  t.status = q.Text(13);
  t.claimed_by = q.Text(14);
  t.claimed_at = OptionalTime(q, 15);
  t.decision = q.Text(16);
  t.completed_by = q.Text(17);
  NURT_ASSIGN_OR_RETURN(t.result, Load(q.Text(18), where + ", column result"));
  t.opened_at = FromUnixMillis(q.Int64(19));
  t.closed_at = OptionalTime(q, 20);
  t.close_reason = q.Text(21);
  t.opened_by_sequence = q.Int64(22);
  t.closed_by_sequence = q.Int64(23);
  return t;
}

// Why a task could not be claimed/released/closed, read after an UPDATE changed no row.
Status TaskNotActive(Connection* conn, const std::string& org_id, const std::string& id,
                     const std::string& user, const std::string& doing) {
  const std::string who = TaskName(org_id, id);
  NURT_ASSIGN_OR_RETURN(Query q, conn->Prepare(kGetTask));
  q.Bind(1, org_id).Bind(2, id);
  NURT_ASSIGN_OR_RETURN(bool row, q.Next("reading " + who));
  if (!row) return Status::NotFound(who + " does not exist");
  const std::string status = q.Text(13);
  const std::string holder = q.Text(14);
  if (status == "claimed" && holder != user) {
    return Status::FailedPrecondition(who + " is claimed by " + Quote(holder) + ", so " +
                                      Quote(user) + " cannot " + doing +
                                      " it; ask them to release it (or an admin to reassign it)");
  }
  return Status::FailedPrecondition(who + " is already " + status + " (" +
                                    (status == "completed" ? "decision " + Quote(q.Text(16)) +
                                                                 " by " + Quote(q.Text(17))
                                                           : q.Text(21)) +
                                    "); there is nothing to " + doing);
}

}  // namespace

Status SqliteStore::ApplyTasksLocked(Connection* w, const CommitRequest& r) {
  const std::string who = InstanceName(r.org_id, r.instance_id);
  const std::int64_t sequence = r.events.empty() ? r.instance.version : r.events.front().sequence;
  const TimePoint now = r.instance.updated_at;
  for (const TaskClosure& c : r.tasks_closed) {
    const std::string what = TaskName(r.org_id, c.task_id) + " (closed by a commit of " + who + ")";
    if (c.status != "completed" && c.status != "closed") {
      return Status::InvalidArgument(what + ": a closure's status must be completed or closed, got " +
                                     Quote(c.status));
    }
    NURT_ASSIGN_OR_RETURN(std::string result, Dump(c.result, what + " result"));
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kCloseTask));
    q.Bind(1, r.org_id).Bind(2, c.task_id).Bind(3, c.status).Bind(4, c.decision).Bind(5, c.actor);
    q.Bind(6, result).Bind(7, ToUnixMillis(now)).Bind(8, c.reason).Bind(9, sequence);
    q.Bind(10, r.instance_id);
    NURT_RETURN_IF_ERROR(q.Run("closing " + what));
    if (w->Changes() != 1) {
      Status why = TaskNotActive(w, r.org_id, c.task_id, c.actor,
                                 c.status == "completed" ? "complete" : "close");
      if (IsInfrastructure(why)) return why;
      return Status::Conflict(what + " changed meanwhile: " + why.message() + "; reload and retry");
    }
  }
  for (const TaskRecord& t : r.tasks_opened) {
    const std::string what = TaskName(r.org_id, t.id) + " (opened by a commit of " + who + ")";
    if (t.org_id != r.org_id || t.instance_id != r.instance_id) {
      return Status::InvalidArgument(what + " names instance " + Quote(t.instance_id) + " of org " +
                                     Quote(t.org_id) + "; tasks must name the committed instance");
    }
    NURT_RETURN_IF_ERROR(InsertTaskRow(w, t, what));
  }
  return Status::Ok();
}

Status InsertTaskRow(Connection* w, const TaskRecord& t, const std::string& what) {
  NURT_ASSIGN_OR_RETURN(std::string form, Dump(t.form, what + " form"));
  NURT_ASSIGN_OR_RETURN(std::string checklist, Dump(t.checklist, what + " checklist"));
  NURT_ASSIGN_OR_RETURN(std::string decisions, Dump(t.decisions, what + " decisions"));
  NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kInsertTask));
  q.Bind(1, t.org_id).Bind(2, t.id).Bind(3, t.instance_id).Bind(4, t.machine).Bind(5, t.state);
  q.Bind(6, t.title).Bind(7, t.description).Bind(8, t.assignee_role).Bind(9, t.assignee_user);
  q.Bind(10, form).Bind(11, checklist).Bind(12, decisions);
  if (t.due_at) {
    q.Bind(13, ToUnixMillis(*t.due_at));
  } else {
    q.BindNull(13);
  }
  q.Bind(14, ToUnixMillis(t.opened_at)).Bind(15, t.opened_by_sequence);
  const int rc = q.Step();
  if (rc == SQLITE_DONE) return Status::Ok();
  if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
    return Status::AlreadyExists("task id " + Quote(t.id) + " is already taken in org " + Quote(t.org_id) +
                                 "; every task needs a new id");
  }
  if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
    return Status::InvalidArgument(what + " names instance " + Quote(t.instance_id) +
                                   ", which does not exist in org " + Quote(t.org_id));
  }
  return w->Error(rc, "inserting " + what);
}

Result<TaskRecord> SqliteStore::GetTask(const std::string& org_id, const std::string& id) {
  NURT_ASSIGN_OR_RETURN(ReaderLease lease, AcquireReader());
  NURT_ASSIGN_OR_RETURN(Query q, lease.get()->Prepare(kGetTask));
  q.Bind(1, org_id).Bind(2, id);
  NURT_ASSIGN_OR_RETURN(bool row, q.Next("reading " + TaskName(org_id, id)));
  if (!row) return Status::NotFound(TaskName(org_id, id) + " does not exist");
  return ReadTask(q);
}

Result<std::vector<TaskRecord>> SqliteStore::ListTasks(const std::string& org_id,
                                                       const TaskFilter& filter) {
  if (filter.limit <= 0 || filter.limit > 1000) {
    return Status::InvalidArgument("task list limit must be 1..1000, got " +
                                   std::to_string(filter.limit));
  }
  static const std::set<std::string> kStatuses = {"", "open", "claimed", "completed", "closed"};
  if (!kStatuses.count(filter.status)) {
    return Status::InvalidArgument("task status filter " + Quote(filter.status) +
                                   " is not one of open, claimed, completed, closed (or empty)");
  }
  std::string status = filter.status;
  if (filter.only_active && status.empty()) status = "open";
  if (filter.only_active && (status == "completed" || status == "closed")) return std::vector<TaskRecord>();
  NURT_ASSIGN_OR_RETURN(ReaderLease lease, AcquireReader());
  const char* sql = kListTasksAll;
  if (!filter.instance_id.empty()) {
    sql = kListTasksByInstance;
  } else if (status == "open" && !filter.assignee_user.empty()) {
    sql = kListActiveTasksByUser;
  } else if (status == "open" && !filter.assignee_role.empty()) {
    sql = kListActiveTasksByRole;
  } else if (status == "open") {
    sql = kListActiveTasks;
  } else if (!status.empty()) {
    sql = kListTasksByStatus;
  }
  NURT_ASSIGN_OR_RETURN(Query q, lease.get()->Prepare(sql));
  q.Bind(1, org_id).Bind(2, status).Bind(3, filter.assignee_role).Bind(4, filter.assignee_user);
  q.Bind(5, filter.instance_id).Bind(6, filter.machine).Bind(7, filter.after_id);
  q.Bind(8, static_cast<std::int64_t>(filter.limit));
  std::vector<TaskRecord> out;
  for (;;) {
    NURT_ASSIGN_OR_RETURN(bool row, q.Next("listing the tasks of org " + Quote(org_id)));
    if (!row) break;
    NURT_ASSIGN_OR_RETURN(TaskRecord t, ReadTask(q));
    out.push_back(std::move(t));
  }
  return out;
}

Status SqliteStore::ClaimTask(const std::string& org_id, const std::string& id,
                              const std::string& user, TimePoint now) {
  if (user.empty()) {
    return Status::InvalidArgument("claiming " + TaskName(org_id, id) + " needs a user; it is empty");
  }
  std::lock_guard<std::mutex> lock(write_mu_);
  Connection* w = writer_.get();
  {
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kClaimTask));
    q.Bind(1, org_id).Bind(2, id).Bind(3, user).Bind(4, ToUnixMillis(now));
    NURT_RETURN_IF_ERROR(q.Run("claiming " + TaskName(org_id, id)));
  }
  if (w->Changes() == 1) return Status::Ok();
  {
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kGetTask));
    q.Bind(1, org_id).Bind(2, id);
    NURT_ASSIGN_OR_RETURN(bool row, q.Next("reading " + TaskName(org_id, id)));
    if (row && q.Text(13) == "claimed" && q.Text(14) == user) return Status::Ok();  // a retry
  }
  return TaskNotActive(w, org_id, id, user, "claim");
}

Status SqliteStore::ReleaseTask(const std::string& org_id, const std::string& id,
                                const std::string& user) {
  std::lock_guard<std::mutex> lock(write_mu_);
  Connection* w = writer_.get();
  {
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kReleaseTask));
    q.Bind(1, org_id).Bind(2, id).Bind(3, user);
    NURT_RETURN_IF_ERROR(q.Run("releasing " + TaskName(org_id, id)));
  }
  if (w->Changes() == 1) return Status::Ok();
  {
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kGetTask));
    q.Bind(1, org_id).Bind(2, id);
    NURT_ASSIGN_OR_RETURN(bool row, q.Next("reading " + TaskName(org_id, id)));
    if (row && q.Text(13) == "open") return Status::Ok();  // nothing to release: a retry
  }
  return TaskNotActive(w, org_id, id, user, "release");
}

// ---------------------------------------------------------------------------------------------------

Result<std::unique_ptr<Store>> NewSqliteStore(const SqliteOptions& options) {
  NURT_ASSIGN_OR_RETURN(std::unique_ptr<SqliteStore> store, SqliteStore::Open(options));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace nurt::store
