// nurt_rules_bench — rule evaluations per second with 100 rules loaded (docs/rules.md "Performance").
//
// 100 rules over 10 event types: half match exact types, half globs (`invoice.*`, `*.failed`, …); half
// have a Lua `when` over the context; once_per is the default (per entity per day) for half and
// every_event for the other half; every action is a notify. The feed is filled first through the engine
// (not timed), then RulesEngine::RunOnce drains it. An evaluation is one (event, rule) pair whose `on`
// and machine matched. SQLite runs with synchronous=NORMAL: this measures evaluation, not the disk.
//
// Prints a table row and one JSON line per figure; never asserts on time.
//
//   nurt_rules_bench            full run
//   nurt_rules_bench --smoke    tiny sizes, used by the test suite to keep this program working

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "manual_clock.hpp"
#include "nurt/dsl/loader.hpp"
#include "nurt/dsl/rules.hpp"
#include "nurt/engine/engine.hpp"
#include "nurt/rules/rules_engine.hpp"
#include "temp_dir.hpp"

namespace {

using nurt::bench::Die;
using nurt::bench::Seconds;
using nurt::bench::SteadyClock;

constexpr const char* kOrg = "bench";
const std::vector<std::string> kTypes = {"invoice.overdue", "invoice.paid",   "invoice.sent",
                                         "payment.failed",  "payment.booked", "order.created",
                                         "order.shipped",   "order.failed",   "customer.updated",
                                         "customer.deleted"};
const std::vector<std::string> kGlobs = {"invoice.*", "*.failed", "order.*", "payment.*", "customer.*"};

constexpr const char* kAnyEvent = R"YAML(apiVersion: nurt/v1
kind: Machine
name: entity
version: 1
context: { initial: { n: 0 } }
states:
  live:
    on:
      "*": { actions: [ { assign: { n: "ctx.n + 1" } } ] }
)YAML";

std::string HundredRules() {
  std::string y = "apiVersion: nurt/v1\nkind: Rules\nname: bench\nrules:\n";
  for (int i = 0; i < 100; ++i) {
    y += "  - id: r" + std::to_string(i) + "\n";
    y += "    on: \"" + (i % 2 == 0 ? kTypes[(i / 2) % kTypes.size()] : kGlobs[(i / 2) % kGlobs.size()]) + "\"\n";
    if (i % 4 < 2) y += "    when: \"context.n % 7 == " + std::to_string(i % 7) + " and event.payload.k ~= nil\"\n";
    if (i % 3 == 0) y += "    once_per: every_event\n";
    y += "    do:\n      - notify: { channel: email, body: \"{{event.type}} on {{instance.id}}\" }\n";
  }
  return y;
}

}  // namespace

int main(int argc, char** argv) {
  const bool smoke = argc > 1 && std::strcmp(argv[1], "--smoke") == 0;
  const int kInstances = smoke ? 20 : 500;
  const int kEvents = smoke ? 400 : 20000;

  nurt::testing::TempDir dir;
  nurt::testing::ManualClock clock;
  nurt::store::SqliteOptions so;
  so.path = dir.File("bench.db");
  so.fsync_on_commit = false;
  auto store = nurt::store::NewSqliteStore(so);
  if (!store.ok()) Die(store.status().ToString());
  nurt::engine::EngineOptions eo;
  eo.store = store->get();
  eo.clock = &clock;
  auto engine = nurt::engine::NewEngine(eo);
  if (!engine.ok()) Die(engine.status().ToString());
  auto machine = nurt::dsl::LoadMachineText(kAnyEvent, "entity.yaml");
  if (!machine.definition) Die("the bench machine does not load");
  if (!(*engine)->Publish(kOrg, *machine.definition).ok()) Die("publish failed");

  for (int i = 0; i < kInstances; ++i) {
    nurt::engine::StartRequest s;
    s.org_id = kOrg;
    s.machine = "entity";
    s.instance_id = "e" + std::to_string(i);
    if (!(*engine)->Start(s).ok()) Die("start failed");
  }
  std::vector<nurt::engine::EventRequest> batch;
  for (int i = 0; i < kEvents; ++i) {
    nurt::engine::EventRequest e;
    e.org_id = kOrg;
    e.instance_id = "e" + std::to_string(i % kInstances);
    e.event = kTypes[static_cast<std::size_t>(i) % kTypes.size()];
    e.data = nurt::Json{{"k", i}};
    batch.push_back(std::move(e));
    if (batch.size() == 200 || i + 1 == kEvents) {
      for (const auto& r : (*engine)->AcceptBatch(batch)) {
        if (!r.ok()) Die(r.status().ToString());
      }
      batch.clear();
    }
  }

  auto rules = nurt::dsl::LoadRulesText(HundredRules(), "bench-rules.yaml");
  if (!rules.rules) Die("the bench rules do not load: " + rules.diagnostics.at(0).ToString());
  nurt::rules::RulesEngineOptions ro;
  ro.store = store->get();
  ro.clock = &clock;
  auto evaluator = nurt::rules::NewRulesEngine(ro);
  if (!evaluator.ok()) Die(evaluator.status().ToString());
  if (!(*evaluator)->SetRules(kOrg, {rules.rules}).ok()) Die("SetRules failed");

  std::printf("# nurt_rules_bench: %zu rules, %d events over %d instances%s\n", rules.rules->rules.size(),
              kEvents + kInstances, kInstances, smoke ? " (smoke sizes)" : "");
  const auto start = SteadyClock::now();
  nurt::rules::RuleCounters totals;
  int events = 0;
  for (;;) {
    auto r = (*evaluator)->RunOnce(1000);
    if (!r.ok()) Die(r.status().ToString());
    if (r->events == 0) break;
    events += r->events;
    totals.evaluated += r->totals.evaluated;
    totals.fired += r->totals.fired;
    totals.suppressed += r->totals.suppressed;
    totals.errors += r->totals.errors;
  }
  const double seconds = Seconds(start);
  if (totals.errors != 0) Die(std::to_string(totals.errors) + " rule errors");
  const double per_second = static_cast<double>(totals.evaluated) / seconds;
  const double events_per_second = static_cast<double>(events) / seconds;
  std::printf("\n%-44s %14s %14s %10s %10s %10s\n", "figure", "evaluations/s", "events/s", "evaluations",
              "fired", "suppressed");
  std::printf("%-44s %14.1f %14.1f %10lld %10lld %10lld\n", "rule evaluations, 100 rules loaded", per_second,
              events_per_second, static_cast<long long>(totals.evaluated), static_cast<long long>(totals.fired),
              static_cast<long long>(totals.suppressed));
  std::printf("{\"figure\":\"rule evaluations per second, 100 rules loaded\",\"value\":%.1f,\"unit\":\"evaluations/s\","
              "\"events_per_second\":%.1f,\"evaluations\":%lld,\"fired\":%lld,\"suppressed\":%lld}\n",
              per_second, events_per_second, static_cast<long long>(totals.evaluated),
              static_cast<long long>(totals.fired), static_cast<long long>(totals.suppressed));
  return 0;
}
