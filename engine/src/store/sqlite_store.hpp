#pragma once
// SqliteStore — nurt::store::Store on one SQLite file in WAL mode (private to nurt_store; callers
// use NewSqliteStore from nurt/store/store.hpp). The layout is specified in docs/store.md.
//
// Connections: one writer connection guarded by `write_mu_` (every write method takes it, so writes
// are serialised in this process; other processes wait on SQLite's lock up to busy_timeout_ms) and
// a pool of up to kMaxReaders read-only connections, opened on demand, that read committed data
// concurrently with the writer (WAL readers never block and are never blocked by the writer).
//
// Thread-safety: every public method may be called from any thread at any time.

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "nurt/store/store.hpp"
#include "store/sqlite_connection.hpp"

namespace nurt::store {

class SqliteStore final : public Store {
 public:
  static constexpr int kMaxReaders = 4;

  // Opens (creating and migrating) the database. Errors: InvalidArgument (empty path), Unavailable
  // (cannot open, busy, cannot enable WAL), DataLoss (not a nurt database, newer schema).
  static Result<std::unique_ptr<SqliteStore>> Open(const SqliteOptions& options);
  ~SqliteStore() override;

  Status Commit(const CommitRequest& request) override;
  Status CommitBatch(const std::vector<CommitRequest>& requests,
                     std::vector<Status>* statuses) override;
  Result<InstanceRecord> GetInstance(const std::string& org_id, const std::string& id) override;
  Result<std::vector<InstanceRecord>> ListInstances(const std::string& org_id,
                                                    const InstanceFilter& filter) override;
  Result<std::optional<IdempotencyRecord>> FindIdempotency(const std::string& org_id,
                                                           const std::string& instance_id,
                                                           const std::string& key) override;
  Result<std::vector<EventEnvelope>> ListEvents(const std::string& org_id,
                                                const std::string& instance_id,
                                                std::int64_t after_sequence,
                                                std::int64_t until_sequence) override;
  Result<std::vector<TransitionRecord>> ListTransitions(const std::string& org_id,
                                                        const std::string& instance_id) override;
  Status PutDefinition(const DefinitionRecord& definition) override;
  Result<DefinitionRecord> GetDefinition(const std::string& org_id, const std::string& name,
                                         std::int64_t version) override;
  Result<std::vector<DefinitionRecord>> ListDefinitions(const std::string& org_id) override;
  Result<std::vector<InstanceCount>> CountInstances() override;
  Result<std::vector<OutboxItem>> ListPendingOutbox(const std::vector<std::string>& kinds,
                                                    int limit) override;
  Status CompleteOutbox(const std::string& org_id, const std::string& id, const std::string& status,
                        const Json& result) override;

  Result<TaskRecord> GetTask(const std::string& org_id, const std::string& id) override;
  Result<std::vector<TaskRecord>> ListTasks(const std::string& org_id,
                                            const TaskFilter& filter) override;
  Status ClaimTask(const std::string& org_id, const std::string& id, const std::string& user,
                   TimePoint now) override;
  Status ReleaseTask(const std::string& org_id, const std::string& id,
                     const std::string& user) override;

  // timers (sqlite_timers.cpp)
  Result<std::vector<TimerRecord>> ListArmedTimers(std::int64_t after_position, int limit) override;
  Result<TimerRecord> GetTimer(const std::string& org_id, const std::string& id) override;
  Result<std::vector<TimerRecord>> ListInstanceTimers(const std::string& org_id,
                                                      const std::string& instance_id) override;
  Status FinishTimer(const std::string& org_id, const std::string& id, const std::string& status,
                     const std::string& detail, TimePoint now) override;

  // Notifications (sqlite_notify.cpp).
  Result<std::vector<TimePoint>> ListNotificationsSent(const std::string& org_id,
                                                       const std::string& channel,
                                                       TimePoint since) override;

  // Rules engine (sqlite_rules.cpp).
  Result<std::vector<FeedEvent>> ListEventsAfter(std::int64_t position, int limit) override;
  Result<std::int64_t> GetRuleCursor(const std::string& evaluator) override;
  Result<bool> HasRuleFiring(const std::string& org_id, const std::string& rule_id,
                             const std::string& key) override;
  Result<std::int64_t> CountRuleFirings(const std::string& org_id,
                                        const std::vector<std::string>& rule_ids,
                                        TimePoint since) override;
  Result<std::vector<RuleFiring>> ListQueuedRuleFirings(const std::string& org_id,
                                                        int limit) override;
  Status CommitRuleEvaluation(const RuleEvaluationCommit& commit) override;

  // Schedules (sqlite_schedules.cpp).
  Result<std::optional<ScheduleState>> GetScheduleState(const std::string& org_id,
                                                        const std::string& name) override;
  Result<std::vector<ScheduleState>> ListScheduleStates(const std::string& org_id) override;
  Status RecordScheduleRuns(const ScheduleState& state, const std::vector<ScheduleRun>& runs) override;
  Result<std::vector<ScheduleRun>> ListScheduleRuns(const std::string& org_id, const std::string& name,
                                                    std::optional<TimePoint> before, int limit) override;

