// EffectDispatcher end to end: a workflow's `call:` action commits an http effect, the dispatcher
// calls a real receiver on loopback and the answer comes back to the instance as order.done /
// order.failed. Retry schedules are checked exactly on the ManualClock for each policy; 4xx goes
// straight to the dead-letter queue with the reason; timeouts and dropped connections are retried; the
// breaker opens, fails fast without using up tries, and recovers; an admin retry from the DLQ delivers.

#include "nurt/effects/effect_dispatcher.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "engine_harness.hpp"
#include "nurt/dsl/loader.hpp"
#include "nurt/effects/http_adapter.hpp"
#include "nurt/store/key_store.hpp"
#include "seeded_random.hpp"
#include "tests/engine/effects/receiver.hpp"

namespace nurt::effects {
namespace {

using ::testing::HasSubstr;
using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Receiver;

constexpr const char* kOrg = "acme";

std::string Workflow(const std::string& retry) {
  return R"YAML(apiVersion: nurt/v1
kind: Machine
name: purchase
version: 1
context:
  initial: { url: "", order: { sku: "A-1", qty: 2, password: "hunter2" } }
initial: ordering
states:
  ordering:
    entry:
      - call:
          adapter: http
          step: order
          input: { url: ctx.url, body: ctx.order, timeoutMs: 300 }
)YAML" + (retry.empty() ? std::string() : "          retry: " + retry + "\n") +
         R"YAML(    on:
      order.done:
        target: ordered
        actions: [ { assign: { answer: event.data.body } } ]
      order.failed:
        target: stuck
        actions: [ { assign: { error: event.data } } ]
  ordered: { type: final }
  stuck: {}
)YAML";
}

class EffectDispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(h_.Open());
    ASSERT_TRUE(registry_.Register(NewHttpAdapter()).ok());
  }

  void Publish(const std::string& retry) {
    auto r = dsl::LoadMachineText(Workflow(retry), "purchase.yaml");
    ASSERT_TRUE(r.definition) << (r.diagnostics.empty() ? "" : r.diagnostics[0].message);
    ASSERT_TRUE(h_.engine->Publish(kOrg, *r.definition).ok());
  }

  std::string Start(const std::string& id, const std::string& url) {
    engine::StartRequest s;
    s.org_id = kOrg;
    s.machine = "purchase";
    s.instance_id = id;
    s.data = Json{{"url", url}};
    auto o = h_.engine->Start(s);
    EXPECT_TRUE(o.ok()) << o.status();
    return id;
  }

  std::unique_ptr<EffectDispatcher> Dispatcher(std::function<void(EffectDispatcherOptions&)> tune = {}) {
    EffectDispatcherOptions o;
    o.store = h_.store.get();
    o.engine = h_.engine.get();
    o.adapters = &registry_;
    o.clock = &h_.clock;
    o.random = &random_;
    if (tune) tune(o);
    auto d = EffectDispatcher::Create(o);
    EXPECT_TRUE(d.ok()) << d.status();
    return std::move(d).value();
  }

  store::InstanceRecord Instance(const std::string& id) {
    auto r = h_.store->GetInstance(kOrg, id);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : store::InstanceRecord{};
  }

  std::vector<store::EffectRecord> Effects(const std::string& status) {
    store::EffectFilter f;
    f.status = status;
    auto r = h_.store->ListEffects(kOrg, f);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : std::vector<store::EffectRecord>{};
  }

  // Runs passes, advancing the clock to each next due time, and returns the offsets (from the first
  // pass) at which the receiver was called.
  std::vector<std::int64_t> CallTimes(EffectDispatcher& d, int max_passes) {
    const TimePoint t0 = h_.clock.Now();
    std::vector<std::int64_t> at;
    for (int i = 0; i < max_passes; ++i) {
      const std::size_t before = receiver_.count();
      auto r = d.RunOnce();
      EXPECT_TRUE(r.ok()) << r.status();
      if (receiver_.count() > before) {
        at.push_back(std::chrono::duration_cast<milliseconds>(h_.clock.Now() - t0).count());
      }
      auto pending = Effects("pending");
      if (pending.empty()) break;
      const TimePoint next = pending[0].next_attempt_at;
      if (next > h_.clock.Now()) h_.clock.Advance(std::chrono::duration_cast<milliseconds>(next - h_.clock.Now()));
    }
    return at;
  }

  nurt::testing::EngineHarness h_;
  AdapterRegistry registry_;
  nurt::testing::SeededRandom random_{7};
  Receiver receiver_;
};

