// The outbound webhooks part of the SQLite store: a subscription changes with its audit record, the
// matching cursor moves with the deliveries (and refuses a stale position), one delivery per
// (subscription, event), a finished delivery cannot be finished again, the last N are kept, and a
// deleted subscription takes its deliveries with it.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nurt/store/key_store.hpp"
#include "nurt/store/store.hpp"
#include "temp_dir.hpp"

namespace nurt::store {
namespace {

using ::testing::HasSubstr;

TimePoint T(std::int64_t seconds) { return FromUnixMillis(1'767'225'600'000 + seconds * 1000); }

WebhookRecord Hook(const std::string& org, const std::string& id) {
  WebhookRecord w;
  w.org_id = org;
  w.id = id;
  w.url = "https://hooks.example.com/" + id;
  w.events = {"order.*"};
  w.headers = {{"X-Tenant", org}};
  w.secret_sealed = "v1.sealed";
  w.created_at = w.updated_at = T(0);
  w.created_by = "test";
  return w;
}

AuditRecord Audit(const std::string& org, const std::string& id, const std::string& action) {
  AuditRecord a;
  a.org_id = org;
  a.id = action + "-" + id;
  a.occurred_at = T(0);
  a.actor = "test";
  a.action = action;
  a.target = id;
  return a;
}

WebhookDelivery Delivery(const std::string& id, const std::string& event, const std::string& hook = "w1") {
  WebhookDelivery d;
  d.org_id = "acme";
  d.id = id;
  d.webhook_id = hook;
  d.event_id = event;
  d.event_type = "order.paid";
  d.body = "{}";
  d.created_at = T(0);
  d.next_attempt_at = T(0);
  return d;
}

WebhookAttempt Attempt(int n, const std::string& outcome) {
  WebhookAttempt a;
  a.number = n;
  a.at = T(n);
  a.outcome = outcome;
  a.http_status = outcome == "succeeded" ? 200 : 503;
  a.error = outcome == "succeeded" ? "" : "HTTP 503";
  return a;
}

class SqliteWebhooksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = NewSqliteStore({.path = dir_.File("nurt.db"), .fsync_on_commit = false});
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(s).value();
    ASSERT_TRUE(store_->CreateWebhook(Hook("acme", "w1"), Audit("acme", "w1", "webhook.create")).ok());
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(SqliteWebhooksTest, SubscriptionsChangeWithTheirAuditRecordAndStayInTheirOrg) {
  auto w = store_->GetWebhook("acme", "w1");
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->headers, (std::vector<std::pair<std::string, std::string>>{{"X-Tenant", "acme"}}));
  EXPECT_TRUE(store_->GetWebhook("globex", "w1").status().IsNotFound());
  EXPECT_TRUE(store_->CreateWebhook(Hook("acme", "w1"), Audit("acme", "w1", "again")).IsAlreadyExists());
  WebhookRecord paused = *w;
  paused.status = "paused";
  ASSERT_TRUE(store_->UpdateWebhook(paused, Audit("acme", "w1", "webhook.pause")).ok());
  EXPECT_EQ(store_->GetWebhook("acme", "w1")->status, "paused");
  paused.status = "sleeping";
  EXPECT_THAT(store_->UpdateWebhook(paused, Audit("acme", "w1", "x")).message(), HasSubstr("not active or paused"));
  EXPECT_TRUE(store_->UpdateWebhook(Hook("globex", "w1"), Audit("globex", "w1", "x")).IsNotFound());

  auto keys = NewSqliteKeyStore({.path = dir_.File("nurt.db"), .fsync_on_commit = false});
  ASSERT_TRUE(keys.ok());
  auto audit = (*keys)->ListAudit("acme", 10, "");
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit->size(), 2u);
  EXPECT_EQ((*audit)[0].action, "webhook.create");
  EXPECT_EQ((*audit)[1].action, "webhook.pause");
  EXPECT_EQ(store_->ListWebhooks("")->size(), 1u);
  EXPECT_TRUE(store_->ListWebhooks("globex")->empty());
}

