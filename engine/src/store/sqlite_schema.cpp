#include "store/sqlite_schema.hpp"

#include <set>
#include <string>

namespace nurt::store::sqlite {
namespace {

// Migration 1: the first schema. docs/store.md describes every table, column and index; keep the
// two in step. Every table is STRICT (a column holds only its declared type) and every row carries
// org_id.
constexpr const char* kMigration1 = R"sql(
CREATE TABLE definitions (
  org_id       TEXT    NOT NULL,
  name         TEXT    NOT NULL,
  version      INTEGER NOT NULL CHECK (version >= 1),
  source_file  TEXT    NOT NULL,
  source_text  TEXT    NOT NULL,
  scripts      TEXT    NOT NULL,
  content_hash TEXT    NOT NULL,
  created_at   INTEGER NOT NULL,
  PRIMARY KEY (org_id, name, version)
) STRICT;

CREATE TABLE instances (
  org_id          TEXT    NOT NULL,
  id              TEXT    NOT NULL,
  machine         TEXT    NOT NULL,
  machine_version INTEGER NOT NULL,
  run_status      TEXT    NOT NULL,
  state           TEXT    NOT NULL,
  snapshot        TEXT    NOT NULL,
  version         INTEGER NOT NULL CHECK (version >= 1),
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  PRIMARY KEY (org_id, id)
) STRICT;
CREATE INDEX instances_by_machine ON instances (org_id, machine, id);
CREATE INDEX instances_by_run_status ON instances (org_id, run_status, id);

CREATE TABLE instance_states (
  org_id      TEXT NOT NULL,
  state       TEXT NOT NULL,
  instance_id TEXT NOT NULL,
  PRIMARY KEY (org_id, state, instance_id),
  FOREIGN KEY (org_id, instance_id) REFERENCES instances (org_id, id)
) STRICT, WITHOUT ROWID;

CREATE TABLE events (
  org_id          TEXT    NOT NULL,
  instance_id     TEXT    NOT NULL,
  sequence        INTEGER NOT NULL CHECK (sequence >= 1),
  id              TEXT    NOT NULL,
  type            TEXT    NOT NULL,
  occurred_at     INTEGER NOT NULL,
  actor           TEXT    NOT NULL,
  entity_type     TEXT    NOT NULL,
  payload         TEXT    NOT NULL,
  schema_version  INTEGER NOT NULL,
  trace_id        TEXT    NOT NULL,
  causation_id    TEXT    NOT NULL,
  idempotency_key TEXT    NOT NULL,
  PRIMARY KEY (org_id, instance_id, sequence),
  FOREIGN KEY (org_id, instance_id) REFERENCES instances (org_id, id)
) STRICT;
CREATE UNIQUE INDEX events_by_id ON events (org_id, id);

CREATE TABLE transitions (
  org_id         TEXT    NOT NULL,
  instance_id    TEXT    NOT NULL,
  event_sequence INTEGER NOT NULL,
  step           INTEGER NOT NULL CHECK (step >= 0),
  event          TEXT    NOT NULL,
  from_states    TEXT    NOT NULL,
  to_states      TEXT    NOT NULL,
  source         TEXT    NOT NULL,
  targets        TEXT    NOT NULL,
  detail         TEXT    NOT NULL,
  PRIMARY KEY (org_id, instance_id, event_sequence, step),
  FOREIGN KEY (org_id, instance_id, event_sequence)
    REFERENCES events (org_id, instance_id, sequence)
) STRICT;

CREATE TABLE outbox (
  org_id          TEXT    NOT NULL,
  id              TEXT    NOT NULL,
  instance_id     TEXT    NOT NULL,
  event_sequence  INTEGER NOT NULL,
  kind            TEXT    NOT NULL,
  payload         TEXT    NOT NULL,
  idempotency_key TEXT    NOT NULL CHECK (idempotency_key <> ''),
  created_at      INTEGER NOT NULL,
  status          TEXT    NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
  result          TEXT    NOT NULL,
  updated_at      INTEGER NOT NULL,
  PRIMARY KEY (org_id, id),
  FOREIGN KEY (org_id, instance_id) REFERENCES instances (org_id, id)
) STRICT;
CREATE UNIQUE INDEX outbox_by_idempotency_key ON outbox (org_id, idempotency_key);
CREATE INDEX outbox_pending ON outbox (created_at, id) WHERE status = 'pending';

CREATE TABLE idempotency (
  org_id          TEXT    NOT NULL,
  instance_id     TEXT    NOT NULL,
  idempotency_key TEXT    NOT NULL,
  request_hash    TEXT    NOT NULL,
  response        TEXT    NOT NULL,
  created_at      INTEGER NOT NULL,
  PRIMARY KEY (org_id, instance_id, idempotency_key)
) STRICT;
)sql";

// Migration 2: API keys and the audit log (docs/store.md). A key's secret is never stored, only an
// HMAC of it; `prefix` is the public half of the token and the lookup key. A name is unique per org
// among keys that are not revoked, so a revoked key's name can be reused.
constexpr const char* kMigration2 = R"sql(
CREATE TABLE api_keys (
  org_id       TEXT    NOT NULL,
  id           TEXT    NOT NULL,
  prefix       TEXT    NOT NULL,
  secret_hash  TEXT    NOT NULL,
  name         TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  scopes       TEXT    NOT NULL,
  role         TEXT    NOT NULL,
  tier         TEXT    NOT NULL CHECK (tier IN ('basic', 'standard', 'premium')),
  status       TEXT    NOT NULL CHECK (status IN ('active', 'suspended', 'revoked')),
  created_at   INTEGER NOT NULL,
  created_by   TEXT    NOT NULL,
  expires_at   INTEGER,
  last_used_at INTEGER,
  updated_at   INTEGER NOT NULL,
  PRIMARY KEY (org_id, id)
) STRICT;
CREATE UNIQUE INDEX api_keys_by_prefix ON api_keys (prefix);
CREATE UNIQUE INDEX api_keys_name_per_org ON api_keys (org_id, name) WHERE status <> 'revoked';

CREATE TABLE audit_log (
  org_id      TEXT    NOT NULL,
  id          TEXT    NOT NULL,
  occurred_at INTEGER NOT NULL,
  actor       TEXT    NOT NULL,
  action      TEXT    NOT NULL,
  target      TEXT    NOT NULL,
  reason      TEXT    NOT NULL,
  detail      TEXT    NOT NULL,
  PRIMARY KEY (org_id, id)
) STRICT;
CREATE INDEX audit_log_by_time ON audit_log (org_id, occurred_at);
)sql";

