#pragma once
// nurt::store::Store — the only truth. Everything an accepted event causes is written in ONE transaction.
//
// Implementations: SQLite (NewSqliteStore, the embedded default) and, in a later issue, PostgreSQL; both
// must pass the same parameterised suite (tests/engine/store/). Callers never see SQL or driver exceptions.
//
// Thread-safety: all methods may be called concurrently from several threads; implementations serialise
// writers internally.

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include "nurt/core/result.hpp"
#include "nurt/store/effect_records.hpp"
#include "nurt/store/records.hpp"
#include "nurt/store/rule_records.hpp"
#include "nurt/store/schedule_records.hpp"
#include "nurt/store/webhook_records.hpp"

namespace nurt::store {

// Everything one accepted event changes. Committed atomically or not at all.
struct CommitRequest {
  std::string org_id;
  std::string instance_id;
  // 0 = the instance must not exist yet (start); otherwise the version the caller read.
  std::int64_t expected_version = 0;
  InstanceRecord instance;                   // new state; instance.version = expected_version + 1
  std::vector<EventEnvelope> events;         // the accepted event (external first), in sequence order
  std::vector<TransitionRecord> transitions;
  std::vector<OutboxItem> outbox;
  std::optional<IdempotencyRecord> idempotency;  // written with the commit when present
  // Human tasks the step opened (org_id/instance_id must name this instance; opened_by_sequence is
  // set by the caller) and ended. Closures apply before openings, so a commit may close a state's
  // task and open a fresh one for the same state.
  std::vector<TaskRecord> tasks_opened;
  std::vector<TaskClosure> tasks_closed;
  // Timers (docs/store.md "timers"). Applied in this order: the fired timer (must still be armed, else
  // Conflict), the cancellations, then the new timers, so a commit may leave a state and re-enter it.
  std::optional<TimerFiring> timer_fired;
  std::vector<std::string> timer_states_cancelled;  // every armed timer of these states is cancelled
  bool cancel_all_timers = false;                    // the instance stops: cancel every armed timer
  std::string cancel_reason;                         // kept on the cancelled timers
  std::vector<TimerRecord> timers_armed;             // org_id/instance_id must name this instance
};

// ListTasks filter. Every field "" = any. Results are ordered by id (= by opening time).
struct TaskFilter {
  // "open" matches open AND claimed tasks (the inbox: everything not yet done, whoever holds it);
  // "claimed", "completed", "closed" match exactly that status; "" = any status.
  std::string status;
  std::string assignee_role;
  std::string assignee_user;
  std::string instance_id;
  std::string machine;
  std::string after_id;      // cursor: tasks with id > after_id
  bool only_active = false;  // true = open or claimed (same as status "open"; combined: both apply)
  int limit = 100;           // 1..1000
};

struct InstanceFilter {
  std::string machine;       // "" = any
  std::string state;         // "" = any; matches any active state id, atomic or compound/parallel
  std::string run_status;    // "" = any
  std::string after_id;      // cursor: return instances with id > after_id
  int limit = 100;
  // Every pair must hold: the context field at the dotted path ("customer.nip") exists, has the same
  // JSON type (integers and decimals are both numbers) and is equal. Values: text, number or bool
  // (anything else is InvalidArgument). A missing field never matches. docs/store.md "Context filters".
  std::vector<std::pair<std::string, Json>> context_equals;
};

// One group of instances for metrics: those of one org and machine in one state and run status.
struct InstanceCount {
  std::string org_id, machine;
  std::string state;  // the active atomic states, space-separated (e.g. "ksef.sent payment.waiting")
  std::string run_status;
  std::int64_t count = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Commits one request. Errors:
  //   Conflict        expected_version does not match (someone else advanced the instance), or the
  //                   instance exists when expected_version == 0 (AlreadyExists in that case)
  //   AlreadyExists   the idempotency key was committed meanwhile (caller re-reads the record)
  //   Conflict        also: a task in tasks_closed is no longer open/claimed, or (completed) is
  //                   claimed by someone other than the closure's actor — it changed meanwhile
  //   Unavailable     the database is busy or IO failed; nothing was written
  virtual Status Commit(const CommitRequest& request) = 0;

  // Commits several requests in ONE transaction (one fsync). Each request succeeds or fails on its own
  // (savepoint per request): `statuses` gets one Status per request, in order. Returns non-OK only when
  // the whole transaction failed (then nothing was written and every status is that error).
  virtual Status CommitBatch(const std::vector<CommitRequest>& requests,
                             std::vector<Status>* statuses) = 0;

