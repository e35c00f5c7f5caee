// `nurt tasks …` in-process on a throwaway store with the repository's examples: the inbox listing, a
// claim that keeps others out, form problems with their JSON pointers, completion raising the
// decision's event, --json shapes and usage errors.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "nurt/cli/cli.hpp"
#include "nurt/core/json.hpp"
#include "temp_dir.hpp"

namespace nurt::cli {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using Strings = std::vector<std::string>;

const std::string kRoot = NURT_SOURCE_ROOT;
const char* kLeadData = R"({"source":"architect","contact":{"name":"Anna Nowak","phone":"+48 601 200 300"}})";
const char* kQualifyData = R"({"budget_grosze":4500000,"roof_area_m2":48,"region":"dolnoslaskie"})";

struct Ran {
  int code = -1;
  std::string out;
  std::string err;
  Strings lines() const {
    Strings out_lines;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) out_lines.push_back(line);
    return out_lines;
  }
};

class TasksCommandTest : public ::testing::Test {
 protected:
  TasksCommandTest() {
    env_.db = dir_.File("nurt.db");
    env_.path = kRoot + "/workflows:" + kRoot + "/examples";
    env_.actor = "cli:marta";
  }

  Ran Nurt(const Strings& args, const std::string& actor = "") {
    CliEnvironment env = env_;
    if (!actor.empty()) env.actor = actor;
    std::ostringstream out, err;
    Ran r;
    r.code = RunCli(args, env, out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  // Starts lead `id` and returns the id of its qualification task.
  std::string LeadTask(const std::string& id) {
    Ran start = Nurt({"start", "lead", "--id", id, "--data", kLeadData});
    EXPECT_EQ(start.code, 0) << start.err;
    Ran ls = Nurt({"tasks", "ls", "--instance", id, "--json"});
    EXPECT_EQ(ls.code, 0) << ls.err;
    const Json tasks = Json::parse(ls.out);
    EXPECT_EQ(tasks.size(), 1u);
    return tasks.empty() ? "" : tasks[0]["id"].get<std::string>();
  }

  nurt::testing::TempDir dir_;
  CliEnvironment env_;
};

TEST_F(TasksCommandTest, LsShowsTheInboxFilteredByRoleUserAndInstance) {
  const std::string t1 = LeadTask("L1");
  const std::string t2 = LeadTask("L2");
  Ran ls = Nurt({"tasks", "ls", "--role", "coordinator"});
  EXPECT_EQ(ls.code, 0) << ls.err;
  const std::string due = "due [0-9-]+T[0-9:.]+Z";
  EXPECT_THAT(ls.lines(), ElementsAre(MatchesRegex(t1 + "  open  lead/L1@new  role coordinator  " + due +
                                                   "  Qualify the lead"),
                                      MatchesRegex(t2 + "  open  lead/L2@new  role coordinator  " + due +
                                                   "  Qualify the lead"),
                                      "2 tasks"));
  EXPECT_THAT(Nurt({"tasks", "ls", "--role", "finance"}).lines(), ElementsAre("0 tasks"));
  EXPECT_THAT(Nurt({"tasks", "ls", "--user", "anna"}).lines(), ElementsAre("0 tasks"));
  EXPECT_EQ(Nurt({"tasks", "ls", "--instance", "L2"}).lines().back(), "1 task");

  Ran json = Nurt({"tasks", "ls", "--json", "--limit", "1"});
  const Json j = Json::parse(json.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["id"], t1);
  EXPECT_EQ(j[0]["assignee"], (Json{{"role", "coordinator"}}));
  EXPECT_EQ(j[0]["status"], "open");
  EXPECT_EQ(j[0]["decisions"], (Json{{"qualify", "qualify"}, {"drop", "drop"}}));
}

TEST_F(TasksCommandTest, ClaimKeepsOthersOutUntilReleased) {
  const std::string t = LeadTask("L1");
  Ran claim = Nurt({"tasks", "claim", t});
  EXPECT_EQ(claim.code, 0) << claim.err;
  EXPECT_THAT(claim.lines(), Contains("status:    claimed by cli:marta"));

  Ran other = Nurt({"tasks", "claim", t}, "cli:piotr");
  EXPECT_EQ(other.code, 1);
  EXPECT_THAT(other.err, HasSubstr("is claimed by 'cli:marta', so 'cli:piotr' cannot claim it"));
  Ran complete = Nurt({"tasks", "complete", t, "--decision", "qualify", "--data", kQualifyData}, "cli:piotr");
  EXPECT_EQ(complete.code, 1);
  EXPECT_THAT(complete.err, HasSubstr("is claimed by 'cli:marta'"));

  Ran release = Nurt({"tasks", "release", t});
  EXPECT_EQ(release.code, 0) << release.err;
  EXPECT_THAT(release.lines(), Contains("status:    open"));
  EXPECT_EQ(Nurt({"tasks", "claim", t}, "cli:piotr").code, 0);
}

TEST_F(TasksCommandTest, CompleteChecksTheFormThenRaisesTheDecisionsEvent) {
  const std::string t = LeadTask("L1");
  Ran bad = Nurt({"tasks", "complete", t, "--decision", "qualify", "--data",
                  R"({"budget_grosze":"45 000 zł","roof_area_m2":48})", "--check", "Called the prospect",
                  "--check", "Sent flowers"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_EQ(bad.out, "");
  EXPECT_EQ(bad.err,
            "nurt tasks: /data/budget_grosze: expected a whole number, got \"45 000 zł\"\n"
            "/data/region: required field 'Voivodeship' is missing\n"
            "/checklist/1: 'Sent flowers' is not an item of the task's checklist "
            "[\"Called the prospect\",\"Saw photos of the roof\"]\n");

  Ran ok = Nurt({"tasks", "complete", t, "--decision", "qualify", "--data", kQualifyData, "--check",
                 "Called the prospect"});
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_THAT(ok.lines(), ElementsAre("task " + t + " completed (qualify): lead L1 (event #2)",
                                      "  qualify: new -> qualified   [new -> qualified]",
                                      "state:   qualified (active)", "accepts: drop, lose, note, win"));
  Ran show = Nurt({"tasks", "show", t});
  EXPECT_THAT(show.lines(), Contains("status:    completed"));
  EXPECT_THAT(show.lines(),
              Contains("completed: qualify by cli:marta, result {\"data\":{\"budget_grosze\":4500000,"
                       "\"roof_area_m2\":48,\"region\":\"dolnoslaskie\"},\"checklist\":[\"Called the prospect\"]}"));
  EXPECT_THAT(Nurt({"tasks", "ls"}).lines(), ElementsAre("0 tasks"));
  EXPECT_THAT(Nurt({"tasks", "ls", "--status", "completed"}).lines().back(), "1 task");
}

TEST_F(TasksCommandTest, UsageErrorsExitTwo) {
  EXPECT_EQ(Nurt({"tasks"}).code, 2);
  EXPECT_EQ(Nurt({"tasks", "bogus"}).code, 2);
  EXPECT_EQ(Nurt({"tasks", "claim"}).code, 2);
  EXPECT_EQ(Nurt({"tasks", "complete", "T1"}).code, 2) << "no --decision";
  EXPECT_EQ(Nurt({"tasks", "ls", "--limit", "x"}).code, 2);
  Ran missing = Nurt({"tasks", "show", "T404"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_THAT(missing.err, HasSubstr("does not exist"));
  Ran bad_status = Nurt({"tasks", "ls", "--status", "done"});
  EXPECT_EQ(bad_status.code, 1);
  EXPECT_THAT(bad_status.err, HasSubstr("task status filter 'done'"));
}

}  // namespace
}  // namespace nurt::cli
