// schemas/event-envelope.schema.json describes exactly what the engine logs, and
// docs/event-envelope.md tells the truth about it. Envelopes come from the real path: an Engine on
// a SQLite store starts instances and accepts events (with and without idempotency keys and trace
// ids, unicode payloads, deliveries of `emit … to:` and `spawn`); each logged event is read back
// with Store::ListEvents, serialised with ToJson() and checked by Python's jsonschema
// (Draft202012Validator with formats) through validate_json.py. Broken envelopes must be rejected
// at the right JSON pointer, so the check can fail.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "engine_harness.hpp"
#include "nurt/dsl/loader.hpp"
#include "nurt/engine/engine.hpp"
#include "nurt/store/records.hpp"
#include "nurt/store/store.hpp"

namespace nurt::engine {
namespace {

using ::testing::Contains;
using ::testing::IsEmpty;

constexpr const char* kOrg = "acme";

// A compound state whose final child raises done.state.open internally: that event must reach the
// transition log but never the event log.
const char* kParcel = R"YAML(apiVersion: nurt/v1
kind: Machine
name: parcel
version: 1
context:
  initial: { notes: 0 }
states:
  open:
    initial: packing
    states:
      packing:
        on:
          packed: packed
      packed: { type: final }
    on:
      note:
        actions: [ { assign: { notes: "ctx.notes + 1", last: "event.data" } } ]
      tell:
        actions:
          - emit: { event: note, to: "event.data.peer", data: { from: "instance_id()", text: "'Grüße 🚚'" } }
      hire:
        actions:
          - spawn: { machine: parcel, data: { parent: "instance_id()" } }
      done.state.open: shipped
  shipped: { type: final }
)YAML";

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string SchemaPath() {
  return std::string(NURT_SOURCE_ROOT) + "/schemas/event-envelope.schema.json";
}

// What validate_json.py said about a file of JSON lines.
struct Verdict {
  int exit_code = -1;
  std::string output;
  std::map<int, std::vector<std::string>> problems;  // line -> ["<pointer>: <message>", ...]
  std::set<int> ok;                                  // lines it accepted
  std::vector<std::string> unparsed;                 // output lines in no known form
};

Verdict Validate(const std::string& path, const std::vector<Json>& documents) {
  {
    std::ofstream out(path, std::ios::binary);
    for (const auto& d : documents) out << d.dump() << '\n';
  }
  Verdict v;
  const std::string command =
      "/usr/bin/python3 " +
      ShellQuote(std::string(NURT_SOURCE_ROOT) + "/tests/engine/engine/validate_json.py") + " " +
      ShellQuote(SchemaPath()) + " " + ShellQuote(path) + " 2>&1";
  std::FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "cannot run " << command;
    return v;
  }
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe)) v.output += buffer;
  const int status = pclose(pipe);
  v.exit_code = (status != -1 && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
  const std::regex ok(R"(^OK (\d+)$)");
  const std::regex invalid(R"re(^INVALID (\d+) at "(.*)": (.*)$)re");
  std::istringstream lines(v.output);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_match(line, m, ok)) {
      v.ok.insert(std::stoi(m[1]));
    } else if (std::regex_match(line, m, invalid)) {
      v.problems[std::stoi(m[1])].push_back(m[2].str() + ": " + m[3].str());
    } else {
      v.unparsed.push_back(line);
    }
  }
  return v;
}

void ExpectSameEnvelope(const store::EventEnvelope& a, const store::EventEnvelope& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.org_id, b.org_id);
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.occurred_at, b.occurred_at);
  EXPECT_EQ(a.actor, b.actor);
  EXPECT_EQ(a.entity_type, b.entity_type);
  EXPECT_EQ(a.entity_id, b.entity_id);
  EXPECT_EQ(a.payload, b.payload);
  EXPECT_EQ(a.schema_version, b.schema_version);
  EXPECT_EQ(a.trace_id, b.trace_id);
  EXPECT_EQ(a.causation_id, b.causation_id);
  EXPECT_EQ(a.idempotency_key, b.idempotency_key);
  EXPECT_EQ(a.sequence, b.sequence);
}

class EnvelopeSchemaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_.Set(FromUnixMillis(1'767'225'600'250));
    ASSERT_TRUE(harness_.Open());
    auto loaded = dsl::LoadMachineText(kParcel, "parcel.yaml");
    ASSERT_NE(loaded.definition, nullptr)
        << (loaded.diagnostics.empty() ? std::string() : loaded.diagnostics.front().ToString());
    ASSERT_TRUE(engine_->Publish(kOrg, *loaded.definition).ok());
    RunScenario();
  }

  // Drives every way an event reaches the log today. Fills a_, b_ and child_.
  void RunScenario() {
    StartRequest plain;  // no key, no trace, default actor
    plain.org_id = kOrg;
    plain.machine = "parcel";
    auto a = engine_->Start(plain);
    ASSERT_TRUE(a.ok()) << a.status();
    a_ = a->instance_id;

    clock_.Advance(std::chrono::milliseconds(1234));
    StartRequest keyed;  // everything set, unicode data, an instance id that is not a ULID
    keyed.org_id = kOrg;
    keyed.machine = "parcel";
    keyed.instance_id = "b-1";
    keyed.idempotency_key = "import-row-17";
    keyed.actor = "cli:alice";
    keyed.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    keyed.causation_id = "crm-event-9";
    keyed.data =
        Json{{"name", "Zażółć gęślą jaźń"},
             {"city", "東京"},
             {"greeting", "שלום"},
             {"emoji", "🚚📦"},
             {"controls", std::string("tab\t newline\n quote\" nul") + std::string(1, '\0')},
             {"nested", {{"list", {1, 2.5, nullptr, true, "ä"}}, {"empty", Json::object()}}},
             {"big", 9007199254740993LL}};
    auto b = engine_->Start(keyed);
    ASSERT_TRUE(b.ok()) << b.status();
    b_ = b->instance_id;
    auto b_again = engine_->Start(keyed);  // a retry: answered from the idempotency record
    ASSERT_TRUE(b_again.ok()) << b_again.status();
    EXPECT_TRUE(b_again->replayed);

    clock_.Advance(std::chrono::seconds(61));
    EventRequest note;
    note.org_id = kOrg;
    note.instance_id = a_;
    note.event = "note";
    note.data = Json{{"text", "Przesyłka dotarła — ok ✓"}, {"n", -1}};
    note.idempotency_key = "note-1";
    note.trace_id = "trace-note-1";
    note.actor = "user:ola";
    ASSERT_TRUE(engine_->Accept(note).ok());
    auto note_again = engine_->Accept(note);
    ASSERT_TRUE(note_again.ok()) << note_again.status();
    EXPECT_TRUE(note_again->replayed);

    clock_.Advance(std::chrono::milliseconds(7));
    EventRequest bare;  // no key, no trace, empty payload
    bare.org_id = kOrg;
    bare.instance_id = a_;
    bare.event = "note";
    ASSERT_TRUE(engine_->Accept(bare).ok());

    EventRequest tell = bare;
    tell.event = "tell";
    tell.data = Json{{"peer", b_}};
    ASSERT_TRUE(engine_->Accept(tell).ok());
    EventRequest hire = bare;
    hire.event = "hire";
    ASSERT_TRUE(engine_->Accept(hire).ok());

    clock_.Advance(std::chrono::hours(25));
    auto delivered = engine_->DeliverInternalEffects();
    ASSERT_TRUE(delivered.ok()) << delivered.status();
    ASSERT_EQ(*delivered, 2);  // the note to b-1 and the spawned child

    EventRequest packed = bare;
    packed.event = "packed";
    auto done = engine_->Accept(packed);
    ASSERT_TRUE(done.ok()) << done.status();
    ASSERT_EQ(done->run_status, "completed");

    auto all = store_->ListInstances(kOrg, {});
    ASSERT_TRUE(all.ok()) << all.status();
    ASSERT_EQ(all->size(), 3u);
    for (const auto& rec : *all) {
      if (rec.id != a_ && rec.id != b_) child_ = rec.id;
    }
  }

  std::vector<store::EventEnvelope> Events(const std::string& instance) {
    auto events = store_->ListEvents(kOrg, instance);
    EXPECT_TRUE(events.ok()) << events.status();
    return events.ok() ? std::move(events).value() : std::vector<store::EventEnvelope>();
  }

  std::vector<store::EventEnvelope> AllEvents() {
    std::vector<store::EventEnvelope> out;
    for (const auto& id : {a_, b_, child_}) {
      for (auto& e : Events(id)) out.push_back(std::move(e));
    }
    return out;
  }
  testing::EngineHarness harness_;
  testing::TempDir& dir_ = harness_.dir;
  testing::ManualClock& clock_ = harness_.clock;  // 2026-01-01T00:00:00.250Z
  std::unique_ptr<store::Store>& store_ = harness_.store;
  std::unique_ptr<engine::Engine>& engine_ = harness_.engine;
  std::string a_, b_, child_;
};