  // NotFound when absent (or belonging to another org).
  virtual Result<InstanceRecord> GetInstance(const std::string& org_id, const std::string& id) = 0;
  virtual Result<std::vector<InstanceRecord>> ListInstances(const std::string& org_id,
                                                            const InstanceFilter& filter) = 0;

  // nullopt when the key was never used for this instance.
  virtual Result<std::optional<IdempotencyRecord>> FindIdempotency(const std::string& org_id,
                                                                   const std::string& instance_id,
                                                                   const std::string& key) = 0;

  // Events with sequence > after_sequence (and <= until_sequence when until_sequence > 0), ascending.
  virtual Result<std::vector<EventEnvelope>> ListEvents(const std::string& org_id,
                                                        const std::string& instance_id,
                                                        std::int64_t after_sequence = 0,
                                                        std::int64_t until_sequence = 0) = 0;
  virtual Result<std::vector<TransitionRecord>> ListTransitions(const std::string& org_id,
                                                                const std::string& instance_id) = 0;

  // Stores a definition version. Same (org, name, version) with the same content_hash is a no-op;
  // with a different hash it is AlreadyExists (a published version never changes).
  virtual Status PutDefinition(const DefinitionRecord& definition) = 0;
  // version 0 = the highest version. NotFound when absent.
  virtual Result<DefinitionRecord> GetDefinition(const std::string& org_id, const std::string& name,
                                                 std::int64_t version = 0) = 0;
  virtual Result<std::vector<DefinitionRecord>> ListDefinitions(const std::string& org_id) = 0;

  // Every instance counted by (org, machine, state, run status), across orgs: the daemon's
  // `nurt_instances` gauge. Reads the whole instances table: call it per metrics scrape, not per request.
  virtual Result<std::vector<InstanceCount>> CountInstances() = 0;

  // Pending outbox items of the given kinds (all kinds when empty), oldest first, across orgs.
  virtual Result<std::vector<OutboxItem>> ListPendingOutbox(const std::vector<std::string>& kinds,
                                                            int limit) = 0;
  // Marks an item done/failed with its result. NotFound if absent; FailedPrecondition if not pending.
  virtual Status CompleteOutbox(const std::string& org_id, const std::string& id,
                                const std::string& status, const Json& result) = 0;

  // Human tasks (opened and closed only through Commit). NotFound when absent or of another org.
  virtual Result<TaskRecord> GetTask(const std::string& org_id, const std::string& id) = 0;
  virtual Result<std::vector<TaskRecord>> ListTasks(const std::string& org_id,
                                                    const TaskFilter& filter) = 0;
  // open -> claimed by `user` (at `now`). Claimed by `user` already: OK, nothing changes. Errors:
  // NotFound; FailedPrecondition when claimed by someone else (names them) or completed/closed;
  // InvalidArgument for an empty user.
  virtual Status ClaimTask(const std::string& org_id, const std::string& id, const std::string& user,
                           TimePoint now) = 0;
  // claimed by `user` -> open. Already open: OK, nothing changes. Errors: NotFound;
  // FailedPrecondition when claimed by someone else (names them) or completed/closed.
  virtual Status ReleaseTask(const std::string& org_id, const std::string& id,
                             const std::string& user) = 0;

  // --- timers (armed, fired and cancelled only through Commit, except FinishTimer) -----------------
  // Armed timers of every org with position > after_position, by position (arming order): the timer
  // service loads them all at start in pages, then reads only what other processes armed since.
  virtual Result<std::vector<TimerRecord>> ListArmedTimers(std::int64_t after_position, int limit) = 0;
  // NotFound when absent or of another org.
  virtual Result<TimerRecord> GetTimer(const std::string& org_id, const std::string& id) = 0;
  // Every timer of an instance (any status), by arming order.
  virtual Result<std::vector<TimerRecord>> ListInstanceTimers(const std::string& org_id,
                                                              const std::string& instance_id) = 0;
  // armed -> failed or cancelled, with `detail` (a timer whose event could not be applied, or whose
  // instance ended without a commit that cancelled it). FailedPrecondition when it is not armed.
  virtual Status FinishTimer(const std::string& org_id, const std::string& id, const std::string& status,
                             const std::string& detail, TimePoint now) = 0;
  // --- Notifications (notify dispatcher) ---
  // The send times (result "sentAt") of the org's "nurt.notify" outbox items completed "done" on
  // `channel` (payload "channel") at or after `since`, ascending: the per-channel throttle window,
  // rebuilt from durable data after a restart. Reads the org's outbox items of that kind (no index):
  // call it once per channel and process, not per send.
  virtual Result<std::vector<TimePoint>> ListNotificationsSent(const std::string& org_id,
                                                               const std::string& channel,
                                                               TimePoint since) = 0;

