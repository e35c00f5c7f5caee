// Outbound webhooks end to end below the API: subscriptions in a real SQLite file, events committed
// to it, matched from the feed and POSTed to nurt's own HTTP server on loopback, in virtual time.
// Signatures are checked with the `openssl` command, an implementation independent of nurt's.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "manual_clock.hpp"
#include "nurt/store/store.hpp"
#include "nurt/webhooks/webhook_engine.hpp"
#include "nurt/webhooks/webhook_service.hpp"
#include "seeded_random.hpp"
#include "temp_dir.hpp"
#include "tests/engine/notify/notify_test_util.hpp"

namespace nurt::webhooks {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

std::string Shell(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return "";
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

class WebhookEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::SqliteOptions so;
    so.path = dir_.File("nurt.db");
    so.fsync_on_commit = false;
    auto s = store::NewSqliteStore(so);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(s).value();
    ids_ = env::NewSeededUlidGenerator(&clock_, 3);
    WebhookEngineOptions o;
    o.store = store_.get();
    o.clock = &clock_;
    o.random = &random_;
    o.ids = ids_.get();
    o.master_secret = std::string(64, 'a');
    o.keep_deliveries = 3;
    auto e = WebhookEngine::Create(o);
    ASSERT_TRUE(e.ok()) << e.status();
    engine_ = std::move(e).value();
    service_ = std::make_unique<WebhookService>(store_.get(), engine_.get(), &random_);
  }

  CreatedWebhook NewHook(std::vector<std::string> events, std::string retry = "exponential") {
    WebhookFields f;
    f.url = receiver_.Url("/hook");
    f.allow_http_loopback = true;
    f.events = std::move(events);
    f.retry_policy = std::move(retry);
    f.headers = std::vector<std::pair<std::string, std::string>>{{"X-Tenant", "acme-42"}};
    auto c = service_->Create("acme", f, "test", "");
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *c : CreatedWebhook{};
  }

  // A new instance whose start event has type `type`, committed to the store.
  void Commit(const std::string& id, const std::string& type, const std::string& org = "acme") {
    store::CommitRequest r;
    r.org_id = r.instance.org_id = org;
    r.instance_id = r.instance.id = id;
    r.instance.machine = "lead";
    r.instance.machine_version = 1;
    r.instance.run_status = "active";
    r.instance.state = {"new"};
    r.instance.snapshot = Json::object();
    r.instance.version = 1;
    store::EventEnvelope e;
    e.id = "evt-" + id;
    e.org_id = org;
    e.type = type;
    e.occurred_at = clock_.Now();
    e.actor = "test";
    e.entity_type = "lead";
    e.entity_id = id;
    e.sequence = 1;
    e.payload = Json{{"amount", 12.5}, {"name", "Zażółć"}};
    r.events = {e};
    ASSERT_TRUE(store_->Commit(r).ok());
  }

  void Pump() {
    auto m = engine_->MatchOnce();
    ASSERT_TRUE(m.ok()) << m.status();
    auto d = engine_->DeliverDue();
    ASSERT_TRUE(d.ok()) << d.status();
  }

  // The signature as the openssl command computes it for the secret, id, timestamp and body.
  std::string OpensslSignature(const std::string& secret, const std::string& id, const std::string& timestamp,
                               const std::string& body) {
    std::ofstream(dir_.File("signed.txt"), std::ios::binary) << id << "." << timestamp << "." << body;
    const std::string key = secret.substr(6);  // after "whsec_"
    return "v1," + Shell("printf '%s' '" + key + "' | base64 -d | od -An -tx1 | tr -d ' \\n' > '" +
                         dir_.File("key.hex") + "' && openssl dgst -sha256 -mac HMAC -macopt hexkey:$(cat '" +
                         dir_.File("key.hex") + "') -binary '" + dir_.File("signed.txt") + "' | base64");
  }

  nurt::testing::TempDir dir_;
  nurt::testing::ManualClock clock_;
  nurt::testing::SeededRandom random_{11};
  std::unique_ptr<env::IdGenerator> ids_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<WebhookEngine> engine_;
  std::unique_ptr<WebhookService> service_;
  notify::testing::HttpReceiver receiver_;
};

