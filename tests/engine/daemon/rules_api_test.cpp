// The rules engine in the daemon over real HTTP: a Rules document next to the workflows is loaded,
// events posted through the API are evaluated in the background, and the rule fires once per key.

#include <gmock/gmock.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <thread>

#include "daemon_fixture.hpp"

namespace nurt::daemon {
namespace {

constexpr const char* kNoteRules = R"YAML(apiVersion: nurt/v1
kind: Rules
name: lead-notes
org: acme
rules:
  - id: noted
    on: note
    machine: lead
    when: "event.payload.text ~= 'ignore me'"
    do:
      - notify: { channel: email, body: "{{event.payload.text}}" }
)YAML";

class RulesDaemonTest : public DaemonTest {
 protected:
  void SetUp() override {
    std::ofstream(rules_dir_.File("notes.yaml")) << kNoteRules;
    StartDaemon([this](server::DaemonConfig& c) { c.definition_paths.push_back(rules_dir_.path()); });
  }

  // The value of nurt_rule_firings_total for `outcome` of rule `noted` in acme (0 when absent).
  double Firings(const std::string& outcome) {
    const ApiResponse m = Call("GET", "/metrics", "");
    const std::regex line("nurt_rule_firings_total\\{org=\"acme\",rule=\"noted\",outcome=\"" + outcome +
                          "\"\\} ([0-9.]+)");
    std::smatch match;
    return std::regex_search(m.text, match, line) ? std::stod(match[1]) : 0;
  }

  // The rules run on the daemon's own thread: wait (bounded) until `outcome` reaches `n`.
  bool WaitFor(const std::string& outcome, double n) {
    for (int i = 0; i < 500; ++i) {
      if (Firings(outcome) >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  testing::TempDir rules_dir_;
};

TEST_F(RulesDaemonTest, EventsPostedThroughTheApiFireTheRuleOncePerKey) {
  const std::string id = StartLead(admin_);
  const std::string path = "/v1/instances/" + id + "/events";
  ASSERT_EQ(Call("POST", path, admin_, Json{{"event", "note"}, {"data", {{"text", "ignore me"}}}}).status, 200);
  ASSERT_EQ(Call("POST", path, admin_, Json{{"event", "note"}, {"data", {{"text", "call back"}}}}).status, 200);
  ASSERT_TRUE(WaitFor("fired", 1)) << log_buf_.Text();
  // A second note the same day for the same lead: the default once_per key has fired already.
  ASSERT_EQ(Call("POST", path, admin_, Json{{"event", "note"}, {"data", {{"text", "again"}}}}).status, 200);
  ASSERT_TRUE(WaitFor("suppressed", 1));
  EXPECT_EQ(Firings("fired"), 1);
  // Another org's lead is not the acme rule's business.
  const std::string other = StartLead(other_admin_);
  ASSERT_EQ(Call("POST", "/v1/instances/" + other + "/events", other_admin_,
                 Json{{"event", "note"}, {"data", {{"text", "x"}}}}).status, 200);
  // Restart on the same database: the cursor and the key survive, so nothing fires again.
  daemon_->Shutdown();
  daemon_.reset();
  client_.reset();
  StartDaemon([this](server::DaemonConfig& c) { c.definition_paths.push_back(rules_dir_.path()); });
  ASSERT_EQ(Call("POST", path, admin_, Json{{"event", "note"}, {"data", {{"text", "after restart"}}}}).status,
            200);
  ASSERT_TRUE(WaitFor("suppressed", 1));
  EXPECT_EQ(Firings("fired"), 0);  // counters are per process; the store kept the key
}

TEST_F(RulesDaemonTest, AnInvalidRulesFileKeepsTheDaemonFromStarting) {
  daemon_->Shutdown();
  daemon_.reset();
  std::ofstream(rules_dir_.File("broken.yaml")) << "apiVersion: nurt/v1\nkind: Rules\nname: b\nrules:\n  - id: x\n    on: a\n    do: [ { notfy: {} } ]\n";
  server::DaemonConfig config;
  config.listen_address = "127.0.0.1";
  config.port = 0;
  config.sqlite_path = dir_.File("nurt.db");
  config.fsync = false;
  config.definition_paths = {rules_dir_.path()};
  config.definition_orgs = {"acme"};
  DaemonEnvironment env;
  env.clock = &clock_;
  env.random = &random_;
  env.log = &log_stream_;
  auto d = Daemon::Start(config, env);
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), ::testing::HasSubstr("broken.yaml:7:13: error: unknown action 'notfy'"));
}

}  // namespace
}  // namespace nurt::daemon