  // --- Rules engine (docs/rules.md; docs/store.md "Migration 6") -----------------------------------
  // Committed events with position > `position`, ascending, at most `limit` (1..10000), across orgs.
  virtual Result<std::vector<FeedEvent>> ListEventsAfter(std::int64_t position, int limit) = 0;
  // The evaluator's cursor: the position of the last event it committed (0 = none yet).
  virtual Result<std::int64_t> GetRuleCursor(const std::string& evaluator) = 0;
  // True when (org, rule, key) was recorded by some firing (any status except dropped and error).
  virtual Result<bool> HasRuleFiring(const std::string& org_id, const std::string& rule_id,
                                     const std::string& key) = 0;
  // Fired firings of `rule_ids` (empty = every rule of the org) with fired_at >= since.
  virtual Result<std::int64_t> CountRuleFirings(const std::string& org_id,
                                                const std::vector<std::string>& rule_ids,
                                                TimePoint since) = 0;
  // Queued firings of the org, oldest first (evaluation order), with their kept effects.
  virtual Result<std::vector<RuleFiring>> ListQueuedRuleFirings(const std::string& org_id,
                                                                int limit) = 0;
  // Commits one evaluation pass atomically. A firing whose (org, rule, key) exists already is skipped
  // with its effects (the once_per guarantee holds even against a racing evaluator). Errors:
  //   Conflict         the cursor is no longer at expected_position (another evaluator of that name
  //                    committed meanwhile): nothing was written; read the cursor and evaluate again
  //   InvalidArgument  a malformed request (empty evaluator, position going back, unknown status)
  //   Unavailable      the database is busy or IO failed; nothing was written
  virtual Status CommitRuleEvaluation(const RuleEvaluationCommit& commit) = 0;

  // --- schedules (docs/store.md "schedule_state" and "schedule_runs"; nurt/schedule/scheduler.hpp) ---
  // nullopt when the scheduler has never seen the schedule.
  virtual Result<std::optional<ScheduleState>> GetScheduleState(const std::string& org_id,
                                                                const std::string& name) = 0;
  // Every schedule state of the org, by name.
  virtual Result<std::vector<ScheduleState>> ListScheduleStates(const std::string& org_id) = 0;
  // ONE transaction: writes `state` (insert or replace) and inserts `runs` (each of state's org and
  // name). A run already recorded for its (org, name, scheduled_for) is kept as it was, so recording
  // again after a crash changes nothing. Errors: InvalidArgument (empty org/name, a run of another
  // schedule, an unknown outcome), Unavailable (nothing was written).
  virtual Status RecordScheduleRuns(const ScheduleState& state, const std::vector<ScheduleRun>& runs) = 0;
  // Runs of one schedule, newest first, those scheduled strictly before `before` (nullopt: from the
  // newest); limit 1..1000.
  virtual Result<std::vector<ScheduleRun>> ListScheduleRuns(const std::string& org_id, const std::string& name,
                                                            std::optional<TimePoint> before, int limit) = 0;

