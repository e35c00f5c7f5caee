// The admin-override commands (cancel, suspend, resume, force, skip, retry) and `ls --where`,
// driven in-process through RunCli on a throwaway store: what they print, their exit status, the
// history they leave (actor + reason), and that a refused override writes nothing.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
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
using ::testing::Not;
using ::testing::StartsWith;
using Strings = std::vector<std::string>;

const std::string kRoot = NURT_SOURCE_ROOT;
const char* kLeadData =
    R"({"source":"architect","contact":{"name":"Anna Nowak","phone":"+48 601 200 300",)"
    R"("nip":"8971234567"}})";

// A payee that refuses to be paid before approval; `notify` makes it message a peer.
const char* kPayee = R"YAML(apiVersion: nurt/v1
kind: Machine
name: test.payee
version: 1
context:
  initial: { approved: false }
states:
  waiting:
    on:
      pay:
        target: paid
        actions: [ { lua: "if not ctx.approved then error('payment before approval') end" } ]
      notify:
        actions: [ { emit: { event: pay, to: "event.data.peer", data: { amount: 5 } } } ]
  paid: { type: final }
)YAML";

struct Ran {
  int code = -1;
  std::string out;
  std::string err;
  Strings lines() const {
    Strings v;
    std::istringstream in(out);
    for (std::string l; std::getline(in, l);) v.push_back(l);
    return v;
  }
};

class AdminCommandTest : public ::testing::Test {
 protected:
  AdminCommandTest() {
    const std::string extra = dir_.File("wf");
    std::filesystem::create_directories(extra);
    std::ofstream(extra + "/payee.yaml") << kPayee;
    env_.db = dir_.File("nurt.db");
    env_.path = kRoot + "/workflows:" + kRoot + "/examples:" + extra;
    env_.actor = "cli:test";
  }

