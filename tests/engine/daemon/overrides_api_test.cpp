// Admin overrides through real HTTP: each needs admin:override and a reason, and lands in history.

#include "daemon_fixture.hpp"

namespace nurt::daemon {
namespace {

TEST_F(DaemonTest, SuspendResumeForceSkipCancelAreAuditedInHistory) {
  const std::string id = StartLead(admin_);
  const std::string base = "/v1/instances/" + id;
  ApiResponse no_reason = Call("POST", base + "/suspend", admin_, Json::object());
  EXPECT_EQ(no_reason.status, 400) << no_reason;
  EXPECT_EQ(no_reason.body["error"]["pointer"], "/reason");

  ASSERT_EQ(Call("POST", base + "/suspend", admin_, Json{{"reason", "customer on holiday"}}).status, 200);
  ApiResponse refused = Call("POST", base + "/events", admin_, Json{{"event", "note"}});
  EXPECT_EQ(refused.status, 409) << refused;
  EXPECT_EQ(refused.body["error"]["code"], "instance_not_active");
  EXPECT_EQ(Call("POST", base + "/suspend", admin_, Json{{"reason", "again"}}).status, 409);
  ASSERT_EQ(Call("POST", base + "/resume", admin_, Json{{"reason", "back"}}).status, 200);

  ApiResponse unknown = Call("POST", base + "/force", admin_, Json{{"reason", "r"}, {"state", "qualifed"}});
  EXPECT_EQ(unknown.status, 422) << unknown;
  ApiResponse forced = Call("POST", base + "/force", admin_,
                            Json{{"reason", "confirmed by phone, ticket 4711"}, {"state", "qualified"}});
  ASSERT_EQ(forced.status, 200) << forced;
  EXPECT_EQ(forced.body["state"], Json::array({"qualified"}));

  // The lead's qualification task was closed when force left `new`.
  ApiResponse tasks = Call("GET", "/v1/tasks?status=closed&instance=" + id, admin_);
  ASSERT_EQ(tasks.body["items"].size(), 1u) << tasks;
  EXPECT_EQ(Call("GET", "/v1/tasks?instance=" + id, admin_).body["items"].size(), 0u);

  ApiResponse cancelled = Call("POST", base + "/cancel", admin_, Json{{"reason", "duplicate lead"}},
                               {{"Idempotency-Key", "cancel-1"}});
  ASSERT_EQ(cancelled.status, 200) << cancelled;
  EXPECT_EQ(cancelled.body["runStatus"], "cancelled");
  EXPECT_EQ(Call("POST", base + "/cancel", admin_, Json{{"reason", "duplicate lead"}},
                 {{"Idempotency-Key", "cancel-1"}}).body["replayed"], true);
  EXPECT_EQ(Call("POST", base + "/resume", admin_, Json{{"reason", "oops"}}).status, 409);

  ApiResponse history = Call("GET", base + "/history", admin_);
  std::vector<std::string> types;
  for (const auto& e : history.body["events"]) {
    types.push_back(e["type"]);
    if (e["type"].get<std::string>().rfind("nurt.admin.", 0) == 0) {
      EXPECT_EQ(e["actor"], "key:acme-admin");
      EXPECT_FALSE(e["payload"]["reason"].get<std::string>().empty()) << e;
    }
  }
  EXPECT_EQ(types, (std::vector<std::string>{"nurt.start", "nurt.admin.suspend", "nurt.admin.resume",
                                             "nurt.admin.force", "nurt.admin.cancel"}));
}

TEST_F(DaemonTest, SkipGoesToTheOnlyTargetOrExplainsWhyNot) {
  const std::string id = StartLead(admin_);
  // `new` has several targets (qualified, lost): skip must refuse and name them.
  ApiResponse refused = Call("POST", "/v1/instances/" + id + "/skip", admin_, Json{{"reason", "r"}});
  EXPECT_EQ(refused.status, 409) << refused;
  EXPECT_NE(refused.body["error"]["message"].get<std::string>().find("force"), std::string::npos);
  EXPECT_EQ(Call("POST", "/v1/instances/" + id + "/retry", admin_, Json{{"reason", "r"}}).status, 409);
}

}  // namespace
}  // namespace nurt::daemon