TEST_F(WebhookEngineTest, MatchingEventsArriveSignedAndVerifyWithOpenssl) {
  CreatedWebhook hook = NewHook({"lead.*"});
  EXPECT_THAT(hook.secret, ::testing::StartsWith("whsec_"));
  Commit("i1", "lead.created");
  Commit("i2", "order.paid");  // not matched
  Pump();
  auto got = receiver_.received();
  ASSERT_EQ(got.size(), 1u);
  const auto& r = got[0];
  const Json body = Json::parse(r.body);
  EXPECT_EQ(body["type"], "lead.created");
  EXPECT_EQ(body["id"], "evt-i1");
  EXPECT_EQ(body["data"]["payload"]["name"], "Zażółć");
  EXPECT_EQ(r.Header("X-Tenant"), "acme-42");
  EXPECT_THAT(r.Header("webhook-id"), ::testing::StartsWith("msg_"));
  EXPECT_EQ(r.Header("Idempotency-Key"), r.Header("webhook-id"));
  EXPECT_EQ(r.Header("webhook-timestamp"),
            std::to_string(std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count()));

  const std::string id = r.Header("webhook-id"), ts = r.Header("webhook-timestamp");
  EXPECT_EQ(OpensslSignature(hook.secret, id, ts, r.body), r.Header("webhook-signature"));
  // Any byte of the body or the timestamp changed: the signature no longer verifies.
  std::string tampered = r.body;
  tampered[tampered.size() / 2] ^= 0x01;
  EXPECT_NE(OpensslSignature(hook.secret, id, ts, tampered), r.Header("webhook-signature"));
  EXPECT_NE(OpensslSignature(hook.secret, id, std::to_string(std::stoll(ts) + 1), r.body),
            r.Header("webhook-signature"));

  auto deliveries = service_->Deliveries("acme", hook.webhook.id);
  ASSERT_TRUE(deliveries.ok());
  ASSERT_EQ(deliveries->size(), 1u);
  EXPECT_EQ((*deliveries)[0].id, id);
  EXPECT_EQ((*deliveries)[0].status, "succeeded");
  EXPECT_EQ((*deliveries)[0].attempt_log.at(0).http_status, 200);
  EXPECT_EQ((*deliveries)[0].attempt_log.at(0).response, "ok");

  // Matching again changes nothing: each event is considered once.
  Pump();
  EXPECT_EQ(receiver_.received().size(), 1u);
}

TEST_F(WebhookEngineTest, RetriesFollowTheExponentialPolicyWithTheSameWebhookId) {
  CreatedWebhook hook = NewHook({"*"});
  receiver_.Script({500, 503});
  Commit("i1", "lead.created");
  Pump();
  auto d = service_->Deliveries("acme", hook.webhook.id);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->size(), 1u);
  EXPECT_EQ((*d)[0].status, "pending");
  ASSERT_TRUE((*d)[0].next_attempt_at);
  const auto first_wait = *(*d)[0].next_attempt_at - clock_.Now();
  EXPECT_GE(first_wait, 4500ms);  // 5 s ± 10 %
  EXPECT_LE(first_wait, 5500ms);
  EXPECT_EQ((*d)[0].attempt_log.at(0).outcome, "retryable");
  EXPECT_EQ((*d)[0].attempt_log.at(0).http_status, 500);

  clock_.Advance(4400ms);
  Pump();
  EXPECT_EQ(receiver_.received().size(), 1u) << "not due yet";
  clock_.Advance(1200ms);
  Pump();
  ASSERT_EQ(receiver_.received().size(), 2u);
  d = service_->Deliveries("acme", hook.webhook.id);
  const auto second_wait = *(*d)[0].next_attempt_at - clock_.Now();
  EXPECT_GE(second_wait, 27s);  // 30 s ± 10 %
  EXPECT_LE(second_wait, 33s);
  clock_.Advance(33s);
  Pump();
  auto got = receiver_.received();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].Header("webhook-id"), got[2].Header("webhook-id"));
  EXPECT_NE(got[0].Header("webhook-timestamp"), got[2].Header("webhook-timestamp"));
  d = service_->Deliveries("acme", hook.webhook.id);
  EXPECT_EQ((*d)[0].status, "succeeded");
  EXPECT_EQ((*d)[0].attempts, 3);
}

TEST_F(WebhookEngineTest, ImmediatePolicyGivesUpAfterThreeRetriesAndA4xxFailsAtOnce) {
  CreatedWebhook hook = NewHook({"*"}, "immediate");
  receiver_.Script({500, 500, 500, 500, 404});
  Commit("i1", "lead.created");
  for (int i = 0; i < 6; ++i) {
    Pump();
    clock_.Advance(6s);
  }
  auto d = service_->Deliveries("acme", hook.webhook.id);
  ASSERT_EQ(d->size(), 1u);
  EXPECT_EQ((*d)[0].status, "failed");
  EXPECT_EQ((*d)[0].attempts, 4);
  EXPECT_EQ(receiver_.received().size(), 4u);

  Commit("i2", "lead.created");
  Pump();  // the scripted 404
  d = service_->Deliveries("acme", hook.webhook.id);
  EXPECT_EQ((*d)[0].status, "failed");
  EXPECT_EQ((*d)[0].attempts, 1);
  EXPECT_THAT((*d)[0].attempt_log.at(0).error, HasSubstr("HTTP 404"));
}

