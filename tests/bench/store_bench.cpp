// nurt_bench — durable transitions per second on SQLite (fsync on) beside the raw SQLite insert rate of
// the same machine measured in the same run, and resident memory per 100k idle instances.
//
// Prints a table and one JSON line per figure ({"figure":…,"value":…,"unit":…,"limit":…,"ratio":…}).
// Never asserts on time: the figures belong in the issue note and the README, not in a flaky test.
//
//   nurt_bench            full run (about a minute on 2 cores)
//   nurt_bench --smoke    tiny sizes, used by the test suite to keep this program working

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "raw_sqlite.hpp"
#include "nurt/dsl/loader.hpp"
#include "nurt/engine/engine.hpp"
#include "nurt/interp/interpreter.hpp"
#include "temp_dir.hpp"

namespace {

using nurt::bench::Figure;
using nurt::bench::figures;
using nurt::bench::RawSqlite;
using nurt::bench::Report;
using nurt::bench::RssKiB;
using Clock = nurt::bench::SteadyClock;
using nurt::bench::Die;
using nurt::bench::Percentile;
using nurt::bench::Seconds;




double Median(std::vector<double> v) { return Percentile(std::move(v), 0.5); }

const char* const kMachine = nurt::bench::kCounterMachine;

struct Bench {
  nurt::testing::TempDir dir;
  std::unique_ptr<nurt::store::Store> store;
  std::unique_ptr<nurt::engine::Engine> engine;

  explicit Bench(bool fsync) {
    nurt::store::SqliteOptions so;
    so.path = dir.File("nurt.db");
    so.fsync_on_commit = fsync;
    auto st = nurt::store::NewSqliteStore(so);
    if (!st.ok()) Die(st.status().ToString());
    store = std::move(st).value();
    nurt::engine::EngineOptions eo;
    eo.store = store.get();
    auto e = nurt::engine::NewEngine(eo);
    if (!e.ok()) Die(e.status().ToString());
    engine = std::move(e).value();
    auto def = nurt::dsl::LoadMachineText(kMachine, "counter.yaml");
    if (!def.definition) Die("bench machine does not load");
    if (!engine->Publish("acme", *def.definition).ok()) Die("publish failed");
  }

  std::vector<std::string> StartMany(int n) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      nurt::engine::StartRequest req;
      req.org_id = "acme";
      req.machine = "counter";
      auto r = engine->Start(req);
      if (!r.ok()) Die(r.status().ToString());
      ids.push_back(r->instance_id);
    }
    return ids;
  }

  nurt::engine::EventRequest Add(const std::string& id) {
    nurt::engine::EventRequest req;
    req.org_id = "acme";
    req.instance_id = id;
    req.event = "add";
    req.data = nurt::Json{{"by", 1}};
    return req;
  }
};

}  // namespace

