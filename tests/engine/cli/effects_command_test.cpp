// `nurt effects …` in-process on a throwaway store: the retry queue and the DLQ (made here by a
// dispatcher in virtual time against a refusing receiver, as the daemon would), retry / skip / delete /
// retry-all with their audit records, --json shapes, and refusals.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "manual_clock.hpp"
#include "nurt/cli/cli.hpp"
#include "nurt/dsl/loader.hpp"
#include "nurt/effects/effect_dispatcher.hpp"
#include "nurt/effects/http_adapter.hpp"
#include "nurt/engine/engine.hpp"
#include "nurt/store/key_store.hpp"
#include "temp_dir.hpp"
#include "tests/engine/effects/receiver.hpp"

namespace nurt::cli {
namespace {

using ::testing::HasSubstr;

const char* kMachine = R"(apiVersion: nurt/v1
kind: Machine
name: partner_order
version: 1
initial: ordering
states:
  ordering:
    entry:
      - call: {adapter: http, step: order, input: {url: ctx.url}, retry: manual}
    on:
      order.done: ordered
      order.failed: stuck
  ordered: {type: final}
  stuck: {}
)";

struct Ran {
  int code = -1;
  std::string out, err;
};

class EffectsCommandTest : public ::testing::Test {
 protected:
  EffectsCommandTest() {
    env_.db = dir_.File("nurt.db");
    env_.org = "acme";
    env_.actor = "cli:alice";
  }

  Ran Nurt(const std::vector<std::string>& args) {
    std::ostringstream out, err;
    Ran r;
    r.code = RunCli(args, env_, out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  // Two instances whose calls are refused (DLQ) and one whose call waits in the retry queue.
  void MakeEffects() {
    auto store = store::NewSqliteStore({.path = env_.db, .fsync_on_commit = false});
    ASSERT_TRUE(store.ok()) << store.status();
    auto engine = engine::NewEngine({.store = store->get(), .clock = &clock_});
    ASSERT_TRUE(engine.ok());
    auto machine = dsl::LoadMachineText(kMachine, "order.yaml");
    ASSERT_TRUE(machine.definition);
    ASSERT_TRUE((*engine)->Publish("acme", *machine.definition).ok());
    effects::AdapterRegistry adapters;
    ASSERT_TRUE(adapters.Register(effects::NewHttpAdapter()).ok());
    auto d = effects::EffectDispatcher::Create({.store = store->get(), .engine = engine->get(),
                                                .adapters = &adapters, .clock = &clock_});
    ASSERT_TRUE(d.ok());
    receiver_.Fail(2, 400);
    for (const char* id : {"o1", "o2"}) {
      ASSERT_TRUE((*engine)->Start({.org_id = "acme", .machine = "partner_order",
                                    .data = Json{{"url", receiver_.Url()}}, .instance_id = id}).ok());
    }
    ASSERT_TRUE((*d)->RunOnce().ok());
    ASSERT_TRUE((*engine)->Start({.org_id = "acme", .machine = "partner_order",
                                  .data = Json{{"url", receiver_.Url()}}, .instance_id = "o3"}).ok());
  }

  nurt::testing::TempDir dir_;
  nurt::testing::ManualClock clock_;
  effects::testing::Receiver receiver_;
  CliEnvironment env_;
};

TEST_F(EffectsCommandTest, ListsQueuesAndActsWithAudit) {
  MakeEffects();
  Ran dlq = Nurt({"effects", "dlq"});
  ASSERT_EQ(dlq.code, 0) << dlq.err;
  EXPECT_THAT(dlq.out, HasSubstr("dead  http order  instance o1  tries 1  not retryable: http-4xx"));
  EXPECT_THAT(dlq.out, HasSubstr("2 effects"));
  Ran pending = Nurt({"effects", "ls", "--status", "pending", "--json"});
  ASSERT_EQ(pending.code, 0) << pending.err;
  const Json items = Json::parse(pending.out)["items"];
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["instanceId"], "o3");
  const std::string queued = items[0]["id"];

  // skip needs a reason; then o3's effect is dead too.
  Ran skip = Nurt({"effects", "skip", queued});
  EXPECT_EQ(skip.code, 1);
  EXPECT_THAT(skip.err, HasSubstr("needs a reason"));
  skip = Nurt({"effects", "skip", queued, "--reason", "partner asked to hold"});
  ASSERT_EQ(skip.code, 0) << skip.err;
  EXPECT_THAT(skip.out, HasSubstr("dead"));

  Ran dead = Nurt({"effects", "dlq", "--json"});
  const Json all = Json::parse(dead.out)["items"];
  ASSERT_EQ(all.size(), 3u);
  const std::string first = all[0]["id"];
  Ran del = Nurt({"effects", "delete", first, "--reason", "duplicate order"});
  ASSERT_EQ(del.code, 0) << del.err;
  EXPECT_EQ(Nurt({"effects", "delete", first}).code, 1);  // gone

  Ran again = Nurt({"effects", "retry-all", "--adapter", "http", "--reason", "partner is back"});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("retried 2 effects"));
  EXPECT_THAT(Nurt({"effects", "dlq"}).out, HasSubstr("0 effects"));

  auto keys = store::NewSqliteKeyStore({.path = env_.db});
  ASSERT_TRUE(keys.ok());
  auto audit = (*keys)->ListAudit("acme", 100, "");
  ASSERT_TRUE(audit.ok());
  std::vector<std::string> actions;
  for (const auto& a : *audit) {
    actions.push_back(a.action);
    EXPECT_EQ(a.actor, "cli:alice");
    if (a.action == "effect.retry") {
      EXPECT_EQ(a.detail["bulk"], true);
    }
  }
  std::sort(actions.begin(), actions.end());
  EXPECT_EQ(actions, (std::vector<std::string>{"effect.delete", "effect.retry", "effect.retry", "effect.skip"}));

  EXPECT_EQ(Nurt({"effects", "retry"}).code, 2);
  EXPECT_EQ(Nurt({"effects", "poke"}).code, 2);
}

}  // namespace
}  // namespace nurt::cli
