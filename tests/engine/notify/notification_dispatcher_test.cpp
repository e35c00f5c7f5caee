// NotificationDispatcher end to end on a real SqliteStore: nurt.notify outbox items committed with
// Store::Commit are rendered, sent to real receivers on loopback (HTTP receiver, aiosmtpd) and
// completed exactly once; retryable failures back off on the ManualClock and then succeed; throttles
// queue or drop (and survive a restart, counted from the store); unknown channels, malformed payloads
// and template errors fail with a clear message; counts per org+channel add up.

#include "nurt/notify/notification_dispatcher.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "manual_clock.hpp"
#include "notify_test_util.hpp"

namespace nurt::notify {
namespace {

using ::testing::HasSubstr;

constexpr const char* kOrg = "acme";

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::SqliteOptions so;
    so.path = dir_.File("nurt.db");
    so.fsync_on_commit = false;
    auto s = store::NewSqliteStore(so);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(s).value();

    ChannelConfig hook;
    hook.name = "crm-hook";
    hook.type = ChannelType::kWebhook;
    hook.url = receiver_.Url("/crm");
    hook.allow_http_loopback = true;
    hook.timeout = std::chrono::seconds(10);
    ChannelConfig slack;
    slack.name = "ops-slack";
    slack.type = ChannelType::kSlack;
    slack.webhook_url = receiver_.Url("/slack");
    slack.allow_http_loopback = true;
    slack.timeout = std::chrono::seconds(10);
    slack.throttle = Throttle{2, std::chrono::hours(1), ThrottlePolicy::kQueue};
    ChannelConfig alerts = slack;
    alerts.name = "alerts";
    alerts.throttle = Throttle{1, std::chrono::hours(1), ThrottlePolicy::kDrop};
    for (auto* c : {&hook, &slack, &alerts}) channels_.orgs[kOrg].channels[c->name] = *c;
    channels_.orgs[kOrg].org = kOrg;
  }

  DispatcherOptions Options() {
    DispatcherOptions o;
    o.store = store_.get();
    o.clock = &clock_;
    o.channels = std::make_shared<ChannelDirectory>(channels_);
    return o;
  }

  // Starts instance `id` with one nurt.notify item per payload (keys "<id>:notify:<n>").
  void Produce(const std::string& id, const std::vector<Json>& payloads, const std::string& org = kOrg) {
    store::CommitRequest r;
    r.org_id = org;
    r.instance_id = id;
    r.instance.org_id = org;
    r.instance.id = id;
    r.instance.machine = "invoice";
    r.instance.machine_version = 1;
    r.instance.run_status = "active";
    r.instance.state = {"sent"};
    r.instance.snapshot = Json{{"context", Json::object()}};
    r.instance.version = 1;
    r.instance.created_at = clock_.Now();
    r.instance.updated_at = clock_.Now();
    store::EventEnvelope e;
    e.id = "evt-" + id;
    e.org_id = org;
    e.type = "nurt.start";
    e.occurred_at = clock_.Now();
    e.actor = "test";
    e.entity_type = "invoice";
    e.entity_id = id;
    e.sequence = 1;
    r.events = {e};
    for (std::size_t i = 0; i < payloads.size(); ++i) {
      store::OutboxItem o;
      o.id = "out-" + id + "-" + std::to_string(i);
      o.org_id = org;
      o.instance_id = id;
      o.event_sequence = 1;
      o.kind = kNotifyOutboxKind;
      o.payload = payloads[i];
      o.idempotency_key = id + ":notify:" + std::to_string(i);
      o.created_at = clock_.Now();
      r.outbox.push_back(o);
    }
    ASSERT_TRUE(store_->Commit(r).ok());
  }

