// SqliteStore's effects tables (migration 8): adapter effects due by next_attempt_at, the retry
// schedule and dead letters on the outbox row, admin actions written with their audit record, dead
// letter expiry, and the integration log with filters, full-text search, statistics and retention.
#include <gtest/gtest.h>

#include "nurt/store/key_store.hpp"
#include "nurt/store/store.hpp"
#include "temp_dir.hpp"

namespace nurt::store {
namespace {

const TimePoint kT0 = FromUnixMillis(1'700'000'000'000);

TimePoint At(int seconds) { return kT0 + std::chrono::seconds(seconds); }

CommitRequest StartWith(const std::string& id, std::vector<OutboxItem> outbox) {
  CommitRequest r;
  r.org_id = "acme";
  r.instance_id = id;
  r.instance = InstanceRecord{"acme", id, "m", 1, "active", {"s"}, Json{{"configuration", {"s"}}}, 1, kT0, kT0};
  EventEnvelope e;
  e.id = "E-" + id;
  e.org_id = "acme";
  e.type = "nurt.start";
  e.entity_type = "m";
  e.entity_id = id;
  e.sequence = 1;
  e.occurred_at = kT0;
  r.events = {e};
  for (auto& o : outbox) {
    o.org_id = "acme";
    o.instance_id = id;
    o.event_sequence = 1;
    o.created_at = kT0;
  }
  r.outbox = std::move(outbox);
  return r;
}

OutboxItem Item(const std::string& id, const std::string& kind) {
  OutboxItem o;
  o.id = id;
  o.kind = kind;
  o.idempotency_key = "key-" + id;
  o.payload = Json{{"step", "order"}};
  return o;
}

AuditRecord Audit(const std::string& id, const std::string& action, const std::string& target) {
  AuditRecord a;
  a.org_id = "acme";
  a.id = id;
  a.occurred_at = kT0;
  a.actor = "cli:alice";
  a.action = action;
  a.target = target;
  a.reason = "partner fixed their endpoint";
  return a;
}

class SqliteEffectsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SqliteOptions o;
    o.path = dir_.File("nurt.db");
    o.fsync_on_commit = false;
    auto s = NewSqliteStore(o);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(s).value();
    ASSERT_TRUE(store_->Commit(StartWith("i1", {Item("A", "http"), Item("B", "nurt.send"), Item("C", "http")}))
                    .ok());
  }
  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(SqliteEffectsTest, OnlyAdapterEffectsAreDueAndRetriesWaitForTheirTime) {
  auto due = store_->ListDueEffects(kT0, 10);
  ASSERT_TRUE(due.ok()) << due.status();
  ASSERT_EQ(due->size(), 2u);  // nurt.send stays with DeliverInternalEffects
  EXPECT_EQ((*due)[0].item.id, "A");
  EXPECT_EQ((*due)[0].attempts, 0);

  EffectAttempt retry{"acme", "A", "retry", 1, At(30), "HTTP 503", Json(), At(0)};
  ASSERT_TRUE(store_->RecordEffectAttempt(retry, std::nullopt).ok());
  due = store_->ListDueEffects(At(29), 10);
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].item.id, "C");
  due = store_->ListDueEffects(At(30), 10);
  ASSERT_EQ(due->size(), 2u);
  EXPECT_EQ((*due)[1].item.id, "A");
  EXPECT_EQ((*due)[1].attempts, 1);
  EXPECT_EQ((*due)[1].last_error, "HTTP 503");

  auto counts = store_->CountEffects("acme");
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->pending, 2);
  EXPECT_EQ(counts->retrying, 1);
  EXPECT_EQ(counts->dead, 0);
}