// Migration 3: human tasks (docs/store.md "tasks"). Migrate applies every known version that is not
// yet recorded, in ascending order, so a database that skipped one gets it later.
constexpr const char* kMigration3 = R"sql(
CREATE TABLE tasks (
  org_id             TEXT    NOT NULL,
  id                 TEXT    NOT NULL,
  instance_id        TEXT    NOT NULL,
  machine            TEXT    NOT NULL,
  state              TEXT    NOT NULL,
  title              TEXT    NOT NULL,
  description        TEXT    NOT NULL,
  assignee_role      TEXT    NOT NULL,
  assignee_user      TEXT    NOT NULL,
  form               TEXT    NOT NULL,
  checklist          TEXT    NOT NULL,
  decisions          TEXT    NOT NULL,
  due_at             INTEGER,
  status             TEXT    NOT NULL
                     CHECK (status IN ('open', 'claimed', 'completed', 'closed')),
  claimed_by         TEXT    NOT NULL,
  claimed_at         INTEGER,
  decision           TEXT    NOT NULL,
  completed_by       TEXT    NOT NULL,
  result             TEXT    NOT NULL,
  opened_at          INTEGER NOT NULL,
  closed_at          INTEGER,
  close_reason       TEXT    NOT NULL,
  opened_by_sequence INTEGER NOT NULL,
  closed_by_sequence INTEGER NOT NULL,
  PRIMARY KEY (org_id, id),
  FOREIGN KEY (org_id, instance_id) REFERENCES instances (org_id, id)
) STRICT;
CREATE INDEX tasks_by_status ON tasks (org_id, status, id);
CREATE INDEX tasks_by_instance ON tasks (org_id, instance_id, id);
CREATE INDEX tasks_active ON tasks (org_id, id) WHERE status IN ('open', 'claimed');
CREATE INDEX tasks_active_by_role ON tasks (org_id, assignee_role, id)
  WHERE status IN ('open', 'claimed');
