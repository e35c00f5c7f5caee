// `kind: Schedule` documents: what the loader builds, and every mistake reported at its file:line:col.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>
#include <yaml-cpp/yaml.h>

#include "dsl/yaml_walker.hpp"
#include "dsl_test_util.hpp"
#include "nurt/dsl/loader.hpp"
#include "nurt/dsl/schedule.hpp"
#include "temp_dir.hpp"

namespace nurt::dsl {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<std::string> Diagnostics(const ScheduleLoadResult& r) { return testing::Render(r.diagnostics, ""); }

TEST(ScheduleLoader, ReadsEveryKeyWithDefaults) {
  const ScheduleLoadResult r = LoadScheduleText(R"(apiVersion: nurt/v1
kind: Schedule
name: comarch-nightly-sync
description: Every night at 2:00 the Comarch ERP is synchronised.
schedule: "0 2 * * *"
start:
  machine: comarch-sync
  data: {full: false, day: "{{scheduledDate}}", tags: [nightly, "{{name}}"]}
)",
                                                "s.yaml");
  ASSERT_NE(r.schedule, nullptr) << ::testing::PrintToString(Diagnostics(r));
  EXPECT_THAT(r.diagnostics, IsEmpty());
  const ScheduleDefinition& s = *r.schedule;
  EXPECT_EQ(s.name, "comarch-nightly-sync");
  EXPECT_EQ(s.expression, "0 2 * * *");
  EXPECT_EQ(s.time_zone, "Europe/Warsaw");
  EXPECT_EQ(s.missed, MissedPolicy::kRunOnce);
  EXPECT_EQ(s.max_catch_up, 100);
  EXPECT_EQ(s.grace, std::chrono::minutes(5));
  EXPECT_TRUE(s.enabled);
  EXPECT_EQ(s.action, ScheduleDefinition::Action::kStart);
  EXPECT_EQ(s.machine, "comarch-sync");
  EXPECT_EQ(s.machine_location.ToString(), "s.yaml:7:12");
  EXPECT_EQ(s.data, (Json{{"full", false}, {"day", "{{scheduledDate}}"}, {"tags", {"nightly", "{{name}}"}}}));
  EXPECT_EQ(s.cron.Next(ParseIso8601("2026-07-01T12:00:00Z").value()), ParseIso8601("2026-07-02T00:00:00Z").value());
}

TEST(ScheduleLoader, ReadsAnEmitWithItsPolicy) {
  const ScheduleLoadResult r = LoadScheduleText(R"(apiVersion: nurt/v1
kind: Schedule
name: crm-sync
schedule: "@hourly"
time_zone: UTC
missed: run_all
max_catch_up: 24
grace: PT1M
enabled: false
emit: {to: crm-1, event: sync.requested}
)",
                                                "e.yaml");
  ASSERT_NE(r.schedule, nullptr) << ::testing::PrintToString(Diagnostics(r));
  EXPECT_EQ(r.schedule->action, ScheduleDefinition::Action::kEmit);
  EXPECT_EQ(r.schedule->instance_id, "crm-1");
  EXPECT_EQ(r.schedule->event, "sync.requested");
  EXPECT_EQ(r.schedule->missed, MissedPolicy::kRunAll);
  EXPECT_EQ(r.schedule->max_catch_up, 24);
  EXPECT_EQ(r.schedule->grace, std::chrono::minutes(1));
  EXPECT_FALSE(r.schedule->enabled);
  EXPECT_EQ(r.schedule->data, Json::object());
}

