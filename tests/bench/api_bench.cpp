// nurt_api_bench — events accepted per second through the HTTP API over loopback, with durable commits
// (SQLite, fsync on), beside the same engine driven directly (no HTTP) and the raw SQLite one-row
// transaction rate, all measured in the same run on the same disk.
//
// 1 and 8 concurrent producers; each HTTP producer is a keep-alive client posting `add` events to its own
// instances (with an Idempotency-Key, as a real client should). Prints a table and one JSON line per
// figure. Never asserts on time.
//
//   nurt_api_bench            full run (about a minute on 2 cores)
//   nurt_api_bench --smoke    tiny sizes, used by the test suite to keep this program working

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench_common.hpp"
#include "http_test_client.hpp"
#include "nurt/daemon/daemon.hpp"
#include "nurt/dsl/loader.hpp"
#include "nurt/engine/engine.hpp"
#include "temp_dir.hpp"

namespace {

using nurt::bench::Die;
using nurt::bench::Percentile;
using nurt::bench::Seconds;
using nurt::bench::SteadyClock;

const char* const kMachine = nurt::bench::kCounterMachine;

struct Run {
  double per_second = 0, p50_ms = 0, p99_ms = 0;
};

// Runs `producers` threads, each calling `one(producer, i)` `per_producer` times; times each call.
template <typename F>
Run Drive(int producers, int per_producer, F&& one) {
  std::vector<std::vector<double>> lat(static_cast<std::size_t>(producers));
  std::vector<std::thread> threads;
  auto t0 = SteadyClock::now();
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < per_producer; ++i) {
        auto t = SteadyClock::now();
        one(p, i);
        lat[static_cast<std::size_t>(p)].push_back(Seconds(t) * 1000);
      }
    });
  }
  for (auto& t : threads) t.join();
  Run run;
  run.per_second = producers * per_producer / Seconds(t0);
  std::vector<double> all;
  for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
  run.p50_ms = Percentile(all, 0.5);
  run.p99_ms = Percentile(all, 0.99);
  return run;
}

// The raw limit: one event-shaped row per fsync'd WAL transaction, the same disk.
double RawSqliteTxPerSecond(const std::string& path, int n) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) Die("cannot open " + path);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE e(k TEXT PRIMARY KEY, "
                   "instance TEXT, payload TEXT, at INTEGER)", nullptr, nullptr, nullptr);
  sqlite3_stmt* ins = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO e VALUES(?,?,?,?)", -1, &ins, nullptr);
  auto t0 = SteadyClock::now();
  for (int i = 0; i < n; ++i) {
    sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    const std::string k = "01JBENCH" + std::to_string(1000000 + i);
    sqlite3_bind_text(ins, 1, k.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(ins, 2, "inst-1", -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 3, "{\"by\":1}", -1, SQLITE_STATIC);
    sqlite3_bind_int64(ins, 4, i);
    if (sqlite3_step(ins) != SQLITE_DONE) Die(sqlite3_errmsg(db));
    sqlite3_reset(ins);
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  }
  const double rate = n / Seconds(t0);
  sqlite3_finalize(ins);
  sqlite3_close(db);
  return rate;
}

