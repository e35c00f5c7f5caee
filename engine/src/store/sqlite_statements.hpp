#pragma once
// The SQL statements of SqliteStore (private to nurt_store; tests read them to check query plans).
// Each constant is prepared once per connection: Connection::Prepare caches by the constant's
// address, and an inline variable has one address in the whole program.

namespace nurt::store::sqlite::sql {

inline constexpr const char* kInsertInstance =
    "INSERT INTO instances (org_id, id, machine, machine_version, run_status, state, snapshot, "
    "version, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
// Column 2: the snapshot's configuration (every active state, compound ones too), or NULL.
inline constexpr const char* kSelectVersionAndState =
    "SELECT version, state, json_extract(snapshot, '$.configuration') FROM instances "
    "WHERE org_id = ?1 AND id = ?2";
// created_at is the first commit's and never changes.
inline constexpr const char* kUpdateInstance =
    "UPDATE instances SET machine = ?3, machine_version = ?4, run_status = ?5, state = ?6, "
    "snapshot = ?7, version = ?8, updated_at = ?9 WHERE org_id = ?1 AND id = ?2 AND version = ?10";
inline constexpr const char* kInsertState =
    "INSERT OR IGNORE INTO instance_states (org_id, state, instance_id) VALUES (?1, ?2, ?3)";
inline constexpr const char* kDeleteState =
    "DELETE FROM instance_states WHERE org_id = ?1 AND state = ?2 AND instance_id = ?3";
inline constexpr const char* kInsertEvent =
    "INSERT INTO events (org_id, instance_id, sequence, id, type, occurred_at, actor, entity_type, "
    "payload, schema_version, trace_id, causation_id, idempotency_key) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
inline constexpr const char* kInsertTransition =
    "INSERT INTO transitions (org_id, instance_id, event_sequence, step, event, from_states, "
    "to_states, source, targets, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
inline constexpr const char* kInsertOutbox =
    "INSERT INTO outbox (org_id, id, instance_id, event_sequence, kind, payload, idempotency_key, "
    "created_at, status, result, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?8)";
inline constexpr const char* kInsertIdempotency =
    "INSERT INTO idempotency (org_id, instance_id, idempotency_key, request_hash, response, "
    "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
inline constexpr const char* kSavepoint = "SAVEPOINT nurt_request";
inline constexpr const char* kRollbackToSavepoint = "ROLLBACK TO nurt_request";
inline constexpr const char* kReleaseSavepoint = "RELEASE nurt_request";

#define NURT_INSTANCE_COLUMNS                                                                \
  "org_id, id, machine, machine_version, run_status, state, snapshot, version, created_at, " \
  "updated_at"
inline constexpr const char* kGetInstance =
    "SELECT " NURT_INSTANCE_COLUMNS " FROM instances WHERE org_id = ?1 AND id = ?2";
// ListInstances: one statement per access path so that each uses its index in id order; the other
// filters are residual (?n = '' means "any"). ?7 is the context filter, a JSON array of
// [json path, value] pairs ('[]' = none): a row passes when, for every pair, the stored context has a
// value at the path of the same JSON type (numbers compare as numbers) and equal to it.
#define NURT_JSON_KIND(t) "(CASE WHEN " t " IN ('integer', 'real') THEN 'number' ELSE " t " END)"
#define NURT_CONTEXT_MISMATCH(row)                                                                \
  "(json_type(" #row ".snapshot, json_extract(f.value, '$[0]')) IS NULL OR "                       \
  NURT_JSON_KIND("json_type(" #row ".snapshot, json_extract(f.value, '$[0]'))")                  \
  " <> " NURT_JSON_KIND("json_type(f.value, '$[1]')") " OR "                                     \
  "json_extract(" #row ".snapshot, json_extract(f.value, '$[0]')) <> json_extract(f.value, '$[1]'))"
inline constexpr const char* kListInstancesByState =
    "SELECT i.org_id, i.id, i.machine, i.machine_version, i.run_status, i.state, i.snapshot, "
    "i.version, i.created_at, i.updated_at FROM instance_states s "
    "JOIN instances i ON i.org_id = s.org_id AND i.id = s.instance_id "
    "WHERE s.org_id = ?1 AND s.state = ?2 AND s.instance_id > ?3 "
    "AND (?4 = '' OR i.machine = ?4) AND (?5 = '' OR i.run_status = ?5) "
    "AND NOT EXISTS (SELECT 1 FROM json_each(?7) f WHERE " NURT_CONTEXT_MISMATCH(i) ") "
    "ORDER BY s.instance_id LIMIT ?6";
inline constexpr const char* kListInstancesByMachine =
    "SELECT " NURT_INSTANCE_COLUMNS
    " FROM instances i INDEXED BY instances_by_machine "
    "WHERE org_id = ?1 AND machine = ?4 AND id > ?3 AND (?5 = '' OR run_status = ?5) "
    "AND NOT EXISTS (SELECT 1 FROM json_each(?7) f WHERE " NURT_CONTEXT_MISMATCH(i) ") "
    "ORDER BY id LIMIT ?6";
inline constexpr const char* kListInstancesByRunStatus =
    "SELECT " NURT_INSTANCE_COLUMNS
    " FROM instances i INDEXED BY instances_by_run_status "
    "WHERE org_id = ?1 AND run_status = ?5 AND id > ?3 "
    "AND NOT EXISTS (SELECT 1 FROM json_each(?7) f WHERE " NURT_CONTEXT_MISMATCH(i) ") "
    "ORDER BY id LIMIT ?6";
inline constexpr const char* kListInstancesAll =
    "SELECT " NURT_INSTANCE_COLUMNS " FROM instances i WHERE org_id = ?1 AND id > ?3 "
    "AND NOT EXISTS (SELECT 1 FROM json_each(?7) f WHERE " NURT_CONTEXT_MISMATCH(i) ") "
    "ORDER BY id LIMIT ?6";
#undef NURT_INSTANCE_COLUMNS
#undef NURT_CONTEXT_MISMATCH
#undef NURT_JSON_KIND

inline constexpr const char* kFindIdempotency =
    "SELECT request_hash, response, created_at FROM idempotency "
    "WHERE org_id = ?1 AND instance_id = ?2 AND idempotency_key = ?3";
inline constexpr const char* kListEvents =
    "SELECT sequence, id, type, occurred_at, actor, entity_type, payload, schema_version, "
    "trace_id, "
    "causation_id, idempotency_key FROM events "
    "WHERE org_id = ?1 AND instance_id = ?2 AND sequence > ?3 AND sequence <= ?4 ORDER BY sequence";
inline constexpr const char* kListTransitions =
    "SELECT event_sequence, step, event, from_states, to_states, source, targets, detail "
    "FROM transitions WHERE org_id = ?1 AND instance_id = ?2 ORDER BY event_sequence, step";

inline constexpr const char* kInsertDefinition =
    "INSERT INTO definitions (org_id, name, version, source_file, source_text, scripts, "
    "content_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
    "ON CONFLICT (org_id, name, version) DO NOTHING";
inline constexpr const char* kDefinitionHash =
    "SELECT content_hash FROM definitions WHERE org_id = ?1 AND name = ?2 AND version = ?3";
#define NURT_DEFINITION_COLUMNS \
  "org_id, name, version, source_file, source_text, scripts, content_hash, created_at"
inline constexpr const char* kGetDefinition =
    "SELECT " NURT_DEFINITION_COLUMNS
    " FROM definitions WHERE org_id = ?1 AND name = ?2 AND "
    "version = ?3";
inline constexpr const char* kGetLatestDefinition =
    "SELECT " NURT_DEFINITION_COLUMNS
    " FROM definitions WHERE org_id = ?1 AND name = ?2 "
    "ORDER BY version DESC LIMIT 1";
inline constexpr const char* kListDefinitions = "SELECT " NURT_DEFINITION_COLUMNS
                                                " FROM definitions WHERE org_id = ?1 "
                                                "ORDER BY name, version";
#undef NURT_DEFINITION_COLUMNS

// `state` is the JSON array text of active atomic states; grouped as stored (same order every time).
inline constexpr const char* kCountInstances =
    "SELECT org_id, machine, state, run_status, count(*) FROM instances "
    "GROUP BY org_id, machine, state, run_status";

// `status = 'pending'` is written literally so that the partial index outbox_pending applies.
inline constexpr const char* kListPendingOutbox =
    "SELECT org_id, id, instance_id, event_sequence, kind, payload, idempotency_key, created_at, "
    "status, result FROM outbox INDEXED BY outbox_pending WHERE status = 'pending' "
    "AND (?1 IS NULL OR kind IN (SELECT value FROM json_each(?1))) "
    "ORDER BY created_at, id LIMIT ?2";
// updated_at comes from the database's clock: it is for operators and is never read by nurt.
inline constexpr const char* kCompleteOutbox =
    "UPDATE outbox SET status = ?3, result = ?4, "
    "updated_at = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) "
    "WHERE org_id = ?1 AND id = ?2 AND status = 'pending'";
inline constexpr const char* kOutboxStatus =
    "SELECT status FROM outbox WHERE org_id = ?1 AND id = ?2";

// Human tasks (migration 3).
inline constexpr const char* kInsertTask =
    "INSERT INTO tasks (org_id, id, instance_id, machine, state, title, description, assignee_role, "
    "assignee_user, form, checklist, decisions, due_at, status, claimed_by, claimed_at, decision, "
    "completed_by, result, opened_at, closed_at, close_reason, opened_by_sequence, "
    "closed_by_sequence) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 'open', '', "
    "NULL, '', '', 'null', ?14, NULL, '', ?15, 0)";
// A completion must come from the claimer when the task is claimed; a closure (state left) ends the
// task whoever holds it. No row changed = the task is not active any more (or another user holds it).
inline constexpr const char* kCloseTask =
    "UPDATE tasks SET status = ?3, decision = ?4, completed_by = ?5, result = ?6, closed_at = ?7, "
    "close_reason = ?8, closed_by_sequence = ?9 WHERE org_id = ?1 AND id = ?2 AND instance_id = ?10 "
    "AND (status = 'open' OR (status = 'claimed' AND (?3 = 'closed' OR claimed_by = ?5)))";
#define NURT_TASK_COLUMNS                                                                         \
  "org_id, id, instance_id, machine, state, title, description, assignee_role, assignee_user, "  \
  "form, checklist, decisions, due_at, status, claimed_by, claimed_at, decision, completed_by, " \
  "result, opened_at, closed_at, close_reason, opened_by_sequence, closed_by_sequence"
inline constexpr const char* kGetTask =
    "SELECT " NURT_TASK_COLUMNS " FROM tasks WHERE org_id = ?1 AND id = ?2";
// ListTasks: one statement per access path, each using its index in id order (the inbox ones the
// partial indexes on active tasks, so finished tasks never slow an inbox down). Parameters: ?1 org,
// ?2 status ('' any; 'open' = open or claimed), ?3 role, ?4 user, ?5 instance, ?6 machine,
// ?7 after_id, ?8 limit; filters other than the access path are residual (?n = '' means "any").
#define NURT_TASK_FILTERS                                                                       \
  " AND id > ?7 AND (?2 = '' OR (?2 = 'open' AND status IN ('open', 'claimed')) OR status = ?2)" \
  " AND (?3 = '' OR assignee_role = ?3) AND (?4 = '' OR assignee_user = ?4)"                    \
  " AND (?5 = '' OR instance_id = ?5) AND (?6 = '' OR machine = ?6) ORDER BY id LIMIT ?8"
inline constexpr const char* kListTasksByInstance =
    "SELECT " NURT_TASK_COLUMNS " FROM tasks INDEXED BY tasks_by_instance "
    "WHERE org_id = ?1 AND instance_id = ?5" NURT_TASK_FILTERS;
inline constexpr const char* kListActiveTasksByUser =
    "SELECT " NURT_TASK_COLUMNS " FROM tasks INDEXED BY tasks_active_by_user "
    "WHERE org_id = ?1 AND assignee_user = ?4 AND status IN ('open', 'claimed')" NURT_TASK_FILTERS;
inline constexpr const char* kListActiveTasksByRole =
    "SELECT " NURT_TASK_COLUMNS " FROM tasks INDEXED BY tasks_active_by_role "
    "WHERE org_id = ?1 AND assignee_role = ?3 AND status IN ('open', 'claimed')" NURT_TASK_FILTERS;
inline constexpr const char* kListActiveTasks =
    "SELECT " NURT_TASK_COLUMNS " FROM tasks INDEXED BY tasks_active "
    "WHERE org_id = ?1 AND status IN ('open', 'claimed')" NURT_TASK_FILTERS;
inline constexpr const char* kListTasksByStatus =
    "SELECT " NURT_TASK_COLUMNS " FROM tasks INDEXED BY tasks_by_status "
    "WHERE org_id = ?1 AND status = ?2" NURT_TASK_FILTERS;
inline constexpr const char* kListTasksAll =
    "SELECT " NURT_TASK_COLUMNS " FROM tasks WHERE org_id = ?1" NURT_TASK_FILTERS;
#undef NURT_TASK_FILTERS
#undef NURT_TASK_COLUMNS
inline constexpr const char* kClaimTask =
    "UPDATE tasks SET status = 'claimed', claimed_by = ?3, claimed_at = ?4 "
    "WHERE org_id = ?1 AND id = ?2 AND status = 'open'";
inline constexpr const char* kReleaseTask =
    "UPDATE tasks SET status = 'open', claimed_by = '', claimed_at = NULL "
    "WHERE org_id = ?1 AND id = ?2 AND status = 'claimed' AND claimed_by = ?3";

}  // namespace nurt::store::sqlite::sql
