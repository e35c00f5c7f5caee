// `nurt schedules …` and `nurt validate` on Schedule files, in-process on a throwaway store: listing the
// schedules of the path folders with their state, a schedule's runs (fired here by a Scheduler in
// virtual time on the same database, as the daemon would), --json shapes, and refusals.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "manual_clock.hpp"
#include "nurt/cli/cli.hpp"
#include "nurt/dsl/loader.hpp"
#include "nurt/engine/engine.hpp"
#include "nurt/schedule/scheduler.hpp"
#include "temp_dir.hpp"

namespace nurt::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const char* kMachine = "apiVersion: nurt/v1\nkind: Machine\nname: comarch-sync\nversion: 1\nstates:\n  running: {}\n";
const char* kSchedule =
    "apiVersion: nurt/v1\nkind: Schedule\nname: comarch-nightly-sync\nschedule: \"0 2 * * *\"\n"
    "missed: skip\nstart: {machine: comarch-sync}\n";

struct Ran {
  int code = -1;
  std::string out, err;
};

class SchedulesCommandTest : public ::testing::Test {
 protected:
  SchedulesCommandTest() {
    std::filesystem::create_directories(dir_.File("flows"));
    std::ofstream(dir_.File("flows/sync.yaml")) << kMachine;
    std::ofstream(dir_.File("flows/nightly.yaml")) << kSchedule;
    env_.db = dir_.File("nurt.db");
    env_.path = dir_.File("flows");
    env_.org = "acme";
  }

  Ran Nurt(const std::vector<std::string>& args) {
    std::ostringstream out, err;
    Ran r;
    r.code = RunCli(args, env_, out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  // What the daemon does: the schedule seen on 1 January, then three nights missed (policy skip).
  void FireInVirtualTime() {
    auto store = store::NewSqliteStore({.path = env_.db, .fsync_on_commit = false});
    ASSERT_TRUE(store.ok()) << store.status();
    testing::ManualClock clock;
    auto engine = engine::NewEngine({.store = store->get(), .clock = &clock});
    ASSERT_TRUE(engine.ok());
    auto machine = dsl::LoadMachineText(kMachine, "sync.yaml");
    ASSERT_TRUE((*engine)->Publish("acme", *machine.definition).ok());
    schedule::Scheduler s({.engine = engine->get(), .store = store->get(), .clock = &clock});
    s.SetSchedules("acme", {dsl::LoadScheduleText(kSchedule, "nightly.yaml").schedule});
    ASSERT_TRUE(s.RunDue().ok());
    clock.Advance(std::chrono::hours(24 * 3));
    ASSERT_TRUE(s.RunDue().ok());
  }

  nurt::testing::TempDir dir_;
  CliEnvironment env_;
};

TEST_F(SchedulesCommandTest, ListsSchedulesAndTheirRuns) {
  Ran ls = Nurt({"schedules"});
  EXPECT_EQ(ls.code, 0) << ls.err;
  EXPECT_THAT(ls.out, HasSubstr("comarch-nightly-sync  \"0 2 * * *\" Europe/Warsaw  skip  start comarch-sync  next "));
  EXPECT_THAT(ls.out, HasSubstr("(not seen by the daemon yet)\n1 schedule\n"));
  FireInVirtualTime();
  ls = Nurt({"schedules", "ls", "--json"});
  EXPECT_EQ(ls.code, 0) << ls.err;
  const Json listed = Json::parse(ls.out);
  EXPECT_EQ(listed["items"][0]["lastScheduledFor"], "2026-01-03T01:00:00.000Z");
  EXPECT_EQ(listed["items"][0]["nextRunAt"], "2026-01-04T01:00:00.000Z");

  Ran runs = Nurt({"schedules", "runs", "comarch-nightly-sync", "--limit", "2"});
  EXPECT_EQ(runs.code, 0) << runs.err;
  EXPECT_EQ(runs.out,
            "2026-01-03T01:00:00.000Z  skipped  late 82800000 ms  missed (policy skip)\n"
            "2026-01-02T01:00:00.000Z  skipped  late 169200000 ms  missed (policy skip)\n"
            "2 runs (newest first)\n");
  runs = Nurt({"schedules", "runs", "comarch-nightly-sync", "--json"});
  EXPECT_EQ(Json::parse(runs.out)["items"].size(), 3u);
}

TEST_F(SchedulesCommandTest, RefusalsAndUsage) {
  Ran unknown = Nurt({"schedules", "runs", "nope"});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("schedule 'nope' has never been seen by the daemon in org 'acme'"));
  EXPECT_EQ(Nurt({"schedules", "runs"}).code, 2);
  EXPECT_EQ(Nurt({"schedules", "runs", "x", "--limit", "0"}).code, 2);
  EXPECT_EQ(Nurt({"schedules", "frobnicate"}).code, 2);
  std::ofstream(dir_.File("flows/bad.yaml")) << "apiVersion: nurt/v1\nkind: Schedule\nname: bad\nschedule: \"0 2 * *\"\n"
                                                "start: {machine: comarch-sync}\n";
  Ran ls = Nurt({"schedules", "ls"});
  EXPECT_EQ(ls.code, 1);
  EXPECT_THAT(ls.err, HasSubstr("bad.yaml:4:11: error: cron '0 2 * *': expected 5 fields"));
}

TEST_F(SchedulesCommandTest, ValidateReadsScheduleFilesWithTheirOwnRules) {
  Ran ok = Nurt({"validate", dir_.File("flows/nightly.yaml"), dir_.File("flows/sync.yaml")});
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_EQ(ok.out, "2 files checked: 0 error(s), 0 warning(s)\n");
  std::ofstream(dir_.File("bad.yaml")) << "apiVersion: nurt/v1\nkind: Schedule\nname: bad\nschedule: \"@daily\"\n"
                                          "missed: sometimes\nemit: {to: crm-1}\n";
  Ran bad = Nurt({"validate", dir_.File("bad.yaml")});
  EXPECT_EQ(bad.code, 1);
  EXPECT_THAT(bad.out, StartsWith(dir_.File("bad.yaml") + ":5:9: error: missed 'sometimes' is not a policy"));
  EXPECT_THAT(bad.out, HasSubstr(dir_.File("bad.yaml") + ":6:1: error: 'emit' has no 'event'"));
}

}  // namespace
}  // namespace nurt::cli