TEST_F(WebhookEngineTest, PausedSubscriptionsReceiveNothingAndOnlyTheLastDeliveriesAreKept) {
  CreatedWebhook hook = NewHook({"*"});
  WebhookFields pause;
  pause.status = "paused";
  ASSERT_TRUE(service_->Update("acme", hook.webhook.id, pause, "test", "maintenance").ok());
  Commit("p1", "lead.created");
  Pump();
  EXPECT_TRUE(receiver_.received().empty());
  EXPECT_TRUE(service_->Deliveries("acme", hook.webhook.id)->empty());

  WebhookFields resume;
  resume.status = "active";
  ASSERT_TRUE(service_->Update("acme", hook.webhook.id, resume, "test", "").ok());
  for (int i = 0; i < 5; ++i) Commit("k" + std::to_string(i), "lead.created");
  Commit("other-org", "lead.created", "globex");
  Pump();
  EXPECT_EQ(receiver_.received().size(), 5u);
  auto d = service_->Deliveries("acme", hook.webhook.id);
  ASSERT_EQ(d->size(), 3u);  // keep_deliveries = 3 in this fixture
  EXPECT_EQ((*d)[0].event_id, "evt-k4");
}

TEST_F(WebhookEngineTest, TestDeliveryAnswersWithTheReceiversStatus) {
  CreatedWebhook hook = NewHook({"*"});
  receiver_.Script({410});
  auto d = service_->SendTest("acme", hook.webhook.id, "key:admin");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->status, "failed");
  EXPECT_EQ(d->attempt_log.at(0).http_status, 410);
  d = service_->SendTest("acme", hook.webhook.id, "key:admin");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->status, "succeeded");
  const auto got = receiver_.received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(Json::parse(got[1].body)["type"], "nurt.webhook.test");
  EXPECT_EQ(OpensslSignature(hook.secret, got[1].Header("webhook-id"), got[1].Header("webhook-timestamp"),
                             got[1].body),
            got[1].Header("webhook-signature"));
}

TEST_F(WebhookEngineTest, RotatedSecretSignsFromNowOnAndIsNeverStoredInClear) {
  CreatedWebhook hook = NewHook({"*"});
  auto rotated = service_->RotateSecret("acme", hook.webhook.id, "test", "leaked");
  ASSERT_TRUE(rotated.ok());
  EXPECT_NE(rotated->secret, hook.secret);
  auto stored = store_->GetWebhook("acme", hook.webhook.id);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->secret_sealed.find(rotated->secret.substr(6)), std::string::npos);
  EXPECT_FALSE(stored->ToJson().dump().find("whsec_") != std::string::npos);
  Commit("i1", "lead.created");
  Pump();
  const auto got = receiver_.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(OpensslSignature(rotated->secret, got[0].Header("webhook-id"), got[0].Header("webhook-timestamp"),
                             got[0].body),
            got[0].Header("webhook-signature"));
}

TEST_F(WebhookEngineTest, BadFieldsAreRefusedWithTheirPointer) {
  WebhookFields f;
  f.url = "http://example.com/hook";
  auto c = service_->Create("acme", f, "test", "");
  ASSERT_TRUE(c.status().IsInvalidArgument());
  EXPECT_THAT(c.status().message(), HasSubstr("/url: 'http://example.com/hook' uses plain http://"));
  f.url = "http://127.0.0.1:9/hook";
  EXPECT_THAT(service_->Create("acme", f, "test", "").status().message(), HasSubstr("\"allowHttpLoopback\": true"));
  f.url = "https://example.com/hook";
  f.retry_policy = "exponentail";
  EXPECT_THAT(service_->Create("acme", f, "test", "").status().message(),
              HasSubstr("/retryPolicy: 'exponentail' is not one of exponential, immediate, none; did you mean "
                        "'exponential'?"));
  f.retry_policy.reset();
  f.events = std::vector<std::string>{"order.*", "bad type"};
  EXPECT_THAT(service_->Create("acme", f, "test", "").status().message(), HasSubstr("/events/1: 'bad type'"));
  f.events.reset();
  f.headers = std::vector<std::pair<std::string, std::string>>{{"webhook-signature", "x"}};
  EXPECT_THAT(service_->Create("acme", f, "test", "").status().message(),
              HasSubstr("/headers/webhook-signature: 'webhook-signature' is set by nurt itself"));
  EXPECT_TRUE(service_->Get("globex", "nope").status().IsNotFound());
}

}  // namespace
}  // namespace nurt::webhooks
