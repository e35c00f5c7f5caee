// The daemon sends notifications: channels come from the kind: Channels files in its definition
// folders, a nurt.notify outbox item committed to its database reaches a real HTTP receiver, and
// /metrics counts it; an invalid channel file stops the daemon from starting, naming file:line:col.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "daemon_fixture.hpp"
#include "nurt/notify/sender.hpp"
#include "nurt/store/store.hpp"
#include "tests/engine/notify/notify_test_util.hpp"

namespace nurt::daemon {
namespace {

using ::testing::HasSubstr;

class NotificationsDaemonTest : public DaemonTest {
 protected:
  void SetUp() override {}

  void StartWithChannels(const std::string& channels_yaml) {
    std::ofstream(folder_.File("channels.yaml")) << channels_yaml;
    StartDaemon([this](server::DaemonConfig& c) { c.definition_paths.push_back(folder_.path()); });
  }

  // A new instance with one notification, committed straight to the daemon's database (as a machine
  // or rule will once they produce notifications).
  void Produce(const std::string& id, const Json& payload) {
    store::SqliteOptions so;
    so.path = dir_.File("nurt.db");
    auto s = store::NewSqliteStore(so);
    ASSERT_TRUE(s.ok()) << s.status();
    store::CommitRequest r;
    r.org_id = r.instance.org_id = "acme";
    r.instance_id = r.instance.id = id;
    r.instance.machine = "lead";
    r.instance.machine_version = 1;
    r.instance.run_status = "active";
    r.instance.state = {"new"};
    r.instance.snapshot = Json::object();
    r.instance.version = 1;
    store::EventEnvelope e;
    e.id = "evt-" + id;
    e.org_id = "acme";
    e.type = "nurt.start";
    e.actor = "test";
    e.entity_type = "lead";
    e.entity_id = id;
    e.sequence = 1;
    r.events = {e};
    store::OutboxItem o;
    o.id = "out-" + id;
    o.org_id = "acme";
    o.instance_id = id;
    o.event_sequence = 1;
    o.kind = notify::kNotifyOutboxKind;
    o.payload = payload;
    o.idempotency_key = id + ":notify:0";
    r.outbox = {o};
    ASSERT_TRUE((*s)->Commit(r).ok());
  }

  testing::TempDir folder_;
  notify::testing::HttpReceiver receiver_;
};

TEST_F(NotificationsDaemonTest, DeliversCommittedNotificationsAndCountsThem) {
  StartWithChannels("apiVersion: nurt/v1\nkind: Channels\norg: acme\nchannels:\n"
                    "  crm-hook: {type: webhook, url: \"" + receiver_.Url("/crm") +
                    "\", allow_http_loopback: true}\n");
  Produce("lead-n1", Json{{"channel", "crm-hook"},
                          {"body", "Nowy lead: {{context.name}}"},
                          {"vars", {{"context", {{"name", "Anna Żak"}}}}}});
  // The loop polls every second (nothing woke it: the commit bypassed the API); wait for it on the
  // wall clock, bounded.
  for (int i = 0; i < 100 && receiver_.received().empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(receiver_.received().size(), 1u);
  EXPECT_EQ(Json::parse(receiver_.received()[0].body)["data"]["message"], "Nowy lead: Anna Żak");
  EXPECT_EQ(receiver_.received()[0].Header("Idempotency-Key"), "lead-n1:notify:0");

  ApiResponse metrics = CallRaw("GET", "/metrics", "", "");
  EXPECT_THAT(metrics.text,
              HasSubstr("nurt_notifications_total{org=\"acme\",channel=\"crm-hook\",outcome=\"sent\"} 1\n"));
}

TEST_F(NotificationsDaemonTest, InvalidChannelFileStopsTheStartWithItsPlace) {
  std::ofstream(folder_.File("channels.yaml"))
      << "apiVersion: nurt/v1\nkind: Channels\nchannels:\n  crm: {type: webhok, url: https://x.example}\n";
  server::DaemonConfig config;
  config.listen_address = "127.0.0.1";
  config.sqlite_path = dir_.File("nurt.db");
  config.fsync = false;
  config.definition_paths = {folder_.path()};
  DaemonEnvironment env;
  env.clock = &clock_;
  env.random = &random_;
  env.log = &log_stream_;
  auto d = Daemon::Start(config, env);
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(d.status().IsInvalidArgument());
  EXPECT_THAT(d.status().message(), HasSubstr(folder_.File("channels.yaml") + ":4:15: error: channel 'crm' has "
                                                                             "type 'webhok'; did you mean "
                                                                             "'webhook'?"));
}

}  // namespace
}  // namespace nurt::daemon
