// Human tasks and signed task links through real HTTP.

#include "daemon_fixture.hpp"

namespace nurt::daemon {
namespace {

const char* kDelivery = R"(apiVersion: nurt/v1
kind: Machine
name: delivery
version: 1
initial: confirm
states:
  confirm:
    task:
      title: Confirm the delivery date
      assignee: {role: installer}
      form:
        - {name: date, type: date, required: true}
        - {name: pallets, type: integer}
      checklist: [Check the truck size]
      due: P2D
      decisions:
        confirm: delivery.confirmed
        reject: delivery.rejected
    on:
      delivery.confirmed:
        target: scheduled
        actions:
          - assign: {date: "event.data.date"}
      delivery.rejected: rejected
      cancel_order: rejected
  scheduled:
    type: final
  rejected:
    type: final
)";

class TasksApiTest : public DaemonTest {
 protected:
  void SetUp() override {
    DaemonTest::SetUp();
    ApiResponse up = Call("POST", "/v1/definitions", admin_, Json{{"file", "delivery.yaml"}, {"source", kDelivery}});
    ASSERT_TRUE(up.status == 201 || up.status == 200) << up;
    installer_ = NewKey("acme", "jan", {}, "installer");
    finance_ = NewKey("acme", "ewa", {}, "finance");
  }

  // Starts a delivery; returns (instance id, its open task id).
  std::pair<std::string, std::string> StartDelivery() {
    ApiResponse r = Call("POST", "/v1/instances", admin_, Json{{"machine", "delivery"}});
    EXPECT_EQ(r.status, 201) << r;
    const std::string id = r.body.value("instanceId", "");
    ApiResponse show = Call("GET", "/v1/instances/" + id, admin_);
    EXPECT_EQ(show.body["tasks"].size(), 1u) << show;
    return {id, show.body["tasks"].empty() ? "" : show.body["tasks"][0]["id"].get<std::string>()};
  }

