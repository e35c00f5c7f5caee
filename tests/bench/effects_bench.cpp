// nurt_effects_bench — adapter effects to a local HTTP receiver (docs/effects.md "Performance"):
//   1. dispatch rate: a backlog of committed `call:` effects drained by the dispatcher (effects/s; each
//      is an HTTP call, the answer event's commit and the effect's record);
//   2. commit -> delivery latency p50/p95 at a steady arrival rate, with the daemon's EffectLoop woken
//      after each commit (the business target for webhooks: p95 < 2 s);
// beside the raw SQLite single-row transaction rate of the same run (each settled effect costs two
// durable transactions: the answer event and the effect's record).
//
//   nurt_effects_bench            2,000 backlog effects, 1,000 at 200/s
//   nurt_effects_bench --smoke    200 and 100 (the test suite runs this)

#include <condition_variable>
#include <cstring>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include "bench_common.hpp"
#include "daemon/effect_loop.hpp"
#include "nurt/dsl/loader.hpp"
#include "nurt/effects/effect_dispatcher.hpp"
#include "nurt/effects/http_adapter.hpp"
#include "nurt/engine/engine.hpp"
#include "raw_sqlite.hpp"
#include "temp_dir.hpp"
#include "tests/engine/effects/receiver.hpp"

namespace {

using nurt::Json;
using nurt::bench::Clock;
using nurt::bench::Die;
using nurt::bench::Percentile;
using nurt::bench::RawSqlite;
using nurt::bench::Report;
using nurt::bench::Seconds;

constexpr const char* kPurchase = R"YAML(apiVersion: nurt/v1
kind: Machine
name: purchase
version: 1
initial: ordering
states:
  ordering:
    entry:
      - call: { adapter: http, step: order, input: { url: ctx.url, body: { sku: "'A-1'", qty: 2 } } }
    on:
      order.done: ordered
  ordered: { type: final }
)YAML";

struct Rig {
  nurt::testing::TempDir dir;
  std::unique_ptr<nurt::store::Store> store;
  std::unique_ptr<nurt::engine::Engine> engine;
  nurt::effects::AdapterRegistry adapters;

  Rig() {
    nurt::store::SqliteOptions so;
    so.path = dir.File("nurt.db");
    so.fsync_on_commit = true;
    auto s = nurt::store::NewSqliteStore(so);
    if (!s.ok()) Die(s.status().ToString());
    store = std::move(s).value();
    nurt::engine::EngineOptions eo;
    eo.store = store.get();
    auto e = nurt::engine::NewEngine(eo);
    if (!e.ok()) Die(e.status().ToString());
    engine = std::move(e).value();
    auto def = nurt::dsl::LoadMachineText(kPurchase, "purchase.yaml");
    if (!def.definition) Die("purchase.yaml does not load");
    if (!engine->Publish("acme", *def.definition).ok()) Die("publish failed");
    nurt::effects::HttpAdapterOptions ho;
    ho.concurrency = 8;
    if (!adapters.Register(nurt::effects::NewHttpAdapter(ho)).ok()) Die("register failed");
  }

  std::unique_ptr<nurt::effects::EffectDispatcher> Dispatcher() {
    nurt::effects::EffectDispatcherOptions o;
    o.store = store.get();
    o.engine = engine.get();
    o.adapters = &adapters;
    auto d = nurt::effects::EffectDispatcher::Create(o);
    if (!d.ok()) Die(d.status().ToString());
    return std::move(d).value();
  }

  void Start(const std::string& id, const std::string& url) {
    nurt::engine::StartRequest s;
    s.org_id = "acme";
    s.machine = "purchase";
    s.instance_id = id;
    s.data = Json{{"url", url}};
    auto o = engine->Start(s);
    if (!o.ok()) Die(o.status().ToString());
  }
};

}  // namespace

int main(int argc, char** argv) {
  const bool smoke = argc > 1 && std::strcmp(argv[1], "--smoke") == 0;
  const int backlog = smoke ? 200 : 2000;
  const int steady = smoke ? 100 : 1000;
  const double rate = 200;  // arrivals per second in the latency run

  nurt::testing::TempDir raw_dir;
  RawSqlite raw(raw_dir.File("raw.db"));
  std::vector<double> raw_latencies;
  const double raw_single = raw.Single(smoke ? 200 : 2000, &raw_latencies);

  // 1. Dispatch rate over a committed backlog.
  {
    Rig rig;
    nurt::effects::testing::Receiver receiver;
    for (int i = 0; i < backlog; ++i) rig.Start("b" + std::to_string(i), receiver.Url());
    auto d = rig.Dispatcher();
    const auto t0 = Clock::now();
    int done = 0;
    while (done < backlog) {
      auto r = d->RunOnce();
      if (!r.ok()) Die(r.status().ToString());
      if (r->done == 0 && r->retrying == 0) Die("the dispatcher stopped making progress");
      done += r->done;
    }
    Report({"effects_dispatched_per_second", "effects/s", backlog / Seconds(t0), raw_single / 2,
            "raw SQLite 1-row tx/s / 2"});
  }

  // 2. Commit -> delivery latency at a steady rate, the daemon's loop woken after each commit.
  {
    Rig rig;
    nurt::effects::testing::Receiver receiver;
    std::mutex mu;
    std::condition_variable cv;
    std::map<std::string, Clock::time_point> committed, delivered;
    receiver.on_delivered = [&](const std::string& key) {
      std::lock_guard<std::mutex> lock(mu);
      delivered.emplace(key, Clock::now());
      cv.notify_all();
    };
    nurt::server::Logger logger(&std::clog, nurt::server::LogLevel::kError, nurt::env::SystemClock());
    nurt::daemon::EffectLoop loop(rig.Dispatcher(), &logger, std::chrono::milliseconds(200), {});
    const auto t0 = Clock::now();
    for (int i = 0; i < steady; ++i) {
      const auto due = t0 + std::chrono::microseconds(static_cast<std::int64_t>(i * 1e6 / rate));
      std::this_thread::sleep_until(due);
      const std::string id = "s" + std::to_string(i);
      rig.Start(id, receiver.Url());
      {
        std::lock_guard<std::mutex> lock(mu);
        committed[id + "/1/call/0"] = Clock::now();
      }
      loop.Wake();
    }
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait_for(lock, std::chrono::seconds(60), [&] { return delivered.size() >= committed.size(); });
    }
    loop.Stop();
    std::vector<double> ms;
    for (const auto& [key, at] : committed) {
      auto it = delivered.find(key);
      if (it != delivered.end()) ms.push_back(std::chrono::duration<double, std::milli>(it->second - at).count());
    }
    if (ms.size() != committed.size()) Die("not every effect was delivered within 60 s");
    Report({"effect_commit_to_delivery_p50_ms", "ms", Percentile(ms, 0.5), 0, ""});
    Report({"effect_commit_to_delivery_p95_ms", "ms", Percentile(ms, 0.95), 0, ""});
  }
  Report({"raw_sqlite_single_row_tx_per_second", "tx/s", raw_single, 0, ""});
  return 0;
}
