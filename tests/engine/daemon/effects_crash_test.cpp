// Crash test of adapter effects (docs/effects.md): the real `nurt serve` is killed with SIGKILL again and
// again while it delivers effects to a receiver on loopback. After a last clean run, every effect has been
// delivered at least once, the receiver — deduplicating on the Idempotency-Key — has seen each exactly
// once, every instance got exactly one answer event, and nothing is left in the outbox.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <regex>
#include <thread>

#include <gtest/gtest.h>

#include "child_process.hpp"
#include "nurt/dsl/loader.hpp"
#include "nurt/engine/engine.hpp"
#include "nurt/store/store.hpp"
#include "temp_dir.hpp"
#include "tests/engine/effects/receiver.hpp"

namespace nurt::daemon {
namespace {

constexpr const char* kOrg = "acme";
constexpr int kInstances = 150;

using testing::Child;
using testing::ReadLine;
using testing::Spawn;

std::unique_ptr<store::Store> OpenStore(const std::string& path) {
  store::SqliteOptions so;
  so.path = path;
  auto s = store::NewSqliteStore(so);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? std::move(s).value() : nullptr;
}

std::int64_t Pending(store::Store* s) {
  auto c = s->CountEffects(kOrg);
  return c.ok() ? c->pending : -1;
}

TEST(EffectsCrash, KillNineWhileDeliveringLosesNothingAndTheReceiverSeesEachOnce) {
  const std::string binary = NURT_BINARY_ROOT "/engine/nurt";
  if (access(binary.c_str(), X_OK) != 0) GTEST_SKIP() << binary << " is not built";
  nurt::testing::TempDir dir;
  effects::testing::Receiver receiver;
  // A little time per answer, so that kills land while calls are in flight.
  std::vector<effects::testing::Receiver::Step> slow(kInstances * 3);
  for (auto& s : slow) s.delay = std::chrono::milliseconds(10);
  receiver.Script(slow);

  const std::string folder = dir.File("workflows");
  ASSERT_EQ(std::system(("mkdir -p '" + folder + "'").c_str()), 0);
  std::ofstream(folder + "/purchase.yaml") << R"(apiVersion: nurt/v1
kind: Machine
name: purchase
version: 1
initial: ordering
states:
  ordering:
    entry:
      - call: {adapter: http, step: order, input: {url: ctx.url, body: {sku: "'A-1'"}}, retry: immediate}
    on:
      order.done: ordered
      order.failed: failed
  ordered: {type: final}
  failed: {type: final}
)";
  const std::string db = dir.File("nurt.db");
  {
    // The instances and their effects are committed before any daemon runs.
    auto store = OpenStore(db);
    ASSERT_TRUE(store);
    engine::EngineOptions eo;
    eo.store = store.get();
    auto engine = engine::NewEngine(eo);
    ASSERT_TRUE(engine.ok()) << engine.status();
    auto loaded = dsl::LoadMachineFile(folder + "/purchase.yaml");
    ASSERT_TRUE(loaded.definition);
    ASSERT_TRUE((*engine)->Publish(kOrg, *loaded.definition).ok());
    for (int i = 0; i < kInstances; ++i) {
      engine::StartRequest s;
      s.org_id = kOrg;
      s.machine = "purchase";
      s.instance_id = "p" + std::to_string(i);
      s.data = Json{{"url", receiver.Url()}};
      ASSERT_TRUE((*engine)->Start(s).ok());
    }
  }
  const std::string config = dir.File("nurt.yaml");
  std::ofstream(config) << "listen: {address: 127.0.0.1, port: 8080}\nthreads: 2\nlog: {level: error}\n";
  const std::vector<std::string> env = {"NURT_PORT=0", "NURT_DB=" + db, "NURT_FSYNC=true",
                                        "NURT_DEFINITIONS=" + folder, "NURT_DEFINITION_ORGS=" + std::string(kOrg)};
  auto watcher = OpenStore(db);
  ASSERT_TRUE(watcher);

  std::mt19937 rng(1234);
  int kills = 0;
  std::vector<std::int64_t> pending_after_kill;
  for (int round = 0; round < 40 && Pending(watcher.get()) > 0; ++round) {
    Child child = Spawn({binary, "serve", "--config", config}, env);
    ASSERT_GT(child.pid, 0);
    const std::string banner = ReadLine(child.out);
    ASSERT_NE(banner.find("http://127.0.0.1:"), std::string::npos) << banner;
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 120));
    ASSERT_EQ(kill(child.pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(child.pid, &status, 0), child.pid);
    EXPECT_TRUE(WIFSIGNALED(status));
    fclose(child.out);
    ++kills;
    pending_after_kill.push_back(Pending(watcher.get()));
  }
  // The killed runs delivered (the kills landed while effects were going out), not only the last one.
  ASSERT_GE(kills, 2);
  EXPECT_LT(*std::min_element(pending_after_kill.begin(), pending_after_kill.end()), kInstances);
  // A last, clean run finishes what is left.
  Child child = Spawn({binary, "serve", "--config", config}, env);
  ASSERT_GT(child.pid, 0);
  ASSERT_NE(ReadLine(child.out).find("http://127.0.0.1:"), std::string::npos);
  for (int i = 0; i < 3000 && Pending(watcher.get()) != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(kill(child.pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child.pid, &status, 0), child.pid);
  fclose(child.out);

  EXPECT_EQ(Pending(watcher.get()), 0);
  store::EffectFilter done;
  done.status = "done";
  done.limit = 1000;
  auto effects = watcher->ListEffects(kOrg, done);
  ASSERT_TRUE(effects.ok()) << effects.status();
  EXPECT_EQ(effects->size(), static_cast<std::size_t>(kInstances));
  EXPECT_EQ(receiver.delivered_keys().size(), static_cast<std::size_t>(kInstances));
  for (int i = 0; i < kInstances; ++i) {
    const std::string id = "p" + std::to_string(i);
    auto inst = watcher->GetInstance(kOrg, id);
    ASSERT_TRUE(inst.ok()) << inst.status();
    EXPECT_EQ(inst->state, std::vector<std::string>{"ordered"}) << id;
    auto events = watcher->ListEvents(kOrg, id);
    ASSERT_TRUE(events.ok());
    int answers = 0;
    for (const auto& e : *events) answers += e.type == "order.done" || e.type == "order.failed";
    EXPECT_EQ(answers, 1) << id;
  }
  std::printf("{\"test\":\"effects_crash\",\"kills\":%d,\"effects\":%d,\"requests\":%zu,\"distinctKeys\":%zu,"
              "\"pendingAfterLastKill\":%lld}\n",
              kills, kInstances, receiver.count(), receiver.delivered_keys().size(),
              static_cast<long long>(pending_after_kill.back()));
}

}  // namespace
}  // namespace nurt::daemon