TEST(ScheduleLoader, EveryMistakeIsReportedAtItsPlace) {
  const ScheduleLoadResult r = LoadScheduleText(R"(apiVersion: nurt/v1
kind: Schedule
name: Nightly
schedule: "0 25 * * *"
time_zone: Europe/Warsw
missed: run_twice
max_catch_up: 0
grace: soon
enabled: maybe
shedule: x
start:
  machine: comarch-sync
  data: {day: "{{scheduledDay}}", schedule: 1}
emit: {to: crm-1, event: "bad event"}
)",
                                                "bad.yaml");
  EXPECT_EQ(r.schedule, nullptr);
  const auto d = Diagnostics(r);
  EXPECT_THAT(d, ::testing::Contains(HasSubstr("bad.yaml:3:7: error: schedule name 'Nightly' must start")));
  EXPECT_THAT(d, ::testing::Contains(AllOf(HasSubstr("bad.yaml:4:11: error: cron '0 25 * * *': hour 25 is out of range 0-23"),
                                           HasSubstr("[bad-cron]"))));
  EXPECT_THAT(d, ::testing::Contains(AllOf(HasSubstr("bad.yaml:5:12: error: unknown time zone 'Europe/Warsw'"),
                                           HasSubstr("[bad-time-zone]"))));
  EXPECT_THAT(d, ::testing::Contains(HasSubstr("bad.yaml:6:9: error: missed 'run_twice' is not a policy")));
  EXPECT_THAT(d, ::testing::Contains(HasSubstr("bad.yaml:7:15: error: max_catch_up must be from 1 to 1000")));
  EXPECT_THAT(d, ::testing::Contains(HasSubstr("bad.yaml:8:8: error: grace:")));
  EXPECT_THAT(d, ::testing::Contains(HasSubstr("bad.yaml:9:10: error: enabled must be true or false")));
  EXPECT_THAT(d, ::testing::Contains(AllOf(HasSubstr("bad.yaml:10:1: error: unknown key 'shedule'"),
                                           HasSubstr("did you mean 'schedule'?"))));
  EXPECT_THAT(d, ::testing::Contains(AllOf(HasSubstr("bad.yaml:13:16: error: unknown placeholder {{scheduledDay}}"),
                                           HasSubstr("did you mean 'scheduledDate'?"))));
  EXPECT_THAT(d, ::testing::Contains(HasSubstr("bad.yaml:13:35: error: start.data must not set 'schedule'")));
  EXPECT_THAT(d, ::testing::Contains(AllOf(HasSubstr("bad.yaml:14:1: error: a schedule either starts"),
                                           HasSubstr("[start-or-emit]"))));
  EXPECT_THAT(d, ::testing::Contains(HasSubstr("bad.yaml:14:26: error: event name 'bad event'")));
}

TEST(ScheduleLoader, MissingKeysAndANeverRunningCronAreErrors) {
  EXPECT_THAT(Diagnostics(LoadScheduleText("kind: Schedule\nname: x\n", "m.yaml")),
              ElementsAre(HasSubstr("m.yaml:1:1: error: the schedule has no 'apiVersion'"),
                          HasSubstr("m.yaml:1:1: error: the schedule has no 'schedule'"),
                          HasSubstr("m.yaml:1:1: error: the schedule does nothing")));
  EXPECT_THAT(Diagnostics(LoadScheduleText("apiVersion: nurt/v1\nkind: Schedule\nname: x\nschedule: \"0 0 30 2 *\"\n"
                                           "emit: {event: e}\n",
                                           "n.yaml")),
              ElementsAre(HasSubstr("n.yaml:4:11: error: cron '0 0 30 2 *' never runs"),
                          HasSubstr("n.yaml:5:1: error: 'emit' has no 'to'")));
  EXPECT_THAT(Diagnostics(LoadScheduleText("apiVersion: nurt/v1\nkind: Schedule\nname: x\nschedule: [1]\n"
                                           "start: {machine: m}\n---\nkind: Schedule\n",
                                           "y.yaml")),
              ElementsAre(HasSubstr("y.yaml:4:11: error: schedule must be text, but it is a list"),
                          HasSubstr("y.yaml:7:1: error: a second YAML document")));
}