TEST_F(EffectDispatcherTest, DeliversWithTheIdempotencyKeyAndAnswersDone) {
  Publish("");
  Start("p1", receiver_.Url());
  auto d = Dispatcher();
  auto r = d->RunOnce();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->done, 1);
  auto requests = receiver_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].path, "/orders");
  EXPECT_EQ(Json::parse(requests[0].body)["sku"], "A-1");
  EXPECT_EQ(requests[0].idempotency_key, "p1/1/call/0");
  const auto inst = Instance("p1");
  EXPECT_EQ(inst.state, std::vector<std::string>{"ordered"});
  EXPECT_EQ(inst.snapshot["context"]["answer"]["ok"], true);
  auto done = Effects("done");
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].attempts, 1);
  // A second pass finds nothing to do.
  EXPECT_EQ(d->RunOnce()->done, 0);
  EXPECT_EQ(receiver_.count(), 1u);

  // The integration log has the call, with the password masked.
  auto log = h_.store->ListIntegrationLog(kOrg, store::IntegrationFilter{});
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(log->size(), 1u);
  EXPECT_EQ((*log)[0].status, "success");
  EXPECT_EQ((*log)[0].http_status, 200);
  EXPECT_EQ((*log)[0].event_type, "order.done");
  EXPECT_THAT((*log)[0].request, HasSubstr("\"password\":\"***\""));
  EXPECT_THAT((*log)[0].request, ::testing::Not(HasSubstr("hunter2")));
}

TEST_F(EffectDispatcherTest, ImmediatePolicyTriesThreeTimesFiveSecondsApartThenDeadLetters) {
  Publish("immediate");
  Start("p1", receiver_.Url());
  receiver_.Fail(10, 503);
  auto d = Dispatcher();
  EXPECT_EQ(CallTimes(*d, 10), (std::vector<std::int64_t>{0, 5000, 10000}));
  auto dead = Effects("dead");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].attempts, 3);
  EXPECT_THAT(dead[0].item.result["reason"].get<std::string>(), HasSubstr("tries exhausted (3 of 3"));
  const auto inst = Instance("p1");
  EXPECT_EQ(inst.state, std::vector<std::string>{"stuck"});
  const Json& error = inst.snapshot["context"]["error"];
  EXPECT_EQ(error["code"], "http-5xx");
  EXPECT_EQ(error["retryable"], true);
  EXPECT_EQ(error["httpStatus"], 503);
  EXPECT_EQ(error["attempts"], 3);
}

TEST_F(EffectDispatcherTest, CustomPolicyRepeatsTheLastDelayAndSucceedsAfterNFailures) {
  Publish("{ tries: 5, delays: [PT10S, PT1M] }");
  Start("p1", receiver_.Url());
  receiver_.Fail(3, 500);
  auto d = Dispatcher();
  EXPECT_EQ(CallTimes(*d, 10), (std::vector<std::int64_t>{0, 10000, 70000, 130000}));
  EXPECT_EQ(Instance("p1").state, std::vector<std::string>{"ordered"});
  auto done = Effects("done");
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].attempts, 4);
  auto log = h_.store->ListIntegrationLog(kOrg, store::IntegrationFilter{});
  ASSERT_EQ(log->size(), 4u);
  EXPECT_EQ((*log)[3].status, "retry");
  EXPECT_EQ((*log)[3].attempt, 1);
  EXPECT_EQ((*log)[0].status, "success");
}

