// The daemon's schedules over real HTTP: loaded from its workflow folders, fired by the schedule loop
// when the (virtual) clock reaches a run, listed with their runs, counted in /metrics; invalid
// Schedule files keep the daemon from starting.

#include <gmock/gmock.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "daemon_fixture.hpp"

namespace nurt::daemon {
namespace {

using ::testing::HasSubstr;

const char* kSyncMachine = R"(apiVersion: nurt/v1
kind: Machine
name: comarch-sync
version: 1
states:
  running:
    on:
      finish: finished
  finished:
    type: final
)";

const char* kNightly = R"(apiVersion: nurt/v1
kind: Schedule
name: comarch-nightly-sync
description: Every night at 2:00 the Comarch ERP is synchronised.
schedule: "0 2 * * *"
missed: run_once
start: {machine: comarch-sync, data: {full: false}}
)";

void WriteFile(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
}

class SchedulesApiTest : public DaemonTest {
 protected:
  void SetUp() override {
    WriteFile(dir_.File("flows/comarch-sync.yaml"), kSyncMachine);
    WriteFile(dir_.File("flows/schedules/nightly.yaml"), kNightly);
    StartDaemon([this](server::DaemonConfig& c) {
      c.definition_paths = {dir_.File("flows")};
      c.definition_orgs = {"acme", "globex"};
    });
  }