CREATE INDEX tasks_active_by_user ON tasks (org_id, assignee_user, id)
  WHERE status IN ('open', 'claimed');
)sql";

// Migration 5: durable timers (docs/store.md "timers"). `position` is the rowid: arming order, which the
// timer service uses to pick up timers armed by other processes since its last read.
constexpr const char* kMigration5 = R"sql(
CREATE TABLE timers (
  position             INTEGER PRIMARY KEY,
  org_id               TEXT    NOT NULL,
  id                   TEXT    NOT NULL,
  instance_id          TEXT    NOT NULL,
  machine              TEXT    NOT NULL,
  state                TEXT    NOT NULL,
  timer_index          INTEGER NOT NULL,
  kind                 TEXT    NOT NULL,
  event                TEXT    NOT NULL,
  description          TEXT    NOT NULL,
  due_at               INTEGER NOT NULL,
  armed_at             INTEGER NOT NULL,
  armed_by_sequence    INTEGER NOT NULL,
  status               TEXT    NOT NULL CHECK (status IN ('armed', 'fired', 'cancelled', 'failed')),
  finished_at          INTEGER,
  lateness_ms          INTEGER NOT NULL,
  finished_by_sequence INTEGER NOT NULL,
  detail               TEXT    NOT NULL,
  FOREIGN KEY (org_id, instance_id) REFERENCES instances (org_id, id)
) STRICT;
CREATE UNIQUE INDEX timers_by_id ON timers (org_id, id);
CREATE INDEX timers_by_instance ON timers (org_id, instance_id, position);
CREATE INDEX timers_armed_by_state ON timers (org_id, instance_id, state) WHERE status = 'armed';
CREATE INDEX timers_armed ON timers (position) WHERE status = 'armed';
)sql";

constexpr const char* kCreateMigrationsTable = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    INTEGER PRIMARY KEY,
  name       TEXT    NOT NULL,
  applied_at INTEGER NOT NULL
) STRICT;
)sql";

constexpr const char* kApplicationIdSql = "PRAGMA application_id";
constexpr const char* kCountTablesSql =
    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'";
constexpr const char* kHasMigrationsTableSql =
    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'";
constexpr const char* kCurrentVersionSql =
    "SELECT coalesce(max(version), 0) FROM schema_migrations";
constexpr const char* kAppliedVersionsSql = "SELECT version FROM schema_migrations ORDER BY version";
// applied_at comes from the database's clock: it is for operators, never read by nurt.
constexpr const char* kRecordMigrationSql =
    "INSERT INTO schema_migrations (version, name, applied_at) "
    "VALUES (?1, ?2, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))";

// Until version 4 only atomic states were indexed; the snapshot's configuration has every active state.
constexpr const char* kMigration4 = R"sql(
INSERT OR IGNORE INTO instance_states (org_id, state, instance_id)
SELECT i.org_id, c.value, i.id FROM instances i, json_each(i.snapshot, '$.configuration') c
WHERE c.type = 'text';
)sql";