  // status and result of an outbox item, read from the database file itself.
  std::pair<std::string, Json> Outcome(const std::string& id) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(dir_.File("nurt.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* q = nullptr;
    sqlite3_prepare_v2(db, "SELECT status, result FROM outbox WHERE id = ?1", -1, &q, nullptr);
    sqlite3_bind_text(q, 1, id.c_str(), -1, SQLITE_TRANSIENT);
    std::pair<std::string, Json> out;
    if (sqlite3_step(q) == SQLITE_ROW) {
      out.first = reinterpret_cast<const char*>(sqlite3_column_text(q, 0));
      out.second = Json::parse(reinterpret_cast<const char*>(sqlite3_column_text(q, 1)));
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    return out;
  }

  std::size_t Pending() { return store_->ListPendingOutbox({kNotifyOutboxKind}, 1000)->size(); }

  ChannelCounts CountsOf(const NotificationDispatcher& d, const std::string& channel) {
    for (const auto& c : d.Counts()) {
      if (c.org == kOrg && c.channel == channel) return c;
    }
    return ChannelCounts{};
  }

  static Json Vars() {
    return Json{{"event", {{"type", "invoice.paid"}, {"payload", {{"amount", 1234.5}}}}},
                {"context", {{"customer", {{"name", "Zażółć <b>&</b>"}}}}},
                {"instance", {{"id", "inv-7"}, {"machine", "invoice"}, {"state", {"paid"}}}}};
  }

  nurt::testing::TempDir dir_;
  nurt::testing::ManualClock clock_;
  std::unique_ptr<store::Store> store_;
  testing::HttpReceiver receiver_;
  ChannelDirectory channels_;
};

TEST_F(DispatcherTest, DeliversAWebhookExactlyOnceAndRecordsTheResult) {
  Produce("inv-7", {Json{{"channel", "crm-hook"},
                         {"subject", "Paid {{instance.id}}"},
                         {"body", "{{context.customer.name}} paid {{event.payload.amount}} {{context.missing}}"},
                         {"vars", Vars()},
                         {"origin", {{"kind", "machine"}, {"name", "invoice"}}}}});
  NotificationDispatcher d(Options());
  auto report = d.RunOnce();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->sent, 1);
  ASSERT_EQ(receiver_.received().size(), 1u);
  const Json body = Json::parse(receiver_.received()[0].body);
  EXPECT_EQ(receiver_.received()[0].Header("Idempotency-Key"), "inv-7:notify:0");
  EXPECT_EQ(body["data"]["message"], "Zażółć <b>&</b> paid 1234.5 ");
  EXPECT_EQ(body["data"]["subject"], "Paid inv-7");
  EXPECT_EQ(body["data"]["vars"], Vars());
  EXPECT_EQ(body["data"]["origin"]["name"], "invoice");
  EXPECT_EQ(body["data"]["instanceId"], "inv-7");

  auto [status, result] = Outcome("out-inv-7-0");
  EXPECT_EQ(status, "done");
  EXPECT_EQ(result["channel"], "crm-hook");
  EXPECT_EQ(result["status"], "sent");
  EXPECT_EQ(result["httpStatus"], 200);
  EXPECT_EQ(result["sentAt"], FormatIso8601(clock_.Now()));
  EXPECT_EQ(result["attempts"], 1);
  ASSERT_EQ(result["warnings"].size(), 1u);
  EXPECT_THAT(result["warnings"][0].get<std::string>(), HasSubstr("context.missing"));

  // Nothing left: a second run (or a second dispatcher) sends nothing again.
  EXPECT_EQ(Pending(), 0u);
  EXPECT_EQ(d.RunOnce()->sent, 0);
  NotificationDispatcher again(Options());
  EXPECT_EQ(again.RunOnce()->sent, 0);
  EXPECT_EQ(receiver_.received().size(), 1u);
  EXPECT_EQ(CountsOf(d, "crm-hook").sent, 1);
}

TEST_F(DispatcherTest, RetryableFailureBacksOffThenSucceeds) {
  receiver_.Script({503});
  Produce("inv-8", {Json{{"channel", "crm-hook"}, {"body", "hello"}}});
  NotificationDispatcher d(Options());
  auto first = d.RunOnce();
  EXPECT_EQ(first->retrying, 1);
  EXPECT_EQ(Pending(), 1u);
  EXPECT_EQ(Outcome("out-inv-8-0").first, "pending");
  // Within the backoff nothing is tried.
  EXPECT_EQ(d.RunOnce()->held, 1);
  EXPECT_EQ(receiver_.received().size(), 1u);
  clock_.Advance(std::chrono::seconds(1));
  auto second = d.RunOnce();
  EXPECT_EQ(second->sent, 1);
  EXPECT_EQ(receiver_.received().size(), 2u);
  auto [status, result] = Outcome("out-inv-8-0");
  EXPECT_EQ(status, "done");
  EXPECT_EQ(result["attempts"], 2);
  EXPECT_EQ(CountsOf(d, "crm-hook").retried, 1);
  EXPECT_EQ(CountsOf(d, "crm-hook").sent, 1);
}

TEST_F(DispatcherTest, BackoffDoublesAndGivesUpAfterMaxAttempts) {
  receiver_.Script({500, 500, 500});
  Produce("inv-9", {Json{{"channel", "crm-hook"}, {"body", "hello"}}});
  DispatcherOptions o = Options();
  o.max_attempts = 3;
  NotificationDispatcher d(o);
  EXPECT_EQ(d.RunOnce()->retrying, 1);  // attempt 1, next in 1 s
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_EQ(d.RunOnce()->retrying, 1);  // attempt 2, next in 2 s
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_EQ(d.RunOnce()->held, 1);
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_EQ(d.RunOnce()->failed, 1);  // attempt 3 = max
  auto [status, result] = Outcome("out-inv-9-0");
  EXPECT_EQ(status, "failed");
  EXPECT_EQ(result["error"], "retries-exhausted");
  EXPECT_EQ(result["attempts"], 3);
  EXPECT_THAT(result["message"].get<std::string>(), HasSubstr("HTTP 500"));
  EXPECT_EQ(receiver_.received().size(), 3u);
}

TEST_F(DispatcherTest, PermanentRefusalFailsAtOnce) {
  receiver_.Script({422});
  Produce("inv-10", {Json{{"channel", "crm-hook"}, {"body", "hello"}}});
  NotificationDispatcher d(Options());
  EXPECT_EQ(d.RunOnce()->failed, 1);
  auto [status, result] = Outcome("out-inv-10-0");
  EXPECT_EQ(status, "failed");
  EXPECT_EQ(result["error"], "rejected");
  EXPECT_THAT(result["message"].get<std::string>(), HasSubstr("HTTP 422"));
  EXPECT_EQ(CountsOf(d, "crm-hook").failed, 1);
}

TEST_F(DispatcherTest, ThrottleQueueHoldsBackUntilTheWindowHasRoomAcrossRestarts) {
  const Json item = {{"channel", "ops-slack"}, {"body", "*{{context.customer.name}}*"}, {"vars", Vars()}};
  Produce("inv-11", {item, item, item});
  {
    NotificationDispatcher d(Options());
    auto r = d.RunOnce();
    EXPECT_EQ(r->sent, 2);
    EXPECT_EQ(r->held, 1);
    EXPECT_EQ(d.RunOnce()->held, 1);  // counted as queued once
    EXPECT_EQ(CountsOf(d, "ops-slack").queued, 1);
    EXPECT_EQ(CountsOf(d, "ops-slack").sent, 2);
  }
  ASSERT_EQ(receiver_.received().size(), 2u);
  EXPECT_EQ(Json::parse(receiver_.received()[0].body)["text"], "*Zażółć &lt;b&gt;&amp;&lt;/b&gt;*");
  // A restarted dispatcher rebuilds the window from the store: still full.
  clock_.Advance(std::chrono::minutes(59));
  NotificationDispatcher restarted(Options());
  EXPECT_EQ(restarted.RunOnce()->held, 1);
  EXPECT_EQ(receiver_.received().size(), 2u);
  clock_.Advance(std::chrono::minutes(1));
  EXPECT_EQ(restarted.RunOnce()->sent, 1);
  EXPECT_EQ(Pending(), 0u);
  EXPECT_EQ(receiver_.received().size(), 3u);
}

TEST_F(DispatcherTest, ThrottleDropFailsTheExcessAndCountsIt) {
  const Json item = {{"channel", "alerts"}, {"body", "disk full"}};
  Produce("inv-12", {item, item});
  NotificationDispatcher d(Options());
  auto r = d.RunOnce();
  EXPECT_EQ(r->sent, 1);
  EXPECT_EQ(r->dropped, 1);
  auto [status, result] = Outcome("out-inv-12-1");
  EXPECT_EQ(status, "failed");
  EXPECT_EQ(result["error"], "throttled");
  EXPECT_EQ(result["dropped"], true);
  EXPECT_THAT(result["message"].get<std::string>(), HasSubstr("in the last PT1H"));
  EXPECT_EQ(CountsOf(d, "alerts").dropped, 1);
  EXPECT_EQ(CountsOf(d, "alerts").failed, 0);
  EXPECT_EQ(receiver_.received().size(), 1u);
}

TEST_F(DispatcherTest, UnknownChannelsBadPayloadsAndTemplateErrorsFailWithAClearMessage) {
  Produce("inv-13", {Json{{"channel", "ops-slak"}, {"body", "x"}},
                     Json{{"body", "no channel"}},
                     Json{{"channel", "crm-hook"}, {"body", "bad {{ template"}},
                     Json{{"channel", "crm-hook"}, {"body", "x"}, {"to", "not-a-list"}}});
  Produce("other-1", {Json{{"channel", "email"}, {"body", "x"}}}, "globex");
  NotificationDispatcher d(Options());
  auto r = d.RunOnce();
  EXPECT_EQ(r->failed, 5);
  EXPECT_EQ(r->sent, 0);
  auto unknown = Outcome("out-inv-13-0").second;
  EXPECT_EQ(unknown["error"], "unknown-channel");
  EXPECT_EQ(unknown["message"],
            "channel 'ops-slak' is not configured for org 'acme'; did you mean 'ops-slack'?");
  EXPECT_EQ(Outcome("out-inv-13-1").second["error"], "bad-payload");
  EXPECT_THAT(Outcome("out-inv-13-1").second["message"].get<std::string>(), HasSubstr("/channel"));
  auto tmpl = Outcome("out-inv-13-2").second;
  EXPECT_EQ(tmpl["error"], "template");
  EXPECT_THAT(tmpl["message"].get<std::string>(), HasSubstr("column 5: '{{' is not closed"));
  EXPECT_THAT(Outcome("out-inv-13-3").second["message"].get<std::string>(), HasSubstr("/to"));
  EXPECT_THAT(Outcome("out-other-1-0").second["message"].get<std::string>(),
              HasSubstr("the org has no channels: add a kind: Channels file with org: globex"));
  EXPECT_TRUE(receiver_.received().empty());
  EXPECT_EQ(Pending(), 0u);
}

TEST_F(DispatcherTest, EmailEndToEndRendersPolishSubjectAndBody) {
  nurt::testing::TempDir inbox;
  testing::SmtpTestServer smtp(inbox.path(), {});
  ChannelConfig email;
  email.name = "email";
  email.type = ChannelType::kEmail;
  email.smtp_url = "smtp://127.0.0.1:" + std::to_string(smtp.port());
  email.starttls = StartTls::kNone;  // a loopback relay
  email.from = "nurt <nurt@firma.pl>";
  email.to = {"ksiegowosc@firma.pl"};
  email.timeout = std::chrono::seconds(10);
  channels_.orgs[kOrg].channels["email"] = email;
  Produce("inv-14", {Json{{"channel", "email"},
                          {"subject", "Płatność: {{context.customer.name}}\r\nBcc: x@evil.example"},
                          {"body", "Kwota: {{event.payload.amount}} zł\nFaktura {{instance.id}}"},
                          {"vars", Vars()}}});
  NotificationDispatcher d(Options());
  EXPECT_EQ(d.RunOnce()->sent, 1);
  const Json m = smtp.Message(1);
  EXPECT_EQ(m["headers"]["Subject"], "Płatność: Zażółć <b>&</b> Bcc: x@evil.example");
  EXPECT_EQ(m["body"], "Kwota: 1234.5 zł\r\nFaktura inv-7\r\n");
  EXPECT_EQ(m["rcpt_tos"], Json::parse(R"(["ksiegowosc@firma.pl"])"));
  auto [status, result] = Outcome("out-inv-14-0");
  EXPECT_EQ(status, "done");
  EXPECT_EQ(result["messageId"], m["headers"]["Message-ID"]);
}

}  // namespace
}  // namespace nurt::notify