  // The schedule loop runs on its own thread and sleeps at most a second of real time; wait for it.
  ApiResponse WaitForRuns(std::size_t count) {
    ApiResponse r;
    for (int i = 0; i < 500; ++i) {
      r = Call("GET", "/v1/schedules/comarch-nightly-sync/runs", admin_);
      if (r.status == 200 && r.body["items"].size() >= count) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return r;
  }
};

TEST_F(SchedulesApiTest, ListsSchedulesAndTheirRunsAfterTheClockReachesThem) {
  ApiResponse list = Call("GET", "/v1/schedules", admin_);
  ASSERT_EQ(list.status, 200) << list;
  ASSERT_EQ(list.body["items"].size(), 1u);
  const Json& s = list.body["items"][0];
  EXPECT_EQ(s["name"], "comarch-nightly-sync");
  EXPECT_EQ(s["schedule"], "0 2 * * *");
  EXPECT_EQ(s["timeZone"], "Europe/Warsaw");
  EXPECT_EQ(s["missed"], "run_once");
  EXPECT_EQ(s["start"]["machine"], "comarch-sync");
  EXPECT_EQ(s["emit"], nullptr);
  EXPECT_EQ(s["nextRunAt"], "2026-01-01T01:00:00.000Z");  // the clock starts at 2026-01-01T00:00Z

  // The daemon was "down" for two nights (run_once: the latest runs, the other is skipped).
  clock_.Advance(std::chrono::hours(48));
  ApiResponse runs = WaitForRuns(2);
  ASSERT_EQ(runs.status, 200) << runs;
  ASSERT_EQ(runs.body["items"].size(), 2u) << runs;
  const Json& latest = runs.body["items"][0];
  EXPECT_EQ(latest["scheduledFor"], "2026-01-02T01:00:00.000Z");
  EXPECT_EQ(latest["outcome"], "started");
  EXPECT_EQ(latest["instanceId"], "comarch-nightly-sync-20260102T0100Z");
  EXPECT_EQ(latest["eventSequence"], 1);
  EXPECT_EQ(latest["lateMs"], 23 * 3600 * 1000);  // found at 2026-01-03T00:00Z
  EXPECT_EQ(runs.body["items"][1]["outcome"], "skipped");
  EXPECT_EQ(runs.body["nextCursor"], nullptr);

  // Pages with a cursor.
  ApiResponse page = Call("GET", "/v1/schedules/comarch-nightly-sync/runs?limit=1", admin_);
  ASSERT_EQ(page.body["items"].size(), 1u);
  EXPECT_EQ(page.body["nextCursor"], "2026-01-02T01:00:00.000Z");
  ApiResponse rest = Call("GET", "/v1/schedules/comarch-nightly-sync/runs?limit=1&cursor=2026-01-02T01:00:00.000Z", admin_);
  ASSERT_EQ(rest.body["items"].size(), 1u);
  EXPECT_EQ(rest.body["items"][0]["scheduledFor"], "2026-01-01T01:00:00.000Z");

  // The instance exists in the key's org, with the run's data.
  ApiResponse instance = Call("GET", "/v1/instances/comarch-nightly-sync-20260102T0100Z", admin_);
  ASSERT_EQ(instance.status, 200) << instance;
  // Each org has its own schedule state and runs.
  ApiResponse other = Call("GET", "/v1/schedules/comarch-nightly-sync/runs", other_admin_);
  ASSERT_EQ(other.status, 200);
  EXPECT_EQ(other.body["items"].size(), 2u);
  EXPECT_EQ(Call("GET", "/v1/instances/comarch-nightly-sync-20260102T0100Z", other_admin_).status, 200);

  ApiResponse metrics = Call("GET", "/metrics", "");
  EXPECT_THAT(metrics.text,
              HasSubstr(R"(nurt_schedule_runs_total{org="acme",schedule="comarch-nightly-sync",outcome="started"} 1)"));
  EXPECT_THAT(metrics.text,
              HasSubstr(R"(nurt_schedule_runs_total{org="acme",schedule="comarch-nightly-sync",outcome="skipped"} 1)"));
  EXPECT_THAT(metrics.text, HasSubstr("nurt_schedule_lateness_seconds_count{org=\"acme\",schedule=\"comarch-nightly-sync\"} 1"));
}

TEST_F(SchedulesApiTest, ErrorsAndScopes) {
  EXPECT_EQ(Call("GET", "/v1/schedules/nope/runs", admin_).status, 404);
  ApiResponse bad = Call("GET", "/v1/schedules/comarch-nightly-sync/runs?cursor=yesterday", admin_);
  EXPECT_EQ(bad.status, 400) << bad;
  EXPECT_THAT(bad.body["error"]["message"].get<std::string>(), HasSubstr("cursor"));
  const std::string installer = NewKey("acme", "field-app", {}, "installer");
  ApiResponse denied = Call("GET", "/v1/schedules", installer);
  EXPECT_EQ(denied.status, 403) << denied;
  EXPECT_THAT(denied.body["error"]["message"].get<std::string>(), HasSubstr("read:schedules"));
  const std::string coordinator = NewKey("acme", "office", {}, "coordinator");
  EXPECT_EQ(Call("GET", "/v1/schedules", coordinator).status, 200);
}

class InvalidSchedulesTest : public DaemonTest {
 protected:
  void SetUp() override {}
  Status StartWith(const std::string& schedule_yaml) {
    WriteFile(dir_.File("flows/comarch-sync.yaml"), kSyncMachine);
    WriteFile(dir_.File("flows/nightly.yaml"), schedule_yaml);
    server::DaemonConfig config;
    config.port = 0;
    config.sqlite_path = dir_.File("nurt.db");
    config.fsync = false;
    config.definition_paths = {dir_.File("flows")};
    config.definition_orgs = {"acme"};
    DaemonEnvironment env;
    env.clock = &clock_;
    env.log = &log_stream_;
    auto d = Daemon::Start(config, env);
    return d.ok() ? Status::Ok() : d.status();
  }
};

TEST_F(InvalidSchedulesTest, TheDaemonRefusesToStartAndSaysWhere) {
  Status st = StartWith("apiVersion: nurt/v1\nkind: Schedule\nname: n\nschedule: \"0 2 * *\"\nstart: {machine: comarch-sync}\n");
  EXPECT_TRUE(st.IsInvalidArgument()) << st;
  EXPECT_THAT(st.message(), HasSubstr("nightly.yaml:4:11: error: cron '0 2 * *': expected 5 fields"));
  st = StartWith("apiVersion: nurt/v1\nkind: Schedule\nname: n\nschedule: \"0 2 * * *\"\nstart: {machine: comarch-snyc}\n");
  EXPECT_TRUE(st.IsInvalidArgument()) << st;
  EXPECT_THAT(st.message(), HasSubstr("nightly.yaml:5:18: error: org 'acme': schedule 'n' starts machine 'comarch-snyc', "
                                      "which is not published; did you mean 'comarch-sync'? [unknown-machine]"));
}

}  // namespace
}  // namespace nurt::daemon