// Migration 6: the rules engine (docs/store.md "Migration 6", docs/rules.md). The global event feed
// is the events table's implicit rowid (assigned in commit order by the single writer), so nothing is
// added to events; rule_cursors remembers how far each evaluator got and rule_firings what each rule
// did, unique per once_per key. `effects` holds a queued firing's outbox items and tasks until release.
constexpr const char* kMigration6 = R"sql(
CREATE TABLE rule_cursors (
  evaluator  TEXT    NOT NULL PRIMARY KEY,
  position   INTEGER NOT NULL CHECK (position >= 0),
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE rule_firings (
  org_id         TEXT    NOT NULL,
  rule_id        TEXT    NOT NULL,
  once_key       TEXT    NOT NULL,
  event_id       TEXT    NOT NULL,
  instance_id    TEXT    NOT NULL,
  event_position INTEGER NOT NULL,
  event_sequence INTEGER NOT NULL,
  evaluated_at   INTEGER NOT NULL,
  status         TEXT    NOT NULL CHECK (status IN ('fired', 'queued', 'dropped', 'error')),
  fired_at       INTEGER,
  detail         TEXT    NOT NULL,
  effects        TEXT    NOT NULL,
  UNIQUE (org_id, rule_id, once_key)
) STRICT;
CREATE INDEX rule_firings_fired ON rule_firings (org_id, fired_at) WHERE status = 'fired';
CREATE INDEX rule_firings_queued ON rule_firings (org_id) WHERE status = 'queued';
)sql";

// Migration 7: schedules (docs/store.md "schedule_state", "schedule_runs"). The primary key of
// schedule_runs is what makes a run unique per (org, schedule, scheduled time).
constexpr const char* kMigration7 = R"sql(
CREATE TABLE schedule_state (
  org_id             TEXT    NOT NULL,
  name               TEXT    NOT NULL,
  expression         TEXT    NOT NULL,
  time_zone          TEXT    NOT NULL,
  enabled            INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  last_scheduled_for INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL,
  PRIMARY KEY (org_id, name)
) STRICT;

CREATE TABLE schedule_runs (
  org_id         TEXT    NOT NULL,
  name           TEXT    NOT NULL,
  scheduled_for  INTEGER NOT NULL,
  started_at     INTEGER NOT NULL,
  lateness_ms    INTEGER NOT NULL,
  outcome        TEXT    NOT NULL CHECK (outcome IN ('started', 'emitted', 'skipped', 'failed')),
  instance_id    TEXT    NOT NULL,
  event_sequence INTEGER NOT NULL,
  error          TEXT    NOT NULL,
  PRIMARY KEY (org_id, name, scheduled_for)
) STRICT;
)sql";

// Migration 9: outbound webhooks (docs/store.md "Migration 9", docs/webhooks.md). A subscription's
// signing secret is kept sealed (AES-256-GCM under a key derived from the master secret), never in
// clear. A delivery is unique per (webhook, event), so matching an event twice writes one row; `id` is
// the webhook-id the receiver sees on every attempt. `seq` orders a webhook's deliveries (newest
// last) for the list and the pruning that keeps the last 100.
constexpr const char* kMigration9 = R"sql(
CREATE TABLE webhooks (
  org_id              TEXT    NOT NULL,
  id                  TEXT    NOT NULL,
  url                 TEXT    NOT NULL,
  description         TEXT    NOT NULL,
  events              TEXT    NOT NULL,
  headers             TEXT    NOT NULL,
  retry_policy        TEXT    NOT NULL CHECK (retry_policy IN ('exponential', 'immediate', 'none')),
  status              TEXT    NOT NULL CHECK (status IN ('active', 'paused')),
  allow_http_loopback INTEGER NOT NULL CHECK (allow_http_loopback IN (0, 1)),
  secret_sealed       TEXT    NOT NULL,
  created_at          INTEGER NOT NULL,
  created_by          TEXT    NOT NULL,
  updated_at          INTEGER NOT NULL,
  PRIMARY KEY (org_id, id)
) STRICT;

