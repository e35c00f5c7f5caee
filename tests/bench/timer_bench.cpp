// nurt_timer_bench — timers with a million pending: how fast they are armed and fired, and how late
// they fire, beside the raw SQLite single-row insert rate measured in the same run (one timer firing
// is one durable transition, so that is its limit).
//
//   nurt_timer_bench            1,000,000 pending timers (a few minutes on 2 cores)
//   nurt_timer_bench --smoke    10,000 pending, tiny sizes (the test suite runs this)
//
// Figures: load of the pending timers into the sorted in-memory queue (timers/s and bytes each);
// arming (events that enter a state with a timer and leave the previous one, cancelling its timer);
// firing a burst of due timers (FireDue, each a commit); and lateness p50/p99 of timers fired by a
// daemon-like loop on the wall clock while timers come due at a steady rate.

#include <sqlite3.h>

#include <cstring>
#include <thread>

#include "bench_common.hpp"
#include "manual_clock.hpp"
#include "nurt/dsl/loader.hpp"
#include "nurt/engine/engine.hpp"
#include "nurt/engine/timer_service.hpp"
#include "raw_sqlite.hpp"
#include "temp_dir.hpp"

namespace {

using nurt::Json;
using nurt::bench::Clock;
using nurt::bench::Die;
using nurt::bench::Figure;
using nurt::bench::Percentile;
using nurt::bench::RawSqlite;
using nurt::bench::Report;
using nurt::bench::RssKiB;
using nurt::bench::Seconds;

// `ping` enters `waiting`, which arms a timer; `pong` leaves it (cancelling the timer) for `idle`.
constexpr const char* kTicket = R"YAML(apiVersion: nurt/v1
kind: Machine
name: ticket
version: 1
context: { initial: { n: 0 } }
states:
  idle:
    on: { ping: waiting }
  waiting:
    after: { delay: PT1S, target: idle, actions: [ { assign: { n: "ctx.n + 1" } } ] }
    on: { pong: idle }
)YAML";

struct Env {
  nurt::testing::TempDir dir;
  std::unique_ptr<nurt::store::Store> store;
  std::unique_ptr<nurt::engine::TimerService> timers;
  std::unique_ptr<nurt::engine::Engine> engine;

  void Open(const nurt::env::Clock* clock) {
    timers.reset();
    engine.reset();
    store.reset();
    nurt::store::SqliteOptions so;
    so.path = dir.File("nurt.db");
    so.fsync_on_commit = true;
    auto st = nurt::store::NewSqliteStore(so);
    if (!st.ok()) Die(st.status().ToString());
    store = std::move(st).value();
    timers = std::make_unique<nurt::engine::TimerService>(store.get(), clock);
    nurt::engine::EngineOptions eo;
    eo.store = store.get();
    eo.clock = clock;
    eo.timer_listener = timers.get();
    auto e = nurt::engine::NewEngine(eo);
    if (!e.ok()) Die(e.status().ToString());
    engine = std::move(e).value();
    timers->Attach(engine.get());
    auto loaded = nurt::dsl::LoadMachineText(kTicket, "ticket.yaml");
    if (!loaded.definition) Die("the benchmark machine does not load");
    if (auto p = engine->Publish("acme", *loaded.definition); !p.ok()) Die(p.ToString());
  }

  std::vector<std::string> StartMany(int n) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      nurt::engine::StartRequest req;
      req.org_id = "acme";
      req.machine = "ticket";
      auto r = engine->Start(req);
      if (!r.ok()) Die(r.status().ToString());
      ids.push_back(r->instance_id);
    }
    return ids;
  }

  void Send(const std::string& id, const char* event) {
    nurt::engine::EventRequest req;
    req.org_id = "acme";
    req.instance_id = id;
    req.event = event;
    auto r = engine->Accept(req);
    if (!r.ok()) Die(r.status().ToString());
  }
};

// Writes `n` armed timers due in 2100 (they never fire here) straight into the store file, spread over
// the given instances in a state they are not in (so no step of the benchmark cancels them): the pending
// population of a big installation.
void AddPendingTimers(const std::string& path, const std::vector<std::string>& instances, int n) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) Die("cannot open " + path);
  sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
  sqlite3_stmt* ins = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT INTO timers (org_id, id, instance_id, machine, state, timer_index, kind, event, "
                     "description, due_at, armed_at, armed_by_sequence, status, finished_at, lateness_ms, "
                     "finished_by_sequence, detail) VALUES ('acme', ?1, ?2, 'ticket', 'parked', 0, 'after', "
                     "'nurt.timer.parked.0', 'after P75Y', ?3, 0, 1, 'armed', NULL, 0, 0, '')",
                     -1, &ins, nullptr);
  const std::int64_t year_2100 = 4102444800000;
  for (int i = 0; i < n; ++i) {
    const std::string id = "pending-" + std::to_string(1000000000 + i);
    sqlite3_bind_text(ins, 1, id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(ins, 2, instances[static_cast<std::size_t>(i) % instances.size()].c_str(), -1,
                      SQLITE_TRANSIENT);
    sqlite3_bind_int64(ins, 3, year_2100 + i);
    if (sqlite3_step(ins) != SQLITE_DONE) Die(sqlite3_errmsg(db));
    sqlite3_reset(ins);
  }
  sqlite3_finalize(ins);
  if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) Die(sqlite3_errmsg(db));
  sqlite3_close(db);
}

}  // namespace