int main(int argc, char** argv) {
  const bool smoke = argc > 1 && std::strcmp(argv[1], "--smoke") == 0;
  const int kSingle = smoke ? 50 : 5000;
  const int kBatches = smoke ? 4 : 200;
  const int kBatch = 100;
  const int kIdle = smoke ? 2000 : 100000;
  char host[256] = "?";
  gethostname(host, sizeof host);
  std::printf("# nurt_bench: SQLite %s, WAL, synchronous=FULL, %ld cores, host %s%s\n", sqlite3_libversion(),
              sysconf(_SC_NPROCESSORS_ONLN), host, smoke ? " (smoke sizes)" : "");

  // 1-3. The machine's limit and nurt, measured in interleaved rounds (raw, nurt, raw, nurt, …) so that
  // both see the same disk and background load; each figure is the median over the rounds.
  const int kRounds = smoke ? 2 : 5;
  nurt::testing::TempDir raw_dir;
  RawSqlite raw(raw_dir.File("raw.db"));
  Bench b(/*fsync=*/true);
  const auto ids = b.StartMany(100);
  std::vector<double> raw_single, raw_batched, nurt_single, nurt_batched, raw_lat, nurt_lat;
  for (int round = 0; round < kRounds; ++round) {
    raw_single.push_back(raw.Single(kSingle / kRounds, &raw_lat));
    auto t0 = Clock::now();
    for (int i = 0; i < kSingle / kRounds; ++i) {
      auto t = Clock::now();
      auto r = b.engine->Accept(b.Add(ids[static_cast<std::size_t>(i) % ids.size()]));
      if (!r.ok()) Die(r.status().ToString());
      nurt_lat.push_back(Seconds(t) * 1000);
    }
    nurt_single.push_back((kSingle / kRounds) / Seconds(t0));
    raw_batched.push_back(raw.Batched(kBatches / kRounds, kBatch));
    t0 = Clock::now();
    for (int bi = 0; bi < kBatches / kRounds; ++bi) {
      std::vector<nurt::engine::EventRequest> batch;
      for (int i = 0; i < kBatch; ++i) batch.push_back(b.Add(ids[static_cast<std::size_t>(i) % ids.size()]));
      for (auto& r : b.engine->AcceptBatch(batch)) {
        if (!r.ok()) Die(r.status().ToString());
      }
    }
    nurt_batched.push_back(static_cast<double>(kBatches / kRounds) * kBatch / Seconds(t0));
  }
  const double raw_single_rate = Median(raw_single), raw_batched_rate = Median(raw_batched);
  const double single = Median(nurt_single), batched = Median(nurt_batched);
  Report({"raw_sqlite_single_row_tx_per_s", "tx/s", raw_single_rate, 0, ""});
  Report({"raw_sqlite_batched_rows_per_s", "rows/s", raw_batched_rate, 0, ""});
  Report({"nurt_durable_transitions_per_s_single", "transitions/s", single, raw_single_rate,
          "raw_sqlite_single_row_tx_per_s"});
  Report({"nurt_durable_transitions_per_s_batched", "transitions/s", batched, raw_batched_rate,
          "raw_sqlite_batched_rows_per_s"});
  Report({"nurt_batched_vs_single_speedup", "x", batched / single, 0, ""});
  Report({"nurt_accept_p50_ms_single", "ms", Percentile(nurt_lat, 0.5), Percentile(raw_lat, 0.5),
          "raw_sqlite_single_row_tx_p50_ms"});
  Report({"nurt_accept_p99_ms_single", "ms", Percentile(nurt_lat, 0.99), Percentile(raw_lat, 0.99),
          "raw_sqlite_single_row_tx_p99_ms"});

  // 4. Memory per 100k idle instances.
  {
    Bench b(/*fsync=*/false);  // creating them is set-up, not the figure
    const long before_create = RssKiB();
    auto t0 = Clock::now();
    const auto ids = b.StartMany(kIdle);
    const double create_s = Seconds(t0);
    const long after_create = RssKiB();
    Report({"idle_instances_created_per_s_fsync_off", "instances/s", kIdle / create_s, 0, ""});
    Report({"rss_growth_after_creating_100k_idle_instances_kib", "KiB",
            static_cast<double>(after_create - before_create) * 100000.0 / kIdle, 0, ""});
    // What an in-memory cache of every instance would hold: parsed snapshots of all of them.
    auto def = nurt::dsl::LoadMachineText(kMachine, "counter.yaml");
    std::vector<nurt::interp::Snapshot> cache;
    cache.reserve(ids.size());
    const long before_cache = RssKiB();
    for (const auto& id : ids) {
      auto rec = b.store->GetInstance("acme", id);
      if (!rec.ok()) Die(rec.status().ToString());
      auto snap = nurt::interp::Snapshot::FromJson(*def.definition, rec->snapshot);
      if (!snap.ok()) Die(snap.status().ToString());
      cache.push_back(std::move(snap).value());
    }
    const long after_cache = RssKiB();
    Report({"rss_per_100k_cached_idle_instances_kib", "KiB",
            static_cast<double>(after_cache - before_cache) * 100000.0 / kIdle, 0, ""});
    Report({"bytes_per_cached_idle_instance", "bytes",
            static_cast<double>(after_cache - before_cache) * 1024.0 / kIdle, 0, ""});
  }

  std::printf("\n%-52s %14s  %-14s %s\n", "figure", "value", "unit", "vs same-run limit");
  for (const auto& f : figures) {
    std::printf("%-52s %14.1f  %-14s", f.name.c_str(), f.value, f.unit.c_str());
    if (f.limit > 0) std::printf(" %.2f x %s (%.1f)", f.value / f.limit, f.limit_name.c_str(), f.limit);
    std::printf("\n");
  }
  return 0;
}