void Print(const char* figure, const Run& r, double limit, const char* limit_name) {
  std::printf("%-52s %10.0f /s  p50 %6.2f ms  p99 %6.2f ms   limit %s %.0f/s  ratio %.2f\n", figure,
              r.per_second, r.p50_ms, r.p99_ms, limit_name, limit, r.per_second / limit);
  std::printf("{\"figure\":\"%s\",\"value\":%.1f,\"unit\":\"events/s\",\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
              "\"limit\":\"%s\",\"limit_value\":%.1f,\"ratio\":%.3f}\n",
              figure, r.per_second, r.p50_ms, r.p99_ms, limit_name, limit, r.per_second / limit);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const bool smoke = argc > 1 && std::string(argv[1]) == "--smoke";
  const int events = smoke ? 40 : 2000;  // per configuration, split over the producers
  nurt::testing::TempDir dir;

  const double raw = RawSqliteTxPerSecond(dir.File("raw.db"), smoke ? 50 : 2000);
  std::printf("raw SQLite, one row per fsync'd transaction: %.0f tx/s\n", raw);

  // The engine alone (no HTTP), same store settings.
  std::vector<Run> direct;
  {
    nurt::store::SqliteOptions so;
    so.path = dir.File("direct.db");
    auto store = nurt::store::NewSqliteStore(so);
    if (!store.ok()) Die(store.status().ToString());
    nurt::engine::EngineOptions eo;
    eo.store = store->get();
    auto engine = nurt::engine::NewEngine(eo);
    if (!engine.ok()) Die(engine.status().ToString());
    auto def = nurt::dsl::LoadMachineText(kMachine, "counter.yaml");
    if (!def.definition || !(*engine)->Publish("acme", *def.definition).ok()) Die("publish failed");
    for (int producers : {1, 8}) {
      std::vector<std::string> ids;
      for (int p = 0; p < producers; ++p) {
        nurt::engine::StartRequest s;
        s.org_id = "acme";
        s.machine = "counter";
        ids.push_back((*engine)->Start(s)->instance_id);
      }
      direct.push_back(Drive(producers, events / producers, [&](int p, int i) {
        nurt::engine::EventRequest req;
        req.org_id = "acme";
        req.instance_id = ids[static_cast<std::size_t>(p)];
        req.event = "add";
        req.data = nurt::Json{{"by", 1}};
        req.idempotency_key = "d" + std::to_string(producers) + "-" + std::to_string(i);
        if (!(*engine)->Accept(req).ok()) Die("accept failed");
      }));
    }
  }

  // The daemon over loopback, durable commits, rate limiting off (a benchmark is not a tenant).
  std::vector<Run> http;
  {
    std::ofstream(dir.File("counter.yaml")) << kMachine;
    nurt::server::DaemonConfig config;
    config.port = 0;
    config.threads = 8;
    config.sqlite_path = dir.File("daemon.db");
    config.fsync = true;
    config.definition_paths = {dir.path()};
    config.definition_orgs = {"acme"};
    config.log_level = nurt::server::LogLevel::kError;
    config.rate_limiting = false;
    std::ofstream devnull("/dev/null");
    nurt::daemon::DaemonEnvironment env;
    env.log = &devnull;
    auto daemon = nurt::daemon::Daemon::Start(config, env);
    if (!daemon.ok()) Die(daemon.status().ToString());
    nurt::auth::CreateKeyRequest kr;
    kr.org_id = "acme";
    kr.name = "bench";
    kr.role = "admin";
    kr.tier = "premium";
    kr.actor = "bench";
    const std::string token = (*daemon)->keys()->Create(kr)->token;
    const std::vector<std::pair<std::string, std::string>> auth = {{"Authorization", "Bearer " + token},
                                                                   {"Content-Type", "application/json"}};
    for (int producers : {1, 8}) {
      std::vector<std::string> ids;
      std::vector<std::unique_ptr<nurt::testing::HttpTestClient>> clients;
      for (int p = 0; p < producers; ++p) {
        clients.push_back(std::make_unique<nurt::testing::HttpTestClient>((*daemon)->port()));
        auto r = clients.back()->Request("POST", "/v1/instances", R"({"machine":"counter"})", auth);
        if (r.status != 201) Die("start answered " + std::to_string(r.status) + ": " + r.body);
        ids.push_back(nurt::Json::parse(r.body)["instanceId"]);
      }
      http.push_back(Drive(producers, events / producers, [&](int p, int i) {
        auto headers = auth;
        headers.emplace_back("Idempotency-Key", "h" + std::to_string(producers) + "-" + std::to_string(i));
        auto r = clients[static_cast<std::size_t>(p)]->Request(
            "POST", "/v1/instances/" + ids[static_cast<std::size_t>(p)] + "/events",
            R"({"event":"add","data":{"by":1}})", headers);
        if (r.status != 200) Die("event answered " + std::to_string(r.status) + ": " + r.body);
      }));
    }
    (*daemon)->Shutdown();
  }

  std::printf("\n");
  Print("engine Accept, 1 producer (no HTTP)", direct[0], raw, "raw-sqlite-1row-tx");
  Print("engine Accept, 8 producers (no HTTP)", direct[1], raw, "raw-sqlite-1row-tx");
  Print("HTTP POST /v1/instances/{id}/events, 1 client", http[0], raw, "raw-sqlite-1row-tx");
  Print("HTTP POST /v1/instances/{id}/events, 8 clients", http[1], raw, "raw-sqlite-1row-tx");
  std::printf("HTTP vs engine alone: %.2f (1 producer), %.2f (8 producers)\n",
              http[0].per_second / direct[0].per_second, http[1].per_second / direct[1].per_second);
  return 0;
}