TEST_F(SqliteWebhooksTest, TheCursorMovesWithTheDeliveriesOnceEach) {
  WebhookMatchCommit c;
  c.expected_position = 0;
  c.position = 5;
  c.now = T(1);
  c.deliveries = {Delivery("msg_1", "e1"), Delivery("msg_2", "e2")};
  ASSERT_TRUE(store_->CommitWebhookMatches(c).ok());
  EXPECT_EQ(*store_->GetRuleCursor("webhooks"), 5);
  // A stale matcher writes nothing.
  c.position = 7;
  c.deliveries = {Delivery("msg_3", "e3")};
  EXPECT_TRUE(store_->CommitWebhookMatches(c).IsConflict());
  EXPECT_TRUE(store_->GetWebhookDelivery("acme", "msg_3").status().IsNotFound());
  // The same (subscription, event) matched again under another id: still one delivery.
  c.expected_position = 5;
  c.deliveries = {Delivery("msg_9", "e1")};
  ASSERT_TRUE(store_->CommitWebhookMatches(c).ok());
  EXPECT_EQ(store_->ListWebhookDeliveries("acme", "w1", 10)->size(), 2u);
  EXPECT_EQ(store_->ListDueWebhookDeliveries(T(1), 10)->size(), 2u);
  EXPECT_EQ(**store_->NextWebhookDeliveryDue(), T(0));
}

TEST_F(SqliteWebhooksTest, TriesAreRecordedAndAFinishedDeliveryStaysFinished) {
  ASSERT_TRUE(store_->InsertWebhookDelivery(Delivery("msg_1", "e1")).ok());
  EXPECT_TRUE(store_->InsertWebhookDelivery(Delivery("msg_1", "e1")).IsAlreadyExists());
  ASSERT_TRUE(store_->RecordWebhookAttempt("acme", "msg_1", Attempt(1, "retryable"), "pending", T(6), 100).ok());
  EXPECT_TRUE(store_->ListDueWebhookDeliveries(T(5), 10)->empty());
  EXPECT_EQ(store_->ListDueWebhookDeliveries(T(6), 10)->size(), 1u);
  ASSERT_TRUE(store_->RecordWebhookAttempt("acme", "msg_1", Attempt(2, "succeeded"), "succeeded", std::nullopt, 100).ok());
  auto d = store_->GetWebhookDelivery("acme", "msg_1");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->status, "succeeded");
  EXPECT_EQ(d->attempts, 2);
  ASSERT_EQ(d->attempt_log.size(), 2u);
  EXPECT_EQ(d->attempt_log[0].error, "HTTP 503");
  EXPECT_EQ(d->finished_at, T(2));
  EXPECT_TRUE(store_->RecordWebhookAttempt("acme", "msg_1", Attempt(3, "succeeded"), "succeeded", std::nullopt, 100)
                  .IsFailedPrecondition());
  EXPECT_TRUE(store_->RecordWebhookAttempt("acme", "msg_1", Attempt(3, "x"), "pending", std::nullopt, 100)
                  .IsInvalidArgument());
}

TEST_F(SqliteWebhooksTest, KeepsTheNewestFinishedDeliveriesAndPausedOnesAreNotDue) {
  for (int i = 0; i < 5; ++i) {
    const std::string id = "msg_" + std::to_string(i);
    ASSERT_TRUE(store_->InsertWebhookDelivery(Delivery(id, "e" + std::to_string(i))).ok());
  }
  ASSERT_TRUE(store_->RecordWebhookAttempt("acme", "msg_4", Attempt(1, "succeeded"), "succeeded", std::nullopt, 2).ok());
  auto left = store_->ListWebhookDeliveries("acme", "w1", 10);
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 5u) << "pending deliveries are never dropped";
  ASSERT_TRUE(store_->RecordWebhookAttempt("acme", "msg_0", Attempt(1, "failed"), "failed", std::nullopt, 2).ok());
  left = store_->ListWebhookDeliveries("acme", "w1", 10);
  ASSERT_EQ(left->size(), 4u);  // msg_0 finished and beyond the newest 2: dropped
  EXPECT_EQ(left->front().id, "msg_4");

  WebhookRecord paused = *store_->GetWebhook("acme", "w1");
  paused.status = "paused";
  ASSERT_TRUE(store_->UpdateWebhook(paused, Audit("acme", "w1", "webhook.pause")).ok());
  EXPECT_TRUE(store_->ListDueWebhookDeliveries(T(10), 10)->empty());
  EXPECT_FALSE(store_->NextWebhookDeliveryDue()->has_value());

  ASSERT_TRUE(store_->DeleteWebhook("acme", "w1", Audit("acme", "w1", "webhook.delete")).ok());
  EXPECT_TRUE(store_->ListWebhookDeliveries("acme", "w1", 10)->empty());
  EXPECT_TRUE(store_->DeleteWebhook("acme", "w1", Audit("acme", "w1", "webhook.delete2")).IsNotFound());
}

}  // namespace
}  // namespace nurt::store