int main(int argc, char** argv) {
  const bool smoke = argc > 1 && std::strcmp(argv[1], "--smoke") == 0;
  const int kPending = smoke ? 10000 : 1000000;
  const int kArms = smoke ? 100 : 2000;
  const int kBurst = smoke ? 100 : 1000;  // one `ping` per instance
  const double kSteadyRate = smoke ? 50 : 200;  // timers coming due per second in the lateness phase
  const double kSteadySeconds = smoke ? 1 : 5;
  std::printf("# nurt_timer_bench: SQLite %s, WAL, synchronous=FULL, %ld cores, %d pending timers%s\n",
              sqlite3_libversion(), sysconf(_SC_NPROCESSORS_ONLN), kPending, smoke ? " (smoke sizes)" : "");

  nurt::testing::TempDir raw_dir;
  RawSqlite raw(raw_dir.File("raw.db"));
  std::vector<double> raw_lat;
  const double raw_single = raw.Single(smoke ? 50 : 2000, &raw_lat);

  nurt::testing::ManualClock clock;
  Env env;
  env.Open(&clock);
  const auto instances = env.StartMany(smoke ? 100 : 1000);

  // 1. The pending population, loaded into memory as a restarted daemon does.
  env.timers.reset();
  env.engine.reset();
  env.store.reset();
  AddPendingTimers(env.dir.File("nurt.db"), instances, kPending);
  const long rss_before = RssKiB();
  auto t0 = Clock::now();
  env.Open(&clock);
  if (auto st = env.timers->Load(); !st.ok()) Die(st.ToString());
  const double load_s = Seconds(t0);
  const long rss_after = RssKiB();
  if (env.timers->stats().pending != static_cast<std::size_t>(kPending)) Die("not every pending timer loaded");
  Report({"timers_loaded_per_second_at_start", "timers/s", kPending / load_s, 0, ""});
  Report({"bytes_per_pending_timer_in_memory", "bytes",
          static_cast<double>(rss_after - rss_before) * 1024.0 / kPending, 0, ""});

  // 2. Arming: each `ping` commits its event and arms a timer, each `pong` cancels it.
  t0 = Clock::now();
  for (int i = 0; i < kArms; ++i) {
    const std::string& id = instances[static_cast<std::size_t>(i) % instances.size()];
    env.Send(id, "ping");
    env.Send(id, "pong");
  }
  Report({"timers_armed_and_cancelled_per_second", "timers/s", kArms / Seconds(t0), raw_single,
          "raw SQLite 1-row tx/s"});

  // 3. A burst of due timers fired by FireDue (each one a durable transition).
  for (int i = 0; i < kBurst; ++i) env.Send(instances[static_cast<std::size_t>(i) % instances.size()], "ping");
  clock.Advance(std::chrono::seconds(2));
  t0 = Clock::now();
  int fired = 0;
  while (fired < kBurst) {
    const int n = env.timers->FireDue();
    if (n == 0) Die("timers did not fire");
    fired += n;
  }
  Report({"timers_fired_per_second_burst", "timers/s", kBurst / Seconds(t0), raw_single, "raw SQLite 1-row tx/s"});

  // 4. Lateness on the wall clock: timers come due at a steady rate; a daemon-like loop fires them.
  Env live;
  live.Open(nurt::env::SystemClock());
  const auto live_instances = live.StartMany(static_cast<int>(kSteadyRate * kSteadySeconds));
  std::atomic<bool> arming_done{false};
  std::thread armer([&] {
    const auto start = Clock::now();
    for (std::size_t i = 0; i < live_instances.size(); ++i) {
      std::this_thread::sleep_until(start + std::chrono::duration<double>(static_cast<double>(i) / kSteadyRate));
      live.Send(live_instances[i], "ping");
    }
    arming_done = true;
  });
  std::int64_t total = 0;
  while (!arming_done || live.timers->stats().pending > 0) {
    total += live.timers->FireDue();
    auto next = live.timers->NextDue();
    if (next) {
      const auto wait = *next - nurt::env::SystemClock()->Now();
      if (wait.count() > 0) std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(wait, std::chrono::milliseconds(50)));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  armer.join();
  std::vector<double> lateness;
  for (const auto& id : live_instances) {
    auto timers = live.engine->ListTimers("acme", id);
    if (!timers.ok()) Die(timers.status().ToString());
    for (const auto& t : *timers) {
      if (t.status == "fired") lateness.push_back(static_cast<double>(t.lateness_ms));
    }
  }
  if (static_cast<std::int64_t>(lateness.size()) != total) Die("fired timers and records disagree");
  Report({"timer_lateness_p50_ms", "ms", Percentile(lateness, 0.5), 0, ""});
  Report({"timer_lateness_p99_ms", "ms", Percentile(lateness, 0.99), 0, ""});

  std::printf("\n%-44s %14s  %-9s %s\n", "figure", "value", "unit", "vs the machine's limit (same run)");
  for (const auto& f : nurt::bench::figures) {
    std::printf("%-44s %14.1f  %-9s", f.name.c_str(), f.value, f.unit.c_str());
    if (f.limit > 0) std::printf(" %.2f x %s (%.0f)", f.value / f.limit, f.limit_name.c_str(), f.limit);
    std::printf("\n");
  }
  return 0;
}
