// /v1/webhooks over real HTTP on loopback: subscriptions managed with webhooks:manage, a test delivery
// answered with the receiver's status, events committed through the API delivered by the daemon's
// webhook loop to a real receiver, and the last deliveries listed.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "daemon_fixture.hpp"
#include "tests/engine/notify/notify_test_util.hpp"

namespace nurt::daemon {
namespace {

using ::testing::HasSubstr;

class WebhooksApiTest : public DaemonTest {
 protected:
  Json NewHook(const Json& extra = Json::object()) {
    Json body{{"url", receiver_.Url("/hook")}, {"allowHttpLoopback", true}, {"events", {"nurt.start", "lead.*"}}};
    body.update(extra);
    ApiResponse r = Call("POST", "/v1/webhooks", admin_, body);
    EXPECT_EQ(r.status, 201) << r;
    return r.body;
  }

  // The receiver's requests once there are at least `n` (bounded wait on the wall clock: the loop
  // runs on its own thread).
  std::vector<notify::testing::HttpReceiver::Received> WaitFor(std::size_t n) {
    for (int i = 0; i < 200 && receiver_.received().size() < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return receiver_.received();
  }

  notify::testing::HttpReceiver receiver_;
};

TEST_F(WebhooksApiTest, ManagesSubscriptionsWithTheSecretShownOnce) {
  Json created = NewHook(Json{{"headers", {{"X-Tenant", "acme"}}}, {"description", "CRM"}});
  const std::string id = created["webhook"]["id"];
  EXPECT_THAT(created["secret"].get<std::string>(), ::testing::StartsWith("whsec_"));
  EXPECT_EQ(created["webhook"]["headers"]["X-Tenant"], "acme");

  ApiResponse list = Call("GET", "/v1/webhooks", admin_);
  ASSERT_EQ(list.status, 200) << list;
  ASSERT_EQ(list.body["items"].size(), 1u);
  EXPECT_EQ(list.text.find("whsec_"), std::string::npos) << "the secret is shown once only";

  ApiResponse paused = Call("PATCH", "/v1/webhooks/" + id, admin_, Json{{"status", "paused"}, {"reason", "r"}});
  ASSERT_EQ(paused.status, 200) << paused;
  EXPECT_EQ(paused.body["status"], "paused");

  ApiResponse rotated = Call("POST", "/v1/webhooks/" + id + "/rotate-secret", admin_);
  ASSERT_EQ(rotated.status, 200) << rotated;
  EXPECT_NE(rotated.body["secret"], created["secret"]);

  // Another org's admin sees nothing; a key without the scope is refused.
  EXPECT_EQ(Call("GET", "/v1/webhooks/" + id, other_admin_).status, 404);
  const std::string reader = NewKey("acme", "reader", {"read:instances"});
  ApiResponse denied = Call("GET", "/v1/webhooks", reader);
  EXPECT_EQ(denied.status, 403) << denied;
  EXPECT_EQ(denied.body["error"]["details"]["requiredScope"], "webhooks:manage");

  // Changes are audited.
  ApiResponse audit = Call("GET", "/v1/audit", admin_);
  ASSERT_EQ(audit.status, 200);
  std::vector<std::string> actions;
  for (const auto& a : audit.body["items"]) actions.push_back(a["action"]);
  EXPECT_THAT(actions, ::testing::IsSupersetOf({"webhook.create", "webhook.pause", "webhook.rotate_secret"}));

  ApiResponse gone = Call("DELETE", "/v1/webhooks/" + id, admin_);
  EXPECT_EQ(gone.status, 200) << gone;
  EXPECT_EQ(Call("GET", "/v1/webhooks/" + id, admin_).status, 404);
}

TEST_F(WebhooksApiTest, BadBodiesAreRefusedWithAJsonPointer) {
  ApiResponse r = Call("POST", "/v1/webhooks", admin_, Json{{"url", "http://partner.example.com/hook"}});
  EXPECT_EQ(r.status, 400) << r;
  EXPECT_EQ(r.body["error"]["pointer"], "/url");
  EXPECT_THAT(r.body["error"]["message"].get<std::string>(), HasSubstr("use https://"));
  r = Call("POST", "/v1/webhooks", admin_,
           Json{{"url", "https://partner.example.com/hook"}, {"headers", {{"X-Ok", "1"}, {"X-Bad", 2}}}});
  EXPECT_EQ(r.status, 400) << r;
  EXPECT_EQ(r.body["error"]["pointer"], "/headers/X-Bad");
  r = Call("POST", "/v1/webhooks", admin_, Json{{"url", "https://partner.example.com/hook"}, {"event", {"x"}}});
  EXPECT_EQ(r.status, 400) << r;
  EXPECT_EQ(r.body["error"]["pointer"], "/event");
  r = Call("POST", "/v1/webhooks", admin_, Json{{"url", "https://partner.example.com/hook"}, {"retryPolicy", "never"}});
  EXPECT_EQ(r.status, 400) << r;
  EXPECT_EQ(r.body["error"]["pointer"], "/retryPolicy");
}

TEST_F(WebhooksApiTest, TestDeliveryAnswersWithTheReceiversStatus) {
  const std::string id = NewHook()["webhook"]["id"];
  receiver_.Script({503});
  ApiResponse r = Call("POST", "/v1/webhooks/" + id + "/test", admin_);
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.body["succeeded"], false);
  EXPECT_EQ(r.body["httpStatus"], 503);
  r = Call("POST", "/v1/webhooks/" + id + "/test", admin_);
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.body["succeeded"], true);
  EXPECT_EQ(r.body["httpStatus"], 200);
  ApiResponse list = Call("GET", "/v1/webhooks/" + id + "/deliveries", admin_);
  ASSERT_EQ(list.status, 200) << list;
  ASSERT_EQ(list.body["items"].size(), 2u);
  EXPECT_EQ(list.body["items"][0]["eventType"], "nurt.webhook.test");
  EXPECT_EQ(list.body["items"][0]["test"], true);
}

TEST_F(WebhooksApiTest, CommittedEventsReachTheReceiverAndPausedOnesReceiveNothing) {
  const std::string id = NewHook()["webhook"]["id"];
  const std::string paused_url = receiver_.Url("/paused");
  ApiResponse p = Call("POST", "/v1/webhooks", admin_,
                       Json{{"url", paused_url}, {"allowHttpLoopback", true}, {"status", "paused"}});
  ASSERT_EQ(p.status, 201) << p;
  const std::string lead = StartLead(admin_);
  auto got = WaitFor(1);
  ASSERT_GE(got.size(), 1u);
  for (const auto& r : got) EXPECT_EQ(r.path, "/hook");
  const Json body = Json::parse(got[0].body);
  EXPECT_EQ(body["type"], "nurt.start");
  EXPECT_EQ(body["data"]["entity"]["id"], lead);
  ApiResponse list = Call("GET", "/v1/webhooks/" + id + "/deliveries", admin_);
  ASSERT_EQ(list.status, 200);
  ASSERT_GE(list.body["items"].size(), 1u);
  EXPECT_EQ(list.body["items"].back()["id"], got[0].Header("webhook-id"));
  EXPECT_TRUE(Call("GET", "/v1/webhooks/" + p.body["webhook"]["id"].get<std::string>() + "/deliveries", admin_)
                  .body["items"]
                  .empty());
}

}  // namespace
}  // namespace nurt::daemon