TEST_F(SqliteEffectsTest, DeadLettersAreRetriedSkippedDeletedWithAnAuditRecordAndExpire) {
  EffectAttempt dead{"acme", "A", "dead", 2, {}, "HTTP 400", Json{{"reason", "rejected"}}, At(10)};
  ASSERT_TRUE(store_->RecordEffectAttempt(dead, std::nullopt).ok());
  // Recording again finds it no longer pending.
  EXPECT_TRUE(store_->RecordEffectAttempt(dead, std::nullopt).IsFailedPrecondition());
  auto dlq = store_->ListEffects("acme", EffectFilter{"dead", "", "", "", 100});
  ASSERT_TRUE(dlq.ok()) << dlq.status();
  ASSERT_EQ(dlq->size(), 1u);
  EXPECT_EQ((*dlq)[0].ToJson()["status"], "dead");
  EXPECT_EQ((*dlq)[0].item.result["reason"], "rejected");

  // Deleting a pending one is refused; skipping a dead one too.
  Status st = store_->AdminEffect("delete", "acme", "C", At(20), Audit("AU1", "effect.delete", "C"));
  EXPECT_TRUE(st.IsFailedPrecondition()) << st;
  EXPECT_NE(st.message().find("is pending"), std::string::npos) << st;
  EXPECT_TRUE(store_->AdminEffect("skip", "acme", "A", At(20), Audit("AU2", "effect.skip", "A"))
                  .IsFailedPrecondition());
  EXPECT_TRUE(store_->AdminEffect("retry", "acme", "B", At(20), Audit("AU3", "effect.retry", "B")).IsNotFound());
  EXPECT_TRUE(store_->AdminEffect("poke", "acme", "A", At(20), Audit("AU4", "effect.poke", "A"))
                  .IsInvalidArgument());

  // Retry: due now, attempts start again.
  ASSERT_TRUE(store_->AdminEffect("retry", "acme", "A", At(20), Audit("AU5", "effect.retry", "A")).ok());
  auto a = store_->GetEffect("acme", "A");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->item.status, "pending");
  EXPECT_EQ(a->attempts, 0);
  EXPECT_EQ(a->next_attempt_at, At(20));

  // Skip moves it to the DLQ with the reason; delete removes it.
  ASSERT_TRUE(store_->AdminEffect("skip", "acme", "C", At(21), Audit("AU6", "effect.skip", "C")).ok());
  auto c = store_->GetEffect("acme", "C");
  EXPECT_EQ(c->item.status, "failed");
  EXPECT_EQ(c->item.result["reason"], "partner fixed their endpoint");
  ASSERT_TRUE(store_->AdminEffect("delete", "acme", "C", At(22), Audit("AU7", "effect.delete", "C")).ok());
  EXPECT_TRUE(store_->GetEffect("acme", "C").status().IsNotFound());

  // Every successful action left one audit line; the refused ones none.
  SqliteOptions o;
  o.path = dir_.File("nurt.db");
  auto keys = NewSqliteKeyStore(o);
  ASSERT_TRUE(keys.ok()) << keys.status();
  auto audit = (*keys)->ListAudit("acme", 100, "");
  ASSERT_TRUE(audit.ok()) << audit.status();
  ASSERT_EQ(audit->size(), 3u);
  EXPECT_EQ((*audit)[0].action, "effect.retry");
  EXPECT_EQ((*audit)[2].action, "effect.delete");

  // Expiry removes dead letters last changed before the cut-off.
  ASSERT_TRUE(store_->RecordEffectAttempt({"acme", "A", "dead", 1, {}, "x", Json::object(), At(30)}, std::nullopt)
                  .ok());
  auto expired = store_->ExpireDeadEffects(At(30));
  ASSERT_TRUE(expired.ok());
  EXPECT_EQ(*expired, 0);
  expired = store_->ExpireDeadEffects(At(31));
  EXPECT_EQ(*expired, 1);
  EXPECT_TRUE(store_->GetEffect("acme", "A").status().IsNotFound());
}

IntegrationRecord Line(int second, const std::string& system, const std::string& status, int ms,
                       const std::string& request) {
  IntegrationRecord r;
  r.org_id = "acme";
  r.occurred_at = At(second);
  r.system = system;
  r.status = status;
  r.http_status = status == "success" ? 200 : 503;
  r.duration_ms = ms;
  r.request = request;
  r.response = status == "success" ? "{\"ok\":true}" : "Service Unavailable";
  r.attempt = 1;
  r.event_type = "order.done";
  return r;
}

TEST_F(SqliteEffectsTest, IntegrationLogFiltersSearchesComputesStatsAndExpires) {
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(store_->AppendIntegrationRecord(
                          Line(i, "http", i % 4 == 0 ? "failure" : "success", (i + 1) * 10,
                               "{\"order\":\"PO-" + std::to_string(i) + "\",\"customer\":\"Kowalski\"}"))
                    .ok());
  }
  ASSERT_TRUE(store_->AppendIntegrationRecord(Line(5, "ksef", "success", 7, "{\"invoice\":\"FV/1\"}")).ok());
  IntegrationRecord bad = Line(1, "", "success", 1, "");
  EXPECT_TRUE(store_->AppendIntegrationRecord(bad).IsInvalidArgument());

  IntegrationFilter f;
  auto all = store_->ListIntegrationLog("acme", f);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 21u);
  EXPECT_EQ((*all)[0].system, "ksef");  // newest first (append order)

  f.system = "http";
  f.status = "failure";
  auto failures = store_->ListIntegrationLog("acme", f);
  ASSERT_EQ(failures->size(), 5u);

  IntegrationFilter s;
  s.search = "PO-7";
  auto found = store_->ListIntegrationLog("acme", s);
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(found->size(), 1u);
  EXPECT_NE((*found)[0].request.find("PO-7"), std::string::npos);
  s.search = "kowalski \"unbalanced";  // any text is a valid search: words are quoted
  found = store_->ListIntegrationLog("acme", s);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->size(), 0u);
  s.search = "Kowalski";
  s.since = At(10);
  found = store_->ListIntegrationLog("acme", s);
  EXPECT_EQ(found->size(), 10u);

  auto stats = store_->ComputeIntegrationStats("acme", kT0, At(100));
  ASSERT_TRUE(stats.ok()) << stats.status();
  ASSERT_EQ(stats->size(), 2u);
  const IntegrationStats& http = (*stats)[0];
  EXPECT_EQ(http.system, "http");
  EXPECT_EQ(http.calls, 20);
  EXPECT_EQ(http.successes, 15);
  EXPECT_DOUBLE_EQ(http.success_rate, 0.75);
  EXPECT_DOUBLE_EQ(http.avg_duration_ms, 105.0);
  EXPECT_EQ(http.p95_duration_ms, 190);  // nearest rank 19 of 10..200
  ASSERT_TRUE(http.last_success.has_value());
  EXPECT_EQ(*http.last_success, At(19));

  auto expired = store_->ExpireIntegrationLog("acme", At(10));
  ASSERT_TRUE(expired.ok());
  EXPECT_EQ(*expired, 11);  // http 0..9 and ksef at 5
  s.since.reset();
  s.search = "PO-3";
  EXPECT_EQ(store_->ListIntegrationLog("acme", s)->size(), 0u);  // the FTS index follows deletes
}

}  // namespace
}  // namespace nurt::store