  // --- Outbound webhooks (docs/webhooks.md; docs/store.md "Migration 9") ---------------------------
  // Each change to a subscription is written with its audit record (nurt/store/key_store.hpp) in ONE
  // transaction. Errors: InvalidArgument (empty org/id, unknown status or retry policy), AlreadyExists
  // (CreateWebhook: the id is taken), NotFound (absent or of another org), Unavailable.
  virtual Status CreateWebhook(const WebhookRecord& webhook, const AuditRecord& audit) = 0;
  // Replaces every field but org, id, created_at and created_by.
  virtual Status UpdateWebhook(const WebhookRecord& webhook, const AuditRecord& audit) = 0;
  // Deletes the subscription and its deliveries (pending ones are never sent).
  virtual Status DeleteWebhook(const std::string& org_id, const std::string& id, const AuditRecord& audit) = 0;
  virtual Result<WebhookRecord> GetWebhook(const std::string& org_id, const std::string& id) = 0;
  // The org's subscriptions by id (org "" = every org's, for the delivery engine).
  virtual Result<std::vector<WebhookRecord>> ListWebhooks(const std::string& org_id) = 0;
  // Moves the cursor (the rule_cursors row named commit.evaluator) and inserts the deliveries in ONE
  // transaction; a delivery whose (org, webhook, event) exists is skipped. Conflict when the cursor
  // is no longer at expected_position (nothing was written).
  virtual Status CommitWebhookMatches(const WebhookMatchCommit& commit) = 0;
  // Inserts one delivery (a test delivery). AlreadyExists when its id is taken.
  virtual Status InsertWebhookDelivery(const WebhookDelivery& delivery) = 0;
  // Pending deliveries of active subscriptions with next_attempt_at <= now, across orgs, most
  // overdue first, at most `limit` (1..1000).
  virtual Result<std::vector<WebhookDelivery>> ListDueWebhookDeliveries(TimePoint now, int limit) = 0;
  // The earliest next_attempt_at of a pending delivery of an active subscription (nullopt: none).
  virtual Result<std::optional<TimePoint>> NextWebhookDeliveryDue() = 0;
  // Records one try of a pending delivery: appends `attempt`, sets status (pending | succeeded |
  // failed) and next_attempt_at (pending only). A delivery that finished makes the store drop that
  // subscription's finished deliveries beyond the newest `keep`. FailedPrecondition when the delivery
  // is no longer pending (another process finished it), NotFound when it is gone.
  virtual Status RecordWebhookAttempt(const std::string& org_id, const std::string& delivery_id,
                                      const WebhookAttempt& attempt, const std::string& status,
                                      std::optional<TimePoint> next_attempt_at, int keep) = 0;
  virtual Result<WebhookDelivery> GetWebhookDelivery(const std::string& org_id, const std::string& id) = 0;
  // A subscription's deliveries, newest first, at most `limit` (1..1000).
  virtual Result<std::vector<WebhookDelivery>> ListWebhookDeliveries(const std::string& org_id,
                                                                     const std::string& webhook_id,
                                                                     int limit) = 0;
  // --- Effects dispatcher and integration log (docs/effects.md; docs/store.md "Migration 8") -------
  // Pending adapter effects (outbox kind not starting with "nurt.") with next_attempt_at <= now, across
  // orgs, by next_attempt_at then id; at most `limit` (1..10000).
  virtual Result<std::vector<EffectRecord>> ListDueEffects(TimePoint now, int limit) = 0;
  // Records how one attempt ended (store/effect_records.hpp EffectAttempt) and, when `log` is given,
  // its integration-log line, in ONE transaction. Errors: NotFound; FailedPrecondition when the effect
  // is no longer pending (an admin skipped it meanwhile); InvalidArgument for an unknown outcome.
  virtual Status RecordEffectAttempt(const EffectAttempt& attempt,
                                     const std::optional<IntegrationRecord>& log) = 0;
  // NotFound when absent, of another org, or not an adapter effect.
  virtual Result<EffectRecord> GetEffect(const std::string& org_id, const std::string& id) = 0;
  virtual Result<std::vector<EffectRecord>> ListEffects(const std::string& org_id,
                                                        const EffectFilter& filter) = 0;
  virtual Result<EffectCounts> CountEffects(const std::string& org_id) = 0;
  // An operator's action on one effect, written with `audit` in ONE transaction:
  //   "retry"   dead -> pending (attempts 0) or pending -> pending, due at `now`;
  //   "skip"    pending -> dead (result {"error":{"code":"skipped"},"reason": audit.reason});
  //   "delete"  dead -> removed.
  // Errors: NotFound; FailedPrecondition when the status does not allow it (says which it is);
  // InvalidArgument for an unknown action.
  virtual Status AdminEffect(const std::string& action, const std::string& org_id, const std::string& id,
                             TimePoint now, const AuditRecord& audit) = 0;
  // Removes dead letters last changed before `before` (all orgs); returns how many.
  virtual Result<std::int64_t> ExpireDeadEffects(TimePoint before) = 0;
  // Appends one integration-log line (the webhook deliveries call this too). InvalidArgument when
  // org_id, system or status is empty.
  virtual Status AppendIntegrationRecord(const IntegrationRecord& record) = 0;
  // Newest first. InvalidArgument for a bad limit or an FTS5 query that does not parse.
  virtual Result<std::vector<IntegrationRecord>> ListIntegrationLog(const std::string& org_id,
                                                                    const IntegrationFilter& filter) = 0;
  // Per system (by name) over [since, until).
  virtual Result<std::vector<IntegrationStats>> ComputeIntegrationStats(const std::string& org_id,
                                                                        TimePoint since,
                                                                        TimePoint until) = 0;
  // Removes the org's integration-log lines older than `before`; returns how many.
  virtual Result<std::int64_t> ExpireIntegrationLog(const std::string& org_id, TimePoint before) = 0;
};

struct SqliteOptions {
  std::string path;              // database file; created if missing
  bool fsync_on_commit = true;   // PRAGMA synchronous=FULL (WAL); false = NORMAL (for tests/benchmarks)
  int busy_timeout_ms = 5000;
};

// Opens (creating and migrating the schema if needed). Errors: Unavailable (cannot open), DataLoss
// (not a nurt database / newer schema than this binary knows).
Result<std::unique_ptr<Store>> NewSqliteStore(const SqliteOptions& options);

}  // namespace nurt::store