CREATE TABLE webhook_deliveries (
  seq             INTEGER PRIMARY KEY,
  org_id          TEXT    NOT NULL,
  id              TEXT    NOT NULL UNIQUE,
  webhook_id      TEXT    NOT NULL,
  event_id        TEXT    NOT NULL,
  event_type      TEXT    NOT NULL,
  body            TEXT    NOT NULL,
  test            INTEGER NOT NULL CHECK (test IN (0, 1)),
  status          TEXT    NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
  attempts        INTEGER NOT NULL,
  next_attempt_at INTEGER,
  created_at      INTEGER NOT NULL,
  finished_at     INTEGER,
  attempt_log     TEXT    NOT NULL,
  UNIQUE (org_id, webhook_id, event_id)
) STRICT;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (org_id, webhook_id, seq);
)sql";

// Migration 8: the effects dispatcher and the integration log (docs/store.md "Migration 8",
// docs/effects.md). The retry schedule lives on the outbox row itself, so a restart resumes it; an
// adapter effect's dead letter is its row with status 'failed'. The integration log's bodies are
// indexed by an external-content FTS5 table kept in step by triggers.
constexpr const char* kMigration8 = R"sql(
ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN next_attempt_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
CREATE INDEX outbox_effects_due ON outbox (next_attempt_at, id)
  WHERE status = 'pending' AND kind NOT LIKE 'nurt.%';
CREATE INDEX outbox_effects_by_org ON outbox (org_id, id) WHERE kind NOT LIKE 'nurt.%';

CREATE TABLE integration_log (
  position    INTEGER PRIMARY KEY,
  org_id      TEXT    NOT NULL,
  occurred_at INTEGER NOT NULL,
  system      TEXT    NOT NULL,
  direction   TEXT    NOT NULL CHECK (direction IN ('outbound', 'inbound')),
  status      TEXT    NOT NULL,
  http_status INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  request     TEXT    NOT NULL,
  response    TEXT    NOT NULL,
  attempt     INTEGER NOT NULL,
  effect_id   TEXT    NOT NULL,
  instance_id TEXT    NOT NULL,
  event_type  TEXT    NOT NULL,
  error       TEXT    NOT NULL
) STRICT;
CREATE INDEX integration_log_by_time ON integration_log (org_id, occurred_at);
CREATE VIRTUAL TABLE integration_log_fts USING fts5(
  request, response, content = 'integration_log', content_rowid = 'position');
CREATE TRIGGER integration_log_fts_insert AFTER INSERT ON integration_log BEGIN
  INSERT INTO integration_log_fts (rowid, request, response)
    VALUES (new.position, new.request, new.response);
END;
CREATE TRIGGER integration_log_fts_delete AFTER DELETE ON integration_log BEGIN
  INSERT INTO integration_log_fts (integration_log_fts, rowid, request, response)
    VALUES ('delete', old.position, old.request, old.response);
END;
)sql";

Result<std::int64_t> ScalarInt(Connection* conn, const char* sql, std::string_view what) {
  NURT_ASSIGN_OR_RETURN(Query q, conn->Prepare(sql));
  NURT_ASSIGN_OR_RETURN(bool row, q.Next(what));
  if (!row) return Status::Internal(std::string(what) + ": no row from `" + sql + "`");
  return q.Int64(0);
}

}  // namespace

const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> kMigrations = {
      {1, "initial schema: definitions, instances, events, transitions, outbox, idempotency",
       kMigration1},
      {2, "api keys and audit log", kMigration2},
      {3, "human tasks", kMigration3},
      {4, "instance_states also indexes compound and parallel states", kMigration4},
      {5, "durable timers", kMigration5},
      {6, "rules engine: rule_cursors and rule_firings", kMigration6},
      {7, "schedules: schedule_state and schedule_runs", kMigration7},
      {8, "effects: outbox retry schedule, integration_log with full-text search", kMigration8},
      {9, "outbound webhooks: webhooks and webhook_deliveries", kMigration9},
  };
  return kMigrations;
}

std::int64_t LatestSchemaVersion() { return Migrations().back().version; }

