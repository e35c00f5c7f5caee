// The `kind: Rules` loader: what a valid document becomes, one test per kind of mistake (each with its
// file:line:col), and `on:` glob matching.

#include "nurt/dsl/rules.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "dsl_test_util.hpp"
#include "temp_dir.hpp"

namespace nurt::dsl {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Doc(const std::string& rules) {
  return "apiVersion: nurt/v1\nkind: Rules\nname: reminders\nrules:\n" + rules;
}

std::vector<std::string> Diagnostics(const RulesLoadResult& r) { return testing::Render(r.diagnostics, ""); }

// The single diagnostic of `yaml` (fails the test when there is not exactly one).
std::string Only(const std::string& yaml) {
  const RulesLoadResult r = LoadRulesText(yaml, "r.yaml");
  EXPECT_EQ(r.rules, nullptr);
  EXPECT_EQ(r.diagnostics.size(), 1u) << ::testing::PrintToString(Diagnostics(r));
  return r.diagnostics.empty() ? "" : r.diagnostics.front().ToString();
}

TEST(RulesLoaderTest, ReadsEveryPartOfAValidDocument) {
  const RulesLoadResult r = LoadRulesText(R"YAML(apiVersion: nurt/v1
kind: Rules
name: invoice-reminders
org: acme
timeZone: Europe/Warsaw
throttle: { limit: 100, per: PT1H, policy: queue }
rules:
  - id: overdue-big
    description: Big overdue invoices
    on: [invoice.overdue, "*.failed"]
    machine: invoice
    when: "context.amount > 1000"
    throttle: { limit: 5, per: PT10M, policy: drop }
    do:
      - notify: { channel: email, to: [ops@firma.pl], subject: "Overdue {{context.number}}", body: "Pay {{context.amount}}" }
      - webhook: { channel: crm-hook, data: { invoice: "entity.id", fixed: 7 } }
      - emit: { event: reminder.sent, to: "event.payload.peer", data: { n: 1 } }
      - start: { machine: collection, id: "'c-' .. entity.id", data: { invoice: "entity.id" } }
      - task: { title: Call the customer, assignee: { role: finance }, due: P2D, decisions: { called: reminder.handled } }
  - id: every
    on: invoice.*
    once_per: every_event
    do:
      - notify: { channel: ops-slack, body: "{{event.type}}" }
  - id: per-invoice
    on: invoice.paid
    once_per: "{{rule}}:{{event.payload.invoice_id}}"
    do:
      - notify: { channel: email, body: paid }
)YAML",
                                          "rules.yaml");
  ASSERT_NE(r.rules, nullptr) << ::testing::PrintToString(Diagnostics(r));
  EXPECT_TRUE(r.diagnostics.empty());
  const RuleSet& s = *r.rules;
  EXPECT_EQ(s.name, "invoice-reminders");
  EXPECT_EQ(s.org, "acme");
  ASSERT_TRUE(s.throttle.has_value());
  EXPECT_EQ(s.throttle->limit, 100);
  EXPECT_EQ(s.throttle->per_ms, 3'600'000);
  ASSERT_EQ(s.rules.size(), 3u);
  const RuleSpec& big = s.rules[0];
  EXPECT_EQ(big.id, "overdue-big");
  EXPECT_THAT(big.on, ElementsAre("invoice.overdue", "*.failed"));
  EXPECT_EQ(big.machine, "invoice");
  ASSERT_TRUE(big.when.has_value());
  EXPECT_EQ(big.when->source, "context.amount > 1000");
  EXPECT_EQ(big.when->location.line, 12);
  EXPECT_EQ(big.once_per, "{{rule}}:{{entity}}:{{day}}");  // the default
  ASSERT_TRUE(big.throttle.has_value());
  EXPECT_EQ(big.throttle->policy, RuleThrottle::Policy::kDrop);
  ASSERT_EQ(big.actions.size(), 5u);
  EXPECT_EQ(big.actions[0].kind, RuleAction::Kind::kNotify);
  EXPECT_THAT(big.actions[0].to, ElementsAre("ops@firma.pl"));
  EXPECT_EQ(big.actions[0].subject, "Overdue {{context.number}}");
  EXPECT_EQ(big.actions[1].kind, RuleAction::Kind::kWebhook);
  ASSERT_EQ(big.actions[1].data_fields.size(), 2u);
  EXPECT_TRUE(big.actions[1].data_fields[0].second.is_expression);
  EXPECT_FALSE(big.actions[1].data_fields[1].second.is_expression);
  EXPECT_EQ(big.actions[2].kind, RuleAction::Kind::kEmit);
  ASSERT_TRUE(big.actions[2].target.has_value());
  EXPECT_EQ(big.actions[3].kind, RuleAction::Kind::kStart);
  EXPECT_EQ(big.actions[3].machine, "collection");
  EXPECT_EQ(big.actions[4].kind, RuleAction::Kind::kTask);
  EXPECT_EQ(big.actions[4].task.assignee_role, "finance");
  EXPECT_EQ(big.actions[4].task.due_ms, 2 * 86'400'000);
  EXPECT_EQ(s.rules[1].once_per, "");  // every_event
  EXPECT_EQ(s.rules[2].once_per, "{{rule}}:{{event.payload.invoice_id}}");
}

