#pragma once
// A Store that forwards every call to another one: the base of test decorators that change one call
// (e.g. let a rival writer commit first, to lose an optimistic race deterministically) and leave the
// rest alone. Adding a method to Store means adding it here once, not in every decorator.

#include <string>
#include <vector>

#include "nurt/store/store.hpp"

namespace nurt::testing {

class ForwardingStore : public store::Store {
 public:
  explicit ForwardingStore(store::Store* inner) : inner_(inner) {}

  Status Commit(const store::CommitRequest& r) override { return inner_->Commit(r); }
  Status CommitBatch(const std::vector<store::CommitRequest>& r, std::vector<Status>* s) override {
    return inner_->CommitBatch(r, s);
  }
  Result<store::InstanceRecord> GetInstance(const std::string& o, const std::string& i) override {
    return inner_->GetInstance(o, i);
  }
  Result<std::vector<store::InstanceRecord>> ListInstances(const std::string& o,
                                                           const store::InstanceFilter& f) override {
    return inner_->ListInstances(o, f);
  }
  Result<std::optional<store::IdempotencyRecord>> FindIdempotency(const std::string& o, const std::string& i,
                                                                  const std::string& k) override {
    return inner_->FindIdempotency(o, i, k);
  }
  Result<std::vector<store::EventEnvelope>> ListEvents(const std::string& o, const std::string& i,
                                                       std::int64_t a, std::int64_t u) override {
    return inner_->ListEvents(o, i, a, u);
  }
  Result<std::vector<store::TransitionRecord>> ListTransitions(const std::string& o,
                                                               const std::string& i) override {
    return inner_->ListTransitions(o, i);
  }
  Status PutDefinition(const store::DefinitionRecord& d) override { return inner_->PutDefinition(d); }
  Result<store::DefinitionRecord> GetDefinition(const std::string& o, const std::string& n,
                                                std::int64_t v) override {
    return inner_->GetDefinition(o, n, v);
  }
  Result<std::vector<store::DefinitionRecord>> ListDefinitions(const std::string& o) override {
    return inner_->ListDefinitions(o);
  }
  Result<std::vector<store::InstanceCount>> CountInstances() override { return inner_->CountInstances(); }
  Result<std::vector<store::OutboxItem>> ListPendingOutbox(const std::vector<std::string>& k, int l) override {
    return inner_->ListPendingOutbox(k, l);
  }
  Status CompleteOutbox(const std::string& o, const std::string& i, const std::string& s,
                        const Json& r) override {
    return inner_->CompleteOutbox(o, i, s, r);
  }
  Result<store::TaskRecord> GetTask(const std::string& o, const std::string& i) override {
    return inner_->GetTask(o, i);
  }
  Result<std::vector<store::TaskRecord>> ListTasks(const std::string& o, const store::TaskFilter& f) override {
    return inner_->ListTasks(o, f);
  }
  Status ClaimTask(const std::string& o, const std::string& i, const std::string& u, TimePoint now) override {
    return inner_->ClaimTask(o, i, u, now);
  }
  Status ReleaseTask(const std::string& o, const std::string& i, const std::string& u) override {
    return inner_->ReleaseTask(o, i, u);
  }

  // timers
  Result<std::vector<store::TimerRecord>> ListArmedTimers(std::int64_t p, int l) override {
    return inner_->ListArmedTimers(p, l);
  }
  Result<store::TimerRecord> GetTimer(const std::string& o, const std::string& i) override {
    return inner_->GetTimer(o, i);
  }
  Result<std::vector<store::TimerRecord>> ListInstanceTimers(const std::string& o,
                                                             const std::string& i) override {
    return inner_->ListInstanceTimers(o, i);
  }
  Status FinishTimer(const std::string& o, const std::string& i, const std::string& s, const std::string& d,
                     TimePoint n) override {
    return inner_->FinishTimer(o, i, s, d, n);
  }

  // Notifications.
  Result<std::vector<TimePoint>> ListNotificationsSent(const std::string& o, const std::string& c,
                                                       TimePoint since) override {
    return inner_->ListNotificationsSent(o, c, since);
  }

  // Rules engine.
  Result<std::vector<store::FeedEvent>> ListEventsAfter(std::int64_t p, int l) override {
    return inner_->ListEventsAfter(p, l);
  }
  Result<std::int64_t> GetRuleCursor(const std::string& e) override { return inner_->GetRuleCursor(e); }
  Result<bool> HasRuleFiring(const std::string& o, const std::string& r, const std::string& k) override {
    return inner_->HasRuleFiring(o, r, k);
  }
  Result<std::int64_t> CountRuleFirings(const std::string& o, const std::vector<std::string>& r,
                                        TimePoint since) override {
    return inner_->CountRuleFirings(o, r, since);
  }
  Result<std::vector<store::RuleFiring>> ListQueuedRuleFirings(const std::string& o, int l) override {
    return inner_->ListQueuedRuleFirings(o, l);
  }
  Status CommitRuleEvaluation(const store::RuleEvaluationCommit& c) override {
    return inner_->CommitRuleEvaluation(c);
  }