TEST_F(EnvelopeSchemaTest, EveryLoggedEnvelopeMatchesTheSchema) {
  const std::vector<store::EventEnvelope> events = AllEvents();
  // a: start, note, note, tell, hire, packed; b: start, note; child: start
  ASSERT_EQ(events.size(), 9u);
  std::vector<Json> documents;
  for (const auto& e : events) documents.push_back(e.ToJson());
  const Verdict v = Validate(dir_.File("logged.jsonl"), documents);
  ASSERT_EQ(v.exit_code, 0) << v.output;
  EXPECT_THAT(v.unparsed, IsEmpty()) << v.output;
  EXPECT_EQ(v.ok.size(), documents.size()) << v.output;
  EXPECT_THAT(v.problems, IsEmpty()) << v.output;
}

// The example in docs/event-envelope.md is a valid envelope and survives FromJson/ToJson unchanged.
TEST_F(EnvelopeSchemaTest, DocumentedExampleMatchesTheSchema) {
  std::ifstream in(std::string(NURT_SOURCE_ROOT) + "/docs/event-envelope.md");
  ASSERT_TRUE(in);
  const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto begin = doc.find("```json\n");
  ASSERT_NE(begin, std::string::npos) << "no ```json example";
  const auto end = doc.find("```", begin + 8);
  ASSERT_NE(end, std::string::npos);
  const Json example = Json::parse(doc.substr(begin + 8, end - begin - 8));
  const Verdict v = Validate(dir_.File("example.jsonl"), {example});
  EXPECT_EQ(v.exit_code, 0) << v.output;
  EXPECT_THAT(v.ok, Contains(1)) << v.output;
  EXPECT_EQ(store::EventEnvelope::FromJson(example).ToJson(), example);
}

TEST_F(EnvelopeSchemaTest, FromJsonRoundTripsEveryField) {
  for (const auto& e : AllEvents()) {
    SCOPED_TRACE(e.ToJson().dump());
    ExpectSameEnvelope(store::EventEnvelope::FromJson(e.ToJson()), e);
    // Through text too, as envelopes travel (files, HTTP): unicode, NUL, big integers survive.
    const Json reparsed = Json::parse(e.ToJson().dump());
    ExpectSameEnvelope(store::EventEnvelope::FromJson(reparsed), e);
    EXPECT_EQ(store::EventEnvelope::FromJson(reparsed).ToJson(), e.ToJson());
  }
}