TEST_F(EffectDispatcherTest, ExponentialPolicyFollowsItsScheduleWithinTheJitter) {
  Publish("exponential");
  Start("p1", receiver_.Url());
  receiver_.Fail(10, 503);
  auto d = Dispatcher();
  auto at = CallTimes(*d, 20);
  ASSERT_EQ(at.size(), 6u);
  const std::int64_t base[] = {5000, 30000, 300000, 1800000, 7200000};
  for (std::size_t i = 1; i < at.size(); ++i) {
    const std::int64_t gap = at[i] - at[i - 1];
    EXPECT_GE(gap, base[i - 1] * 8 / 10) << "retry " << i;
    EXPECT_LE(gap, base[i - 1] * 12 / 10) << "retry " << i;
  }
  EXPECT_EQ(Effects("dead").size(), 1u);
}

TEST_F(EffectDispatcherTest, ManualPolicyAndClientErrorsGoStraightToTheDeadLetterQueue) {
  Publish("exponential");
  Start("p1", receiver_.Url());
  receiver_.Fail(1, 422);
  auto d = Dispatcher();
  auto r = d->RunOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->dead, 1);
  auto dead = Effects("dead");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].attempts, 1);
  EXPECT_EQ(dead[0].item.result["reason"], "not retryable: http-4xx");
  EXPECT_THAT(dead[0].last_error, HasSubstr("HTTP 422"));
  EXPECT_EQ(Instance("p1").snapshot["context"]["error"]["retryable"], false);
}

TEST_F(EffectDispatcherTest, TimeoutsAndDroppedConnectionsAreRetried) {
  Publish("{ tries: 3, delays: [PT1S] }");
  Start("p1", receiver_.Url());
  Receiver::Step slow;
  slow.delay = milliseconds(1500);  // the call's timeoutMs is 300
  Receiver::Step drop;
  drop.drop = true;
  receiver_.Script({slow, drop});
  auto d = Dispatcher();
  EXPECT_EQ(CallTimes(*d, 10), (std::vector<std::int64_t>{0, 1000, 2000}));
  EXPECT_EQ(Instance("p1").state, std::vector<std::string>{"ordered"});
  auto log = h_.store->ListIntegrationLog(kOrg, store::IntegrationFilter{});
  ASSERT_EQ(log->size(), 3u);
  EXPECT_THAT((*log)[2].error, HasSubstr("timeout"));
  EXPECT_THAT((*log)[1].error, HasSubstr("connection"));
}

TEST_F(EffectDispatcherTest, BreakerOpensFailsFastWithoutUsingTriesAndRecovers) {
  Publish("{ tries: 10, delays: [PT1S] }");
  for (int i = 0; i < 4; ++i) Start("p" + std::to_string(i), receiver_.Url());
  receiver_.Fail(4, 503);
  auto d = Dispatcher([](EffectDispatcherOptions& o) {
    o.breaker.min_calls = 4;
    o.breaker.window = 4;
    o.breaker.failure_rate = 1.0;
    o.breaker.open_for = seconds(60);
  });
  ASSERT_TRUE(d->RunOnce().ok());
  EXPECT_EQ(receiver_.count(), 4u);
  auto breakers = d->Breakers();
  ASSERT_EQ(breakers.size(), 1u);
  EXPECT_EQ(breakers[0].first, "http");
  EXPECT_EQ(breakers[0].second.state, BreakerState::kOpen);

  // A second after, the retries are due but the breaker is open: no call, no try used up; they wait
  // for the breaker.
  h_.clock.Advance(seconds(1));
  auto r = d->RunOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->deferred, 4);
  EXPECT_EQ(receiver_.count(), 4u);
  for (const auto& e : Effects("pending")) {
    EXPECT_EQ(e.attempts, 1);
    EXPECT_EQ(e.next_attempt_at, breakers[0].second.retry_at.value());
  }

  // Half-open after 60 s: one probe goes through, succeeds, the breaker closes, the rest follow.
  h_.clock.Advance(seconds(59));
  r = d->RunOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->done + r->deferred, 4);
  EXPECT_GE(r->done, 1);
  EXPECT_EQ(d->Breakers()[0].second.state, BreakerState::kClosed);
  r = d->RunOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Effects("done").size(), 4u);
  EXPECT_EQ(receiver_.delivered_keys().size(), 4u);
}