  Ran Nurt(const Strings& args) {
    std::ostringstream out, err;
    Ran r;
    r.code = RunCli(args, env_, out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  std::string Ok(const Strings& args) {
    Ran r = Nurt(args);
    EXPECT_EQ(r.code, 0) << ::testing::PrintToString(args) << "\n" << r.out << r.err;
    return r.out;
  }

  nurt::testing::TempDir dir_;
  CliEnvironment env_;
};

TEST_F(AdminCommandTest, SuspendResumeCancelPrintTheOutcomeAndLeaveTheReasonInHistory) {
  Ok({"start", "lead", "--id", "L1", "--data", kLeadData});
  Ran s = Nurt({"suspend", "L1", "--reason", "waiting for the architect", "--actor", "cli:eva"});
  EXPECT_EQ(s.code, 0) << s.err;
  EXPECT_THAT(s.lines(),
              ElementsAre("suspended lead L1 (event #2)", "  nurt.admin.suspend: new -> new",
                          "state:   new (suspended)"));

  Ran refused = Nurt({"send", "L1", "note", "--data", R"({"text":"x"})"});
  EXPECT_EQ(refused.code, 1);
  EXPECT_THAT(refused.err, HasSubstr("is suspended; it accepts no events"));

  EXPECT_THAT(Ok({"resume", "L1", "--reason", "architect answered"}),
              HasSubstr("state:   new (active)"));
  EXPECT_THAT(Ok({"cancel", "L1", "--reason", "duplicate of L7"}),
              HasSubstr("state:   new (cancelled)"));

  const std::string history = Ok({"history", "L1"});
  EXPECT_THAT(
      history,
      HasSubstr(
          R"(nurt.admin.suspend by cli:eva {"reason":"waiting for the architect","state":["new"]})"));
  EXPECT_THAT(
      history,
      HasSubstr(R"(nurt.admin.cancel by cli:test {"reason":"duplicate of L7","state":["new"]})"));

  Ran again = Nurt({"resume", "L1", "--reason", "oops"});
  EXPECT_EQ(again.code, 1);
  EXPECT_THAT(again.err, HasSubstr("instance is cancelled; it cannot be resumed"));
}

TEST_F(AdminCommandTest, ReasonIsRequiredAndBadArgumentsAreUsageErrors) {
  Ok({"start", "lead", "--id", "L1", "--data", kLeadData});
  for (const Strings& args :
       {Strings{"cancel", "L1"}, Strings{"cancel", "L1", "--reason", "  "},
        Strings{"force", "L1", "--reason", "x"}, Strings{"skip", "--reason", "x"},
        Strings{"suspend", "L1", "--reason", "x", "--patch", "{}"},
        Strings{"retry", "L1", "--reason", "x", "--patch", "[1]"}}) {
    Ran r = Nurt(args);
    EXPECT_EQ(r.code, 2) << ::testing::PrintToString(args) << r.err;
    EXPECT_THAT(r.err, HasSubstr("usage: nurt")) << ::testing::PrintToString(args);
  }
  EXPECT_THAT(Nurt({"cancel", "L1"}).err, HasSubstr("--reason is required"));
  EXPECT_THAT(Ok({"history", "L1"}), Not(HasSubstr("nurt.admin")));
  EXPECT_THAT(Ok({"--help"}), HasSubstr("force ID STATE --reason R"));
}

TEST_F(AdminCommandTest, ForceAndSkipMoveTheInstanceOrSayWhyNot) {
  Ok({"start", "lead", "--id", "L1", "--data", kLeadData});
  Ran unknown = Nurt({"force", "L1", "qualifed", "--reason", "x"});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("did you mean 'qualified'?"));

  Ran skip = Nurt({"skip", "L1", "--reason", "paper form"});
  EXPECT_EQ(skip.code, 1);
  EXPECT_THAT(skip.err, HasSubstr("cannot skip state 'new'"));
  EXPECT_THAT(skip.err, HasSubstr("use force with one of them"));

  Ran forced = Nurt({"force", "L1", "qualified", "--reason", "qualified by phone", "--json"});
  EXPECT_EQ(forced.code, 0) << forced.err;
  const Json j = Json::parse(forced.out);
  EXPECT_EQ(j["runStatus"], "active");
  EXPECT_EQ(j["state"], Json::array({"qualified"}));
  EXPECT_EQ(j["transitions"][0]["detail"]["override"], "force");
  EXPECT_EQ(j["transitions"][0]["detail"]["reason"], "qualified by phone");

  // The machine's rules hold after a force: lost's output needs ctx.lost_reason, so entering it
  // fails and nothing is written.
  Ran lost = Nurt({"force", "L1", "lost", "--reason", "customer chose a competitor"});
  EXPECT_EQ(lost.code, 1);
  EXPECT_THAT(lost.err, HasSubstr("lead.yaml:142: the expression evaluated to nil"));
  EXPECT_THAT(Ok({"show", "L1"}), HasSubstr("state:   qualified"));
  EXPECT_THAT(Ok({"force", "L1", "new", "--reason", "back to the start"}),
              HasSubstr("state:   new (active)"));
  EXPECT_THAT(Ok({"replay", "L1"}), HasSubstr("matches the stored snapshot: yes"));
}

TEST_F(AdminCommandTest, AFailedDeliveryIsReportedAndRetriedWithAPatch) {
  Ok({"start", "test.payee", "--id", "P1"});
  Ok({"start", "test.payee", "--id", "P2"});
  Ran sent = Nurt({"send", "P2", "notify", "--data", R"({"peer":"P1"})"});
  EXPECT_EQ(sent.code, 0) << sent.err;
  EXPECT_THAT(sent.lines(),
              Contains(StartsWith("note:    'pay' from 'P2' to 'P1' delivered (its event #2) but "
                                  "it FAILED there: ")));
  EXPECT_THAT(sent.out, HasSubstr("payment before approval"));
  const std::string shown = Ok({"show", "P1"});
  EXPECT_THAT(shown, HasSubstr("status:  failed"));
  EXPECT_THAT(shown, HasSubstr("failed:  event #2 'pay': "));
  EXPECT_THAT(Ok({"history", "P1"}), HasSubstr("  pay: waiting -> waiting   FAILED: "));
  EXPECT_THAT(Ok({"ls", "--status", "failed"}), HasSubstr("P1  test.payee v1  failed  waiting"));

  Ran again = Nurt({"retry", "P1", "--reason", "just once more"});
  EXPECT_EQ(again.code, 1);
  EXPECT_THAT(again.err, HasSubstr("event 2 ('pay') failed again"));

  Ran fixed =
      Nurt({"retry", "P1", "--reason", "approved by phone", "--patch", R"({"approved":true})"});
  EXPECT_EQ(fixed.code, 0) << fixed.err;
  EXPECT_THAT(fixed.lines(), Contains("retried test.payee P1 (event #3)"));
  EXPECT_THAT(fixed.lines(), Contains("state:   paid (completed)"));
  EXPECT_THAT(Ok({"history", "P1"}), HasSubstr("nurt.admin.retry by cli:test"));
  EXPECT_THAT(Ok({"replay", "P1"}), HasSubstr("matches the stored snapshot: yes"));
}

TEST_F(AdminCommandTest, LsWhereFiltersByDataFields) {
  Ok({"start", "lead", "--id", "L1", "--data", kLeadData});
  Ok({"start", "lead", "--id", "L2", "--data",
      R"({"source":"web","contact":{"name":"Jan Lis","phone":"1","nip":"1111111111"},"score":7})"});
  Ok({"start", "lead", "--id", "L3", "--data",
      R"({"source":"web","contact":{"name":"Ewa Bis","phone":"2","nip":"8971234567"},"score":7})"});
  EXPECT_EQ(Ok({"ls", "--where", R"(contact.nip="8971234567")"}),
            "L1  lead v1  active  new\nL3  lead v1  active  new\n");
  EXPECT_EQ(Ok({"ls", "--where", "contact.name=Jan Lis"}), "L2  lead v1  active  new\n");
  EXPECT_EQ(Ok({"ls", "--where", "source=web", "--where", "score=7"}),
            "L2  lead v1  active  new\nL3  lead v1  active  new\n");
  EXPECT_EQ(Ok({"ls", "--where", "contact.nip=8971234567"}),
            "(no instances)\n");  // a number: no match
  EXPECT_EQ(Ok({"ls", "--where", "contact.missing=1"}), "(no instances)\n");
  const Json page =
      Json::parse(Ok({"ls", "--where", "score=7", "--state", "open", "--limit", "1", "--json"}));
  ASSERT_EQ(page["instances"].size(), 1u);
  EXPECT_EQ(page["instances"][0]["id"], "L2");  // `open` is the compound parent of `new`
  EXPECT_EQ(page["next"], "L2");
  Ran bad = Nurt({"ls", "--where", "score"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_THAT(bad.err, HasSubstr("--where needs FIELD=VALUE"));
}

}  // namespace
}  // namespace nurt::cli