// The claims docs/event-envelope.md makes about the logged envelopes.
TEST_F(EnvelopeSchemaTest, LoggedEnvelopesKeepTheDocumentedRules) {
  for (const auto& id : {a_, b_, child_}) {
    std::int64_t expected = 1;
    for (const auto& e : Events(id)) {
      EXPECT_EQ(e.sequence, expected++) << id << ": sequences are 1, 2, 3, ... without gaps";
      EXPECT_EQ(e.entity_id, id);
      EXPECT_EQ(e.org_id, kOrg);
      EXPECT_EQ(e.entity_type, "parcel");
      EXPECT_EQ(e.schema_version, 1);
      EXPECT_FALSE(e.type.rfind("done.", 0) == 0 || e.type.rfind("error.", 0) == 0) << e.type;
    }
    auto rec = store_->GetInstance(kOrg, id);
    ASSERT_TRUE(rec.ok());
    EXPECT_EQ(rec->version, expected - 1) << "the last sequence is the instance version";
  }

  const auto a = Events(a_);
  ASSERT_EQ(a.size(), 6u);  // the repeated key "note-1" wrote nothing
  EXPECT_EQ(a[0].type, "nurt.start");
  EXPECT_EQ(a[0].actor, "system");
  EXPECT_EQ(a[0].trace_id, a[0].id) << "no trace id given: the event's own id";
  EXPECT_EQ(a[0].causation_id, "");
  EXPECT_THAT(a[0].idempotency_key, ::testing::MatchesRegex("[0-7][0-9A-HJKMNP-TV-Z]{25}"))
      << "no key given: a generated ULID";
  EXPECT_NE(a[0].idempotency_key, a[0].id);
  EXPECT_EQ(a[1].idempotency_key, "note-1");
  EXPECT_EQ(a[1].trace_id, "trace-note-1");
  EXPECT_EQ(a[1].actor, "user:ola");
  EXPECT_EQ(FormatIso8601(a[1].occurred_at), "2026-01-01T00:01:02.484Z");
  EXPECT_EQ(a[2].payload, Json::object());
  EXPECT_EQ(a[5].type, "packed");
  auto transitions = store_->ListTransitions(kOrg, a_);
  ASSERT_TRUE(transitions.ok());
  std::vector<std::string> internal;
  for (const auto& t : *transitions) internal.push_back(t.event);
  EXPECT_THAT(internal, Contains("done.state.open")) << "raised inside the macrostep of `packed`";

  const auto b = Events(b_);
  ASSERT_EQ(b.size(), 2u);  // the retried start wrote nothing
  EXPECT_EQ(b[0].idempotency_key, "import-row-17");
  EXPECT_EQ(b[0].trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(b[0].causation_id, "crm-event-9");
  EXPECT_EQ(b[0].payload["emoji"], "🚚📦");
  EXPECT_EQ(b[0].payload["controls"].get<std::string>().back(), '\0');
  EXPECT_EQ(b[0].payload["big"].get<std::int64_t>(), 9007199254740993LL);

  // Deliveries of `emit … to:` and `spawn`: actor is the sender, causation the outbox item.
  const auto child = Events(child_);
  ASSERT_EQ(child.size(), 1u);
  for (const auto* e : {&b[1], &child[0]}) {
    EXPECT_EQ(e->actor, "instance:" + a_);
    EXPECT_THAT(e->causation_id, ::testing::MatchesRegex("[0-7][0-9A-HJKMNP-TV-Z]{25}"));
  }
  EXPECT_EQ(b[1].type, "note");
  EXPECT_EQ(b[1].payload, (Json{{"from", a_}, {"text", "Grüße 🚚"}}));
  EXPECT_EQ(child[0].type, "nurt.start");
  EXPECT_EQ(child[0].payload, (Json{{"parent", a_}}));
}

TEST_F(EnvelopeSchemaTest, SchemaRejectsBrokenEnvelopes) {
  const Json good = Events(b_).at(0).ToJson();
  struct Case {
    std::string what;
    Json document;
    std::string pointer;  // where the schema must point
  };
  std::vector<Case> cases;
  auto add = [&](std::string what, std::string pointer, auto&& edit) {
    Json j = good;
    edit(j);
    cases.push_back({std::move(what), std::move(j), std::move(pointer)});
  };
  add("missing meta.sequence", "/meta/sequence", [](Json& j) { j["meta"].erase("sequence"); });
  add("extra top-level member", "/extra", [](Json& j) { j["extra"] = true; });
  add("extra member in entity", "/entity/tenant", [](Json& j) { j["entity"]["tenant"] = "x"; });
  add("lower-case id", "/id", [](Json& j) { j["id"] = "01jgk0a0000000000000000000"; });
  add("id with U", "/id", [](Json& j) { j["id"] = "01JGK0A000000000000000000U"; });
  add("id too short", "/id", [](Json& j) { j["id"] = "01JGK0A00000000000000000"; });
  add("id beyond 128 bits", "/id", [](Json& j) { j["id"] = "81JGK0A0000000000000000000"; });
  add("sequence 0", "/meta/sequence", [](Json& j) { j["meta"]["sequence"] = 0; });
  add("sequence as text", "/meta/sequence", [](Json& j) { j["meta"]["sequence"] = "1"; });
  add("time without milliseconds", "/occurredAt",
      [](Json& j) { j["occurredAt"] = "2026-01-01T00:00:00Z"; });
  add("time with an offset", "/occurredAt",
      [](Json& j) { j["occurredAt"] = "2026-01-01T01:00:00.000+01:00"; });
  add("February 30th (format, not pattern)", "/occurredAt",
      [](Json& j) { j["occurredAt"] = "2026-02-30T00:00:00.000Z"; });
  add("payload an array", "/payload", [](Json& j) { j["payload"] = Json::array(); });
  add("reserved type", "/type", [](Json& j) { j["type"] = "done.state.open"; });
  add("schema version 2", "/schemaVersion", [](Json& j) { j["schemaVersion"] = 2; });
  add("empty idempotency key", "/meta/idempotencyKey",
      [](Json& j) { j["meta"]["idempotencyKey"] = ""; });
  add("bad machine name", "/entity/type", [](Json& j) { j["entity"]["type"] = "Parcel"; });

  std::vector<Json> documents = {good};
  for (const auto& c : cases) documents.push_back(c.document);
  const Verdict v = Validate(dir_.File("broken.jsonl"), documents);
  ASSERT_EQ(v.exit_code, 1) << v.output;
  EXPECT_THAT(v.unparsed, IsEmpty()) << v.output;
  EXPECT_THAT(v.ok, Contains(1)) << "the unbroken envelope\n" << v.output;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const int line = static_cast<int>(i) + 2;
    SCOPED_TRACE(cases[i].what);
    EXPECT_FALSE(v.ok.count(line)) << v.output;
    ASSERT_TRUE(v.problems.count(line)) << v.output;
    const auto& found = v.problems.at(line);
    ASSERT_EQ(found.size(), 1u) << "one problem, one place:\n" << v.output;
    EXPECT_EQ(found[0].substr(0, found[0].find(": ")), cases[i].pointer) << found[0];
  }
}