TEST(RulesLoaderTest, EveryMistakeHasItsPlace) {
  EXPECT_EQ(Only(Doc("  - id: a\n    on: x\n    wehn: \"true\"\n    do: [ { notify: { channel: email, body: b } } ]\n")),
            "r.yaml:7:5: error: unknown key 'wehn' in rule 'a'; did you mean 'when'? [unknown-key]");
  EXPECT_EQ(Only(Doc("  - id: a\n    do: [ { notify: { channel: email, body: b } } ]\n")),
            "r.yaml:5:5: error: rule 'a' has no 'on' (required); add on: <event type or glob>, e.g. on: "
            "invoice.overdue [missing-key]");
  EXPECT_THAT(Only(Doc("  - id: a\n    on: \"invoice.**x!\"\n    do: [ { notify: { channel: email, body: b } } ]\n")),
              HasSubstr("r.yaml:6:9: error: event pattern 'invoice.**x!' in 'on' of rule 'a' is not valid"));
  EXPECT_THAT(Only(Doc("  - id: a\n    on: x\n    when: \"context.amount >\"\n    do: [ { notify: { channel: email, body: b } } ]\n")),
              HasSubstr("r.yaml:7:12: error: Lua syntax error in 'when' of rule 'a'"));
  EXPECT_THAT(Only(Doc("  - id: a\n    on: x\n    when: \"x = 1\"\n    do: [ { notify: { channel: email, body: b } } ]\n")),
              HasSubstr("r.yaml:7:12: error: 'when' of rule 'a' must be a Lua expression"));
  EXPECT_THAT(Only(Doc("  - id: a\n    on: x\n    once_per: \"{{rule}}:{{entiy}}\"\n    do: [ { notify: { channel: email, body: b } } ]\n")),
              HasSubstr("r.yaml:7:16: error: 'once_per' of rule 'a': unknown placeholder {{entiy}}; did you "
                        "mean 'entity'?"));
  EXPECT_THAT(Only(Doc("  - id: a\n    on: x\n    throttle: { limit: 2, per: PT1H, policy: later }\n    do: [ { notify: { channel: email, body: b } } ]\n")),
              HasSubstr("r.yaml:7:46: error: unknown policy 'later'"));
  EXPECT_THAT(Only(Doc("  - id: a\n    on: x\n    throttle: { limit: 2, per: P1M }\n    do: [ { notify: { channel: email, body: b } } ]\n")),
              HasSubstr("r.yaml:7:32: error: 'per' of 'throttle' of rule 'a': 'P1M'"));
  EXPECT_THAT(Only(Doc("  - id: a\n    on: x\n    do: [ { notfy: { channel: email, body: b } } ]\n")),
              HasSubstr("r.yaml:7:13: error: unknown action 'notfy' in 'do' of rule 'a'; did you mean 'notify'?"));
  EXPECT_THAT(Only(Doc("  - id: a\n    on: x\n    do: [ { notify: { channel: email } } ]\n")),
              HasSubstr("r.yaml:7:13: error: 'notify' of rule 'a' has no 'body' (required)"));
  EXPECT_THAT(Only(Doc("  - id: a\n    on: x\n    do: [ { emit: { to: \"entity.id\" } } ]\n")),
              HasSubstr("r.yaml:7:13: error: 'emit' of rule 'a' has no 'event'"));
  EXPECT_THAT(Only(Doc("  - id: a\n    on: x\n    do: [ { start: { machine: Bad } } ]\n")),
              HasSubstr("r.yaml:7:31: error: machine name 'Bad' must start with a lower-case letter"));
  EXPECT_THAT(Only(Doc("  - id: a\n    on: x\n    do: [ { task: { title: T, assignee: { role: boss }, decisions: { ok: a.b } } } ]\n")),
              HasSubstr("r.yaml:7:49: error: unknown role 'boss'"));
  EXPECT_THAT(Only(Doc("  - id: a\n    on: x\n    do: [ { notify: { channel: email, body: b } } ]\n"
                       "  - id: a\n    on: y\n    do: [ { notify: { channel: email, body: b } } ]\n")),
              HasSubstr("r.yaml:8:9: error: rule id 'a' is used twice in this document"));
  EXPECT_THAT(Only("apiVersion: nurt/v1\nkind: Rules\nname: r\ntimeZone: Mars/Olympus\nrules:\n"
                   "  - id: a\n    on: x\n    do: [ { notify: { channel: email, body: b } } ]\n"),
              HasSubstr("r.yaml:4:11: error: timeZone 'Mars/Olympus' is not a time zone"));
  EXPECT_THAT(Only("apiVersion: nurt/v1\nkind: Rules\nname: r\nrules: {}\n"),
              HasSubstr("r.yaml:4:8: error: rules must be a list of rules"));
  EXPECT_THAT(Only("apiVersion: nurt/v1\nkind: Rules\nname: r\nrules:\n  - id: a\n    on: x\n    do: []\n"),
              HasSubstr("r.yaml:7:9: error: 'do' of rule 'a' is empty"));
  EXPECT_THAT(Only("apiVersion: nurt/v1\nkind: Rules\nname: r\nrules:\n  - id: a\n    on: x\n    do: [ { notify: { channel: email, body: \"{{x\" } } ]\n"),
              HasSubstr("r.yaml:7:46: error: 'body' of 'notify' of rule 'a': '{{' at character 1 is never closed"));
}