  // Schedules.
  Result<std::optional<store::ScheduleState>> GetScheduleState(const std::string& o, const std::string& n) override {
    return inner_->GetScheduleState(o, n);
  }
  Result<std::vector<store::ScheduleState>> ListScheduleStates(const std::string& o) override {
    return inner_->ListScheduleStates(o);
  }
  Status RecordScheduleRuns(const store::ScheduleState& s, const std::vector<store::ScheduleRun>& r) override {
    return inner_->RecordScheduleRuns(s, r);
  }
  Result<std::vector<store::ScheduleRun>> ListScheduleRuns(const std::string& o, const std::string& n,
                                                           std::optional<TimePoint> b, int l) override {
    return inner_->ListScheduleRuns(o, n, b, l);
  }

  // Outbound webhooks.
  Status CreateWebhook(const store::WebhookRecord& w, const store::AuditRecord& a) override {
    return inner_->CreateWebhook(w, a);
  }
  Status UpdateWebhook(const store::WebhookRecord& w, const store::AuditRecord& a) override {
    return inner_->UpdateWebhook(w, a);
  }
  Status DeleteWebhook(const std::string& o, const std::string& id, const store::AuditRecord& a) override {
    return inner_->DeleteWebhook(o, id, a);
  }
  Result<store::WebhookRecord> GetWebhook(const std::string& o, const std::string& id) override {
    return inner_->GetWebhook(o, id);
  }
  Result<std::vector<store::WebhookRecord>> ListWebhooks(const std::string& o) override {
    return inner_->ListWebhooks(o);
  }
  Status CommitWebhookMatches(const store::WebhookMatchCommit& c) override { return inner_->CommitWebhookMatches(c); }
  Status InsertWebhookDelivery(const store::WebhookDelivery& d) override { return inner_->InsertWebhookDelivery(d); }
  Result<std::vector<store::WebhookDelivery>> ListDueWebhookDeliveries(TimePoint now, int l) override {
    return inner_->ListDueWebhookDeliveries(now, l);
  }
  Result<std::optional<TimePoint>> NextWebhookDeliveryDue() override { return inner_->NextWebhookDeliveryDue(); }
  Status RecordWebhookAttempt(const std::string& o, const std::string& id, const store::WebhookAttempt& a,
                              const std::string& s, std::optional<TimePoint> next, int keep) override {
    return inner_->RecordWebhookAttempt(o, id, a, s, next, keep);
  }
  Result<store::WebhookDelivery> GetWebhookDelivery(const std::string& o, const std::string& id) override {
    return inner_->GetWebhookDelivery(o, id);
  }
  Result<std::vector<store::WebhookDelivery>> ListWebhookDeliveries(const std::string& o, const std::string& w,
                                                                    int l) override {
    return inner_->ListWebhookDeliveries(o, w, l);
  }

  // Effects dispatcher and integration log.
  Result<std::vector<store::EffectRecord>> ListDueEffects(TimePoint now, int l) override {
    return inner_->ListDueEffects(now, l);
  }
  Status RecordEffectAttempt(const store::EffectAttempt& a,
                             const std::optional<store::IntegrationRecord>& log) override {
    return inner_->RecordEffectAttempt(a, log);
  }
  Result<store::EffectRecord> GetEffect(const std::string& o, const std::string& i) override {
    return inner_->GetEffect(o, i);
  }
  Result<std::vector<store::EffectRecord>> ListEffects(const std::string& o,
                                                       const store::EffectFilter& f) override {
    return inner_->ListEffects(o, f);
  }
  Result<store::EffectCounts> CountEffects(const std::string& o) override { return inner_->CountEffects(o); }
  Status AdminEffect(const std::string& a, const std::string& o, const std::string& i, TimePoint now,
                     const store::AuditRecord& audit) override {
    return inner_->AdminEffect(a, o, i, now, audit);
  }
  Result<std::int64_t> ExpireDeadEffects(TimePoint b) override { return inner_->ExpireDeadEffects(b); }
  Status AppendIntegrationRecord(const store::IntegrationRecord& r) override {
    return inner_->AppendIntegrationRecord(r);
  }
  Result<std::vector<store::IntegrationRecord>> ListIntegrationLog(const std::string& o,
                                                                   const store::IntegrationFilter& f) override {
    return inner_->ListIntegrationLog(o, f);
  }
  Result<std::vector<store::IntegrationStats>> ComputeIntegrationStats(const std::string& o, TimePoint s,
                                                                       TimePoint u) override {
    return inner_->ComputeIntegrationStats(o, s, u);
  }
  Result<std::int64_t> ExpireIntegrationLog(const std::string& o, TimePoint b) override {
    return inner_->ExpireIntegrationLog(o, b);
  }

 protected:
  store::Store* inner_;
};

}  // namespace nurt::testing