Status Migrate(Connection* conn) {
  const std::string& path = conn->path();
  WriteTransaction tx(conn);
  NURT_RETURN_IF_ERROR(tx.Begin("starting the schema migration"));

  NURT_ASSIGN_OR_RETURN(std::int64_t app_id,
                        ScalarInt(conn, kApplicationIdSql, "reading the application id"));
  NURT_ASSIGN_OR_RETURN(std::int64_t tables, ScalarInt(conn, kCountTablesSql, "listing tables"));
  const bool fresh = app_id == 0 && tables == 0;
  if (!fresh && app_id != kApplicationId) {
    return Status::DataLoss(
        "'" + path + "' is a SQLite database but not a nurt database (application_id " +
        std::to_string(app_id) + ", " + std::to_string(tables) +
        " tables); point the store at a new file or at an existing nurt database");
  }
  std::int64_t current = 0;
  if (!fresh) {
    NURT_ASSIGN_OR_RETURN(std::int64_t has_table,
                          ScalarInt(conn, kHasMigrationsTableSql, "looking for schema_migrations"));
    if (has_table == 0) {
      return Status::DataLoss("nurt database '" + path +
                              "' has no schema_migrations table: it is damaged; restore the latest "
                              "backup");
    }
    NURT_ASSIGN_OR_RETURN(current,
                          ScalarInt(conn, kCurrentVersionSql, "reading the schema version"));
  }
  const std::int64_t latest = LatestSchemaVersion();
  if (current > latest) {
    return Status::DataLoss(
        "nurt database '" + path + "' has schema version " + std::to_string(current) +
        " but this nurt binary knows schema versions up to " + std::to_string(latest) +
        ": it was written by a newer nurt. Run that newer nurt (or later) against it; nurt never "
        "downgrades a schema. To go back to this version, restore a backup taken before the "
        "upgrade");
  }
  // Versions are applied by membership, not by "greater than the highest": a database written by a
  // binary that knew 1 and 3 still gets 2 from a binary that knows 1, 2 and 3 (branches add
  // migrations independently).
  std::set<std::int64_t> applied;
  if (!fresh) {
    NURT_ASSIGN_OR_RETURN(Query q, conn->Prepare(kAppliedVersionsSql));
    for (;;) {
      NURT_ASSIGN_OR_RETURN(bool row, q.Next("listing applied schema migrations"));
      if (!row) break;
      applied.insert(q.Int64(0));
    }
  }
  for (std::int64_t v : applied) {
    bool known = false;
    for (const Migration& m : Migrations()) known = known || m.version == v;
    if (!known) {
      return Status::DataLoss("nurt database '" + path + "' has schema migration " + std::to_string(v) +
                              ", which this nurt binary does not know: it was written by a newer or "
                              "different nurt build; run that build against it (nurt never undoes a "
                              "migration)");
    }
  }
  bool pending = false;
  for (const Migration& m : Migrations()) pending = pending || !applied.count(m.version);
  if (!pending) return tx.Commit("finishing the schema check");

  NURT_RETURN_IF_ERROR(conn->Exec(kCreateMigrationsTable, "creating schema_migrations"));
  for (const Migration& m : Migrations()) {
    if (applied.count(m.version)) continue;
    NURT_RETURN_IF_ERROR(conn->Exec(
        m.sql, "applying schema migration " + std::to_string(m.version) + " (" + m.name + ")"));
    NURT_ASSIGN_OR_RETURN(Query q, conn->Prepare(kRecordMigrationSql));
    q.Bind(1, m.version).Bind(2, std::string_view(m.name));
    NURT_RETURN_IF_ERROR(q.Run("recording schema migration " + std::to_string(m.version)));
  }
  if (fresh) {
    NURT_RETURN_IF_ERROR(conn->Exec("PRAGMA application_id = " + std::to_string(kApplicationId),
                                    "marking the file as a nurt database"));
  }
  return tx.Commit("committing the schema migration");
}

}  // namespace nurt::store::sqlite