TEST(RulesLoaderTest, ReportsAllProblemsInOrder) {
  const RulesLoadResult r = LoadRulesText("apiVersion: nurt/v2\nkind: Rule\nrules:\n  - on: x\n", "r.yaml");
  EXPECT_EQ(r.rules, nullptr);
  EXPECT_THAT(Diagnostics(r),
              ElementsAre(HasSubstr("r.yaml:1:1: error: the rules document has no 'name'"),
                          HasSubstr("r.yaml:1:13: error: apiVersion 'nurt/v2' is not supported"),
                          HasSubstr("r.yaml:2:7: error: kind 'Rule' is not a rules document; did you mean "
                                    "'Rules'?"),
                          HasSubstr("r.yaml:4:5: error: a rule has no 'id'"),
                          HasSubstr("r.yaml:4:5: error: a rule has no 'do'")));
}

TEST(RulesLoaderTest, FilesAreReadAndRecognised) {
  nurt::testing::TempDir dir;
  const std::string path = dir.File("rules.yaml");
  std::ofstream(path) << Doc("  - id: a\n    on: x\n    do: [ { notify: { channel: email, body: b } } ]\n");
  EXPECT_TRUE(IsRulesFile(path));
  EXPECT_NE(LoadRulesFile(path).rules, nullptr);
  EXPECT_FALSE(IsRulesDocument("apiVersion: nurt/v1\nkind: Machine\n"));
  EXPECT_FALSE(IsRulesFile(dir.File("missing.yaml")));
  const RulesLoadResult missing = LoadRulesFile(dir.File("missing.yaml"));
  ASSERT_EQ(missing.diagnostics.size(), 1u);
  EXPECT_EQ(missing.diagnostics[0].rule_id, "unreadable-file");
}