  std::string installer_, finance_;
};

TEST_F(TasksApiTest, InboxClaimCompleteBecomesTheDecisionEvent) {
  auto [id, task] = StartDelivery();
  ApiResponse inbox = Call("GET", "/v1/tasks", installer_);
  ASSERT_EQ(inbox.status, 200) << inbox;
  ASSERT_EQ(inbox.body["items"].size(), 1u);
  EXPECT_EQ(inbox.body["items"][0]["title"], "Confirm the delivery date");
  EXPECT_EQ(inbox.body["items"][0]["dueAt"], "2026-01-03T00:00:00.000Z");
  EXPECT_EQ(Call("GET", "/v1/tasks", finance_).body["items"].size(), 0u);  // not finance's task

  EXPECT_EQ(Call("POST", "/v1/tasks/" + task + "/claim", finance_).status, 403);
  ApiResponse claimed = Call("POST", "/v1/tasks/" + task + "/claim", installer_);
  ASSERT_EQ(claimed.status, 200) << claimed;
  EXPECT_EQ(claimed.body["status"], "claimed");

  ApiResponse bad = Call("POST", "/v1/tasks/" + task + "/complete", installer_,
                         Json{{"decision", "confirm"}, {"data", {{"date", "soon"}, {"pallets", "two"}}}});
  ASSERT_EQ(bad.status, 422) << bad;
  const std::string msg = bad.body["error"]["message"];
  EXPECT_NE(msg.find("/data/date"), std::string::npos) << msg;
  EXPECT_NE(msg.find("/data/pallets"), std::string::npos) << msg;
  EXPECT_EQ(Call("POST", "/v1/tasks/" + task + "/complete", installer_, Json{{"decision", "maybe"}}).status, 422);

  ApiResponse done = Call("POST", "/v1/tasks/" + task + "/complete", installer_,
                          Json{{"decision", "confirm"}, {"data", {{"date", "2026-02-10"}, {"pallets", 2}}},
                               {"checklist", {"Check the truck size"}}},
                          {{"Idempotency-Key", "c1"}});
  ASSERT_EQ(done.status, 200) << done;
  EXPECT_EQ(done.body["state"], Json::array({"scheduled"}));
  EXPECT_EQ(done.body["context"]["date"], "2026-02-10");
  ApiResponse replay = Call("POST", "/v1/tasks/" + task + "/complete", installer_,
                            Json{{"decision", "confirm"}, {"data", {{"date", "2026-02-10"}, {"pallets", 2}}},
                                 {"checklist", {"Check the truck size"}}},
                            {{"Idempotency-Key", "c1"}});
  EXPECT_EQ(replay.status, 200) << replay;

  ApiResponse closed = Call("GET", "/v1/tasks/" + task, admin_);
  EXPECT_EQ(closed.body["status"], "completed");
  EXPECT_EQ(closed.body["decision"], "confirm");
  EXPECT_EQ(closed.body["completedBy"], "key:jan");
  ApiResponse history = Call("GET", "/v1/instances/" + id + "/history", admin_);
  EXPECT_EQ(history.body["events"].back()["type"], "delivery.confirmed");
  EXPECT_EQ(history.body["events"].back()["actor"], "key:jan");
}

TEST_F(TasksApiTest, LeavingTheStateAnotherWayClosesTheTask) {
  auto [id, task] = StartDelivery();
  ASSERT_EQ(Call("POST", "/v1/instances/" + id + "/events", admin_, Json{{"event", "cancel_order"}}).status, 200);
  ApiResponse t = Call("GET", "/v1/tasks/" + task, admin_);
  EXPECT_EQ(t.body["status"], "closed");
  EXPECT_FALSE(t.body["closeReason"].get<std::string>().empty());
  ApiResponse late = Call("POST", "/v1/tasks/" + task + "/complete", installer_, Json{{"decision", "confirm"},
                                                                                      {"data", {{"date", "2026-02-10"}}}});
  EXPECT_EQ(late.status, 409) << late;
  EXPECT_EQ(Call("GET", "/v1/tasks", installer_).body["items"].size(), 0u);
}

TEST_F(TasksApiTest, SignedLinkGrantsThatOneTaskUntilItExpires) {
  auto [id, task] = StartDelivery();
  auto [id2, task2] = StartDelivery();
  ApiResponse link = Call("POST", "/v1/tasks/" + task + "/links", installer_, Json{{"expiresIn", "P1D"}});
  ASSERT_EQ(link.status, 201) << link;
  const std::string path = link.body["path"];
  ApiResponse seen = Call("GET", path, "");
  ASSERT_EQ(seen.status, 200) << seen;
  EXPECT_EQ(seen.body["id"], task);

  std::string tampered = path;
  tampered[tampered.size() - 3] = tampered[tampered.size() - 3] == 'a' ? 'b' : 'a';
  EXPECT_EQ(Call("GET", tampered, "").status, 401);
  // The link is no API key.
  const std::string token = link.body["token"];
  EXPECT_EQ(Call("GET", "/v1/tasks/" + task2, token).status, 401);
  EXPECT_EQ(Call("GET", "/v1/instances/" + id, token).status, 401);

  // Form rules hold for every decision: `date` is required even to reject.
  ApiResponse done = Call("POST", path + "/complete", "",
                          Json{{"decision", "reject"}, {"data", {{"date", "2026-02-11"}}}});
  ASSERT_EQ(done.status, 200) << done;
  EXPECT_EQ(done.body.count("context"), 0u) << "a link must not reveal the instance's data";
  EXPECT_EQ(Call("GET", "/v1/instances/" + id, admin_).body["state"], Json::array({"rejected"}));
  EXPECT_EQ(Call("GET", "/v1/tasks/" + task, admin_).body["completedBy"], "link:" + task);

  ApiResponse link2 = Call("POST", "/v1/tasks/" + task2 + "/links", installer_, Json{{"expiresIn", "PT1H"}});
  ASSERT_EQ(link2.status, 201);
  clock_.Advance(std::chrono::minutes(61));
  ApiResponse expired = Call("GET", link2.body["path"].get<std::string>(), "");
  EXPECT_EQ(expired.status, 401) << expired;
  EXPECT_NE(expired.body["error"]["message"].get<std::string>().find("expired"), std::string::npos);
}

}  // namespace
}  // namespace nurt::daemon