TEST(ScheduleLoader, FilesAndRouting) {
  nurt::testing::TempDir dir;
  const std::string path = dir.File("nightly.yaml");
  const std::string text = "apiVersion: nurt/v1\nkind: Schedule\nname: x\nschedule: \"@daily\"\nstart: {machine: m}\n";
  {
    std::ofstream(path) << text;
  }
  EXPECT_NE(LoadScheduleFile(path).schedule, nullptr);
  EXPECT_THAT(Diagnostics(LoadScheduleFile(dir.File("missing.yaml"))),
              ElementsAre(HasSubstr("missing.yaml:0:0: error: cannot read")));
  EXPECT_TRUE(IsScheduleDocument(text));
  EXPECT_TRUE(IsScheduleDocument("# c\nkind: \"Schedule\"  # comment\n"));
  EXPECT_FALSE(IsScheduleDocument("kind: Machine\n"));
  EXPECT_FALSE(IsScheduleDocument("states:\n  kind: Schedule\n"));
  // The machine loader points a schedule file at the right tool.
  EXPECT_THAT(testing::Render(LoadMachineText(text, "x.yaml").diagnostics, ""),
              ::testing::Contains(HasSubstr("a kind: Schedule file is not a machine")));
}

TEST(ScheduleLoader, UnknownMachinesAreFoundAgainstThePublishedOnes) {
  auto r = LoadScheduleText("apiVersion: nurt/v1\nkind: Schedule\nname: x\nschedule: \"@daily\"\nstart: {machine: comarch-snyc}\n",
                            "x.yaml");
  ASSERT_NE(r.schedule, nullptr);
  const auto d = CheckScheduleMachines({r.schedule}, {"comarch-sync", "lead"});
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].ToString(),
            "x.yaml:5:18: error: schedule 'x' starts machine 'comarch-snyc', which is not published; did you mean "
            "'comarch-sync'? [unknown-machine]");
  EXPECT_TRUE(CheckScheduleMachines({r.schedule}, {"comarch-snyc"}).empty());
}

TEST(ScheduleLoader, PlaceholdersAreExpandedInTextOnly) {
  const Json data = {{"day", "{{scheduledDate}}"}, {"n", 3}, {"list", {"a {{name}} b", "{{unknown}}"}}, {"{{name}}", true}};
  EXPECT_EQ(ExpandSchedulePlaceholders(data, {{"scheduledDate", "2026-01-01"}, {"name", "nightly"}}),
            (Json{{"day", "2026-01-01"}, {"n", 3}, {"list", {"a nightly b", "{{unknown}}"}}, {"{{name}}", true}}));
}

// schemas/nurt-schedule.schema.json (for editors) agrees with the loader on what is structurally valid.
TEST(ScheduleSchema, AcceptsWhatTheLoaderAcceptsAndRejectsStructuralMistakes) {
  const nlohmann::json schema_doc =
      nlohmann::json::parse(testing::ReadText(testing::SourceRoot() + "/schemas/nurt-schedule.schema.json"));
  valijson::Schema schema;
  valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
  valijson::adapters::NlohmannJsonAdapter schema_adapter(schema_doc);
  parser.populateSchema(schema_adapter, schema);
  auto valid = [&](const std::string& yaml) {
    const nlohmann::json doc = nlohmann::json::parse(internal::ToJson(YAML::Load(yaml)).dump());
    valijson::adapters::NlohmannJsonAdapter adapter(doc);
    return valijson::Validator().validate(schema, adapter, nullptr);
  };
  const std::string head = "apiVersion: nurt/v1\nkind: Schedule\nname: nightly\nschedule: \"0 2 * * *\"\n";
  for (const std::string body : {"start: {machine: comarch-sync, data: {day: \"{{scheduledDate}}\"}}\n",
                                 "missed: run_all\nmax_catch_up: 5\ngrace: PT1M\nenabled: false\ntime_zone: UTC\n"
                                 "emit: {to: crm-1, event: sync.requested}\n"}) {
    EXPECT_TRUE(valid(head + body)) << body;
    EXPECT_NE(LoadScheduleText(head + body, "s.yaml").schedule, nullptr) << body;
  }
  for (const std::string body : {"", "start: {machine: m}\nemit: {to: a, event: e}\n", "missed: never\nstart: {machine: m}\n",
                                 "start: {machine: m, data: {schedule: 1}}\n", "start: {machine: m}\nshedule: x\n",
                                 "emit: {to: a}\n", "max_catch_up: 0\nstart: {machine: m}\n"}) {
    EXPECT_FALSE(valid(head + body)) << body;
    EXPECT_EQ(LoadScheduleText(head + body, "s.yaml").schedule, nullptr) << body;
  }
}

}  // namespace
}  // namespace nurt::dsl