TEST(RuleEventMatchesTest, StarMatchesAnyRunOfCharactersDotsIncluded) {
  EXPECT_TRUE(RuleEventMatches("invoice.overdue", "invoice.overdue"));
  EXPECT_FALSE(RuleEventMatches("invoice.overdue", "invoice.overdue2"));
  EXPECT_TRUE(RuleEventMatches("invoice.*", "invoice.paid"));
  EXPECT_TRUE(RuleEventMatches("invoice.*", "invoice.payment.failed"));
  EXPECT_FALSE(RuleEventMatches("invoice.*", "invoice"));
  EXPECT_FALSE(RuleEventMatches("invoice.*", "invoices.paid"));
  EXPECT_TRUE(RuleEventMatches("*.failed", "payment.failed"));
  EXPECT_TRUE(RuleEventMatches("*.failed", "a.b.failed"));
  EXPECT_FALSE(RuleEventMatches("*.failed", "payment.failed.twice"));
  EXPECT_TRUE(RuleEventMatches("*", "nurt.start"));
  EXPECT_TRUE(RuleEventMatches("a.*.c", "a.b.x.c"));
  EXPECT_FALSE(RuleEventMatches("a.*.c", "a.c"));
}

// schemas/nurt-rules.schema.json (checked with validate_schema.py, as the machine schema is) accepts a
// document the loader accepts and rejects structural mistakes the loader rejects.
TEST(RulesSchemaTest, AcceptsWhatTheLoaderAcceptsAndRejectsStructuralMistakes) {
  nurt::testing::TempDir dir;
  const std::string good = dir.File("good.yaml");
  const std::string bad = dir.File("bad.yaml");
  const std::string good_text =
      Doc("  - id: a\n    on: [invoice.*, x]\n    when: \"context.n > 1\"\n    throttle: { limit: 2, per: PT1H, policy: drop }\n"
          "    do:\n      - notify: { channel: email, to: [a@b.pl], body: b }\n"
          "      - task: { title: T, assignee: { role: finance }, decisions: { ok: a.b } }\n"
          "      - start: { machine: m, data: { x: \"entity.id\" } }\n");
  const std::string bad_text = Doc("  - id: a\n    on: x\n    do: [ { notfy: { channel: email, body: b } } ]\n");
  ASSERT_NE(LoadRulesText(good_text, good).rules, nullptr);
  ASSERT_EQ(LoadRulesText(bad_text, bad).rules, nullptr);
  std::ofstream(good) << good_text;
  std::ofstream(bad) << bad_text;
  const std::string command = "/usr/bin/python3 " + testing::SourceRoot() + "/tests/engine/dsl/validate_schema.py " +
                              testing::SourceRoot() + "/schemas/nurt-rules.schema.json " + good + " " + bad + " 2>&1";
  std::FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe)) output += buffer;
  ASSERT_EQ(pclose(pipe), 0) << output;
  EXPECT_THAT(output, HasSubstr("OK " + good));
  EXPECT_THAT(output, HasSubstr("INVALID " + bad + " 7:"));
}

}  // namespace
}  // namespace nurt::dsl