TEST_F(EffectDispatcherTest, AdminRetryFromTheDeadLetterQueueDelivers) {
  Publish("manual");
  Start("p1", receiver_.Url());
  receiver_.Fail(1, 503);
  auto d = Dispatcher();
  ASSERT_TRUE(d->RunOnce().ok());
  auto dead = Effects("dead");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(Instance("p1").state, std::vector<std::string>{"stuck"});

  store::AuditRecord audit;
  audit.org_id = kOrg;
  audit.id = "AUD1";
  audit.occurred_at = h_.clock.Now();
  audit.actor = "cli:alice";
  audit.action = "effect.retry";
  audit.target = dead[0].item.id;
  audit.reason = "partner is back";
  ASSERT_TRUE(h_.store->AdminEffect("retry", kOrg, dead[0].item.id, h_.clock.Now(), audit).ok());
  auto r = d->RunOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->done, 1);
  auto requests = receiver_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].idempotency_key, requests[0].idempotency_key);
  EXPECT_EQ(Effects("done").size(), 1u);
}

TEST_F(EffectDispatcherTest, InputNotMatchingTheSchemaAtRunTimeIsAPermanentFailure) {
  Publish("");
  Start("p1", "ftp://example.org/x");  // the url pattern wants http(s)
  auto d = Dispatcher();
  auto r = d->RunOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->dead, 1);
  EXPECT_EQ(receiver_.count(), 0u);
  auto dead = Effects("dead");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].item.result["error"]["code"], "invalid-input");
  EXPECT_THAT(dead[0].last_error, HasSubstr("/url"));
}

TEST_F(EffectDispatcherTest, ACrashBetweenCallAndRecordRepeatsOnlyWhatTheReceiverDedupes) {
  Publish("");
  Start("p1", receiver_.Url());
  auto d = Dispatcher();
  ASSERT_TRUE(d->RunOnce().ok());
  // Simulate a crash after the call and the answer but before the record: put it back as pending.
  const auto done = Effects("done");
  ASSERT_EQ(done.size(), 1u);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(h_.dir.File("nurt.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE outbox SET status = 'pending', attempts = 0", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto r = d->RunOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->done, 1);
  EXPECT_EQ(receiver_.count(), 2u);
  EXPECT_EQ(receiver_.delivered_keys().size(), 1u);  // the receiver saw the same key twice
  auto events = h_.store->ListEvents(kOrg, "p1");
  ASSERT_TRUE(events.ok());
  int answers = 0;
  for (const auto& e : *events) answers += e.type == "order.done";
  EXPECT_EQ(answers, 1);
}

TEST_F(EffectDispatcherTest, AnAnswerForASuspendedInstanceWaitsInsteadOfBeingLost) {
  Publish("");
  Start("p1", receiver_.Url());
  engine::AdminRequest suspend;
  suspend.org_id = kOrg;
  suspend.instance_id = "p1";
  suspend.reason = "customer on hold";
  ASSERT_TRUE(h_.engine->Suspend(suspend).ok());
  auto d = Dispatcher();
  auto r = d->RunOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->deferred, 1);
  auto pending = Effects("pending");
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].attempts, 0);
  EXPECT_EQ(pending[0].next_attempt_at, h_.clock.Now() + std::chrono::minutes(1));
  EXPECT_THAT(pending[0].last_error, HasSubstr("is suspended"));

  ASSERT_TRUE(h_.engine->Resume(suspend).ok());
  h_.clock.Advance(std::chrono::minutes(1));
  r = d->RunOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->done, 1);
  EXPECT_EQ(Instance("p1").state, std::vector<std::string>{"ordered"});
  EXPECT_EQ(receiver_.count(), 2u);
  EXPECT_EQ(receiver_.delivered_keys().size(), 1u);
}

}  // namespace
}  // namespace nurt::effects