// The schema documents every member and requires every member ToJson() writes.
TEST_F(EnvelopeSchemaTest, SchemaDescribesAndRequiresEveryMember) {
  std::ifstream in(SchemaPath());
  ASSERT_TRUE(in) << SchemaPath();
  const Json schema = Json::parse(in);
  EXPECT_EQ(schema.value("$schema", ""), "https://json-schema.org/draft/2020-12/schema");
  EXPECT_FALSE(schema.value("$id", "").empty());
  std::vector<std::pair<std::string, const Json*>> objects = {{"", &schema}};
  int members = 0;
  while (!objects.empty()) {
    auto [where, s] = objects.back();
    objects.pop_back();
    if (!s->contains("properties")) continue;
    EXPECT_EQ(s->value("additionalProperties", true), false) << where;
    std::set<std::string> names;
    for (auto it = (*s)["properties"].begin(); it != (*s)["properties"].end(); ++it) {
      names.insert(it.key());
      ++members;
      EXPECT_FALSE(it.value().value("description", "").empty()) << where << "/" << it.key();
      objects.push_back({where + "/" + it.key(), &it.value()});
    }
    const auto required = s->value("required", std::vector<std::string>{});
    EXPECT_EQ(std::set<std::string>(required.begin(), required.end()), names) << where;
  }
  EXPECT_EQ(members, 15);  // 8 top-level, entity{type,id}, meta{5}
}

}  // namespace
}  // namespace nurt::engine