  // Outbound webhooks (sqlite_webhooks.cpp).
  Status CreateWebhook(const WebhookRecord& webhook, const AuditRecord& audit) override;
  Status UpdateWebhook(const WebhookRecord& webhook, const AuditRecord& audit) override;
  Status DeleteWebhook(const std::string& org_id, const std::string& id, const AuditRecord& audit) override;
  Result<WebhookRecord> GetWebhook(const std::string& org_id, const std::string& id) override;
  Result<std::vector<WebhookRecord>> ListWebhooks(const std::string& org_id) override;
  Status CommitWebhookMatches(const WebhookMatchCommit& commit) override;
  Status InsertWebhookDelivery(const WebhookDelivery& delivery) override;
  Result<std::vector<WebhookDelivery>> ListDueWebhookDeliveries(TimePoint now, int limit) override;
  Result<std::optional<TimePoint>> NextWebhookDeliveryDue() override;
  Status RecordWebhookAttempt(const std::string& org_id, const std::string& delivery_id,
                              const WebhookAttempt& attempt, const std::string& status,
                              std::optional<TimePoint> next_attempt_at, int keep) override;
  Result<WebhookDelivery> GetWebhookDelivery(const std::string& org_id, const std::string& id) override;
  Result<std::vector<WebhookDelivery>> ListWebhookDeliveries(const std::string& org_id,
                                                             const std::string& webhook_id, int limit) override;

  // Effects dispatcher and integration log (sqlite_effects.cpp).
  Result<std::vector<EffectRecord>> ListDueEffects(TimePoint now, int limit) override;
  Status RecordEffectAttempt(const EffectAttempt& attempt,
                             const std::optional<IntegrationRecord>& log) override;
  Result<EffectRecord> GetEffect(const std::string& org_id, const std::string& id) override;
  Result<std::vector<EffectRecord>> ListEffects(const std::string& org_id,
                                                const EffectFilter& filter) override;
  Result<EffectCounts> CountEffects(const std::string& org_id) override;
  Status AdminEffect(const std::string& action, const std::string& org_id, const std::string& id,
                     TimePoint now, const AuditRecord& audit) override;
  Result<std::int64_t> ExpireDeadEffects(TimePoint before) override;
  Status AppendIntegrationRecord(const IntegrationRecord& record) override;
  Result<std::vector<IntegrationRecord>> ListIntegrationLog(const std::string& org_id,
                                                            const IntegrationFilter& filter) override;
  Result<std::vector<IntegrationStats>> ComputeIntegrationStats(const std::string& org_id,
                                                                TimePoint since, TimePoint until) override;
  Result<std::int64_t> ExpireIntegrationLog(const std::string& org_id, TimePoint before) override;
  // Test hook: statements prepared so far on the writer connection. Constant once every kind of
  // write has run once (statements are cached per connection, never re-prepared on the hot path).
  std::int64_t WriterStatementsPrepared();
  // Test hook: write transactions committed on the writer connection (one per Commit, one per
  // CommitBatch however many requests it holds: one fsync each).
  std::int64_t WriterTransactionsCommitted();

 private:
  class ReaderLease;

  SqliteStore(const SqliteOptions& options, std::unique_ptr<sqlite::Connection> writer);

  // Applies one request inside the caller's transaction. REQUIRES: write_mu_ held, transaction
  // open.
  Status ApplyLocked(sqlite::Connection* w, const CommitRequest& request);
  // The tasks part of ApplyLocked (sqlite_task_store.cpp): closures first, then openings.
  Status ApplyTasksLocked(sqlite::Connection* w, const CommitRequest& request);
  // The timers part (sqlite_timers.cpp): the fired timer, then cancellations, then new timers.
  Status ApplyTimersLocked(sqlite::Connection* w, const CommitRequest& request);
  Result<ReaderLease> AcquireReader();
  void ReturnReader(std::unique_ptr<sqlite::Connection> conn);

  const SqliteOptions options_;

  std::mutex write_mu_;
  std::unique_ptr<sqlite::Connection> writer_ NURT_GUARDED_BY(write_mu_);

  std::mutex readers_mu_;
  std::condition_variable reader_returned_;
  std::vector<std::unique_ptr<sqlite::Connection>> idle_readers_ NURT_GUARDED_BY(readers_mu_);
  int open_readers_ NURT_GUARDED_BY(readers_mu_) = 0;
};

// Inserts one task row (an open task); `what` names it in errors. REQUIRES: a write transaction on `w`.
// Shared by commits (tasks a step opens) and rule evaluations (tasks a rule opens).
Status InsertTaskRow(sqlite::Connection* w, const TaskRecord& t, const std::string& what);

// A read-only connection borrowed from the pool, returned when the lease ends (every sqlite_*.cpp reads
// through one).
class SqliteStore::ReaderLease {
 public:
  ReaderLease(SqliteStore* store, std::unique_ptr<sqlite::Connection> conn)
      : store_(store), conn_(std::move(conn)) {}
  ReaderLease(ReaderLease&& other) noexcept = default;
  ReaderLease& operator=(ReaderLease&&) = delete;
  ~ReaderLease() {
    if (conn_) store_->ReturnReader(std::move(conn_));
  }
  sqlite::Connection* get() const { return conn_.get(); }

 private:
  SqliteStore* store_;
  std::unique_ptr<sqlite::Connection> conn_;
};

}  // namespace nurt::store
