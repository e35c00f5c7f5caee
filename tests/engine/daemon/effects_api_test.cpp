// /v1/effects and /v1/integrations through a real daemon (virtual time, a real receiver on loopback): a
// workflow's call goes out, a failing one lands in the DLQ, the operator retries it over the API and it
// is delivered; every action is in /v1/audit; the log is searchable; the dashboard shows breaker, counts
// and recent calls; keys without effects:manage are refused.

#include <gmock/gmock.h>

#include <thread>

#include "daemon_fixture.hpp"
#include "tests/engine/effects/receiver.hpp"

namespace nurt::daemon {
namespace {

using ::testing::HasSubstr;

const char* kCaller = R"(apiVersion: nurt/v1
kind: Machine
name: partner_order
version: 1
initial: ordering
states:
  ordering:
    entry:
      - call: {adapter: http, step: order, input: {url: ctx.url, body: {sku: "'A-1'", api_key: "'s3cr3t'"}}, retry: manual}
    on:
      order.done: ordered
      order.failed: stuck
  ordered: {type: final}
  stuck: {}
)";

class EffectsApiTest : public DaemonTest {
 protected:
  std::string Start(const std::string& url) {
    ApiResponse r = Call("POST", "/v1/instances", admin_, Json{{"machine", "partner_order"}, {"data", {{"url", url}}}});
    EXPECT_EQ(r.status, 201) << r;
    return r.body.value("instanceId", "");
  }
  // The daemon's effect loop runs on its own thread: wait (wall time, bounded) until `done` holds.
  bool WaitFor(const std::function<bool()>& done) {
    for (int i = 0; i < 500; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return done();
  }
  std::string State(const std::string& id) {
    ApiResponse r = Call("GET", "/v1/instances/" + id, admin_);
    return r.body["state"].empty() ? "" : r.body["state"][0].get<std::string>();
  }
  effects::testing::Receiver receiver_;
};

TEST_F(EffectsApiTest, DeadLetterRetriedOverTheApiIsDeliveredAndAudited) {
  ASSERT_EQ(Call("POST", "/v1/definitions", admin_, Json{{"source", kCaller}}).status, 201);
  receiver_.Fail(1, 400);
  const std::string id = Start(receiver_.Url());
  ASSERT_TRUE(WaitFor([&] { return State(id) == "stuck"; })) << State(id);

  ApiResponse dlq = Call("GET", "/v1/effects?status=dead", admin_);
  ASSERT_EQ(dlq.status, 200) << dlq;
  ASSERT_EQ(dlq.body["items"].size(), 1u) << dlq;
  const Json effect = dlq.body["items"][0];
  EXPECT_EQ(effect["status"], "dead");
  EXPECT_EQ(effect["adapter"], "http");
  EXPECT_EQ(effect["result"]["reason"], "not retryable: http-4xx");
  const std::string effect_id = effect["id"];

  // Skip needs a pending effect; delete needs a dead one.
  EXPECT_EQ(Call("POST", "/v1/effects/" + effect_id + "/skip", admin_, Json{{"reason", "x"}}).status, 409);
  EXPECT_EQ(Call("POST", "/v1/effects/nope/retry", admin_, Json::object()).status, 404);
  EXPECT_EQ(Call("GET", "/v1/effects?status=stuck", admin_).status, 400);

  ApiResponse retried = Call("POST", "/v1/effects/" + effect_id + "/retry", admin_, Json{{"reason", "fixed"}});
  ASSERT_EQ(retried.status, 200) << retried;
  EXPECT_EQ(retried.body["status"], "pending");
  ASSERT_TRUE(WaitFor([&] {
    return Call("GET", "/v1/effects/" + effect_id, admin_).body.value("status", "") == "done";
  }));
  EXPECT_EQ(receiver_.successes(), 1u);

  ApiResponse audit = Call("GET", "/v1/audit", admin_);
  ASSERT_EQ(audit.status, 200) << audit;
  bool found = false;
  for (const auto& a : audit.body["items"]) {
    if (a["action"] == "effect.retry" && a["target"] == effect_id && a["reason"] == "fixed") found = true;
  }
  EXPECT_TRUE(found) << audit;

  // The integration log: both tries, the secret masked, searchable by body.
  ApiResponse log = Call("GET", "/v1/integrations/log?system=http", admin_);
  ASSERT_EQ(log.status, 200) << log;
  ASSERT_EQ(log.body["items"].size(), 2u) << log;
  EXPECT_EQ(log.body["items"][0]["status"], "success");
  EXPECT_EQ(log.body["items"][1]["status"], "failure");
  EXPECT_EQ(log.body["items"][1]["httpStatus"], 400);
  EXPECT_THAT(log.body["items"][0]["request"].get<std::string>(), HasSubstr("\"api_key\":\"***\""));
  EXPECT_EQ(Call("GET", "/v1/integrations/log?q=A-1", admin_).body["items"].size(), 2u);
  EXPECT_EQ(Call("GET", "/v1/integrations/log?q=s3cr3t", admin_).body["items"].size(), 0u);
  EXPECT_EQ(Call("GET", "/v1/integrations/log?since=yesterday", admin_).status, 400);

  ApiResponse stats = Call("GET", "/v1/integrations/stats", admin_);
  ASSERT_EQ(stats.status, 200) << stats;
  ASSERT_EQ(stats.body["items"].size(), 1u);
  EXPECT_EQ(stats.body["items"][0]["calls"], 2);
  EXPECT_EQ(stats.body["items"][0]["successRate"], 0.5);

  ApiResponse dash = Call("GET", "/v1/integrations/dashboard", admin_);
  ASSERT_EQ(dash.status, 200) << dash;
  ASSERT_EQ(dash.body["adapters"].size(), 1u) << dash;
  EXPECT_EQ(dash.body["adapters"][0]["name"], "http");
  EXPECT_EQ(dash.body["adapters"][0]["breaker"], "closed");
  EXPECT_EQ(dash.body["adapters"][0]["endpoints"].size(), 1u);
  EXPECT_EQ(dash.body["recent"].size(), 2u);
  EXPECT_EQ(dash.body["counts"]["failedCalls24h"], 1);
  EXPECT_EQ(dash.body["counts"]["deadLetters"], 0);

  // The breaker and effect counts are on /metrics.
  ApiResponse metrics = Call("GET", "/metrics", admin_);
  EXPECT_THAT(metrics.text, HasSubstr("nurt_circuit_breaker_state{adapter=\"http\""));
  EXPECT_THAT(metrics.text, HasSubstr("nurt_effects_total{adapter=\"http\",outcome=\"done\"} 1"));
}

TEST_F(EffectsApiTest, BulkRetryAndDeleteAndScopes) {
  ASSERT_EQ(Call("POST", "/v1/definitions", admin_, Json{{"source", kCaller}}).status, 201);
  receiver_.Fail(2, 422);
  const std::string a = Start(receiver_.Url());
  const std::string b = Start(receiver_.Url());
  ASSERT_TRUE(WaitFor([&] { return State(a) == "stuck" && State(b) == "stuck"; }));
  ApiResponse dlq = Call("GET", "/v1/effects?status=dead&limit=1", admin_);
  ASSERT_EQ(dlq.body["items"].size(), 1u);
  ASSERT_TRUE(dlq.body["nextCursor"].is_string());
  const std::string first = dlq.body["items"][0]["id"];
  ApiResponse deleted = Call("DELETE", "/v1/effects/" + first + "?reason=duplicate", admin_);
  ASSERT_EQ(deleted.status, 200) << deleted;
  EXPECT_EQ(Call("GET", "/v1/effects/" + first, admin_).status, 404);

  ApiResponse all = Call("POST", "/v1/effects/retry-all", admin_, Json{{"adapter", "http"}, {"reason", "outage over"}});
  ASSERT_EQ(all.status, 200) << all;
  EXPECT_EQ(all.body["retried"], 1);
  ASSERT_TRUE(WaitFor([&] { return Call("GET", "/v1/effects?status=done", admin_).body["items"].size() == 1; }));

  const std::string reader = NewKey("acme", "reader", {"read:instances"});
  EXPECT_EQ(Call("GET", "/v1/effects", reader).status, 403);
  EXPECT_EQ(Call("GET", "/v1/integrations/dashboard", reader).status, 403);
  const std::string ops = NewKey("acme", "ops", {"effects:manage"});
  EXPECT_EQ(Call("GET", "/v1/effects", ops).status, 200);
  // Another org sees none of it.
  EXPECT_EQ(Call("GET", "/v1/effects", other_admin_).body["items"].size(), 0u);
}

}  // namespace
}  // namespace nurt::daemon
