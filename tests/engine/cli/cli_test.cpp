// The `nurt` command line, driven in-process through RunCli on a throwaway SQLite store with the
// repository's workflows/ and examples/ on the path: what each command prints (exact lines where a
// user or a script reads them), its exit status (0 done, 1 refused/failed, 2 usage), its --json
// shape, and that a refused command writes nothing. One test runs the built binary (main()'s
// wiring).

#include "nurt/cli/cli.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "nurt/core/json.hpp"
#include "temp_dir.hpp"

namespace nurt::cli {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::StartsWith;
using Strings = std::vector<std::string>;

const std::string kRoot = NURT_SOURCE_ROOT;

// A lead as examples/lead.yaml's header starts it, then qualifies and wins it.
const char* kLeadData = R"({"source":"architect","architect":"Pracownia Lipa",)"
                        R"("contact":{"name":"Anna Nowak","phone":"+48 601 200 300"}})";
const char* kQualifyData = R"({"budget_grosze":4500000,"roof_area_m2":48,"region":"dolnoslaskie",)"
                           R"("annual_usage_kwh":5200})";
const char* kWinData = R"({"offer_number":"OF/2026/017","address":"ul. Polna 3, Kąty Wrocławskie",)"
                       R"("building":{"kind":"residential","usable_area_m2":160}})";

// An ISO-8601 UTC time as the CLI prints it (the CLI runs on the wall clock).
const std::string kIso = "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z";

Strings Lines(const std::string& text) {
  Strings out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Lines starting with `prefix`.
Strings LinesStartingWith(const std::string& text, const std::string& prefix) {
  Strings out;
  for (const auto& l : Lines(text)) {
    if (l.rfind(prefix, 0) == 0) out.push_back(l);
  }
  return out;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  ASSERT_TRUE(f) << "cannot write " << path;
  f << text;
}

struct Ran {
  int code = -1;
  std::string out;
  std::string err;
  Strings lines() const { return Lines(out); }
  Json json() const {
    // Throws (and so fails the test with the text) when the output is not one JSON document.
    return Json::parse(out);
  }
};

class CliTest : public ::testing::Test {
 protected:
  CliTest() {
    env_.db = dir_.File("nurt.db");
    env_.path = kRoot + "/workflows:" + kRoot + "/examples";
    env_.actor = "cli:test";
  }

  Ran Nurt(const Strings& args) { return NurtIn(env_, args); }

  static Ran NurtIn(const CliEnvironment& env, const Strings& args) {
    std::ostringstream out, err;
    Ran r;
    r.code = RunCli(args, env, out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  // Runs a command that must succeed and returns its output.
  std::string Ok(const Strings& args) {
    Ran r = Nurt(args);
    EXPECT_EQ(r.code, 0) << "nurt " << ::testing::PrintToString(args) << "\nstdout:\n"
                         << r.out << "stderr:\n"
                         << r.err;
    return r.out;
  }

  // Starts lead L1 and qualifies it (state `qualified`).
  void QualifiedLead(const std::string& id = "L1") {
    Ok({"start", "lead", "--id", id, "--data", kLeadData});
    Ok({"send", id, "qualify", "--data", kQualifyData});
  }

  int EventCount(const std::string& id) {
    return static_cast<int>(LinesStartingWith(Ok({"history", id}), "#").size());
  }

  nurt::testing::TempDir dir_;
  CliEnvironment env_;
};

// --- validate ------------------------------------------------------------------------------------

TEST_F(CliTest, ValidateGoodFilesReportsNoProblems) {
  Ran one = Nurt({"validate", kRoot + "/examples/lead.yaml"});
  EXPECT_EQ(one.code, 0) << one.out;
  EXPECT_EQ(one.out, "1 file checked: 0 error(s), 0 warning(s)\n");
  EXPECT_EQ(one.err, "");

  Ran three = Nurt({"validate", kRoot + "/examples/lead.yaml", kRoot + "/examples/invoice.yaml",
                    kRoot + "/workflows/installation/project.yaml"});
  EXPECT_EQ(three.code, 0) << three.out;
  EXPECT_EQ(three.out, "3 files checked: 0 error(s), 0 warning(s)\n");
}

// A door machine with a mistyped target and a mistyped key: every problem, each at its place.
const char* kBrokenDoor = R"(apiVersion: nurt/v1
kind: Machine
name: door
version: 1
states:
  closed:
    on:
      open: opened
      slam: opend
  opened:
    on:
      close: closed
    entyr:
      - assign: { slammed: "true" }
)";

TEST_F(CliTest, ValidateBrokenFilePrintsEveryProblemAsFileLineCol) {
  const std::string door = dir_.File("door.yaml");
  const std::string syntax = dir_.File("syntax.yaml");
  WriteFile(door, kBrokenDoor);
  WriteFile(syntax,
            "apiVersion: nurt/v1\nkind: Machine\nname: x\nversion: 1\nstates:\n  a: { on: [b\n");

  Ran r = Nurt({"validate", door, syntax});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(
      r.lines(),
      ElementsAre(
          door + ":9:13: error: transition target 'opend' is not a state of this machine; "
                 "did you mean 'opened'? [unknown-target]",
          door + ":13:5: error: unknown key 'entyr' in state 'opened'; did you mean 'entry'? "
                 "[unknown-key]",
          AllOf(StartsWith(syntax + ":7:1: error: invalid YAML: "), EndsWith(" [yaml-syntax]")),
          "2 files checked: 3 error(s), 0 warning(s)"));
  EXPECT_EQ(r.err, "");
}

TEST_F(CliTest, ValidateJsonListsErrorsWarningsAndDiagnostics) {
  const std::string door = dir_.File("door.yaml");
  WriteFile(door, kBrokenDoor);
  Ran r = Nurt({"validate", "--json", door});
  EXPECT_EQ(r.code, 1);
  const Json j = r.json();
  EXPECT_EQ(j["errors"], 2);
  EXPECT_EQ(j["warnings"], 0);
  ASSERT_EQ(j["diagnostics"].size(), 2u) << j.dump(2);
  const Json& first = j["diagnostics"][0];
  EXPECT_EQ(first["file"], door);
  EXPECT_EQ(first["line"], 9);
  EXPECT_EQ(first["column"], 13);
  EXPECT_EQ(first["severity"], "error");
  EXPECT_EQ(first["rule"], "unknown-target");
  EXPECT_THAT(first["message"].get<std::string>(), HasSubstr("did you mean 'opened'?"));
  EXPECT_EQ(j["diagnostics"][1]["rule"], "unknown-key");

  Ran good = Nurt({"validate", "--json", kRoot + "/examples/invoice.yaml"});
  EXPECT_EQ(good.code, 0);
  EXPECT_EQ(good.json(), (Json{{"errors", 0}, {"warnings", 0}, {"diagnostics", Json::array()}}));
}

TEST_F(CliTest, ValidateMissingFileIsAnErrorAndNoFileIsUsage) {
  Ran r = Nurt({"validate", dir_.File("nothing.yaml")});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.lines(), Contains(AllOf(StartsWith(dir_.File("nothing.yaml") + ":0:0: error: "),
                                        EndsWith("[unreadable-file]"))));

  Ran none = Nurt({"validate"});
  EXPECT_EQ(none.code, 2);
  EXPECT_THAT(none.err, StartsWith("nurt validate: name at least one workflow file\n"));
}

TEST_F(CliTest, ValidateChecksChannelFilesWithTheChannelLoader) {
  const std::string channels = dir_.File("channels.yaml");
  WriteFile(channels,
            "apiVersion: nurt/v1\nkind: Channels\nchannels:\n"
            "  email: {type: email, smtp_url: \"smtps://m.example.pl\", from: a@example.pl, password: x}\n");
  Ran r = Nurt({"validate", channels, kRoot + "/examples/invoice.yaml"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.lines(),
              ElementsAre(AllOf(StartsWith(channels + ":4:78: error: channel 'email': 'password' would keep a "
                                                      "credential in this file"),
                                EndsWith("[inline-secret]")),
                          "2 files checked: 1 error(s), 0 warning(s)"));
}

// --- graph ---------------------------------------------------------------------------------------

TEST_F(CliTest, GraphDrawsTheInvoiceWithItsParallelAndCompoundStates) {
  const std::string invoice = kRoot + "/examples/invoice.yaml";
  Ran mermaid = Nurt({"graph", invoice});
  EXPECT_EQ(mermaid.code, 0) << mermaid.err;
  EXPECT_THAT(mermaid.out, StartsWith("stateDiagram-v2\n"));
  const Strings m = mermaid.lines();
  EXPECT_THAT(m, Contains("  state issued {"));  // the parallel state
  EXPECT_THAT(m, Contains("    state ksef {"));  // its regions, separated by --
  EXPECT_THAT(m, Contains("    --"));
  EXPECT_THAT(m, Contains("    state payment {"));
  EXPECT_THAT(m, Contains("      state outstanding {"));  // a compound state inside a region
  EXPECT_THAT(m, Contains("  issued --> settled : done.state.issued"));
  EXPECT_EQ(Nurt({"graph", invoice, "--format", "mermaid"}).out, mermaid.out);

  Ran dot = Nurt({"graph", "--format=dot", invoice});
  EXPECT_EQ(dot.code, 0) << dot.err;
  EXPECT_THAT(dot.out, StartsWith("digraph \"invoice\" {\n"));
  EXPECT_THAT(dot.out, HasSubstr("subgraph \"cluster_issued\" {"));
  EXPECT_THAT(dot.out, HasSubstr("label=\"issued (parallel)\""));
  EXPECT_THAT(dot.out, HasSubstr("subgraph \"cluster_outstanding\" {"));
  EXPECT_THAT(dot.out, EndsWith("}\n"));
}

TEST_F(CliTest, GraphRefusesAnUnknownFormatAndABrokenFile) {
  Ran bad = Nurt({"graph", kRoot + "/examples/invoice.yaml", "--format", "svg"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_EQ(bad.out, "");
  EXPECT_THAT(bad.err, StartsWith("nurt graph: --format is mermaid or dot\n\nusage: nurt"));

  const std::string door = dir_.File("door.yaml");
  WriteFile(door, kBrokenDoor);
  Ran broken = Nurt({"graph", door});
  EXPECT_EQ(broken.code, 1);
  EXPECT_EQ(broken.out, "");
  EXPECT_THAT(Lines(broken.err), Contains(EndsWith("[unknown-target]")));

  EXPECT_EQ(Nurt({"graph"}).code, 2);
}

// --- start / send --------------------------------------------------------------------------------

TEST_F(CliTest, StartAndSendPrintTransitionsStateAndAcceptedEvents) {
  Ran start = Nurt({"start", "lead", "--data", kLeadData, "--id", "L1"});
  EXPECT_EQ(start.code, 0) << start.err;
  EXPECT_THAT(start.lines(), ElementsAre("started lead L1 (event #1)", "  nurt.start: -> new",
                                         "state:   new (active)", "accepts: drop, note, qualify"));
  EXPECT_EQ(start.err, "");

  Ran qualify = Nurt({"send", "L1", "qualify", "--data", kQualifyData});
  EXPECT_EQ(qualify.code, 0) << qualify.err;
  EXPECT_THAT(
      qualify.lines(),
      ElementsAre("sent to lead L1 (event #2)", "  qualify: new -> qualified   [new -> qualified]",
                  "state:   qualified (active)", "accepts: drop, lose, note, win"));

  // A targetless transition (actions only) says so instead of an empty target list.
  Ran note = Nurt({"send", "L1", "note", "--data", R"({"text":"dzwonić po 16"})"});
  EXPECT_EQ(note.code, 0) << note.err;
  EXPECT_THAT(note.lines(), Contains("  note: qualified -> qualified   [open -> (targetless)]"));
}

TEST_F(CliTest, EventTheStateDoesNotAcceptIsRefusedAndWritesNothing) {
  QualifiedLead();
  ASSERT_EQ(EventCount("L1"), 2);
  Ran r = Nurt({"send", "L1", "pay", "--data", R"({"amount_grosze":100})"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "nurt send: instance 'L1' (lead): event 'pay' is not accepted in state qualified; it "
            "accepts: drop, lose, note, win\n");
  EXPECT_EQ(EventCount("L1"), 2);
  EXPECT_THAT(Lines(Ok({"show", "L1"})), Contains("state:   qualified"));
}

TEST_F(CliTest, RepeatedKeyIsAppliedOnceAndAReusedKeyIsRefused) {
  Ok({"start", "lead", "--id", "L1", "--data", kLeadData});
  const Strings send = {"send", "L1", "note", "--key", "K", "--data", R"({"text":"oddzwonić"})"};
  Ran first = Nurt(send);
  EXPECT_EQ(first.code, 0) << first.err;
  EXPECT_EQ(first.lines().at(0), "sent to lead L1 (event #2)");

  Ran again = Nurt(send);
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(again.lines().at(0), "sent to lead L1 (event #2, already applied: nothing changed)");
  EXPECT_EQ(EventCount("L1"), 2);

  Ran other = Nurt({"send", "L1", "note", "--key", "K", "--data", R"({"text":"inna notatka"})"});
  EXPECT_EQ(other.code, 1);
  EXPECT_EQ(other.out, "");
  EXPECT_THAT(other.err, AllOf(StartsWith("nurt send: idempotency key 'K' was already used for "
                                          "instance 'L1' with a different request"),
                               EndsWith("\n")));
  EXPECT_EQ(EventCount("L1"), 2);

  // The same for start: a repeated --key returns the first start.
  const Strings start = {"start", "lead", "--id", "L2", "--key", "S", "--data", kLeadData};
  EXPECT_EQ(Lines(Ok(start)).at(0), "started lead L2 (event #1)");
  EXPECT_EQ(Lines(Ok(start)).at(0), "started lead L2 (event #1, already applied: nothing changed)");
  EXPECT_EQ(EventCount("L2"), 1);
}

TEST_F(CliTest, StartRefusesDataTheSchemaDoesNotAllowAndAnUnknownMachine) {
  Ran bad = Nurt({"start", "lead", "--id", "L1", "--data", R"({"source":"billboard"})"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_THAT(bad.err,
              AllOf(StartsWith("nurt start: "), HasSubstr("context.schema"), HasSubstr("/source")));
  EXPECT_EQ(Nurt({"show", "L1"}).code, 1);  // nothing was written

  Ran unknown = Nurt({"start", "no.such.machine"});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_EQ(unknown.err,
            "nurt start: no machine named 'no.such.machine' is published in org 'default'\n");

  Ran twice = Nurt({"start", "lead", "--id", "L1", "--data", kLeadData});
  ASSERT_EQ(twice.code, 0) << twice.err;
  Ran exists = Nurt({"start", "lead", "--id", "L1", "--data", kLeadData});
  EXPECT_EQ(exists.code, 1);
  EXPECT_THAT(exists.err, HasSubstr("'L1' already exists"));
}

// --- show / history / ls / replay ----------------------------------------------------------------

TEST_F(CliTest, ShowPrintsStateDataAndAcceptedEvents) {
  QualifiedLead();
  Ran r = Nurt({"show", "L1"});
  EXPECT_EQ(r.code, 0) << r.err;
  const Strings l = r.lines();
  ASSERT_EQ(l.size(), 6u) << r.out;
  EXPECT_EQ(l[0], "lead L1 (machine version 1)");
  EXPECT_EQ(l[1], "status:  active");
  EXPECT_EQ(l[2], "state:   qualified");
  EXPECT_THAT(l[3], MatchesRegex("events:  2 \\(last at " + kIso + "\\)"));
  EXPECT_THAT(l[4], AllOf(StartsWith("data:    {"), HasSubstr(R"("region":"dolnoslaskie")"),
                          HasSubstr(R"("qualified_by":"cli:test")")));
  EXPECT_EQ(l[5], "accepts: drop, lose, note, win");

  Ok({"send", "L1", "win", "--data", kWinData});
  const Strings done = Lines(Ok({"show", "L1"}));
  EXPECT_THAT(done, Contains("status:  completed"));
  EXPECT_THAT(done, Contains(R"(output:  {"result":"won","project_id":"project-L1","score":66})"));
  EXPECT_THAT(done, Contains("accepts: (nothing)"));
}

TEST_F(CliTest, HistoryNumbersEveryEventWithItsActorAndTransitions) {
  QualifiedLead();
  Ok({"send", "L1", "note", "--actor", "sales:ewa", "--data", R"({"text":"oferta w piątek"})"});
  Ran r = Nurt({"history", "L1"});
  EXPECT_EQ(r.code, 0) << r.err;
  const Strings l = r.lines();
  ASSERT_EQ(l.size(), 6u) << r.out;
  EXPECT_THAT(
      l[0], MatchesRegex("#1 " + kIso + " nurt\\.start by cli:test \\{\"source\":\"architect\".*"));
  EXPECT_EQ(l[1], "  nurt.start: -> new");
  EXPECT_THAT(l[2],
              MatchesRegex("#2 " + kIso + " qualify by cli:test \\{\"budget_grosze\":4500000.*"));
  EXPECT_EQ(l[3], "  qualify: new -> qualified   [new -> qualified]");
  EXPECT_THAT(l[4], MatchesRegex("#3 " + kIso + " note by sales:ewa .*"));
  EXPECT_EQ(l[5], "  note: qualified -> qualified   [open -> (targetless)]");

  Ran j = Nurt({"history", "L1", "--json"});
  EXPECT_EQ(j.code, 0);
  const Json events = j.json();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1]["type"], "qualify");
  ASSERT_EQ(events[1]["transitions"].size(), 1u);
  EXPECT_EQ(events[1]["transitions"][0]["to"], Json::array({"qualified"}));
}

TEST_F(CliTest, LsFiltersByMachineAndStateAndPagesInJson) {
  QualifiedLead("L1");
  Ok({"start", "lead", "--id", "L2", "--data", kLeadData});
  Ok({"start", "lead", "--id", "L3", "--data", kLeadData});
  Ok({"start", "invoice", "--id", "FV1", "--data",
      R"({"kind":"regular","net_grosze":100000,"vat_rate":23,)"
      R"("buyer":{"name":"Kowalski Sp. z o.o.","nip":"8971234567"}})"});

  EXPECT_EQ(Ok({"ls", "--machine", "lead", "--state", "qualified"}),
            "L1  lead v1  active  qualified\n");
  EXPECT_EQ(Ok({"ls", "--machine", "lead", "--state", "new"}),
            "L2  lead v1  active  new\nL3  lead v1  active  new\n");
  EXPECT_EQ(Ok({"ls", "--machine", "invoice"}), "FV1  invoice v1  active  draft\n");
  EXPECT_EQ(Ok({"ls", "--status", "completed"}), "(no instances)\n");
  EXPECT_EQ(Ok({"ls", "--org", "other"}), "(no instances)\n");

  const Json page1 = Json::parse(Ok({"ls", "--json", "--machine", "lead", "--limit", "2"}));
  ASSERT_EQ(page1["instances"].size(), 2u);
  EXPECT_EQ(page1["instances"][0]["id"], "L1");
  EXPECT_EQ(page1["instances"][0]["state"], Json::array({"qualified"}));
  EXPECT_EQ(page1["instances"][0]["runStatus"], "active");
  EXPECT_EQ(page1["instances"][0]["version"], 2);
  EXPECT_EQ(page1["next"], "L2");
  const Json page2 = Json::parse(
      Ok({"ls", "--json", "--machine", "lead", "--limit", "2", "--after", page1["next"]}));
  ASSERT_EQ(page2["instances"].size(), 1u);
  EXPECT_EQ(page2["instances"][0]["id"], "L3");
  EXPECT_TRUE(page2["next"].is_null());
}

TEST_F(CliTest, LsRefusesABadLimitAndStrayArgumentsAsUsage) {
  // Regression: --limit 0 reached the store (exit 1), "--limit 5x" was read as 5, and `nurt ls
  // lead` ignored "lead" and listed everything.
  for (const char* limit : {"0", "-1", "5x", "many"}) {
    Ran r = Nurt({"ls", "--limit", limit});
    EXPECT_EQ(r.code, 2) << limit;
    EXPECT_THAT(r.err, StartsWith("nurt ls: --limit must be a number from 1 to 100000\n")) << limit;
  }
  Ran stray = Nurt({"ls", "lead"});
  EXPECT_EQ(stray.code, 2);
  EXPECT_THAT(stray.err, StartsWith("nurt ls: unexpected 'lead': filter with --machine"));
}

TEST_F(CliTest, ReplayRebuildsTheStateAtAnyEvent) {
  QualifiedLead();
  Ok({"send", "L1", "win", "--data", kWinData});

  Ran all = Nurt({"replay", "L1"});
  EXPECT_EQ(all.code, 0) << all.err;
  const Strings a = all.lines();
  ASSERT_EQ(a.size(), 5u) << all.out;
  EXPECT_EQ(a[0], "replayed L1");
  EXPECT_EQ(a[1], "active:  won");
  EXPECT_EQ(a[3], R"(done:    {"result":"won","project_id":"project-L1","score":66})");
  EXPECT_EQ(a[4], "matches the stored snapshot: yes");

  Ran first = Nurt({"replay", "L1", "--until", "1"});
  EXPECT_EQ(first.code, 0) << first.err;
  const Strings f = first.lines();
  ASSERT_EQ(f.size(), 3u) << first.out;  // no comparison with the (later) stored snapshot
  EXPECT_EQ(f[0], "replayed L1 up to event #1");
  EXPECT_EQ(f[1], "active:  open, new");
  EXPECT_THAT(f[2], AllOf(HasSubstr(R"("score":0)"), Not(HasSubstr("qualified_by"))));

  const Json j = Json::parse(Ok({"replay", "L1", "--until", "2", "--json"}));
  EXPECT_EQ(j["configuration"], Json::array({"open", "qualified"}));
  EXPECT_EQ(j["done"], false);

  // Regression: a negative --until printed "up to event #-3" above the full state.
  for (const char* until : {"-3", "two", "1x"}) {
    Ran r = Nurt({"replay", "L1", "--until", until});
    EXPECT_EQ(r.code, 2) << until;
    EXPECT_THAT(r.err, StartsWith("nurt replay: --until must be an event number")) << until;
  }
}

// --- internal effects: spawn and send between instances ------------------------------------------

TEST_F(CliTest, WinningALeadSpawnsTheInstallationProject) {
  QualifiedLead();
  Ran win = Nurt({"send", "L1", "win", "--data", kWinData});
  EXPECT_EQ(win.code, 0) << win.err;
  EXPECT_THAT(
      win.lines(),
      ElementsAre("sent to lead L1 (event #3)", "  win: qualified -> won   [qualified -> won]",
                  "state:   won (completed)",
                  R"(output:  {"result":"won","project_id":"project-L1","score":66})",
                  "note:    started installation.project 'project-L1' (its event #1)"));

  EXPECT_EQ(Ok({"ls"}),
            "L1  lead v1  completed  won\n"
            "project-L1  installation.project v1  active  choosing_panels\n");
  EXPECT_THAT(LinesStartingWith(Ok({"history", "project-L1"}), "#1 "),
              ElementsAre(MatchesRegex("#1 " + kIso + " nurt\\.start by instance:L1 .*")));
  EXPECT_THAT(Lines(Ok({"show", "project-L1"})), AllOf(Contains("state:   choosing_panels"),
                                                       Contains("accepts: cancel, panels.chosen")));
}

TEST_F(CliTest, SendBetweenInstancesIsReportedDelivered) {
  Ran start = Nurt({"start", "feature.spawn_and_send", "--id", "c1", "--data",
                    R"({"panel_serial":"JA-72-0042"})"});
  EXPECT_EQ(start.code, 0) << start.err;
  EXPECT_THAT(start.lines(),
              Contains("note:    started feature.spawn_child 'c1-inspection' (its event #1)"));
  Ran done =
      Nurt({"send", "c1-inspection", "inspected", "--data", R"({"verdict":"transport damage"})"});
  EXPECT_EQ(done.code, 0) << done.err;
  EXPECT_THAT(
      done.lines(),
      Contains("note:    'inspection.done' from 'c1-inspection' to 'c1' delivered (its event #2)"));
  EXPECT_THAT(Lines(Ok({"show", "c1"})), Contains("state:   resolved"));
}

// Regression: the CLI said "1 message(s) delivered to other instances" for a send that failed,
// because DeliverInternalEffects counts failed messages too.
TEST_F(CliTest, FailedDeliveryIsReportedAsFailed) {
  Ok({"start", "feature.spawn_child", "--id", "i1", "--data",
      R"({"parent_id":"nobody","panel_serial":"JA-72-0042"})"});
  Ran r = Nurt({"send", "i1", "inspected", "--data", R"({"verdict":"manufacturing defect"})"});
  EXPECT_EQ(r.code, 0) << r.err;  // the event itself was accepted
  EXPECT_THAT(
      LinesStartingWith(r.out, "note:"),
      ElementsAre("note:    'inspection.done' from 'i1' to 'nobody' FAILED: no instance 'nobody'"));
  EXPECT_THAT(r.out, Not(HasSubstr("delivered")));

  // The receiver exists but refuses the event: not delivered either.
  Ok({"start", "lead", "--id", "L9", "--data", kLeadData});
  Ok({"start", "feature.spawn_child", "--id", "i2", "--data",
      R"({"parent_id":"L9","panel_serial":"JA-72-0043"})"});
  Ran refused = Nurt({"send", "i2", "inspected", "--json"});
  EXPECT_EQ(refused.code, 0) << refused.err;
  const Json j = refused.json();
  ASSERT_TRUE(j.contains("notes")) << j.dump(2);
  ASSERT_EQ(j["notes"].size(), 1u) << j.dump(2);
  EXPECT_THAT(
      j["notes"][0].get<std::string>(),
      StartsWith("'inspection.done' from 'i2' to 'L9' NOT delivered: 'L9' recorded no event"));
  EXPECT_EQ(EventCount("L9"), 1);
}

// --- input and usage errors ----------------------------------------------------------------------

TEST_F(CliTest, BadDataIsRefusedWithItsPlace) {
  Ok({"start", "lead", "--id", "L1", "--data", kLeadData});
  Ran r = Nurt({"send", "L1", "note", "--data", R"({"text": x})"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err,
              AllOf(StartsWith("nurt send: --data is not valid JSON: "), HasSubstr("column 10")));

  Ran array = Nurt({"send", "L1", "note", "--data", "[1, 2]"});
  EXPECT_EQ(array.code, 1);
  EXPECT_THAT(array.err, StartsWith("nurt send: --data must be a JSON object"));

  Ran start = Nurt({"start", "lead", "--data", "{"});
  EXPECT_EQ(start.code, 1);
  EXPECT_THAT(start.err, StartsWith("nurt start: --data is not valid JSON: "));
  EXPECT_EQ(EventCount("L1"), 1);
}

TEST_F(CliTest, UsageErrorsExitTwoWithTheUsage) {
  Ran unknown = Nurt({"frobnicate"});
  EXPECT_EQ(unknown.code, 2);
  EXPECT_THAT(unknown.err, StartsWith("nurt: unknown command 'frobnicate'\n\nusage: nurt "));

  Ran option = Nurt({"ls", "--bogus"});
  EXPECT_EQ(option.code, 2);
  EXPECT_THAT(option.err, StartsWith("nurt: unknown option --bogus\n\nusage: nurt "));

  Ran value = Nurt({"send", "L1", "note", "--data"});
  EXPECT_EQ(value.code, 2);
  EXPECT_THAT(value.err, StartsWith("nurt: option --data needs a value\n"));

  Ran args = Nurt({"send", "L1"});
  EXPECT_EQ(args.code, 2);
  EXPECT_THAT(args.err, StartsWith("nurt send: name the instance and the event\n"));

  Ran version = Nurt({"start", "lead", "--version", "1x"});
  EXPECT_EQ(version.code, 2);
  EXPECT_THAT(version.err, StartsWith("nurt start: --version must be a machine version"));

  Ran nothing = Nurt({});
  EXPECT_EQ(nothing.code, 2);
  EXPECT_THAT(nothing.out, StartsWith("usage: nurt "));

  Ran help = Nurt({"--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_THAT(help.out, HasSubstr("  replay ID [--until SEQ]"));
}

TEST_F(CliTest, MissingInstanceIsNotFound) {
  for (const Strings& args : {Strings{"show", "nope"}, Strings{"history", "nope"},
                              Strings{"replay", "nope"}, Strings{"send", "nope", "qualify"}}) {
    Ran r = Nurt(args);
    EXPECT_EQ(r.code, 1) << args[0];
    EXPECT_EQ(r.err, "nurt " + args[0] + ": instance 'nope' of org 'default' does not exist\n")
        << args[0];

    Strings json_args = args;
    json_args.push_back("--json");
    Ran j = Nurt(json_args);
    EXPECT_EQ(j.code, 1) << args[0];
    EXPECT_EQ(j.json()["error"]["code"], "not found") << args[0];
  }
}

TEST_F(CliTest, OrgsDoNotSeeEachOther) {
  Ok({"start", "lead", "--id", "L1", "--org", "fotowolt", "--data", kLeadData});
  EXPECT_EQ(Nurt({"show", "L1"}).code, 1);
  EXPECT_EQ(Nurt({"show", "L1", "--org", "fotowolt"}).code, 0);
  CliEnvironment env = env_;
  env.org = "fotowolt";  // NURT_ORG
  EXPECT_EQ(NurtIn(env, {"show", "L1"}).code, 0);
  EXPECT_EQ(NurtIn(env, {"show", "L1", "--org", "default"}).code, 1);  // the option wins
}

TEST_F(CliTest, PathPublishesMachinesAndSkipsBrokenOnesWithAWarning) {
  const std::string flows = dir_.File("flows");
  std::filesystem::create_directory(flows);
  WriteFile(flows + "/switch.yaml", R"(apiVersion: nurt/v1
kind: Machine
name: switch
version: 1
states:
  off: { on: { flip: on } }
  on: { on: { flip: off } }
)");
  WriteFile(flows + "/door.yaml", kBrokenDoor);
  WriteFile(flows + "/notes.yaml", "just: some other YAML\n");  // not a machine: ignored

  Ran r = Nurt({"start", "switch", "--id", "s1", "--path", flows});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "nurt: skipped " + flows + "/door.yaml: 2 error(s) (run: nurt validate " +
                       flows + "/door.yaml)\n");
  EXPECT_THAT(r.lines(), Contains("state:   off (active)"));
  EXPECT_THAT(Lines(Ok({"send", "s1", "flip", "--path", flows})), Contains("state:   on (active)"));
}

// --- --json for start / send / show --------------------------------------------------------------

TEST_F(CliTest, JsonOutputsHaveTheDocumentedFields) {
  Ran start = Nurt({"start", "lead", "--id", "L1", "--json", "--data", kLeadData});
  EXPECT_EQ(start.code, 0) << start.err;
  const Json s = start.json();
  for (const char* key :
       {"instanceId", "machine", "machineVersion", "version", "eventSequence", "eventId",
        "runStatus", "state", "context", "output", "transitions", "acceptedEvents", "replayed"}) {
    EXPECT_TRUE(s.contains(key)) << key << " in " << s.dump(2);
  }
  EXPECT_EQ(s["instanceId"], "L1");
  EXPECT_EQ(s["eventSequence"], 1);
  EXPECT_EQ(s["state"], Json::array({"new"}));
  EXPECT_EQ(s["acceptedEvents"], Json::array({"drop", "note", "qualify"}));
  EXPECT_EQ(s["replayed"], false);
  EXPECT_FALSE(s.contains("notes"));

  const Json q = Json::parse(Ok({"send", "L1", "qualify", "--json", "--data", kQualifyData}));
  EXPECT_EQ(q["version"], 2);
  EXPECT_EQ(q["state"], Json::array({"qualified"}));
  EXPECT_EQ(q["context"]["region"], "dolnoslaskie");
  ASSERT_EQ(q["transitions"].size(), 1u);
  EXPECT_EQ(q["transitions"][0]["event"], "qualify");

  const Json w = Json::parse(Ok({"send", "L1", "win", "--json", "--data", kWinData}));
  EXPECT_EQ(w["runStatus"], "completed");
  EXPECT_EQ(w["output"]["project_id"], "project-L1");
  EXPECT_EQ(w.value("notes", Json()),
            Json::array({"started installation.project 'project-L1' (its event #1)"}));

  const Json show = Json::parse(Ok({"show", "L1", "--json"}));
  for (const char* key : {"id", "machine", "machineVersion", "runStatus", "state", "version",
                          "snapshot", "createdAt", "updatedAt", "acceptedEvents"}) {
    EXPECT_TRUE(show.contains(key)) << key << " in " << show.dump(2);
  }
  EXPECT_EQ(show["version"], 3);
  EXPECT_EQ(show["runStatus"], "completed");
  EXPECT_EQ(show["acceptedEvents"], Json::array());
  EXPECT_THAT(show["updatedAt"].get<std::string>(), MatchesRegex(kIso));

  Ran refused = Nurt({"send", "L1", "qualify", "--json"});
  EXPECT_EQ(refused.code, 1);
  EXPECT_EQ(refused.err, "");
  EXPECT_EQ(refused.json()["error"]["code"], "failed precondition");
}

// --- the real binary -----------------------------------------------------------------------------

// Runs `command` through the shell; returns its exit status and puts stdout+stderr in *output.
int Shell(const std::string& command, std::string* output) {
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return -1;
  char buf[4096];
  output->clear();
  for (std::size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) output->append(buf, n);
  const int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string Quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// main() forwards argv and the process environment (NURT_DB, default NURT_PATH relative to the
// current folder, actor cli:$USER) and returns RunCli's status as the exit status.
TEST_F(CliTest, BinaryReadsTheEnvironmentAndExitsWithTheStatus) {
  const std::string binary = NURT_BINARY_ROOT "/engine/nurt";
  if (!std::filesystem::exists(binary)) {
    GTEST_SKIP() << binary << " is not built (build the `nurt` target to run this test)";
  }
  const std::string nurt =
      "cd " + Quoted(kRoot) +
      " && env -u NURT_PATH -u NURT_ORG -u NURT_ACTOR NURT_DB=" + Quoted(env_.db) + " USER=alice " +
      Quoted(binary) + " ";
  std::string out;
  EXPECT_EQ(Shell(nurt + "validate examples/lead.yaml", &out), 0) << out;
  EXPECT_EQ(out, "1 file checked: 0 error(s), 0 warning(s)\n");
  EXPECT_EQ(Shell(nurt + "start lead --id L1 --data " + Quoted(kLeadData), &out), 0) << out;
  EXPECT_THAT(out, StartsWith("started lead L1 (event #1)\n"));
  EXPECT_EQ(Shell(nurt + "send L1 pay", &out), 1) << out;
  EXPECT_THAT(out, HasSubstr("event 'pay' is not accepted in state new"));
  EXPECT_EQ(Shell(nurt + "frobnicate", &out), 2) << out;
  EXPECT_EQ(Shell(nurt + "history L1", &out), 0) << out;
  EXPECT_THAT(Lines(out).at(0), MatchesRegex("#1 " + kIso + " nurt\\.start by cli:alice .*"));
}

}  // namespace
}  // namespace nurt::cli
